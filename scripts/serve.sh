#!/usr/bin/env bash
# Serve the app at once; the demo index is brought up to date in the background (incremental: a no-op when nothing
# changed). While a first build runs, the page shows its progress and searching starts when it is done.
# Curator mode (the default) with no password configured gets a random one for this run, printed below;
# LOOKALIKE_MODE=shop serves a public shop without curator tools (README, "For curators").
set -euo pipefail
cd "$(dirname "$0")/.."
python=${PYTHON:-.venv/bin/python}
"$python" -m scripts.build_catalog --demo --background
if [[ "${LOOKALIKE_MODE:-curator}" == curator && -z "${LOOKALIKE_CURATOR_PASSWORD:-}" \
      && ! -f .streamlit/secrets.toml && ! -f "$HOME/.streamlit/secrets.toml" ]]; then
  LOOKALIKE_CURATOR_PASSWORD=$("$python" -c 'import secrets; print(secrets.token_urlsafe(12))')
  export LOOKALIKE_CURATOR_PASSWORD
  echo "Curator password for this run: $LOOKALIKE_CURATOR_PASSWORD"
  echo "  (choose your own with LOOKALIKE_CURATOR_PASSWORD=..., or LOOKALIKE_MODE=shop for a public shop)"
fi
exec "$python" -m streamlit run app.py "$@"
