# Sourced by the other scripts: the project's virtualenv and dbt settings.
# shellcheck shell=bash
export PATH="$PWD/.venv/bin:$PATH"
export DBT_PROFILES_DIR="$PWD"
export DBT_SEND_ANONYMOUS_USAGE_STATS=false
# The committed sample is a snapshot taken on this day; the sample commands use it so they
# publish the same non-empty audience whatever day they run. Production runs pass --as-of
# (default: today, UTC).
export SAMPLE_AS_OF=2026-11-26
