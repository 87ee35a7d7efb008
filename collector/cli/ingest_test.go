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
	abs, _ := filepath.Abs(lieuxFixture)
	ingestWant(t, "résumé", out,
		"Import lieux — "+abs+"\n",
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
	absent, _ := filepath.Abs("absent.csv") // a local input is known by its absolute path
	for _, tc := range []struct {
		args []string
		code int
		frag string
	}{
		{[]string{"ingest", "lieux"}, ExitUsage, "attend une source et un fichier"},
		{[]string{"ingest", "meteo", "x.csv"}, ExitUsage, "source inconnue « meteo »"},
		{[]string{"ingest", "lieux", "absent.csv"}, ExitError, "fichier introuvable : " + absent},
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
	lieuxAbs, _ := filepath.Abs(lieuxFixture)
	for _, r := range got {
		pos = append(pos, r.Position+"/"+r.Field)
		if r.Source != "lieux" || r.Input != lieuxAbs || r.Reason == "" || r.RunID == "" {
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

// The hint « fne rejects --run ID » printed after an import still lists the rejects once the same file
// was imported again (under a relative then an absolute path: one input) and the rejects were merged.
func TestRejectsHintAfterReimport(t *testing.T) {
	db, _ := chtest.WithReference(t)
	const rel = "../sources/testdata/rencontres/rencontres.csv"
	abs, _ := filepath.Abs(rel)
	code, out, _ := ingestCLI(t, db, "ingest", "rencontres", rel)
	i := strings.Index(out, "fne rejects --run ")
	if code != ExitOK || i < 0 {
		t.Fatalf("premier import : %d\n%s", code, out)
	}
	first := strings.Fields(out[i+len("fne rejects --run "):])[0]
	if code, _, _ := ingestCLI(t, db, "ingest", "rencontres", abs); code != ExitOK {
		t.Fatal(code)
	}
	if err := db.Conn.Exec(context.Background(), "OPTIMIZE TABLE rejects FINAL"); err != nil {
		t.Fatal(err)
	}
	var inputs, rows uint64
	if err := db.Conn.QueryRow(context.Background(), "SELECT uniqExact(input), count() FROM rejects FINAL").Scan(&inputs, &rows); err != nil {
		t.Fatal(err)
	}
	// rencontres.csv has 7 bad rows (TestRejectsCommand): one input, 7 rejects after two imports.
	if inputs != 1 || rows != 7 {
		t.Errorf("rejets : %d entrée(s), %d ligne(s), attendu 1 et 7", inputs, rows)
	}
	code, out, errs := ingestCLI(t, db, "rejects", "--run", first, "--format", "json")
	var got []rejectOut
	_ = json.Unmarshal([]byte(out), &got)
	if code != ExitOK || len(got) != 7 || !strings.Contains(errs, "a été réimporté depuis le lancement") {
		t.Errorf("--run %s après réimport : code %d, %d rejets, %q", first, code, len(got), errs)
	}
	if code, _, errs := ingestCLI(t, db, "rejects", "--run", "inconnu"); code != ExitUsage || !strings.Contains(errs, "lancement « inconnu » inconnu") {
		t.Errorf("--run inconnu : %d %q", code, errs)
	}
}
