#!/usr/bin/env bash
# The same dbt project on three engines: builds the committed sample with `dbt build` (seeds,
# models, data tests, unit tests) on DuckDB, PostgreSQL and Spark, builds it once more on
# PostgreSQL from raw tables already in the warehouse (raw_input: warehouse), then compares
# every engine's published results with DuckDB's (tests/test_engines.py) and prints each
# build's wall time.
#
#   bash scripts/test_engines.sh                        # all three engines
#   AUDIENCE_ENGINES="postgres" bash scripts/test_engines.sh   # DuckDB (the reference) + one
#
# Installs the `postgres` and `spark` extras into .venv (scripts/setup.sh with AUDIENCE_EXTRAS,
# at the versions of requirements.lock; uv's cache keeps the pyspark wheel) and the hadoop-aws
# jars Spark reads s3a:// with (scripts/s3a_jars.py), starts a throwaway PostgreSQL server
# (scripts/start_postgres.sh) and stops it again if it started it. Everything it builds is
# under target/engines/.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/env.sh

engines="${AUDIENCE_ENGINES:-duckdb postgres spark}"
[[ " $engines " == *" duckdb "* ]] || engines="duckdb $engines"  # the reference
export AUDIENCE_ENGINES="$engines"
engine_dir="$PWD/target/engines"
as_of="$SAMPLE_AS_OF"
mkdir -p "$engine_dir"
times_file="$engine_dir/build_times.tsv"
: >"$times_file"

has_engine() { [[ " $engines " == *" $1 "* ]]; }

echo "== engines: install the adapters"
install_started=$(date +%s)
extras="postgres"
has_engine spark && extras+=" spark"
AUDIENCE_EXTRAS="$extras" bash scripts/setup.sh >/dev/null
if has_engine spark && ! command -v java >/dev/null 2>&1; then
    if [ "$(id -u)" -eq 0 ] && command -v apt-get >/dev/null 2>&1; then
        apt-get update -qq
        DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends openjdk-17-jre-headless
    else
        echo "test_engines: Spark needs Java 17 (openjdk-17-jre-headless)" >&2
        exit 1
    fi
fi
if has_engine spark; then
    # hadoop-aws, for Spark reading a landing folder in an S3 endpoint on this machine
    AUDIENCE_S3A_JARS="$(python scripts/s3a_jars.py)"
    export AUDIENCE_S3A_JARS
fi
echo "   installed in $(( $(date +%s) - install_started )) s"

# One dbt build, timed: timed_build NAME VARS [dbt options]. Its target and logs go under
# target/engines/NAME/, so it never touches the default target/ another command may be using.
timed_build() {
    local name="$1" vars="$2"
    shift 2
    local started ended status
    echo "== engines: dbt build on $name"
    started=$(date +%s%N)
    set +e
    dbt build --vars "$vars" \
        --target-path "$engine_dir/$name/target" --log-path "$engine_dir/$name/logs" "$@" \
        >"$engine_dir/$name.log" 2>&1
    status=$?
    set -e
    ended=$(date +%s%N)
    sed 's/\x1b\[[0-9;]*m//g' "$engine_dir/$name.log" | grep -E "Finished running|Done\. PASS" || true
    printf '%s\t%d\n' "$name" "$(( (ended - started) / 1000000 ))" >>"$times_file"
    if [ "$status" -ne 0 ]; then
        echo "test_engines: dbt build on $name failed; the end of $engine_dir/$name.log:" >&2
        sed 's/\x1b\[[0-9;]*m//g' "$engine_dir/$name.log" | grep -v '^\s*$' | tail -40 >&2
        return "$status"
    fi
}

sample_vars="{as_of_date: $as_of}"

if has_engine duckdb; then
    export AUDIENCE_ENGINE_DUCKDB_PATH="$engine_dir/duckdb/audience.duckdb"
    rm -rf "$engine_dir/duckdb"
    mkdir -p "$engine_dir/duckdb"
    AUDIENCE_DUCKDB_PATH="$AUDIENCE_ENGINE_DUCKDB_PATH" timed_build duckdb "$sample_vars" --target duckdb
fi

if has_engine postgres; then
    eval "$(bash scripts/start_postgres.sh)"
    if [ "$AUDIENCE_PG_STARTED" = 1 ]; then
        trap 'bash scripts/start_postgres.sh stop || true' EXIT
    fi
    psql_as() {  # psql_as USER DATABASE [psql options]
        local user="$1" database="$2"
        shift 2
        "$AUDIENCE_PG_BIN/psql" -X -q -v ON_ERROR_STOP=1 -h "$AUDIENCE_PG_HOST" \
            -p "$AUDIENCE_PG_PORT" -U "$user" -d "$database" "$@"
    }
    # Fresh databases: one built from the seeds, one whose raw rows already live in it.
    export AUDIENCE_PG_WAREHOUSE_DATABASE="${AUDIENCE_PG_DATABASE}_warehouse"
    for database in "$AUDIENCE_PG_DATABASE" "$AUDIENCE_PG_WAREHOUSE_DATABASE"; do
        psql_as postgres postgres -c "drop database if exists \"$database\" with (force)"
        psql_as postgres postgres -c "create database \"$database\" owner \"$AUDIENCE_PG_USER\" template template0 encoding 'UTF8' lc_collate 'C' lc_ctype 'C.UTF-8'"
    done
    timed_build postgres "$sample_vars" --target postgres

    # The warehouse case: the exports are text tables in schema raw_exports, loaded here by
    # COPY (as any loader would), with their line in the file as the record number. dbt reads
    # no file: the staging models quarantine the rows inside PostgreSQL.
    {
        echo "create schema raw_exports;"
        python - <<'PY'
import yaml

with open("dbt_project.yml") as handle:
    contract = yaml.safe_load(handle)["vars"]["input_files"]
for name, columns in contract.items():
    listed = ", ".join(columns)
    typed = ", ".join(f"{column} text" for column in columns)
    print(
        f"create table raw_exports.{name} "
        f"(source_line bigint generated always as identity (start with 2), {typed});"
    )
    print(f"\\copy raw_exports.{name} ({listed}) from 'seeds/{name}.csv' with (format csv, header true)")
PY
    } | psql_as "$AUDIENCE_PG_USER" "$AUDIENCE_PG_WAREHOUSE_DATABASE"
    AUDIENCE_PG_DATABASE="$AUDIENCE_PG_WAREHOUSE_DATABASE" timed_build postgres_warehouse \
        "{as_of_date: $as_of, raw_input: warehouse, warehouse_schema: raw_exports}" \
        --target postgres --exclude-resource-type seed
fi

if has_engine spark; then
    # A fresh metastore and warehouse folder for every run.
    export AUDIENCE_SPARK_DIR="$engine_dir/spark"
    rm -rf "$AUDIENCE_SPARK_DIR"
    mkdir -p "$AUDIENCE_SPARK_DIR"
    timed_build spark "$sample_vars" --target spark
fi

echo "== engines: compare every engine's results with DuckDB's"
AUDIENCE_ENGINE_TESTS=1 python -m pytest -q -m engines tests/test_engines.py tests/test_spark_landing.py

echo "== engines: dbt build wall time on the sample (as of $as_of)"
awk -F'\t' '{ printf "   %-20s %6.1f s\n", $1, $2 / 1000 }' "$times_file"
