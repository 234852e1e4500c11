#!/usr/bin/env bash
# Create .venv, install the pinned requirements and the project itself (re-runs are instant when nothing changed).
#   scripts/setup.sh          the app
#   scripts/setup.sh --scale  the app plus the optional scale-out backends (Milvus, Ray: requirements-scale.txt)
#   scripts/setup.sh --dev    all that plus test tools (pytest, playwright, ruff, Debian chromium)
set -euo pipefail
cd "$(dirname "$0")/.."
requirements=requirements.txt
case "${1:-}" in
  --dev) requirements=requirements-dev.txt ;;
  --scale) requirements=requirements-scale.txt ;;
esac

python=${PYTHON:-python3}
if ! "$python" -c 'import sys; sys.exit(sys.version_info < (3, 11))'; then
  echo "Python 3.11 or newer is needed (found $("$python" --version 2>&1))." >&2
  exit 1
fi
[[ -x .venv/bin/python ]] || "$python" -m venv .venv

stamp=.venv/.requirements-$(cat requirements*.txt | sha1sum | cut -c1-12)-$(basename "$requirements" .txt)
if [[ ! -f "$stamp" ]]; then
  echo "Installing $requirements into .venv (first time: several minutes; torch is large)…"
  .venv/bin/python -m pip install --quiet --upgrade pip
  .venv/bin/python -m pip install --quiet -r "$requirements" 2> >(grep -v "is ignored: it is neither a file nor a directory" >&2)
  touch "$stamp"
fi

# The project itself, editable (pyproject.toml): `engine`, `catalog`, `scripts` import from anywhere, and
# .venv/bin/lookalike runs every script. Reinstalled only when it points at another folder (or is missing).
here=$(pwd -P)
installed=$(cd / && "$here/.venv/bin/python" -c 'import os, scripts; print(os.path.realpath(scripts.__file__))' 2>/dev/null || true)
if [[ "$installed" != "$here/scripts/__init__.py" || ! -x .venv/bin/lookalike ]]; then
  echo "Installing the lookalike command into .venv…"
  .venv/bin/python -m pip install --quiet --no-deps --no-build-isolation -e .
fi

if [[ "$requirements" == requirements-dev.txt && ! -x /usr/bin/chromium ]]; then
  echo "Installing Debian chromium for the browser tests…"
  if [[ $(id -u) -eq 0 ]]; then
    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium fonts-dejavu-core >/dev/null
  else
    sudo apt-get update -qq && sudo DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium fonts-dejavu-core >/dev/null
  fi
fi
