#!/usr/bin/env bash
# The full test suite, as a new user and CI run it: install, start the real services, test.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/bootstrap.sh
for service in scripts/services/*.sh; do
  [ -e "$service" ] || continue
  echo "== starting $(basename "$service" .sh)"
  if ! bash "$service" start; then
    echo "!! $(basename "$service" .sh) did not start; tests needing it will fail under CI=true, skip otherwise"
  fi
done
source scripts/services/env.sh 2>/dev/null || true
.venv/bin/ruff check .
.venv/bin/mypy
.venv/bin/python -m pytest -q -p no:cacheprovider "$@"
