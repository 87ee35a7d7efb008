//go:build integration

package reference_test

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/sdaasp-rhone/fne/internal/chtest"
	"github.com/sdaasp-rhone/fne/internal/reference"
	"github.com/sdaasp-rhone/fne/schemas"
)

type totals struct {
	epci, communes, pop, pop2021 uint64
}

func readTotals(t *testing.T, db *chtest.DB) totals {
	t.Helper()
	var tt totals
	q := `SELECT uniqExact(epci_siren), count(), sum(population), sum(population_municipale_2021)
	      FROM ref_communes WHERE load_id = (SELECT max(load_id) FROM ref_loads)`
	if err := db.Conn.QueryRow(context.Background(), q).Scan(&tt.epci, &tt.communes, &tt.pop, &tt.pop2021); err != nil {
		t.Fatal(err)
	}
	return tt
}

func TestLoadReloadAndRefuseCorrupted(t *testing.T) {
	ctx := context.Background()
	db := chtest.Migrated(t)
	p, err := reference.ParseDir("")
	if err != nil {
		t.Fatal(err)
	}
	res, err := reference.Load(ctx, db.Conn, p)
	if err != nil || !res.Changed {
		t.Fatalf("first load: %+v, %v", res, err)
	}
	want := totals{epci: 12, communes: 208, pop: 478313, pop2021: 469623}
	if got := readTotals(t, db); got != want {
		t.Fatalf("after load: %+v, want %+v", got, want)
	}
	// Reloading the same files writes nothing.
	res, err = reference.Load(ctx, db.Conn, p)
	if err != nil || res.Changed {
		t.Fatalf("reload: %+v, %v (want unchanged)", res, err)
	}
	var loads uint64
	_ = db.Conn.QueryRow(ctx, "SELECT count() FROM ref_loads").Scan(&loads)
	if loads != 1 {
		t.Errorf("ref_loads has %d rows after a reload, want 1", loads)
	}
	if got := readTotals(t, db); got != want {
		t.Fatalf("after reload: %+v, want %+v", got, want)
	}
	// A corrupted copy is refused before anything is written.
	dir := t.TempDir()
	for _, name := range []string{"territoire.yaml", "rhone_communes.csv", "rhone_epci.csv"} {
		b, _ := schemas.Reference.ReadFile("reference/" + name)
		if name == "rhone_communes.csv" {
			b = []byte(strings.Replace(string(b), ",398,415,395,", ",398,415,-5,", 1))
		}
		if err := os.WriteFile(filepath.Join(dir, name), b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	_, err = reference.ParseDir(dir)
	if !errors.Is(err, reference.ErrInvalid) || !strings.Contains(err.Error(), "ligne 2, colonne 7 (population_municipale_2021)") {
		t.Fatalf("corrupted copy: err = %v", err)
	}
	if got := readTotals(t, db); got != want {
		t.Fatalf("after refused load: %+v, want %+v", got, want)
	}
	ref, err := reference.Current(ctx, db.Conn)
	if err != nil {
		t.Fatal(err)
	}
	if len(ref.Communes) != 208 || len(ref.EPCIs) != 12 || ref.DepartementNom != "Rhône (hors Métropole de Lyon)" {
		t.Errorf("Current: %d communes, %d EPCI, %q", len(ref.Communes), len(ref.EPCIs), ref.DepartementNom)
	}
}

func TestCurrentWithoutReference(t *testing.T) {
	db := chtest.Migrated(t)
	if _, err := reference.Current(context.Background(), db.Conn); !errors.Is(err, reference.ErrNotLoaded) {
		t.Fatalf("err = %v, want ErrNotLoaded", err)
	}
}
