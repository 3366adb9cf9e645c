#!/usr/bin/env bash
# Create .venv and install the locked Python dependencies (idempotent; downloads cached in ~/.cache/uv).
set -euo pipefail
cd "$(dirname "$0")/.."
UV_VERSION=0.13.9
if ! command -v uv >/dev/null 2>&1 || [ "$(uv --version | cut -d' ' -f2)" != "$UV_VERSION" ]; then
  python3 -m pip install --quiet --disable-pip-version-check "uv==$UV_VERSION"
fi
export UV_CACHE_DIR="${UV_CACHE_DIR:-$HOME/.cache/uv}"
[ -x .venv/bin/python ] || uv venv --quiet --python python3.11 .venv
stamp=.venv/.lock-installed
if [ ! -f "$stamp" ] || ! cmp -s requirements.lock "$stamp"; then
  echo "bootstrap: installing locked dependencies into .venv (torch is large; cached after the first time)"
  uv pip sync --quiet --python .venv/bin/python requirements.lock
  uv pip install --quiet --python .venv/bin/python --no-deps -e .
  cp requirements.lock "$stamp"
fi
