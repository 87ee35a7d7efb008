#!/usr/bin/env bash
# Starts or stops the project's own ClickHouse server on loopback, for development, tests and the demo.
# Usage: clickhouse.sh up|down|status
# Environment: FNE_CH_DIR (run directory, default <repo>/.run/clickhouse), FNE_CH_TCP_PORT (9000),
# FNE_CH_HTTP_PORT (8123). `up` installs Debian's clickhouse-server when it is absent (needs root) and
# reuses a server that is already answering, so it can be called any number of times.
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
repo=$(cd "$here/../../.." && pwd)
dir=${FNE_CH_DIR:-$repo/.run/clickhouse}
tcp=${FNE_CH_TCP_PORT:-9000}
http=${FNE_CH_HTTP_PORT:-8123}
pidfile=$dir/clickhouse.pid

ping() { curl -fsS --max-time 2 "http://127.0.0.1:$http/?query=SELECT%201" >/dev/null 2>&1; }

install() {
  if command -v clickhouse-server >/dev/null 2>&1 || [ -x /usr/sbin/clickhouse-server ]; then return; fi
  if [ "$(id -u)" != 0 ]; then
    echo "clickhouse-server est absent et l'installation demande les droits root (apt-get install clickhouse-server)." >&2
    exit 1
  fi
  echo "Installation de clickhouse-server (paquet Debian)…"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq clickhouse-server clickhouse-client >/dev/null
}

up() {
  if ping; then echo "ClickHouse répond déjà sur 127.0.0.1:$tcp (HTTP $http)."; return; fi
  install
  command -v curl >/dev/null 2>&1 || { apt-get install -y -qq curl >/dev/null; }
  mkdir -p "$dir"/{log,data,tmp,user_files,format_schemas}
  sed -e "s#FNE_CH_DIR#$dir#g" -e "s#FNE_CH_TCP_PORT#$tcp#g" -e "s#FNE_CH_HTTP_PORT#$http#g" \
    "$here/config.xml" > "$dir/config.xml"
  cp "$here/users.xml" "$dir/users.xml"
  bin=$(command -v clickhouse-server || echo /usr/sbin/clickhouse-server)
  # The PID is recorded here: 18.16 writes no pid file outside daemon mode.
  cd "$dir"
  nohup "$bin" --config-file="$dir/config.xml" >"$dir/log/stdout.log" 2>&1 &
  echo $! >"$pidfile"
  for _ in $(seq 1 150); do
    if ping; then echo "ClickHouse démarré sur 127.0.0.1:$tcp (données dans $dir)."; return; fi
    sleep 0.2
  done
  echo "ClickHouse n'a pas démarré en 30 s ; dernières lignes du journal :" >&2
  tail -n 20 "$dir/log/clickhouse-server.err.log" "$dir/log/stdout.log" >&2 2>/dev/null || true
  exit 1
}

down() {
  pid=""
  [ -f "$pidfile" ] && pid=$(cat "$pidfile")
  # A server started by an older version of this script left no pid file: find it by its config path.
  [ -n "$pid" ] || pid=$(pgrep -f -- "--config-file=$dir/config.xml" | head -n 1 || true)
  if [ -n "$pid" ]; then
    if kill -0 "$pid" 2>/dev/null; then
      kill -TERM "$pid"
      for _ in $(seq 1 150); do kill -0 "$pid" 2>/dev/null || break; sleep 0.2; done
      kill -0 "$pid" 2>/dev/null && kill -KILL "$pid"
    fi
    rm -f "$pidfile"
    echo "ClickHouse arrêté."
  else
    echo "Aucun serveur ClickHouse lancé par le projet ($pidfile absent)."
  fi
}

case "${1:-}" in
  up) up ;;
  down) down ;;
  status) if ping; then echo "ClickHouse répond sur 127.0.0.1:$tcp."; else echo "ClickHouse ne répond pas."; exit 1; fi ;;
  *) echo "usage : $0 up|down|status" >&2; exit 2 ;;
esac
