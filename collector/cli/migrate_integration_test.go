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
