#!/usr/bin/env bash
# Elasticsearch for tests and local runs: the minimal distribution (integ-test-zip) from Maven
# Central, cached under ~/.cache/mapsearch, run as a non-root user on 127.0.0.1 with a 1 GB heap.
# Usage: elasticsearch.sh start|launch|stop|status  (launch: start without waiting for health)
# Env: MAPSEARCH_ES_VERSION (default 8.19.8; 9.x runs on Temurin 25), MAPSEARCH_ES_PORT (9200),
# MAPSEARCH_ES_JAVA_HOME, MAPSEARCH_ES_HEAP (1g), MAPSEARCH_ES_INDEX_BUFFER (25% of the heap),
# MAPSEARCH_ES_REPO (path.repo for snapshots; default snapshots-<version>-<port> beside the data),
# MAPSEARCH_ES_SEED_PORTS (e.g. 9211,9212,9213: join a cluster of these HTTP ports instead of
# running single-node; scripts/services/es-cluster.sh sets it).
set -euo pipefail
VERSION="${MAPSEARCH_ES_VERSION:-8.19.8}"
PORT="${MAPSEARCH_ES_PORT:-9200}"
HEAP="${MAPSEARCH_ES_HEAP:-1g}"
# Bulk loads build HNSW graphs in the indexing buffer: the default 10% of a 1 GB heap flushes
# ~100 MB segments that merges then rebuild; a larger buffer means fewer, larger segments.
INDEX_BUFFER="${MAPSEARCH_ES_INDEX_BUFFER:-25%}"
WAIT_SECONDS="${MAPSEARCH_ES_WAIT:-180}"
CACHE="${XDG_CACHE_HOME:-$HOME/.cache}/mapsearch"
ZIP="$CACHE/elasticsearch-$VERSION.zip"
URL="http://127.0.0.1:$PORT"
ES_USER=mapsearch-es

if [ "$(id -u)" = 0 ]; then
  # Elasticsearch refuses to run as root, and root's home is unreadable to other users.
  BASE="/var/lib/mapsearch-es"
else
  BASE="$CACHE/elasticsearch"
fi
HOME_DIR="$BASE/elasticsearch-$VERSION"
DATA_DIR="$BASE/data-$VERSION-$PORT"
CONF_DIR="$BASE/config-$VERSION-$PORT"  # one per node: nodes of one install run side by side
REPO_DIR="${MAPSEARCH_ES_REPO:-$BASE/snapshots-$VERSION-$PORT}"
SEED_PORTS="${MAPSEARCH_ES_SEED_PORTS:-}"
LOG_DIR="$BASE/logs-$VERSION-$PORT"
PIDFILE="$BASE/es-$VERSION-$PORT.pid"
CONSOLE_LOG="$LOG_DIR/console.log"

case "${VERSION%%.*}" in
  8) JAVA_DIR="${MAPSEARCH_ES_JAVA_HOME:-/usr/lib/jvm/java-17-openjdk-amd64}" ;;
  *) JAVA_DIR="${MAPSEARCH_ES_JAVA_HOME:-/usr/lib/jvm/temurin-25-jdk-amd64}" ;;
esac

healthy() {
  curl -fsS --max-time 5 "$URL/_cluster/health" 2>/dev/null | grep -Eq '"status":"(green|yellow)"'
}

tools() {
  local missing=()
  command -v mvn >/dev/null 2>&1 || missing+=(maven)
  command -v unzip >/dev/null 2>&1 || missing+=(unzip)
  command -v curl >/dev/null 2>&1 || missing+=(curl)
  [ "${#missing[@]}" = 0 ] && return 0
  echo "elasticsearch.sh: installing ${missing[*]} from Debian"
  export DEBIAN_FRONTEND=noninteractive
  apt-get -o DPkg::Lock::Timeout=600 update -qq
  apt-get -o DPkg::Lock::Timeout=600 install -y -qq "${missing[@]}" >/dev/null
}

fetch() {
  [ -s "$ZIP" ] && return 0
  mkdir -p "$CACHE"
  echo "elasticsearch.sh: fetching elasticsearch $VERSION (integ-test-zip) from Maven Central"
  mvn -q -B dependency:copy \
    -Dartifact="org.elasticsearch.distribution.integ-test-zip:elasticsearch:$VERSION:zip" \
    -DoutputDirectory="$CACHE.tmp-$$" >/dev/null
  mv "$CACHE.tmp-$$/elasticsearch-$VERSION.zip" "$ZIP"
  rmdir "$CACHE.tmp-$$"
}

install() {
  fetch
  if [ ! -x "$HOME_DIR/bin/elasticsearch" ]; then
    mkdir -p "$BASE"
    rm -rf "$HOME_DIR.partial" && mkdir -p "$HOME_DIR.partial"
    unzip -q "$ZIP" -d "$HOME_DIR.partial"
    mv "$HOME_DIR.partial/elasticsearch-$VERSION" "$HOME_DIR"
    rmdir "$HOME_DIR.partial"
  fi
  mkdir -p "$DATA_DIR" "$LOG_DIR" "$REPO_DIR"
  rm -rf "$CONF_DIR" && cp -r "$HOME_DIR/config" "$CONF_DIR"
  local cluster_name=mapsearch-test discovery="discovery.type: single-node"
  if [ -n "$SEED_PORTS" ]; then
    local seeds="" masters="" seed
    for seed in ${SEED_PORTS//,/ }; do
      seeds+="${seeds:+, }127.0.0.1:$((seed + 100))"
      masters+="${masters:+, }mapsearch-$seed"
    done
    cluster_name="mapsearch-cluster-${SEED_PORTS//,/-}"
    discovery="discovery.seed_hosts: [$seeds]
cluster.initial_master_nodes: [$masters]"
  fi
  cat >"$CONF_DIR/elasticsearch.yml" <<EOF
# written by scripts/services/elasticsearch.sh
cluster.name: $cluster_name
node.name: mapsearch-$PORT
network.host: 127.0.0.1
http.port: $PORT
transport.port: $((PORT + 100))
$discovery
path.repo: ["$REPO_DIR"]
xpack.security.enabled: false
cluster.routing.allocation.disk.threshold_enabled: false
action.destructive_requires_name: false
indices.memory.index_buffer_size: $INDEX_BUFFER
path.data: $DATA_DIR
path.logs: $LOG_DIR
EOF
  printf -- '-Xms%s\n-Xmx%s\n' "$HEAP" "$HEAP" >"$CONF_DIR/jvm.options.d/heap.options"
  if [ "$(id -u)" = 0 ]; then
    id "$ES_USER" >/dev/null 2>&1 || useradd --system --no-create-home --shell /usr/sbin/nologin "$ES_USER"
    chown -R "$ES_USER:" "$BASE" "$REPO_DIR"
  fi
}

running_pid() {
  [ -f "$PIDFILE" ] || return 1
  local pid
  pid="$(cat "$PIDFILE")"
  [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null && echo "$pid"
}

case "${1:-}" in
  start|launch)
    tools
    if healthy; then echo "elasticsearch.sh: already running at $URL"; exit 0; fi
    if [ ! -x "$JAVA_DIR/bin/java" ]; then
      echo "elasticsearch.sh: no Java at $JAVA_DIR (set MAPSEARCH_ES_JAVA_HOME)" >&2; exit 1
    fi
    install
    if ! running_pid >/dev/null; then
      run=(env "ES_JAVA_HOME=$JAVA_DIR" "ES_PATH_CONF=$CONF_DIR" "$HOME_DIR/bin/elasticsearch" -d -p "$PIDFILE")
      if [ "$(id -u)" = 0 ]; then run=(runuser -u "$ES_USER" -- "${run[@]}"); fi
      if ! "${run[@]}" >"$CONSOLE_LOG" 2>&1; then
        echo "elasticsearch.sh: elasticsearch failed to start; see $CONSOLE_LOG and $LOG_DIR/mapsearch-test.log" >&2
        tail -n 20 "$CONSOLE_LOG" >&2 || true
        exit 1
      fi
    fi
    if [ "$1" = launch ]; then echo "elasticsearch.sh: launched elasticsearch $VERSION on port $PORT"; exit 0; fi
    for _ in $(seq 1 "$WAIT_SECONDS"); do
      if healthy; then echo "elasticsearch.sh: elasticsearch $VERSION running at $URL"; exit 0; fi
      sleep 1
    done
    echo "elasticsearch.sh: not healthy within ${WAIT_SECONDS}s; see $LOG_DIR/mapsearch-test.log and $CONSOLE_LOG" >&2
    exit 1
    ;;
  stop)
    if pid="$(running_pid)"; then
      kill "$pid"
      for _ in $(seq 1 60); do kill -0 "$pid" 2>/dev/null || { echo "elasticsearch.sh: stopped"; exit 0; }; sleep 1; done
      echo "elasticsearch.sh: pid $pid still running after 60 s" >&2; exit 1
    fi
    echo "elasticsearch.sh: not running"
    ;;
  status)
    if healthy; then echo "elasticsearch.sh: running at $URL"; else echo "elasticsearch.sh: not running at $URL"; exit 1; fi
    ;;
  pid)
    running_pid || exit 1
    ;;
  *)
    echo "usage: $0 start|launch|stop|status|pid" >&2; exit 2
    ;;
esac
