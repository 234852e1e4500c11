#!/usr/bin/env bash
# Serve the app at once; the demo index is brought up to date in the background (incremental: a no-op when nothing
# changed). While a first build runs, the page shows its progress and searching starts with its first few hundred
# photos. The build is tied to this server (--owner-pid: this shell's pid, which `exec` hands to Streamlit): it
# stops when the server stops, and the next start goes on from what it had indexed.
# Curator mode (the default) with no password configured gets a random one for this run, printed below;
# LOOKALIKE_MODE=shop serves a public shop without curator tools (README, "For curators").
set -euo pipefail
cd "$(dirname "$0")/.."
python=${PYTHON:-.venv/bin/python}
# Started beside the server, not before it: the page answers while the builder loads (it checks in seconds that an
# existing index is up to date, and runs at a lower CPU priority than the server: --owner-pid).
( "$python" -m scripts.build_catalog --demo --background --owner-pid $$ & )  # $$: this shell, then Streamlit
if [[ "${LOOKALIKE_MODE:-curator}" == curator && -z "${LOOKALIKE_CURATOR_PASSWORD:-}" \
      && ! -f .streamlit/secrets.toml && ! -f "$HOME/.streamlit/secrets.toml" ]]; then
  LOOKALIKE_CURATOR_PASSWORD=$("$python" -c 'import secrets; print(secrets.token_urlsafe(12))')
  export LOOKALIKE_CURATOR_PASSWORD
  echo "Curator password for this run: $LOOKALIKE_CURATOR_PASSWORD"
  echo "  (choose your own with LOOKALIKE_CURATOR_PASSWORD=..., or LOOKALIKE_MODE=shop for a public shop)"
fi
exec "$python" -m streamlit run app.py "$@"
