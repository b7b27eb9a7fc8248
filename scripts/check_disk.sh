#!/usr/bin/env bash
# Warn (never fail) when the disk may be too small for the setup and the tests: building
# pyspark from source, the virtualenv, the test suite's databases and Spark's warehouses took
# up to 2.6 GB at once in a fresh clone (2026-12-07, measured by sampling `df` every 5 s
# through `bash .ci/run`). Usage: bash scripts/check_disk.sh [FOLDER...]
set -euo pipefail
needed_mb=4000
for folder in "${@:-$PWD}" "${TMPDIR:-/tmp}"; do
    free_mb="$(df -Pm "$folder" 2>/dev/null | awk 'NR == 2 {print $4}')"
    if [ -n "$free_mb" ] && [ "$free_mb" -lt "$needed_mb" ]; then
        echo "check_disk: warning: $free_mb MB free under $folder; the setup and the tests" \
            "need about $needed_mb MB (pyspark builds from source)" >&2
    fi
done
