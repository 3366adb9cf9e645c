#!/usr/bin/env bash
# Create .venv and install the locked Python dependencies (idempotent; downloads cached in ~/.cache/uv).
#   scripts/bootstrap.sh          the serving/demo install: web app, CLI, backends, pipeline, ONNX
#                                 Runtime for the model (no torch; a few hundred MB)
#   scripts/bootstrap.sh --dev    plus torch/open_clip (training, fine-tuning, ONNX export, GPU
#                                 bulk embedding) and the test tools; what scripts/test.sh uses
# A .venv that already has the --dev install is kept as it is by a plain call (it is a superset).
set -euo pipefail
cd "$(dirname "$0")/.."
UV_VERSION=0.13.9
lock=requirements.lock
case "${1:-}" in
  --dev | --train) lock=requirements-dev.lock ;;
  "") ;;
  *) echo "usage: scripts/bootstrap.sh [--dev]" >&2; exit 2 ;;
esac
if ! command -v uv >/dev/null 2>&1 || [ "$(uv --version | cut -d' ' -f2)" != "$UV_VERSION" ]; then
  python3 -m pip install --quiet --disable-pip-version-check "uv==$UV_VERSION"
fi
export UV_CACHE_DIR="${UV_CACHE_DIR:-$HOME/.cache/uv}"
[ -x .venv/bin/python ] || uv venv --quiet --python python3.11 .venv
stamp=.venv/.lock-installed
if [ "$lock" = requirements.lock ] && [ -f "$stamp" ] && cmp -s requirements-dev.lock "$stamp"; then
  exit 0  # the full install is already there and up to date
fi
if [ ! -f "$stamp" ] || ! cmp -s "$lock" "$stamp"; then
  if [ "$lock" = requirements-dev.lock ]; then
    echo "bootstrap: installing the locked dev/training dependencies into .venv (torch is large; cached after the first time)"
  else
    echo "bootstrap: installing the locked serving dependencies into .venv"
  fi
  uv pip sync --quiet --python .venv/bin/python "$lock"
  uv pip install --quiet --python .venv/bin/python --no-deps -e .
  cp "$lock" "$stamp"
fi
