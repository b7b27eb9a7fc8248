#!/usr/bin/env bash
# Lint the dbt project's metadata with dbt-bouncer (config: dbt-bouncer.yml, custom checks in
# bouncer_checks/): descriptions, a primary-key test on every model, naming by layer, one
# `_<folder>__models.yml` per folder, lineage between layers and, when catalog.json is there,
# every column the engine built is in a properties file with a description.
#
# It reads the artifacts dbt left in the target folder: in CI, after `dbt build` and
# `dbt docs generate` (scripts/test.sh). Without a manifest it runs `dbt parse` first; without
# catalog.json only the manifest checks run (the summary says so).
#
# Usage: bash scripts/lint_dbt.sh [--target-path DIR]   (DIR defaults to target)
# Exit status: 0 no violation, 1 a violation, 2 or more the linter could not run.
set -euo pipefail
cd "$(dirname "$0")/.."
# shellcheck source=scripts/env.sh
source scripts/env.sh

target=target
while [ $# -gt 0 ]; do
    case "$1" in
        --target-path) target="${2:?--target-path needs a folder}"; shift 2 ;;
        *) echo "usage: bash scripts/lint_dbt.sh [--target-path DIR]" >&2; exit 2 ;;
    esac
done

if [ ! -f "$target/manifest.json" ]; then
    echo "lint_dbt: no $target/manifest.json, running dbt parse"
    dbt parse --quiet --target-path "$target"
else
    newer=$(find dbt_project.yml models macros seeds tests -newer "$target/manifest.json" \
        \( -name '*.sql' -o -name '*.yml' -o -name '*.md' \) -print -quit)
    if [ -n "$newer" ]; then
        echo "lint_dbt: warning: $newer is newer than $target/manifest.json;" \
            "run dbt parse (or dbt build) first to lint the current files"
    fi
fi

only=()
scope="manifest and catalog"
if [ ! -f "$target/catalog.json" ]; then
    only=(--only manifest_checks)
    scope="manifest only, no $target/catalog.json (dbt docs generate writes it)"
fi

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
# The config names its folders relative to itself; point them at this run's target folder.
python - "$target" "$work/dbt-bouncer.yml" <<'PY'
import sys
from pathlib import Path

import yaml

target, out = Path(sys.argv[1]).resolve(), Path(sys.argv[2])
config = yaml.safe_load(Path("dbt-bouncer.yml").read_text(encoding="utf-8"))
config["dbt_artifacts_dir"] = str(target)
config["custom_checks_dir"] = str(Path(config["custom_checks_dir"]).resolve())
out.write_text(yaml.safe_dump(config, sort_keys=False), encoding="utf-8")
PY

status=0
dbt-bouncer run --config-file "$work/dbt-bouncer.yml" "${only[@]}" \
    --output-file "$work/results.json" --output-format json >"$work/console.txt" 2>&1 || status=$?
if [ "$status" -gt 1 ] || [ ! -f "$work/results.json" ]; then
    cat "$work/console.txt" >&2
    echo "lint_dbt: dbt-bouncer could not run (exit $status)" >&2
    exit $(( status > 1 ? status : 2 ))
fi

python - "$work/results.json" "$scope" <<'PY'
import collections
import json
import sys

results = json.load(open(sys.argv[1], encoding="utf-8"))
failed = [r for r in results if r["outcome"] != "success"]
for r in failed:
    check = r["check_run_id"].split(":")[0]
    where = r.get("file_path") or r.get("unique_id")
    print(f"  {r['severity'].upper()} {where}: [{check}] {r['failure_message']}")
by_check = collections.Counter(r["check_run_id"].split(":")[0] for r in failed)
detail = ", ".join(f"{name} x{n}" for name, n in sorted(by_check.items()))
verdict = f"{len(failed)} failed: {detail}" if failed else "all passed"
print(f"dbt lint (dbt-bouncer, {sys.argv[2]}): {len(results)} checks, {verdict}")
PY
exit "$status"
