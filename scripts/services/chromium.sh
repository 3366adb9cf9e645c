#!/usr/bin/env bash
# Debian's Chromium for the browser tests (Playwright drives it through executable_path).
# start: install it when /usr/bin/chromium is missing (idempotent); status: exit 0 when present.
set -euo pipefail
case "${1:-start}" in
  start)
    if [ -x /usr/bin/chromium ]; then
      exit 0
    fi
    echo "chromium: installing Debian's chromium package"
    sudo_cmd=""
    [ "$(id -u)" -eq 0 ] || sudo_cmd="sudo"
    export DEBIAN_FRONTEND=noninteractive
    if ! $sudo_cmd apt-get install -y --no-install-recommends chromium fonts-dejavu-core >/dev/null; then
      $sudo_cmd apt-get update -qq
      $sudo_cmd apt-get install -y --no-install-recommends chromium fonts-dejavu-core >/dev/null
    fi
    /usr/bin/chromium --version
    ;;
  stop)
    ;;  # nothing runs in the background: each test launches and closes its own browser
  status)
    [ -x /usr/bin/chromium ]
    ;;
  *)
    echo "usage: $0 start|stop|status" >&2
    exit 2
    ;;
esac
