#!/usr/bin/env bash
# Set everything up and run the whole test suite. Extra arguments go to pytest.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
# The browser tests drive Debian's chromium (Playwright never downloads a browser here).
if [ ! -x /usr/bin/chromium ]; then
    if [ "$(id -u)" = 0 ]; then
        echo "Installing chromium for the browser tests ..."
        apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium > /dev/null
    else
        echo "chromium is missing: the browser tests will be skipped (sudo apt-get install chromium)" >&2
    fi
fi
export TF_CPP_MIN_LOG_LEVEL=3 PYTHONUNBUFFERED=1
exec .venv/bin/python -m pytest -q -p no:cacheprovider "$@"
