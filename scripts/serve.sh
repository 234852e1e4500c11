#!/usr/bin/env bash
# Bring the demo index up to date (incremental: a no-op when nothing changed), then serve the app.
set -euo pipefail
cd "$(dirname "$0")/.."
python=${PYTHON:-.venv/bin/python}
"$python" scripts/build_catalog.py --demo
exec "$python" -m streamlit run app.py "$@"
