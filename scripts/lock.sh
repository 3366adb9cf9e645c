#!/usr/bin/env bash
# Re-resolve pyproject.toml into requirements.lock (run after changing dependencies).
set -euo pipefail
cd "$(dirname "$0")/.."
uv pip compile --quiet --python-version 3.11 --extra dev pyproject.toml -o requirements.lock
