#!/usr/bin/env bash
# Set up, build the dbt project on the committed sample, generate the docs site, and run the
# whole pipeline on the sample folder, publishing into output/sample/.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
source scripts/env.sh

dbt build --vars "{as_of_date: $SAMPLE_AS_OF}"
dbt docs generate --static --vars "{as_of_date: $SAMPLE_AS_OF}"
audience run --input-dir seeds --as-of "$SAMPLE_AS_OF" --output-dir output/sample \
    --database target/pipeline/audience.duckdb
echo
echo "Published: output/sample/eligible_audience.csv (+ rejected_*.csv, reconciliation.json)"
echo "Docs site: target/static_index.html"
echo "Then: source scripts/env.sh; audience explain 1157 --database target/pipeline/audience.duckdb"
