#!/usr/bin/env bash
# A three-node Elasticsearch cluster on 127.0.0.1 for the node-failure test: the same minimal
# distribution and settings as elasticsearch.sh (which runs each node), small heaps, one shared
# snapshot folder, a fresh cluster on every start.
# Usage: es-cluster.sh start|stop|status|pid PORT|start-node PORT
# Env: MAPSEARCH_ES_CLUSTER_PORTS (9211,9212,9213), MAPSEARCH_ES_CLUSTER_HEAP (384m),
# MAPSEARCH_ES_VERSION (8.19.8).
set -euo pipefail
HERE="$(cd "$(dirname "$0")" && pwd)"
PORTS="${MAPSEARCH_ES_CLUSTER_PORTS:-9211,9212,9213}"
VERSION="${MAPSEARCH_ES_VERSION:-8.19.8}"
WAIT_SECONDS="${MAPSEARCH_ES_WAIT:-240}"
if [ "$(id -u)" = 0 ]; then BASE="/var/lib/mapsearch-es"; else BASE="${XDG_CACHE_HOME:-$HOME/.cache}/mapsearch/elasticsearch"; fi
FIRST="${PORTS%%,*}"
COUNT="$(tr ',' '\n' <<<"$PORTS" | wc -l)"

node() {  # node PORT ARGS...: elasticsearch.sh for one node of this cluster
  local port="$1"; shift
  MAPSEARCH_ES_PORT="$port" MAPSEARCH_ES_SEED_PORTS="$PORTS" \
    MAPSEARCH_ES_HEAP="${MAPSEARCH_ES_CLUSTER_HEAP:-384m}" MAPSEARCH_ES_INDEX_BUFFER=10% \
    MAPSEARCH_ES_REPO="$BASE/snapshots-cluster-${PORTS//,/-}" MAPSEARCH_ES_VERSION="$VERSION" \
    bash "$HERE/elasticsearch.sh" "$@"
}

formed() {
  curl -fsS --max-time 5 "http://127.0.0.1:$FIRST/_cluster/health?wait_for_nodes=$COUNT&timeout=1s" 2>/dev/null |
    grep -Eq "\"number_of_nodes\":$COUNT,.*\"status\":\"(green|yellow)\"|\"status\":\"(green|yellow)\".*\"number_of_nodes\":$COUNT,"
}

case "${1:-}" in
  start)
    if formed; then echo "es-cluster.sh: already running on ports $PORTS"; exit 0; fi
    running=0
    for port in ${PORTS//,/ }; do node "$port" pid >/dev/null 2>&1 && running=1; done
    if [ "$running" = 0 ]; then  # nothing of it runs: start from empty data (test data only)
      for port in ${PORTS//,/ }; do rm -rf "$BASE/data-$VERSION-$port"; done
    fi
    for port in ${PORTS//,/ }; do node "$port" launch; done
    for _ in $(seq 1 "$WAIT_SECONDS"); do
      if formed; then echo "es-cluster.sh: $COUNT nodes on ports $PORTS"; exit 0; fi
      sleep 1
    done
    echo "es-cluster.sh: cluster not formed within ${WAIT_SECONDS}s; see $BASE/logs-$VERSION-<port>/" >&2
    exit 1
    ;;
  start-node)
    node "${2:?port}" launch
    ;;
  pid)
    node "${2:?port}" pid
    ;;
  stop)
    for port in ${PORTS//,/ }; do node "$port" stop || true; done
    ;;
  status)
    if formed; then echo "es-cluster.sh: $COUNT nodes on ports $PORTS"; else echo "es-cluster.sh: not running on ports $PORTS"; exit 1; fi
    ;;
  *)
    echo "usage: $0 start|stop|status|pid PORT|start-node PORT" >&2; exit 2
    ;;
esac
