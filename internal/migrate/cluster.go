package migrate

import (
	"context"
	"fmt"
	"regexp"
	"strings"

	"github.com/ClickHouse/clickhouse-go/v2/lib/driver"
)

var (
	createTable = regexp.MustCompile(`(?is)^((?:--[^\n]*\n\s*)*)CREATE TABLE IF NOT EXISTS ([A-Za-z_][A-Za-z0-9_]*)\s*\(`)
	engineRe    = regexp.MustCompile(`(?i)ENGINE\s*=\s*(ReplacingMergeTree|MergeTree)(\(([^)]*)\))?`)
	orderByRe   = regexp.MustCompile(`(?is)\bORDER BY\s+(\([^)]*\)|[A-Za-z_][A-Za-z0-9_]*)\s*;?\s*$`)
	alterTable  = regexp.MustCompile(`(?is)^((?:--[^\n]*\n\s*)*)ALTER TABLE ([A-Za-z_][A-Za-z0-9_]*)\s+(.*)$`)
	columnAlter = regexp.MustCompile(`(?i)^(ADD|DROP|MODIFY|COMMENT)\s+COLUMN\b`)
	commentRe   = regexp.MustCompile(`(?i)\s+COMMENT\s+'(?:[^'\\]|\\.)*'`)
)

// recordKeys names, for the tables whose ORDER BY holds more than the record key, the columns that
// identify a record across its versions. activites is ordered by (date, id) for partition pruning, but
// an edit may change the date: sharding on the ORDER BY would send two versions of one activity to two
// shards.
var recordKeys = map[string]string{
	"activites": "id",
	// One set of aggregates (its rows and its marker) lives on one shard: a reader never sees the marker
	// of a set from a replica that has not yet received the rows of the same insert sequence on another shard.
	"activites_agregats": "fingerprint, writer",
}

// Rewrite turns one single-server statement into the statements for a cluster. Without a cluster it
// returns the statement unchanged. With a cluster, a table T of database D becomes:
//
//   - D.T_local, without column comments, created ON CLUSTER with the Replicated variant of its engine, ZooKeeper path
//     /clickhouse/tables/{shard}/D/T_local and replica {replica} (the macros every server defines; the
//     database is written out because 18.16 has no {database} macro);
//   - D.T, a Distributed table over D.T_local, sharded by cityHash64 of the record key (ORDER BY, or
//     recordKeys): every version of a record lands on the same shard, so ReplacingMergeTree merges and
//     the engine's argMax per key deduplicate within one shard, and re-ingesting a record replaces it
//     where it already is. Readers and writers keep using T.
//
// ALTER TABLE T is applied ON CLUSTER to T_local (mutations, DELETE/UPDATE, only exist there). When it
// changes columns, the Distributed T must expose them too, but 18.16 refuses ALTER … ON CLUSTER on a
// table that is not replicated in a cluster whose shards are ("Table T isn't replicated, but shard #2 is
// replicated according to its cluster definition"): Apply then recreates T (see recreateDistributed).
func Rewrite(stmt string, o Options) []string {
	if o.Cluster == "" {
		return []string{stmt}
	}
	q := quoteIdent(o.Cluster)
	db := o.Database
	if m := alterTable.FindStringSubmatch(stmt); m != nil {
		name, rest := m[2], m[3]
		return []string{fmt.Sprintf("ALTER TABLE %s.%s_local ON CLUSTER %s %s", db, name, q, rest)}
	}
	m := createTable.FindStringSubmatchIndex(stmt)
	if m == nil {
		return []string{stmt}
	}
	name := stmt[m[4]:m[5]]
	local := name + "_local"
	head := fmt.Sprintf("CREATE TABLE IF NOT EXISTS %s.%s ON CLUSTER %s (", db, local, q)
	// Column comments are dropped: 18.16 stores them escaped in the table's ZooKeeper metadata and then
	// refuses every further replica ("Table structure in ZooKeeper is too different from local table
	// structure"). They document the single-server schema, which keeps them.
	body := head + commentRe.ReplaceAllString(stmt[m[1]:], "")
	body = engineRe.ReplaceAllStringFunc(body, func(e string) string {
		sm := engineRe.FindStringSubmatch(e)
		args := fmt.Sprintf("'/clickhouse/tables/{shard}/%s/%s', '{replica}'", db, local)
		if strings.TrimSpace(sm[3]) != "" {
			args += ", " + strings.TrimSpace(sm[3])
		}
		return fmt.Sprintf("ENGINE = Replicated%s(%s)", sm[1], args)
	})
	dist := fmt.Sprintf("CREATE TABLE IF NOT EXISTS %s.%s ON CLUSTER %s AS %s.%s ENGINE = Distributed(%s, %s, %s, %s)",
		db, name, q, db, local, q, quoteIdent(db), quoteIdent(local), shardingKey(name, stmt))
	return []string{body, dist}
}

// alteredColumns returns the table whose columns stmt changes, if it does.
func alteredColumns(stmt string) (string, bool) {
	m := alterTable.FindStringSubmatch(stmt)
	if m == nil || !columnAlter.MatchString(strings.TrimSpace(m[3])) {
		return "", false
	}
	return m[2], true
}

// recreateDistributed drops and recreates, ON CLUSTER, the Distributed table name over name_local with
// the same engine (cluster, database, sharding key), so that it takes the local table's new columns. It
// holds no data: the cluster inserts synchronously (insert_distributed_sync, see
// deploy/clickhouse/cluster/users.xml), so no block waits in its queue; readers and writers see it
// missing for the moment between the two statements.
func recreateDistributed(ctx context.Context, conn driver.Conn, o Options, name string) error {
	var engine string
	if err := conn.QueryRow(ctx, "SELECT engine_full FROM system.tables WHERE database = ? AND name = ?", o.Database, name).Scan(&engine); err != nil {
		return fmt.Errorf("table distribuée %s introuvable : %w", name, err)
	}
	if !strings.HasPrefix(engine, "Distributed(") {
		return fmt.Errorf("la table %s n'est pas distribuée (%s)", name, engine)
	}
	q := quoteIdent(o.Cluster)
	for _, s := range []string{
		fmt.Sprintf("DROP TABLE IF EXISTS %s.%s ON CLUSTER %s", o.Database, name, q),
		fmt.Sprintf("CREATE TABLE IF NOT EXISTS %s.%s ON CLUSTER %s AS %s.%s_local ENGINE = %s", o.Database, name, q, o.Database, name, engine),
	} {
		if err := conn.Exec(ctx, s); err != nil {
			return err
		}
	}
	return nil
}

// shardingKey is cityHash64 over the record key of table name (see Rewrite).
func shardingKey(name, stmt string) string {
	key, ok := recordKeys[name]
	if !ok {
		if m := orderByRe.FindStringSubmatch(stmt); m != nil {
			key = strings.TrimSuffix(strings.TrimPrefix(m[1], "("), ")")
		}
	}
	if strings.TrimSpace(key) == "" {
		return "rand()"
	}
	return "cityHash64(" + strings.Join(strings.Fields(key), " ") + ")"
}

// CreateDatabase is the statement that creates the database on every server of the cluster.
func CreateDatabase(o Options) string {
	return fmt.Sprintf("CREATE DATABASE IF NOT EXISTS %s ON CLUSTER %s", o.Database, quoteIdent(o.Cluster))
}

func quoteIdent(s string) string {
	return "'" + strings.ReplaceAll(strings.ReplaceAll(s, `\`, `\\`), `'`, `\'`) + "'"
}
