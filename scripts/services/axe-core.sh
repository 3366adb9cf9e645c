#!/usr/bin/env bash
# axe-core (Deque's accessibility rules engine) for the browser tests, which inject its
# axe.min.js into each page. start: npm-install the pinned version into ~/.cache when missing
# (idempotent); status: exit 0 when present; path: print the file the tests load.
set -euo pipefail
AXE_VERSION="${MAPSEARCH_AXE_VERSION:-4.11.0}"
prefix="${XDG_CACHE_HOME:-$HOME/.cache}/mapsearch/axe-core-$AXE_VERSION"
file="$prefix/node_modules/axe-core/axe.min.js"
case "${1:-start}" in
  start)
    if [ -f "$file" ]; then
      exit 0
    fi
    command -v npm >/dev/null || { echo "axe-core: npm is needed (apt-get install npm)" >&2; exit 1; }
    echo "axe-core: installing axe-core@$AXE_VERSION into $prefix"
    mkdir -p "$prefix"
    npm install --prefix "$prefix" --no-save --no-audit --no-fund --loglevel=error "axe-core@$AXE_VERSION" >/dev/null
    [ -f "$file" ]
    ;;
  stop)
    ;;  # nothing runs: the tests read the file
  status)
    [ -f "$file" ]
    ;;
  path)
    echo "$file"
    ;;
  *)
    echo "usage: $0 start|stop|status|path" >&2
    exit 2
    ;;
esac
