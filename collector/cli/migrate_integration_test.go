//go:build integration

package cli

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/sdaasp-rhone/fne/internal/chtest"
	"github.com/sdaasp-rhone/fne/schemas"
)

func TestMigrateAndReferenceCommands(t *testing.T) {
	db := chtest.Empty(t)
	conn := []string{"--addr", db.Config.Addr, "--database", db.Config.Database}
	code, out, errOut := run(append([]string{"migrate"}, conn...)...)
	if code != ExitOK || !strings.Contains(out, "Migration 0001_reference appliquée.") || !strings.Contains(out, "Référentiel chargé : Rhône (hors Métropole de Lyon) — 12 EPCI, 208 communes.") {
		t.Fatalf("migrate: code %d\n%s\n%s", code, out, errOut)
	}
	code, out, _ = run(append([]string{"migrate"}, conn...)...)
	if code != ExitOK || !strings.Contains(out, "Schéma à jour (version") || !strings.Contains(out, "Référentiel inchangé") {
		t.Fatalf("second migrate: code %d\n%s", code, out)
	}
	code, out, _ = run(append([]string{"reference"}, conn...)...)
	if code != ExitOK || !strings.Contains(out, "12 EPCI, 208 communes, population 478\u202f313 (millésime 2021 : 469\u202f623)") ||
		!strings.Contains(out, "epci:200077014   CA Vienne Condrieu                                  12      20\u202f415") {
		t.Fatalf("reference: code %d\n%s", code, out)
	}
	// A corrupted reference folder is refused (exit 4) with line and column, and nothing changes.
	dir := t.TempDir()
	for _, name := range []string{"territoire.yaml", "rhone_communes.csv", "rhone_epci.csv"} {
		b, _ := schemas.Reference.ReadFile("reference/" + name)
		if name == "rhone_epci.csv" {
			b = []byte(strings.Replace(string(b), ",66570,18,73717,", ",66570,dix-huit,73717,", 1))
		}
		_ = os.WriteFile(filepath.Join(dir, name), b, 0o644)
	}
	code, _, errOut = run(append([]string{"migrate", "--reference", dir}, conn...)...)
	if code != ExitInvalidData || !strings.Contains(errOut, "rhone_epci.csv, ligne 2, colonne 8 (nb_communes_total)") {
		t.Fatalf("corrupted reference: code %d, stderr %s", code, errOut)
	}
	var loads uint64
	_ = db.Conn.QueryRow(context.Background(), "SELECT count() FROM ref_loads").Scan(&loads)
	if loads != 1 {
		t.Errorf("ref_loads = %d after a refused load, want 1", loads)
	}
}

func TestCommandsOnUninitialisedDatabase(t *testing.T) {
	db := chtest.Empty(t)
	code, _, errOut := run("reference", "--addr", db.Config.Addr, "--database", db.Config.Database)
	if code != ExitInvalidData || !strings.Contains(errOut, "lancez « fne migrate »") {
		t.Fatalf("code %d, stderr %s", code, errOut)
	}
}

// fne migrate --departement loads one département of the national reference: the Creuse (255 communes,
// 10 EPCI, 115,527 inhabitants, see internal/reference/national_test.go for the arithmetic), without
// centroids (stored NaN, read back as « no centroid »), then with a centroid file for two communes.
func TestMigrateDepartement(t *testing.T) {
	db := chtest.Empty(t)
	conn := []string{"--addr", db.Config.Addr, "--database", db.Config.Database}
	code, out, errOut := run(append([]string{"migrate", "--departement", "23"}, conn...)...)
	if code != ExitOK || !strings.Contains(out, "Référentiel chargé : Creuse — 10 EPCI, 255 communes.") ||
		!strings.Contains(out, "255 commune(s) sans centroïde") {
		t.Fatalf("migrate --departement 23: code %d\n%s\n%s", code, out, errOut)
	}
	code, out, _ = run(append([]string{"reference"}, conn...)...)
	if code != ExitOK || !strings.Contains(out, "Creuse (dep:23) : 10 EPCI, 255 communes, population 115\u202f527\n") ||
		!strings.Contains(out, "Aucune commune n'a de centroïde") ||
		!strings.Contains(out, "epci:200066744   CC Haute-Corrèze Communauté                         11       1\u202f940") {
		t.Fatalf("reference: code %d\n%s", code, out)
	}
	// The distance indicator says why it has no value.
	code, out, _ = run(append([]string{"indicators", "--indicator", "a2.population_zone_blanche", "--period", "2026-10"}, conn...)...)
	if code != ExitOK || !strings.Contains(out, "Population éloignée d'un lieu d'accompagnement — sans données : aucune des 255 communes du territoire n'a de centroïde") {
		t.Fatalf("indicators: code %d\n%s", code, out)
	}
	var nan uint64
	_ = db.Conn.QueryRow(context.Background(), "SELECT countIf(isNaN(latitude)) FROM ref_communes WHERE load_id = (SELECT max(load_id) FROM ref_loads)").Scan(&nan)
	if nan != 255 {
		t.Errorf("%d communes stored without centroid, want 255", nan)
	}
	f := filepath.Join(t.TempDir(), "centroides.csv")
	_ = os.WriteFile(f, []byte("code_insee,latitude,longitude\n23096,46.171,1.872\n23176,46.238,1.487\n01001,46.15,4.92\n"), 0o644)
	code, out, errOut = run(append([]string{"migrate", "--departement", "23", "--centroids", f}, conn...)...)
	if code != ExitOK || !strings.Contains(out, "Centroïdes : 2 communes renseignées, 1 lignes hors périmètre ignorées.") ||
		!strings.Contains(out, "253 commune(s) sans centroïde") || !strings.Contains(out, "Référentiel chargé : Creuse") {
		t.Fatalf("migrate --centroids: code %d\n%s\n%s", code, out, errOut)
	}
	code, out, _ = run(append([]string{"reference"}, conn...)...)
	if code != ExitOK || !strings.Contains(out, "2 communes sur 255 ont un centroïde") {
		t.Fatalf("reference after centroids: code %d\n%s", code, out)
	}
	// The Rhône from the national reference: the same figures as the default reference.
	code, out, _ = run(append([]string{"migrate", "--departement", "69"}, conn...)...)
	if code != ExitOK || !strings.Contains(out, "Référentiel chargé : Rhône (hors Métropole de Lyon) — 12 EPCI, 208 communes.") || strings.Contains(out, "sans centroïde") {
		t.Fatalf("migrate --departement 69: code %d\n%s", code, out)
	}
	code, out, _ = run(append([]string{"reference"}, conn...)...)
	if code != ExitOK || !strings.Contains(out, "12 EPCI, 208 communes, population 478\u202f313 (millésime 2021 : 469\u202f623)\n\n") {
		t.Fatalf("reference 69: code %d\n%s", code, out)
	}
	// FNE_DEPARTEMENT stands for --departement when no reference option is given (a deployment's
	// migrate service); an explicit --reference wins.
	t.Setenv("FNE_DEPARTEMENT", "974")
	code, out, _ = run(append([]string{"migrate"}, conn...)...)
	if code != ExitOK || !strings.Contains(out, "Référentiel chargé : La Réunion — 5 EPCI, 24 communes.") {
		t.Fatalf("migrate with FNE_DEPARTEMENT=974: code %d\n%s", code, out)
	}
	t.Setenv("FNE_DEPARTEMENT", "")
	for _, bad := range [][]string{{"--departement", "20"}, {"--departement", "23", "--reference", "x"}, {"--centroids", f}} {
		if code, _, errOut := run(append(append([]string{"migrate"}, bad...), conn...)...); code != ExitUsage {
			t.Errorf("migrate %v: code %d (%s), want usage error", bad, code, errOut)
		}
	}
}
