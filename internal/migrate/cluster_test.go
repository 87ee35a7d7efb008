package migrate

import (
	"reflect"
	"strings"
	"testing"
)

func TestRewrite(t *testing.T) {
	fne := Options{Cluster: "fne", Database: "db"}
	tests := []struct {
		name, stmt string
		opts       Options
		want       []string
	}{
		{"single server is unchanged", "CREATE TABLE IF NOT EXISTS t (x UInt8) ENGINE = MergeTree ORDER BY x", Options{},
			[]string{"CREATE TABLE IF NOT EXISTS t (x UInt8) ENGINE = MergeTree ORDER BY x"}},
		{"activities sharded by id, not by their ORDER BY (date, id)", "CREATE TABLE IF NOT EXISTS activites (id String, version UInt64, date Date) ENGINE = ReplacingMergeTree(version) PARTITION BY toYYYYMM(date) ORDER BY (date, id)", fne,
			[]string{
				"CREATE TABLE IF NOT EXISTS db.activites_local ON CLUSTER 'fne' (id String, version UInt64, date Date) ENGINE = ReplicatedReplacingMergeTree('/clickhouse/tables/{shard}/db/activites_local', '{replica}', version) PARTITION BY toYYYYMM(date) ORDER BY (date, id)",
				"CREATE TABLE IF NOT EXISTS db.activites ON CLUSTER 'fne' AS db.activites_local ENGINE = Distributed('fne', 'db', 'activites_local', cityHash64(id))",
			}},
		{"plain merge tree, comment kept out, key from ORDER BY", "-- note\nCREATE TABLE IF NOT EXISTS ref_communes (load_id UInt64, code_insee String) ENGINE = MergeTree ORDER BY (load_id, code_insee)", Options{Cluster: "c1", Database: "fne"},
			[]string{
				"CREATE TABLE IF NOT EXISTS fne.ref_communes_local ON CLUSTER 'c1' (load_id UInt64, code_insee String) ENGINE = ReplicatedMergeTree('/clickhouse/tables/{shard}/fne/ref_communes_local', '{replica}') ORDER BY (load_id, code_insee)",
				"CREATE TABLE IF NOT EXISTS fne.ref_communes ON CLUSTER 'c1' AS fne.ref_communes_local ENGINE = Distributed('c1', 'fne', 'ref_communes_local', cityHash64(load_id, code_insee))",
			}},
		{"replacing without version", "CREATE TABLE IF NOT EXISTS schema_migrations (version UInt32) ENGINE = ReplacingMergeTree ORDER BY version", fne,
			[]string{
				"CREATE TABLE IF NOT EXISTS db.schema_migrations_local ON CLUSTER 'fne' (version UInt32) ENGINE = ReplicatedReplacingMergeTree('/clickhouse/tables/{shard}/db/schema_migrations_local', '{replica}') ORDER BY version",
				"CREATE TABLE IF NOT EXISTS db.schema_migrations ON CLUSTER 'fne' AS db.schema_migrations_local ENGINE = Distributed('fne', 'db', 'schema_migrations_local', cityHash64(version))",
			}},
		{"quote in cluster name is escaped", "CREATE TABLE IF NOT EXISTS t (x UInt8) ENGINE = MergeTree ORDER BY x", Options{Cluster: "a'b", Database: "d"},
			[]string{
				`CREATE TABLE IF NOT EXISTS d.t_local ON CLUSTER 'a\'b' (x UInt8) ENGINE = ReplicatedMergeTree('/clickhouse/tables/{shard}/d/t_local', '{replica}') ORDER BY x`,
				`CREATE TABLE IF NOT EXISTS d.t ON CLUSTER 'a\'b' AS d.t_local ENGINE = Distributed('a\'b', 'd', 't_local', cityHash64(x))`,
			}},
		{"column change on the local table (Apply recreates the distributed one)", "ALTER TABLE lieux ADD COLUMN note String", fne,
			[]string{"ALTER TABLE db.lieux_local ON CLUSTER 'fne' ADD COLUMN note String"}},
		{"mutation on the local table only", "ALTER TABLE lieux DELETE WHERE deleted = 1", fne,
			[]string{"ALTER TABLE db.lieux_local ON CLUSTER 'fne' DELETE WHERE deleted = 1"}},
		{"non-DDL statement untouched", "SELECT 1", fne, []string{"SELECT 1"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := Rewrite(tt.stmt, tt.opts); !reflect.DeepEqual(got, tt.want) {
				t.Errorf("Rewrite() =\n%q\nwant\n%q", got, tt.want)
			}
		})
	}
}

// Every embedded migration must be rewritable: each CREATE TABLE gives a local + a distributed table,
// sharded by a record key (never rand(): versions of a record must meet on one shard).
func TestRewriteEmbeddedMigrations(t *testing.T) {
	ms, err := Load()
	if err != nil {
		t.Fatal(err)
	}
	for _, m := range ms {
		for _, s := range m.Statements {
			got := Rewrite(s, Options{Cluster: "fne", Database: "fne"})
			if strings.HasPrefix(strings.TrimSpace(s), "ALTER") {
				continue
			}
			if len(got) != 2 {
				t.Errorf("%04d_%s: statement not rewritten for a cluster:\n%s", m.Version, m.Name, s)
				continue
			}
			if !strings.Contains(got[1], "cityHash64(") {
				t.Errorf("%04d_%s: no record sharding key:\n%s", m.Version, m.Name, got[1])
			}
		}
	}
}

func TestRewriteDropsColumnComments(t *testing.T) {
	got := Rewrite(`CREATE TABLE IF NOT EXISTS w (s String COMMENT 'it\'s, (a) key', v UInt64 COMMENT 'v') ENGINE = ReplacingMergeTree(v) ORDER BY s`, Options{Cluster: "c", Database: "d"})
	want := "CREATE TABLE IF NOT EXISTS d.w_local ON CLUSTER 'c' (s String, v UInt64) ENGINE = ReplicatedReplacingMergeTree('/clickhouse/tables/{shard}/d/w_local', '{replica}', v) ORDER BY s"
	if got[0] != want {
		t.Errorf("got\n%s\nwant\n%s", got[0], want)
	}
}
