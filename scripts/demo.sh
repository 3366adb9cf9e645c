#!/usr/bin/env bash
# Install, build the demo collection (embed + index) and serve it: the one command to try mapsearch.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/bootstrap.sh
exec .venv/bin/mapsearch demo "$@"
