#!/usr/bin/env bash
# Serve the app at once; the demo index is brought up to date in the background (incremental: a no-op when nothing
# changed). While a first build runs, the page shows its progress and searching starts when it is done.
set -euo pipefail
cd "$(dirname "$0")/.."
python=${PYTHON:-.venv/bin/python}
"$python" scripts/build_catalog.py --demo --background
exec "$python" -m streamlit run app.py "$@"
