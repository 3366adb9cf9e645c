#!/usr/bin/env bash
# The full test suite, as a new user and CI run it: install, start the real services, lint, test.
# Extra arguments go to pytest (e.g. scripts/test.sh tests/unit -x).
set -uo pipefail
cd "$(dirname "$0")/.."
ES9_VERSION=9.2.4
ES9_PORT=9201
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
echo "== import contracts"; .venv/bin/lint-imports --no-cache || status=1
echo "== pytest"; .venv/bin/python -m pytest -q -p no:cacheprovider "$@" || status=1

# The Elasticsearch suite once more against 9.x (Temurin 25), on a second node, for the full run
# only (arguments mean a targeted run). MAPSEARCH_SKIP_ES9=1 skips it.
if [ $# -eq 0 ] && [ -z "${MAPSEARCH_SKIP_ES9:-}" ]; then
  echo "== elasticsearch $ES9_VERSION suite"
  if MAPSEARCH_ES_VERSION=$ES9_VERSION MAPSEARCH_ES_PORT=$ES9_PORT bash scripts/services/elasticsearch.sh start; then
    MAPSEARCH_TEST_ES_URL="http://127.0.0.1:$ES9_PORT" .venv/bin/python -m pytest -q -p no:cacheprovider \
      tests/integration/test_es_*.py tests/conformance tests/browser/test_elasticsearch_ui.py \
      -k "elasticsearch or es_" || status=1
    MAPSEARCH_ES_VERSION=$ES9_VERSION MAPSEARCH_ES_PORT=$ES9_PORT bash scripts/services/elasticsearch.sh stop || true
  else
    echo "!! elasticsearch $ES9_VERSION did not start"; status=1
  fi
fi
exit $status
