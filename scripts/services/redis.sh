#!/usr/bin/env bash
# Redis for tests and the local pipeline: Debian's redis-server on 127.0.0.1:6379, daemonized,
# pid/log/dump under ~/.cache/mapsearch/redis. Usage: redis.sh start|stop|status
set -euo pipefail
PORT="${MAPSEARCH_REDIS_PORT:-6379}"
DIR="${MAPSEARCH_REDIS_DIR:-$HOME/.cache/mapsearch/redis}"
PIDFILE="$DIR/redis-$PORT.pid"
LOGFILE="$DIR/redis-$PORT.log"

ping() { redis-cli -h 127.0.0.1 -p "$PORT" ping 2>/dev/null | grep -q PONG; }

install_if_missing() {
  command -v redis-server >/dev/null 2>&1 && return 0
  echo "redis.sh: installing redis-server from Debian"
  export DEBIAN_FRONTEND=noninteractive
  # apt-get update only when the package index does not know redis-server yet
  apt-cache show redis-server >/dev/null 2>&1 || apt-get -o DPkg::Lock::Timeout=600 update -qq
  apt-get -o DPkg::Lock::Timeout=600 install -y -qq redis-server >/dev/null
}

case "${1:-}" in
  start)
    install_if_missing
    if ping; then echo "redis.sh: already running on 127.0.0.1:$PORT"; exit 0; fi
    mkdir -p "$DIR"
    # no persistence: the Redis-restart fault test runs its own persistent instance on another port
    redis-server --bind 127.0.0.1 --port "$PORT" --daemonize yes --protected-mode yes \
      --pidfile "$PIDFILE" --logfile "$LOGFILE" --dir "$DIR" --dbfilename "dump-$PORT.rdb" \
      --save "" --appendonly no
    for _ in $(seq 1 100); do
      if ping; then echo "redis.sh: running on 127.0.0.1:$PORT"; exit 0; fi
      sleep 0.1
    done
    echo "redis.sh: redis did not answer PING within 10 s; see $LOGFILE" >&2
    exit 1
    ;;
  stop)
    if ping; then redis-cli -h 127.0.0.1 -p "$PORT" shutdown nosave >/dev/null 2>&1 || true; fi
    for _ in $(seq 1 50); do ping || { echo "redis.sh: stopped"; exit 0; }; sleep 0.1; done
    echo "redis.sh: redis still answering on $PORT" >&2; exit 1
    ;;
  status)
    if ping; then echo "redis.sh: running on 127.0.0.1:$PORT"; else echo "redis.sh: not running"; exit 1; fi
    ;;
  *)
    echo "usage: $0 start|stop|status" >&2; exit 2
    ;;
esac
