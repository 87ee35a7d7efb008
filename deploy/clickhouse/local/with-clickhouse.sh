#!/usr/bin/env bash
# Runs a command with the project's ClickHouse server up, and stops the server afterwards if this script
# started it (a server the developer already had running is left alone). The command's exit code is kept.
set -uo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
http=${FNE_CH_HTTP_PORT:-8123}
started=0
if ! curl -fsS --max-time 2 "http://127.0.0.1:$http/?query=SELECT%201" >/dev/null 2>&1; then
  "$here/clickhouse.sh" up || exit 1
  started=1
fi
"$@"
rc=$?
if [ "$started" = 1 ]; then "$here/clickhouse.sh" down; fi
exit $rc
