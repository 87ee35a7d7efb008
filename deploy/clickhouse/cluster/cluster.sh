#!/usr/bin/env bash
# Starts or stops the loopback test cluster: one ZooKeeper and four ClickHouse servers forming the
# cluster FNE_CLUSTER_NAME (default fne_cluster) of 2 shards × 2 replicas. Data under <repo>/.run/cluster.
# Usage: cluster.sh up|down|status|kill N|start N
#
# Ports (all on 127.0.0.1; 9000/8123 stay free for the single server):
#   node  shard replica  TCP   HTTP  interserver
#   n1    01    r1       9101  8201  9201
#   n2    01    r2       9102  8202  9202
#   n3    02    r1       9103  8203  9203
#   n4    02    r2       9104  8204  9204
#   ZooKeeper client port 2281 (admin server disabled).
#
# `up` installs the Debian packages zookeeper (with its JRE) and clickhouse-server when they are missing
# (root), reuses whatever already answers, and records every PID it starts under .run/cluster/pids:
# `down` stops only those. `kill N` sends SIGKILL to node N (tests of a lost replica); `start N` restarts it.
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
repo=$(cd "$here/../../.." && pwd)
dir=${FNE_CLUSTER_DIR:-$repo/.run/cluster}
name=${FNE_CLUSTER_NAME:-fne_cluster}
zkport=2281
pids=$dir/pids

tcp_port() { echo $((9100 + $1)); }
http_port() { echo $((8200 + $1)); }

ping_node() { curl -fsS --max-time 2 "http://127.0.0.1:$(http_port "$1")/?query=SELECT%201" >/dev/null 2>&1; }

# `ruok` answers imok before the server accepts sessions (ClickHouse then fails to start: its replicated
# tables need ZooKeeper at load): wait for `srvr` to report a serving mode instead.
ping_zk() {
  local answer
  answer=$( (exec 3<>"/dev/tcp/127.0.0.1/$zkport" && printf srvr >&3 && timeout 2 cat <&3) 2>/dev/null || true)
  [[ "$answer" == *"Mode: standalone"* ]]
}

apt_install() {
  if [ "$(id -u)" != 0 ]; then
    echo "Paquets manquants ($*) : l'installation demande les droits root (apt-get install $*)." >&2
    exit 1
  fi
  echo "Installation de $* (paquets Debian)…"
  export DEBIAN_FRONTEND=noninteractive
  # Other processes may hold the dpkg lock for a while on a shared machine: wait for it.
  apt-get -o DPkg::Lock::Timeout=600 update -qq
  apt-get -o DPkg::Lock::Timeout=600 install -y -qq "$@" >/dev/null
}

install() {
  local missing=()
  [ -f /usr/share/java/zookeeper.jar ] || missing+=(zookeeper)
  command -v java >/dev/null 2>&1 || missing+=(default-jre-headless)
  [ -x /usr/sbin/clickhouse-server ] || command -v clickhouse-server >/dev/null 2>&1 || missing+=(clickhouse-server clickhouse-client)
  command -v curl >/dev/null 2>&1 || missing+=(curl)
  if [ ${#missing[@]} -gt 0 ]; then apt_install "${missing[@]}"; fi
}

record() { echo "$1 $2" >>"$pids"; }

pid_of() { [ -f "$pids" ] && awk -v k="$1" '$1 == k { p = $2 } END { if (p) print p }' "$pids"; }

wait_for() {
  local what=$1 check=$2 log=$3 pid=${4:-}
  for _ in $(seq 1 300); do
    if $check; then return 0; fi
    if [ -n "$pid" ] && ! kill -0 "$pid" 2>/dev/null; then break; fi
    sleep 0.2
  done
  echo "$what n'a pas démarré ; dernières lignes du journal :" >&2
  tail -n 20 "$log" >&2 2>/dev/null || true
  exit 1
}

zk_up() {
  if ping_zk; then return; fi
  local z=$dir/zk
  mkdir -p "$z/data" "$z/log"
  cat >"$z/zoo.cfg" <<CFG
tickTime=500
initLimit=10
syncLimit=5
dataDir=$z/data
clientPort=$zkport
clientPortAddress=127.0.0.1
maxClientCnxns=200
admin.enableServer=false
4lw.commands.whitelist=ruok,srvr,mntr
autopurge.snapRetainCount=3
autopurge.purgeInterval=1
CFG
  cat >"$z/log4j.properties" <<CFG
log4j.rootLogger=WARN, F
log4j.appender.F=org.apache.log4j.FileAppender
log4j.appender.F.File=$z/log/zookeeper.log
log4j.appender.F.layout=org.apache.log4j.PatternLayout
log4j.appender.F.layout.ConversionPattern=%d %p %c: %m%n
CFG
  local cp=/usr/share/java/zookeeper.jar:/usr/share/java/zookeeper-jute.jar:/usr/share/java/slf4j-api.jar:/usr/share/java/slf4j-log4j12.jar:/usr/share/java/log4j-1.2.jar:/usr/share/java/netty-all.jar:/usr/share/java/metrics-core.jar:/usr/share/java/snappy-java.jar
  # cd in the subshell, then a simple background command: $! is then the server itself, not a subshell.
  (cd "$z"; nohup java -Xms32m -Xmx160m -XX:+UseSerialGC -Dlog4j.configuration="file:$z/log4j.properties" \
      -cp "$cp" org.apache.zookeeper.server.ZooKeeperServerMain "$z/zoo.cfg" >"$z/log/stdout.log" 2>&1 &
    echo $! >"$z/pid")
  record zk "$(cat "$z/pid")"
  wait_for "ZooKeeper" ping_zk "$z/log/stdout.log" "$(cat "$z/pid")"
  echo "ZooKeeper démarré sur 127.0.0.1:$zkport."
}

node_up() {
  local n=$1
  if ping_node "$n"; then return; fi
  local d=$dir/n$n shard replica
  shard=$(printf '%02d' $(((n + 1) / 2)))
  replica=r$((2 - n % 2))
  mkdir -p "$d"/{log,data,tmp,user_files,format_schemas}
  sed -e "s#FNE_NODE_DIR#$d#g" -e "s#FNE_TCP_PORT#$(tcp_port "$n")#g" -e "s#FNE_HTTP_PORT#$(http_port "$n")#g" \
      -e "s#FNE_INTERSERVER_PORT#$((9200 + n))#g" -e "s#FNE_CLUSTER#$name#g" -e "s#FNE_ZK_PORT#$zkport#g" \
      -e "s#FNE_SHARD#$shard#g" -e "s#FNE_REPLICA#$replica#g" \
      -e "s#FNE_PORT_1#$(tcp_port 1)#g" -e "s#FNE_PORT_2#$(tcp_port 2)#g" \
      -e "s#FNE_PORT_3#$(tcp_port 3)#g" -e "s#FNE_PORT_4#$(tcp_port 4)#g" \
      "$here/config.xml" >"$d/config.xml"
  cp "$here/users.xml" "$d/users.xml"
  local bin
  bin=$(command -v clickhouse-server || echo /usr/sbin/clickhouse-server)
  (cd "$d"; nohup "$bin" --config-file="$d/config.xml" >"$d/log/stdout.log" 2>&1 & echo $! >"$d/pid")
  record "n$n" "$(cat "$d/pid")"
}

up() {
  install
  mkdir -p "$dir"
  zk_up
  for n in 1 2 3 4; do node_up "$n"; done
  for n in 1 2 3 4; do wait_for "ClickHouse n$n" "ping_node $n" "$dir/n$n/log/clickhouse-server.err.log" "$(pid_of "n$n")"; done
  echo "Cluster $name prêt : 2 shards × 2 répliques, TCP 127.0.0.1:9101-9104 (HTTP 8201-8204), ZooKeeper 127.0.0.1:$zkport."
}

stop_pid() {
  local pid=$1 sig=${2:-TERM}
  kill -0 "$pid" 2>/dev/null || return 0
  kill "-$sig" "$pid" 2>/dev/null || true
  for _ in $(seq 1 150); do kill -0 "$pid" 2>/dev/null || return 0; sleep 0.2; done
  kill -KILL "$pid" 2>/dev/null || true
}

down() {
  if [ ! -f "$pids" ]; then echo "Aucun cluster lancé par le projet ($pids absent)."; return; fi
  # ClickHouse first (they hold ZooKeeper sessions), the four in parallel, then ZooKeeper.
  local p
  for n in 1 2 3 4; do p=$(pid_of "n$n"); [ -z "$p" ] || stop_pid "$p" & done
  wait
  p=$(pid_of zk); [ -z "$p" ] || stop_pid "$p"
  rm -f "$pids"
  echo "Cluster arrêté."
}

case "${1:-}" in
  up) up ;;
  down) down ;;
  status)
    ok=0
    if ping_zk; then echo "ZooKeeper : répond sur $zkport"; else echo "ZooKeeper : ne répond pas"; ok=1; fi
    for n in 1 2 3 4; do
      if ping_node "$n"; then echo "n$n : répond sur $(tcp_port "$n")"; else echo "n$n : ne répond pas"; ok=1; fi
    done
    exit $ok ;;
  kill)
    n=${2:?numéro de nœud}; p=$(pid_of "n$n")
    [ -n "$p" ] || { echo "n$n n'a pas été lancé par ce script" >&2; exit 1; }
    kill -KILL "$p"; for _ in $(seq 1 50); do kill -0 "$p" 2>/dev/null || break; sleep 0.1; done
    echo "n$n tué (SIGKILL)." ;;
  start)
    n=${2:?numéro de nœud}; node_up "$n"; wait_for "ClickHouse n$n" "ping_node $n" "$dir/n$n/log/clickhouse-server.err.log" "$(pid_of "n$n")"
    echo "n$n redémarré." ;;
  *) echo "usage : $0 up|down|status|kill N|start N" >&2; exit 2 ;;
esac
