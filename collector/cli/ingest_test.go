//go:build integration

package cli

import (
	"bytes"
	"context"
	"encoding/csv"
	"encoding/json"
	"path/filepath"
	"strings"
	"testing"

	"github.com/xuri/excelize/v2"

	"github.com/sdaasp-rhone/fne/internal/chtest"
)

const lieuxFixture = "../sources/testdata/lieux/lieux.csv"

// ingestCLI runs fne with the test database's connection flags appended.
func ingestCLI(t *testing.T, db *chtest.DB, args ...string) (int, string, string) {
	t.Helper()
	var out, errb bytes.Buffer
	if db != nil {
		args = append(args, "--addr", db.Config.Addr, "--database", db.Config.Database)
	}
	code := Main(context.Background(), args, &out, &errb)
	return code, out.String(), errb.String()
}

func ingestWant(t *testing.T, what, s string, frags ...string) {
	t.Helper()
	for _, f := range frags {
		if !strings.Contains(s, f) {
			t.Errorf("%s ne contient pas %q :\n%s", what, f, s)
		}
	}
}

func TestIngestCommand(t *testing.T) {
	db, _ := chtest.WithReference(t)
	code, out, errs := ingestCLI(t, db, "ingest", "lieux", lieuxFixture)
	if code != ExitOK {
		t.Fatalf("code %d, stderr %s", code, errs)
	}
	// lieux.csv: 16 data lines, 7 land, 9 rejected (see collector/sources/lieux_test.go); one reject per reason.
	ingestWant(t, "résumé", out,
		"Import lieux — ../sources/testdata/lieux/lieux.csv\n",
		"  Statut          : succès avec rejets\n",
		"  Lignes lues     : 16\n",
		"  Lignes écrites  : 7\n",
		"  Lignes rejetées : 9\n",
		"  Principaux motifs de rejet :\n",
		"         1 × 5 cellule(s) au lieu des 31 colonnes de l'en-tête (séparateur « , »)\n",
		"    … et 4 autre(s) motif(s)\n",
		"  Détail : fne rejects --run ")

	// --strict turns rejects into exit code 5; flags may come after the arguments.
	code, _, errs = ingestCLI(t, db, "ingest", "lieux", lieuxFixture, "--strict")
	if code != ExitRejects {
		t.Fatalf("--strict : code %d, attendu %d", code, ExitRejects)
	}
	ingestWant(t, "stderr --strict", errs, "9 ligne(s) rejetée(s) avec --strict")

	// A clean file with --strict succeeds.
	code, out, _ = ingestCLI(t, db, "--strict", "ingest", "equipements", "../sources/testdata/equipements/equipements-corrige.csv")
	if code != ExitUsage {
		t.Fatalf("option avant la sous-commande : code %d", code)
	}
	code, out, errs = ingestCLI(t, db, "ingest", "--strict", "equipements", "../sources/testdata/equipements/equipements-corrige.csv")
	if code != ExitOK {
		t.Fatalf("fichier propre --strict : code %d %s", code, errs)
	}
	ingestWant(t, "résumé propre", out, "  Statut          : succès\n", "  Lignes écrites  : 2\n")
	if strings.Contains(out, "motifs de rejet") {
		t.Error("motifs de rejet affichés sans rejet")
	}
}

func TestIngestCommandErrors(t *testing.T) {
	db, _ := chtest.WithReference(t)
	for _, tc := range []struct {
		args []string
		code int
		frag string
	}{
		{[]string{"ingest", "lieux"}, ExitUsage, "attend une source et un fichier"},
		{[]string{"ingest", "meteo", "x.csv"}, ExitUsage, "source inconnue « meteo »"},
		{[]string{"ingest", "lieux", "absent.csv"}, ExitError, "fichier introuvable : absent.csv"},
		{[]string{"ingest", "lieux", "x.csv", "--option", "sans-egal"}, ExitUsage, "clé=valeur attendu"},
		{[]string{"ingest", "rencontres", lieuxFixture}, ExitInvalidData, "colonne(s) obligatoire(s) absente(s)"},
	} {
		code, _, errs := ingestCLI(t, db, tc.args...)
		if code != tc.code || !strings.Contains(errs, tc.frag) {
			t.Errorf("%v : code %d (attendu %d), stderr %q", tc.args, code, tc.code, errs)
		}
	}
	// ClickHouse down: exit 3.
	var out, errb bytes.Buffer
	code := Main(context.Background(), []string{"ingest", "lieux", lieuxFixture, "--addr", "127.0.0.1:1", "--dial-timeout", "1s"}, &out, &errb)
	if code != ExitUnreachable {
		t.Errorf("ClickHouse injoignable : code %d, %s", code, errb.String())
	}
}

func ingestWorkbook(t *testing.T, sheets map[string][][]any, order ...string) string {
	t.Helper()
	f := excelize.NewFile()
	for i, name := range order {
		if i == 0 {
			_ = f.SetSheetName("Sheet1", name)
		} else {
			_, _ = f.NewSheet(name)
		}
		for r, row := range sheets[name] {
			for c, v := range row {
				cell, _ := excelize.CoordinatesToCellName(c+1, r+1)
				_ = f.SetCellValue(name, cell, v)
			}
		}
	}
	p := filepath.Join(t.TempDir(), "coordination.xlsx")
	if err := f.SaveAs(p); err != nil {
		t.Fatal(err)
	}
	return p
}

func TestIngestWorkbook(t *testing.T) {
	db, _ := chtest.WithReference(t)
	p := ingestWorkbook(t, map[string][][]any{
		"Notes": {{"à lire"}},
		"Participations": {
			{"rencontre_id", "structure_id", "structure_nom", "structure_type", "personnes", "relais", "connait_offre"},
			{"R-1", "S-1", "Mairie", "collectivite", 2, "oui", "oui"},
			{"R-1", "S-2", "Asso", "asso", 1, "oui", ""},
		},
		"rencontres": {
			{"id", "date", "type", "titre", "territoire", "action", "format"},
			{"R-1", "2026-05-12", "petit_dejeuner", "Petit déjeuner", "epci:200040566", "3.2", "presentiel"},
		},
	}, "Notes", "Participations", "rencontres")
	code, out, errs := ingestCLI(t, db, "ingest", "classeur", p)
	if code != ExitOK {
		t.Fatalf("classeur : code %d %s", code, errs)
	}
	// Sources run in the registry's order: rencontres before participations; the sheet "Notes" is ignored.
	i, j := strings.Index(out, "Import rencontres"), strings.Index(out, "Import participations")
	if i < 0 || j < i {
		t.Fatalf("ordre des imports :\n%s", out)
	}
	ingestWant(t, "classeur", out, "(feuille rencontres)", "(feuille Participations)", "  Lignes lues     : 2\n  Lignes écrites  : 1\n  Lignes rejetées : 1\n")
	if strings.Contains(out, "Notes") {
		t.Error("la feuille Notes ne devait pas être importée")
	}
	var n uint64
	if err := db.Conn.QueryRow(context.Background(), "SELECT count() FROM rencontres").Scan(&n); err != nil || n != 1 {
		t.Errorf("rencontres : %d %v", n, err)
	}
	// --sheet picks a sheet for a single source; a workbook without source sheets is refused.
	code, out, errs = ingestCLI(t, db, "ingest", "participations", p, "--sheet", "participations")
	if code != ExitOK || !strings.Contains(out, "(feuille participations)") {
		t.Errorf("--sheet : code %d\n%s%s", code, out, errs)
	}
	q := ingestWorkbook(t, map[string][][]any{"Feuil1": {{"a"}}, "Feuil2": {{"b"}}}, "Feuil1", "Feuil2")
	code, _, errs = ingestCLI(t, db, "ingest", "classeur", q)
	if code != ExitError || !strings.Contains(errs, "aucune feuille du classeur") {
		t.Errorf("classeur sans feuille de source : code %d %s", code, errs)
	}
}

func TestRejectsCommand(t *testing.T) {
	db, _ := chtest.WithReference(t)
	code, out, _ := ingestCLI(t, db, "rejects")
	if code != ExitOK || out != "Aucun rejet.\n" {
		t.Fatalf("sans rejet : %d %q", code, out)
	}
	if code, _, _ := ingestCLI(t, db, "ingest", "lieux", lieuxFixture); code != ExitOK {
		t.Fatal(code)
	}
	// Twice: the same rejects are listed once (deduplicated by source, file, position, field).
	if code, _, _ := ingestCLI(t, db, "ingest", "lieux", lieuxFixture); code != ExitOK {
		t.Fatal(code)
	}
	if code, _, _ := ingestCLI(t, db, "ingest", "rencontres", "../sources/testdata/rencontres/rencontres.csv"); code != ExitOK {
		t.Fatal(code)
	}
	code, out, errs := ingestCLI(t, db, "rejects", "--source", "lieux", "--format", "json", "--limit", "100")
	if code != ExitOK {
		t.Fatalf("%d %s", code, errs)
	}
	var got []rejectOut
	if err := json.Unmarshal([]byte(out), &got); err != nil {
		t.Fatal(err)
	}
	var pos []string
	for _, r := range got {
		pos = append(pos, r.Position+"/"+r.Field)
		if r.Source != "lieux" || r.Input != lieuxFixture || r.Reason == "" || r.RunID == "" {
			t.Errorf("rejet incomplet %+v", r)
		}
	}
	// Same second for all: ordered by line.
	want := "ligne 7/commune ligne 9/latitude ligne 10/date_maj ligne 11/nom ligne 12/code_postal ligne 13/longitude ligne 14/ ligne 16/latitude ligne 17/code_insee"
	if strings.Join(pos, " ") != want {
		t.Errorf("rejets lieux :\n%s\nattendu\n%s", strings.Join(pos, " "), want)
	}

	code, out, _ = ingestCLI(t, db, "rejects", "--limit", "3")
	if code != ExitOK {
		t.Fatal(code)
	}
	lines := strings.Split(strings.TrimSpace(out), "\n")
	// header + 3 rejects + blank + footer; 9 lieux + 7 rencontres = 16 rejects in all.
	if len(lines) != 6 || !strings.HasPrefix(lines[0], "Date (UTC)") || lines[5] != "3 rejet(s) affiché(s) sur 16 (--limit pour en voir plus)." {
		t.Errorf("table :\n%s", out)
	}
	ingestWant(t, "table", lines[0], "Source", "Fichier", "Position", "Champ", "Motif")

	code, out, _ = ingestCLI(t, db, "rejects", "--source", "rencontres", "--format", "csv")
	recs, err := csv.NewReader(strings.NewReader(out)).ReadAll()
	if code != ExitOK || err != nil || len(recs) != 8 || strings.Join(recs[0], ",") != "rejected_at,source,input,position,field,reason,raw,run_id" {
		t.Fatalf("csv : %d %v %d lignes\n%s", code, err, len(recs), out)
	}
	if recs[1][3] != "ligne 5" || recs[1][4] != "type" || !strings.HasPrefix(recs[1][6], "R-2026-021;2026-06-10;reunion") {
		t.Errorf("première ligne CSV %v", recs[1])
	}
	runID := recs[1][7]
	code, out, _ = ingestCLI(t, db, "rejects", "--run", runID, "--format", "json")
	got = nil
	_ = json.Unmarshal([]byte(out), &got)
	if code != ExitOK || len(got) != 7 {
		t.Errorf("--run : %d, %d rejets", code, len(got))
	}
	for _, args := range [][]string{{"rejects", "--format", "xml"}, {"rejects", "--limit", "0"}, {"rejects", "extra"}} {
		if code, _, _ := ingestCLI(t, db, args...); code != ExitUsage {
			t.Errorf("%v : code %d", args, code)
		}
	}
}
