#!/usr/bin/env bash
# One command: set up .venv with the test tools, lint, and run every test (real YOLO, FAISS, Streamlit, Chromium).
#   ./test.sh                 everything
#   ./test.sh -m "not browser" -k index    any pytest arguments
set -euo pipefail
cd "$(dirname "$0")"
scripts/setup.sh --dev
.venv/bin/ruff check .
.venv/bin/ruff format --check .
exec .venv/bin/python -m pytest "$@"
