#!/usr/bin/env bash
# Re-resolve pyproject.toml into the two lock files (run after changing dependencies):
#   requirements.lock      the serving/demo install (no torch)
#   requirements-dev.lock  serving + the train, ocr and dev extras (tests, training), the same versions
#                          for every package the two share
set -euo pipefail
cd "$(dirname "$0")/.."
uv pip compile --quiet --python-version 3.11 pyproject.toml -o requirements.lock
uv pip compile --quiet --python-version 3.11 --extra train --extra ocr --extra dev \
  --constraint requirements.lock pyproject.toml -o requirements-dev.lock
