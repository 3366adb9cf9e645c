#!/usr/bin/env bash
# The full test suite, as a new user and CI run it: install, start the real services, lint, test.
# Extra arguments go to pytest (e.g. scripts/test.sh tests/unit -x).
set -uo pipefail
cd "$(dirname "$0")/.."
scripts/bootstrap.sh || exit 1
for service in redis elasticsearch chromium; do
  script="scripts/services/$service.sh"
  [ -e "$script" ] || continue
  echo "== starting $service"
  if ! bash "$script" start; then
    echo "!! $service did not start; tests needing it fail under CI=true and skip otherwise"
  fi
done
# shellcheck source=scripts/services/env.sh
source scripts/services/env.sh

status=0
echo "== ruff"; .venv/bin/ruff check . || status=1
echo "== mypy"; .venv/bin/mypy || status=1
echo "== pytest"; .venv/bin/python -m pytest -q -p no:cacheprovider "$@" || status=1
exit $status
