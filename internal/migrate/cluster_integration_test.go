//go:build integration && cluster

package migrate_test

import (
	"context"
	"testing"
	"testing/fstest"

	"github.com/sdaasp-rhone/fne/internal/clustertest"
	"github.com/sdaasp-rhone/fne/internal/migrate"
	"github.com/sdaasp-rhone/fne/internal/store"
)

// A later migration that changes a column (ALTER TABLE … ADD COLUMN) reaches, on every server, both the
// replicated local table and the Distributed table in front of it; rows written through one node before
// and after it are read back through another.
func TestClusterAlterMigration(t *testing.T) {
	ctx := context.Background()
	db := clustertest.Empty(t)
	fsys := fstest.MapFS{
		"m/0001_t.sql":    {Data: []byte("CREATE TABLE IF NOT EXISTS t (id String COMMENT 'key', version UInt64) ENGINE = ReplacingMergeTree(version) ORDER BY id;")},
		"m/0002_note.sql": {Data: []byte("ALTER TABLE t ADD COLUMN note String DEFAULT 'none';")},
	}
	ms, err := migrate.LoadFS(fsys, "m")
	if err != nil {
		t.Fatal(err)
	}
	conn, err := store.EnsureDatabase(ctx, db.Config(1))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	if _, err := migrate.Apply(ctx, conn, ms[:1], migrate.Options{Cluster: clustertest.Name}); err != nil {
		t.Fatal(err)
	}
	b, err := conn.PrepareBatch(ctx, "INSERT INTO t (id, version)")
	if err != nil {
		t.Fatal(err)
	}
	for _, id := range []string{"a", "b", "c"} {
		if err := b.Append(id, uint64(1)); err != nil {
			t.Fatal(err)
		}
	}
	if err := b.Send(); err != nil {
		t.Fatal(err)
	}
	res, err := migrate.Apply(ctx, db.Conn(t, 3), ms, migrate.Options{Cluster: clustertest.Name})
	if err != nil {
		t.Fatal(err)
	}
	if res.Current != 2 || len(res.Applied) != 1 {
		t.Fatalf("second apply through n3: current %d, applied %d; want 2, 1", res.Current, len(res.Applied))
	}
	for n := 1; n <= clustertest.Nodes; n++ {
		var cols uint64
		if err := db.Conn(t, n).QueryRow(ctx, "SELECT count() FROM system.columns WHERE database = ? AND has(['t', 't_local'], table) AND name = 'note'", db.Name).Scan(&cols); err != nil {
			t.Fatal(err)
		}
		if cols != 2 {
			t.Errorf("n%d: column note on %d of t, t_local", n, cols)
		}
	}
	db.Sync(t)
	// 3 rows before the ALTER, note defaulted: "none" × 3.
	var rows uint64
	var notes string
	if err := db.Conn(t, 4).QueryRow(ctx, "SELECT count(), arrayStringConcat(groupUniqArray(note), ',') FROM t").Scan(&rows, &notes); err != nil {
		t.Fatal(err)
	}
	if rows != 3 || notes != "none" {
		t.Errorf("through n4: %d rows, notes %q; want 3, none", rows, notes)
	}
}
