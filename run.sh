#!/usr/bin/env bash
# One command: set up .venv, build the IKEA demo index if needed, and run the app on http://localhost:8501
set -euo pipefail
cd "$(dirname "$0")"
scripts/setup.sh
exec scripts/serve.sh "$@"
