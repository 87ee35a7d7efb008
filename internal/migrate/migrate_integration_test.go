//go:build integration

package migrate_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/sdaasp-rhone/fne/internal/chtest"
	"github.com/sdaasp-rhone/fne/internal/migrate"
)

func TestApplyOnEmptyThenNoOp(t *testing.T) {
	ctx := context.Background()
	db := chtest.Empty(t)
	ms, err := migrate.Load()
	if err != nil {
		t.Fatal(err)
	}
	res, err := migrate.Apply(ctx, db.Conn, ms, migrate.Options{})
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Applied) != len(ms) || res.Current != ms[len(ms)-1].Version {
		t.Fatalf("first apply: applied %d (want %d), current %d", len(res.Applied), len(ms), res.Current)
	}
	var tables uint64
	if err := db.Conn.QueryRow(ctx, "SELECT count() FROM system.tables WHERE database = ?", db.Config.Database).Scan(&tables); err != nil {
		t.Fatal(err)
	}
	// 3 reference + 8 sources + 3 operations + 1 activity aggregates + schema_migrations = 16 tables.
	if tables != 16 {
		t.Errorf("tables after migration: %d, want 16", tables)
	}
	res, err = migrate.Apply(ctx, db.Conn, ms, migrate.Options{})
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Applied) != 0 || res.Current != ms[len(ms)-1].Version {
		t.Errorf("second apply must be a no-op: applied %d, current %d", len(res.Applied), res.Current)
	}
	var recorded uint64
	if err := db.Conn.QueryRow(ctx, "SELECT count() FROM schema_migrations FINAL").Scan(&recorded); err != nil {
		t.Fatal(err)
	}
	if int(recorded) != len(ms) {
		t.Errorf("schema_migrations holds %d rows, want %d", recorded, len(ms))
	}
}

func TestTablesAcceptABatch(t *testing.T) {
	ctx := context.Background()
	db := chtest.Migrated(t)
	now := time.Date(2026, 10, 6, 14, 2, 11, 0, time.UTC)
	b, err := db.Conn.PrepareBatch(ctx, "INSERT INTO activites (id, version, deleted, modification, creation, type, mediateur_id, date, duree, accompagnements, type_lieu, structure_id, lieu_code_insee, lieu_code_postal, lieu_commune, thematiques, materiel, autonomie, oriente_vers_structure, niveau_atelier, beneficiaires_total, beneficiaires_cles, beneficiaires_valeurs, source_input, run_id, ingested_at)")
	if err != nil {
		t.Fatal(err)
	}
	one := uint8(1)
	for i, acc := range []uint32{1, 6} {
		if err := b.Append("a"+string(rune('0'+i)), uint64(i+1), uint8(0), now, now, "individuel", "m1", now, uint32(45), acc, "autre", "", "69243", "69170", "Tarare",
			[]string{"email"}, []string{}, "", &one, "", acc, []string{"genres.feminin"}, []uint32{acc}, "test", "run", now); err != nil {
			t.Fatal(err)
		}
	}
	if err := b.Send(); err != nil {
		t.Fatal(err)
	}
	var n, sum uint64
	var d string
	if err := db.Conn.QueryRow(ctx, "SELECT count(), sum(accompagnements), toString(max(date)) FROM activites").Scan(&n, &sum, &d); err != nil {
		t.Fatal(err)
	}
	if n != 2 || sum != 7 || d != "2026-10-06" {
		t.Errorf("read back count=%d sum=%d date=%s, want 2, 7 (1+6), 2026-10-06", n, sum, d)
	}
}

func TestRefusesNewerSchema(t *testing.T) {
	ctx := context.Background()
	db := chtest.Migrated(t)
	b, err := db.Conn.PrepareBatch(ctx, "INSERT INTO schema_migrations (version, name, checksum, applied_at)")
	if err != nil {
		t.Fatal(err)
	}
	if err := b.Append(uint32(999), "from_the_future", "x", time.Now()); err != nil {
		t.Fatal(err)
	}
	if err := b.Send(); err != nil {
		t.Fatal(err)
	}
	ms, _ := migrate.Load()
	_, err = migrate.Apply(ctx, db.Conn, ms, migrate.Options{})
	if !errors.Is(err, migrate.ErrSchemaTooNew) {
		t.Fatalf("Apply on a newer schema: err = %v, want ErrSchemaTooNew", err)
	}
	if _, _, err := migrate.Check(ctx, db.Conn); !errors.Is(err, migrate.ErrSchemaTooNew) {
		t.Fatalf("Check on a newer schema: err = %v, want ErrSchemaTooNew", err)
	}
}
