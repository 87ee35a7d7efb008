package migrate

import (
	"fmt"
	"regexp"
	"strings"
)

var (
	createTable = regexp.MustCompile(`(?is)^((?:--[^\n]*\n\s*)*)CREATE TABLE IF NOT EXISTS ([A-Za-z_][A-Za-z0-9_]*)\s*\(`)
	engineRe    = regexp.MustCompile(`(?i)ENGINE\s*=\s*(ReplacingMergeTree|MergeTree)(\(([^)]*)\))?`)
)

// Rewrite turns one single-server statement into the statements for a cluster. With an empty cluster it
// returns the statement unchanged. With a cluster, a table T becomes:
//
//   - T_local, created ON CLUSTER with the Replicated variant of its engine (ZooKeeper/Keeper path
//     /clickhouse/tables/{shard}/{database}/T_local, replica {replica}: the macros every replica defines);
//   - T, a Distributed table over T_local sharded by rand(): readers and writers keep using T, and the
//     engine's queries deduplicate with GROUP BY over the whole cluster, so sharding needs no key.
//
// Cluster mode needs a current ClickHouse release (the {database} macro); Debian's 18.16 is single-server.
func Rewrite(stmt, cluster string) []string {
	if cluster == "" {
		return []string{stmt}
	}
	m := createTable.FindStringSubmatchIndex(stmt)
	if m == nil {
		return []string{stmt}
	}
	name := stmt[m[4]:m[5]]
	local := name + "_local"
	q := quoteIdent(cluster)
	head := fmt.Sprintf("CREATE TABLE IF NOT EXISTS %s ON CLUSTER %s (", local, q)
	body := head + stmt[m[1]:]
	body = engineRe.ReplaceAllStringFunc(body, func(e string) string {
		sm := engineRe.FindStringSubmatch(e)
		zk := fmt.Sprintf("'/clickhouse/tables/{shard}/{database}/%s', '{replica}'", local)
		args := zk
		if strings.TrimSpace(sm[3]) != "" {
			args += ", " + strings.TrimSpace(sm[3])
		}
		return fmt.Sprintf("ENGINE = Replicated%s(%s)", sm[1], args)
	})
	dist := fmt.Sprintf("CREATE TABLE IF NOT EXISTS %s ON CLUSTER %s AS %s ENGINE = Distributed(%s, currentDatabase(), %s, rand())",
		name, q, local, q, local)
	return []string{body, dist}
}

func quoteIdent(s string) string {
	return "'" + strings.ReplaceAll(strings.ReplaceAll(s, `\`, `\\`), `'`, `\'`) + "'"
}
