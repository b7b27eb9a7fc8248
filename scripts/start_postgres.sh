#!/usr/bin/env bash
# A throwaway local PostgreSQL server for the engine tests (scripts/test_engines.sh).
#
#   eval "$(bash scripts/start_postgres.sh)"   # start (or reuse) it; prints the AUDIENCE_PG_*
#                                              # variables the `postgres` profile reads
#   bash scripts/start_postgres.sh stop        # stop it
#
# The cluster lives in AUDIENCE_PG_DIR (default /tmp/audience-postgres-<port>) and listens on
# 127.0.0.1:AUDIENCE_PG_PORT (default 54329) only, with trust authentication: a test server,
# never a place for real data. Its text compares in byte order (LC_COLLATE=C) like DuckDB and
# Spark, and lower()/upper() know Unicode (LC_CTYPE=C.UTF-8). Durability is off (fsync=off):
# it is rebuilt from the seeds on every run. The server binaries come from Debian's
# postgresql-15 package, installed here when missing (as root). initdb refuses to run as
# root, so as root the server runs as the `postgres` user.
set -euo pipefail

port="${AUDIENCE_PG_PORT:-54329}"
data_dir="${AUDIENCE_PG_DIR:-/tmp/audience-postgres-$port}"
database="${AUDIENCE_PG_DATABASE:-audience}"
user="${AUDIENCE_PG_USER:-audience}"

log() { echo "start_postgres: $*" >&2; }

find_bin_dir() {
    local dir
    for dir in /usr/lib/postgresql/15/bin /usr/lib/postgresql/*/bin; do
        if [ -x "$dir/initdb" ] && [ -x "$dir/pg_ctl" ]; then
            echo "$dir"
            return 0
        fi
    done
    return 1
}

bin_dir="$(find_bin_dir || true)"
if [ -z "$bin_dir" ]; then
    if [ "$(id -u)" -ne 0 ] || ! command -v apt-get >/dev/null 2>&1; then
        log "no PostgreSQL server binaries; install Debian's postgresql-15 (as root)"
        exit 1
    fi
    log "installing postgresql-15 from Debian"
    apt-get update -qq >&2
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends \
        postgresql-15 postgresql-client-15 >&2
    bin_dir="$(find_bin_dir)"
fi

# As root, everything that touches the cluster runs as `postgres`.
if [ "$(id -u)" -eq 0 ]; then
    if ! id postgres >/dev/null 2>&1; then
        useradd --system --no-create-home --shell /usr/sbin/nologin postgres
    fi
    as_server_user() { runuser -u postgres -- "$@"; }
else
    as_server_user() { "$@"; }
fi

if [ "${1:-start}" = "stop" ]; then
    if [ -f "$data_dir/postmaster.pid" ]; then
        as_server_user "$bin_dir/pg_ctl" -D "$data_dir" -m fast -w stop >&2
    else
        log "no server running in $data_dir"
    fi
    exit 0
fi

psql_admin() {
    "$bin_dir/psql" -X -q -v ON_ERROR_STOP=1 -h 127.0.0.1 -p "$port" -U postgres -d postgres "$@"
}

started=0
if "$bin_dir/pg_isready" -q -h 127.0.0.1 -p "$port"; then
    log "reusing the server on 127.0.0.1:$port"
else
    init_cluster() {
        rm -rf "$data_dir"
        mkdir -p "$data_dir"
        if [ "$(id -u)" -eq 0 ]; then chown postgres: "$data_dir"; fi
        chmod 700 "$data_dir"
        as_server_user "$bin_dir/initdb" -D "$data_dir" -U postgres --auth=trust \
            --encoding=UTF8 --lc-collate=C --lc-ctype=C.UTF-8 >/dev/null
    }
    start_server() {
        rm -f "$data_dir/postmaster.pid"  # left behind when a previous server was killed
        as_server_user "$bin_dir/pg_ctl" -D "$data_dir" -l "$data_dir/server.log" -w -t 60 \
            -o "-p $port -k $data_dir -c listen_addresses=127.0.0.1 -c fsync=off -c synchronous_commit=off -c full_page_writes=off" \
            start >&2
    }
    [ -s "$data_dir/PG_VERSION" ] || init_cluster
    if ! start_server; then
        # A cluster from an earlier run that will not start (it is only test data): start over.
        log "the cluster in $data_dir did not start; creating it again"
        init_cluster
        start_server
    fi
    started=1
    log "started PostgreSQL ($("$bin_dir/postgres" --version)) on 127.0.0.1:$port, data in $data_dir"
fi

if [ -z "$(psql_admin -tAc "select 1 from pg_roles where rolname = '$user'")" ]; then
    psql_admin -c "create role \"$user\" login createdb"
fi
if [ -z "$(psql_admin -tAc "select 1 from pg_database where datname = '$database'")" ]; then
    psql_admin -c "create database \"$database\" owner \"$user\" template template0 encoding 'UTF8' lc_collate 'C' lc_ctype 'C.UTF-8'"
fi

cat <<EOF
export AUDIENCE_PG_HOST=127.0.0.1
export AUDIENCE_PG_PORT=$port
export AUDIENCE_PG_USER=$user
export AUDIENCE_PG_DATABASE=$database
export AUDIENCE_PG_BIN=$bin_dir
export AUDIENCE_PG_STARTED=$started
EOF
