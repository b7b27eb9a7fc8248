#!/usr/bin/env bash
# Create .venv and install this project (editable, with its dev tools) at the versions pinned
# in requirements.lock, with uv (from PyPI). Extras: AUDIENCE_EXTRAS="postgres spark" adds the
# engine adapters (scripts/test_engines.sh does). Safe to rerun.
set -euo pipefail
cd "$(dirname "$0")/.."

uv_version=0.13.9
python_bin="${PYTHON:-python3.11}"
command -v "$python_bin" >/dev/null 2>&1 || python_bin=python3
"$python_bin" - <<'PY'
import sys
if sys.version_info[:2] != (3, 11):
    sys.exit(f"Python 3.11 is required, found {sys.version.split()[0]}")
PY

[ -x .venv/bin/python ] || "$python_bin" -m venv .venv
if [ "$(.venv/bin/uv --version 2>/dev/null)" != "uv $uv_version" ]; then
    .venv/bin/python -m pip install --quiet --disable-pip-version-check "uv==$uv_version"
fi
project="."
extras="$(echo ${AUDIENCE_EXTRAS:-} | tr ' ' ',')"
[ -z "$extras" ] || project=".[$extras]"
# Every version comes from requirements.lock (one lock for the runtime, the extras and the dev
# group, with hashes); `-c` installs only what this selection needs, at the locked versions.
UV_PYTHON_DOWNLOADS=never .venv/bin/uv pip install --quiet --python .venv/bin/python \
    --compile-bytecode -e "$project" --group dev -c requirements.lock
echo "setup: .venv ready ($(.venv/bin/audience --version))"

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
