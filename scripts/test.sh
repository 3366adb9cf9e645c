#!/usr/bin/env bash
# The full test suite, as a new user and CI run it: install, start the real services, lint, test.
# Extra arguments go to pytest (e.g. scripts/test.sh tests/unit -x).
set -uo pipefail
cd "$(dirname "$0")/.."
ES9_VERSION=9.2.4
ES9_PORT=9201
scripts/bootstrap.sh --dev || exit 1
# Tesseract and its language packs for the OCR tests (RapidOCR comes with the dev install)
bash scripts/install-ocr.sh || echo "!! the OCR engines did not install; their tests fail under CI=true"
# Services this run starts are stopped when it ends; ones already running are left running.
STARTED=()
for service in redis elasticsearch chromium axe-core; do
  script="scripts/services/$service.sh"
  [ -e "$script" ] || continue
  echo "== starting $service"
  if bash "$script" status >/dev/null 2>&1; then
    echo "$service: already running (left running)"
  elif bash "$script" start; then
    STARTED+=("$service")
  else
    echo "!! $service did not start; tests needing it fail under CI=true and skip otherwise"
  fi
done
# The full run (no arguments; so CI too) also starts the three-node cluster of the node-failure
# test (tests/integration/test_es_cluster.py) and stops it at the end if it started it.
CLUSTER_STARTED=""
if [ $# -eq 0 ]; then
  echo "== starting the three-node Elasticsearch cluster"
  if bash scripts/services/es-cluster.sh status >/dev/null 2>&1; then
    echo "es-cluster.sh: already running (left running)"
  elif bash scripts/services/es-cluster.sh start; then
    CLUSTER_STARTED=1
  else
    echo "!! the cluster did not start; its test fails under CI=true and skips otherwise"
  fi
fi
stop_started() {
  if [ -n "$CLUSTER_STARTED" ]; then bash scripts/services/es-cluster.sh stop || true; fi
  for service in "${STARTED[@]}"; do bash "scripts/services/$service.sh" stop || true; done
}
trap stop_started EXIT
# shellcheck source=scripts/services/env.sh
source scripts/services/env.sh

status=0
echo "== ruff"; .venv/bin/ruff check . || status=1
echo "== ruff format"; .venv/bin/ruff format --check . || status=1
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
      -k "elasticsearch or es_" -m "not es_cluster" || status=1
    MAPSEARCH_ES_VERSION=$ES9_VERSION MAPSEARCH_ES_PORT=$ES9_PORT bash scripts/services/elasticsearch.sh stop || true
  else
    echo "!! elasticsearch $ES9_VERSION did not start"; status=1
  fi
fi
exit $status
