#!/usr/bin/env bash
# Set up a development environment in .venv (idempotent): Python packages and the
# project itself, editable, with the extras for notebooks, tests and TensorBoard.
# Works on a fresh Debian machine with Python >= 3.10 as root or as a user.
set -euo pipefail
cd "$(dirname "$0")/.."

PYTHON=${PYTHON:-python3}
if [ ! -x .venv/bin/python ]; then
    "$PYTHON" -m venv .venv
fi
.venv/bin/python -m pip install --quiet --upgrade pip
.venv/bin/python -m pip install --quiet -e ".[notebook,test,tensorboard]"
echo "jupyter_llm is installed in .venv ($(.venv/bin/python -c 'import jupyter_llm; print(jupyter_llm.__version__)'))"
