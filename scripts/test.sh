#!/usr/bin/env bash
# Set up, then run every check: linters, dbt build (models, data tests, unit tests) on the
# sample, the docs site, a small benchmark, the pytest suite, and the same sample on
# PostgreSQL and Spark.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/check_disk.sh
bash scripts/setup.sh
source scripts/env.sh

echo "== ruff"
ruff check .
ruff format --check .
echo "== sqlfluff (dbt templater)"
sqlfluff lint models tests analyses
echo "== dbt build on the sample (as of $SAMPLE_AS_OF)"
dbt build --vars "{as_of_date: $SAMPLE_AS_OF}"
echo "== dbt docs generate --static"
dbt docs generate --static --vars "{as_of_date: $SAMPLE_AS_OF}"
echo "== dbt metadata lint (dbt-bouncer)"
bash scripts/lint_dbt.sh
echo "== benchmark at a small scale (proves bench/run_bench.py works; real figures: bench/results/)"
python bench/run_bench.py --scales tiny --no-save
echo "== a year of daily runs, two days at a small scale (proves bench/year_bench.py works)"
python bench/year_bench.py --days 2 --customers 2000 --keep-runs 1 --no-save \
    --work-dir target/year_bench_smoke
echo "== sample build benchmark, one round (proves bench/sample_build.py works)"
python bench/sample_build.py --rounds 1 --no-save
echo "== pytest"
python -m pytest -q
bash scripts/test_engines.sh  # the same sample on DuckDB, PostgreSQL and Spark, compared
