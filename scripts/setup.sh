#!/usr/bin/env bash
# Create .venv and install the pinned dependencies (requirements.txt). Safe to rerun.
set -euo pipefail
cd "$(dirname "$0")/.."

python_bin="${PYTHON:-python3.11}"
command -v "$python_bin" >/dev/null 2>&1 || python_bin=python3
"$python_bin" - <<'PY'
import sys
if sys.version_info[:2] != (3, 11):
    sys.exit(f"Python 3.11 is required, found {sys.version.split()[0]}")
PY

[ -x .venv/bin/python ] || "$python_bin" -m venv .venv
.venv/bin/python -m pip install --quiet --disable-pip-version-check --upgrade pip
.venv/bin/python -m pip install --quiet --disable-pip-version-check -r requirements.txt
echo "setup: .venv ready ($(.venv/bin/dbt --version 2>/dev/null | grep -m1 installed | tr -s ' '))"

# Headless Chromium for the browser tests (docs site and run report): Debian's package.
if command -v chromium >/dev/null 2>&1; then
    echo "setup: chromium present ($(chromium --version 2>/dev/null | head -n1))"
elif command -v apt-get >/dev/null 2>&1; then
    sudo_cmd=""
    [ "$(id -u)" -eq 0 ] || sudo_cmd="sudo"
    echo "setup: installing chromium with apt-get (the browser tests need it)"
    $sudo_cmd env DEBIAN_FRONTEND=noninteractive apt-get update -qq
    $sudo_cmd env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null
    echo "setup: chromium installed ($(chromium --version 2>/dev/null | head -n1))"
else
    echo "setup: apt-get is not available, chromium not installed; install Chromium yourself" \
        "or the browser tests (tests/test_*_browser.py) will fail" >&2
fi
