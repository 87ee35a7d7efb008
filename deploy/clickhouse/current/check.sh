#!/usr/bin/env bash
# Checks the project's SQL against the current ClickHouse engine, with chDB (npm package, ~550 MB, kept
# under .run/chdb). Needs the local 18.16 server (make clickhouse-up) with log_queries=1 (set by
# deploy/clickhouse/local/users.xml) and some queries to replay: run the integration tests or
# `make demo` first. Usage: deploy/clickhouse/current/check.sh
set -euo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
repo=$(cd "$here/../../.." && pwd)
run=$repo/.run/chdb
mkdir -p "$run"
if [ ! -d "$run/node_modules/chdb" ]; then
  echo "Installation de chDB (moteur ClickHouse actuel, ~550 Mo)…"
  (cd "$run" && npm install --no-audit --no-fund --silent chdb@3.4.0 >/dev/null)
fi
http=${FNE_CH_HTTP_PORT:-8123}
curl -fsS "http://127.0.0.1:$http/" --data-binary "SYSTEM FLUSH LOGS" >/dev/null
# Distinct SELECTs on the project's tables (inserts, DDL and system queries excluded).
curl -fsS "http://127.0.0.1:$http/" --data-binary "SELECT DISTINCT query FROM system.query_log
  WHERE type = 2 AND query LIKE 'SELECT%' AND query NOT LIKE '%system.%' AND query NOT LIKE '%FORMAT%'
  FORMAT JSONEachRow" >"$run/queries.jsonl"
cp "$here/check.js" "$run/check.js"
cd "$run" && node check.js "$repo/schemas/clickhouse" "$run/queries.jsonl"
