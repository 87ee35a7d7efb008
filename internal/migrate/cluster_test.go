package migrate

import (
	"reflect"
	"testing"
)

func TestRewrite(t *testing.T) {
	tests := []struct {
		name, stmt, cluster string
		want                []string
	}{
		{"single server is unchanged", "CREATE TABLE IF NOT EXISTS t (x UInt8) ENGINE = MergeTree ORDER BY x", "",
			[]string{"CREATE TABLE IF NOT EXISTS t (x UInt8) ENGINE = MergeTree ORDER BY x"}},
		{"replacing with version", "CREATE TABLE IF NOT EXISTS activites (id String, version UInt64) ENGINE = ReplacingMergeTree(version) ORDER BY id", "fne",
			[]string{
				"CREATE TABLE IF NOT EXISTS activites_local ON CLUSTER 'fne' (id String, version UInt64) ENGINE = ReplicatedReplacingMergeTree('/clickhouse/tables/{shard}/{database}/activites_local', '{replica}', version) ORDER BY id",
				"CREATE TABLE IF NOT EXISTS activites ON CLUSTER 'fne' AS activites_local ENGINE = Distributed('fne', currentDatabase(), activites_local, rand())",
			}},
		{"plain merge tree, comment kept out", "-- note\nCREATE TABLE IF NOT EXISTS ref_loads (load_id UInt64) ENGINE = MergeTree ORDER BY load_id", "c1",
			[]string{
				"CREATE TABLE IF NOT EXISTS ref_loads_local ON CLUSTER 'c1' (load_id UInt64) ENGINE = ReplicatedMergeTree('/clickhouse/tables/{shard}/{database}/ref_loads_local', '{replica}') ORDER BY load_id",
				"CREATE TABLE IF NOT EXISTS ref_loads ON CLUSTER 'c1' AS ref_loads_local ENGINE = Distributed('c1', currentDatabase(), ref_loads_local, rand())",
			}},
		{"replacing without version", "CREATE TABLE IF NOT EXISTS schema_migrations (version UInt32) ENGINE = ReplacingMergeTree ORDER BY version", "c",
			[]string{
				"CREATE TABLE IF NOT EXISTS schema_migrations_local ON CLUSTER 'c' (version UInt32) ENGINE = ReplicatedReplacingMergeTree('/clickhouse/tables/{shard}/{database}/schema_migrations_local', '{replica}') ORDER BY version",
				"CREATE TABLE IF NOT EXISTS schema_migrations ON CLUSTER 'c' AS schema_migrations_local ENGINE = Distributed('c', currentDatabase(), schema_migrations_local, rand())",
			}},
		{"quote in cluster name is escaped", "CREATE TABLE IF NOT EXISTS t (x UInt8) ENGINE = MergeTree ORDER BY x", "a'b",
			[]string{
				`CREATE TABLE IF NOT EXISTS t_local ON CLUSTER 'a\'b' (x UInt8) ENGINE = ReplicatedMergeTree('/clickhouse/tables/{shard}/{database}/t_local', '{replica}') ORDER BY x`,
				`CREATE TABLE IF NOT EXISTS t ON CLUSTER 'a\'b' AS t_local ENGINE = Distributed('a\'b', currentDatabase(), t_local, rand())`,
			}},
		{"non-DDL statement untouched", "SELECT 1", "c", []string{"SELECT 1"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := Rewrite(tt.stmt, tt.cluster); !reflect.DeepEqual(got, tt.want) {
				t.Errorf("Rewrite() =\n%q\nwant\n%q", got, tt.want)
			}
		})
	}
}

// Every embedded migration must be rewritable: each CREATE TABLE gives a local + a distributed table.
func TestRewriteEmbeddedMigrations(t *testing.T) {
	ms, err := Load()
	if err != nil {
		t.Fatal(err)
	}
	for _, m := range ms {
		for _, s := range m.Statements {
			if got := Rewrite(s, "fne"); len(got) != 2 {
				t.Errorf("%04d_%s: statement not rewritten for a cluster:\n%s", m.Version, m.Name, s)
			}
		}
	}
}
