#!/usr/bin/env bash
# Set everything up and run the whole test suite. Extra arguments go to pytest.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
# The browser tests drive Debian's chromium (Playwright never downloads a browser here);
# without it they fail, so stop here and say how to get it.
CHROMIUM=${JUPYTER_LLM_CHROMIUM:-/usr/bin/chromium}
if [ ! -x "$CHROMIUM" ]; then
    if [ "$(id -u)" = 0 ] && [ "$CHROMIUM" = /usr/bin/chromium ]; then
        echo "Installing chromium for the browser tests ..."
        # A failed install falls through to the sentence below instead of apt's last line.
        { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium > /dev/null; } || true
    fi
    if [ ! -x "$CHROMIUM" ]; then
        echo "The browser tests need chromium at $CHROMIUM: install it with \`apt-get install chromium\` (as root), then run scripts/test.sh again." >&2
        exit 1
    fi
fi
# A test that skips fails instead (tests/conftest.py; the accepted reasons are in docs/testing.md).
export TF_CPP_MIN_LOG_LEVEL=3 PYTHONUNBUFFERED=1 JUPYTER_LLM_NO_SKIPS=1
exec .venv/bin/python -m pytest -q -p no:cacheprovider "$@"
