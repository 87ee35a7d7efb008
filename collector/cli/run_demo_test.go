package cli

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestRunAndDemoUsage(t *testing.T) {
	dir := t.TempDir()
	bad := filepath.Join(dir, "fne.yaml")
	if err := os.WriteFile(bad, []byte("sources:\n  - source: activites\n    location: x\n    every: 5m\n  - source: lieu\n    location: y\n    every: 5m\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name     string
		args     []string
		wantCode int
		wantErr  string
	}{
		{"run without config", []string{"run"}, ExitUsage, "l'option --config est obligatoire"},
		{"run bad grace", []string{"run", "--config", bad, "--grace", "0s"}, ExitUsage, "--grace attend une durée positive"},
		{"run bad log format", []string{"run", "--config", bad, "--log-format", "xml"}, ExitUsage, "--log-format attend text ou json"},
		{"run missing config", []string{"run", "--config", filepath.Join(dir, "absent.yaml")}, ExitInvalidData, "configuration invalide : lecture de"},
		{"run unknown source", []string{"run", "--config", bad}, ExitInvalidData, "fne.yaml, ligne 5 (sources[2].source) : source inconnue « lieu »"},
		{"demo bad end", []string{"demo", "--no-ingest", "--end", "2026-13"}, ExitUsage, "--end attend un mois AAAA-MM, pas « 2026-13 »"},
		{"demo extra arg", []string{"demo", "surplus"}, ExitUsage, "argument inattendu « surplus »"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			code, _, stderr := run(tt.args...)
			if code != tt.wantCode || !strings.Contains(stderr, tt.wantErr) {
				t.Errorf("code %d (want %d), stderr %q does not contain %q", code, tt.wantCode, stderr, tt.wantErr)
			}
		})
	}
}

// fne demo --no-ingest needs no database: it writes the files and prints the expected counts.
func TestDemoNoIngest(t *testing.T) {
	dir := t.TempDir()
	code, out, stderr := run("demo", "--no-ingest", "--dir", dir, "--end", "2026-10", "--seed", "1")
	if code != ExitOK {
		t.Fatalf("code %d: %s", code, stderr)
	}
	flat := strings.Join(strings.Fields(out), " ")
	// Places: the fixed 245 + 2 planted rows; milestones 16 + 1 (see collector/demo).
	for _, want := range []string{"24 mois de 2024-11 à 2026-10 (graine 1)", "lieux 245 2", "jalons 16 1", "structures 36 0"} {
		if !strings.Contains(flat, want) {
			t.Errorf("output does not contain %q:\n%s", want, out)
		}
	}
	for _, f := range []string{"lieux.csv", "consultations.csv", "rencontres.xlsx", "equipements.csv", "jalons.yaml", "structures-001.json", "activites-001.json"} {
		if _, err := os.Stat(filepath.Join(dir, f)); err != nil {
			t.Errorf("%s not written: %v", f, err)
		}
	}
}

// fne demo --departement sizes the data set to the département: La Réunion has 889,679 inhabitants,
// (889679 / 478313)^0.6 = 1.4512, so 14 × 1.4512 = 20.3 → 20 counsellors and 245 × 1.4512 = 355.5 →
// 356 places (+ 2 planted rows). Its places have no coordinates: the national reference has no centroid.
func TestDemoNoIngestDepartement(t *testing.T) {
	dir := t.TempDir()
	code, out, stderr := run("demo", "--no-ingest", "--departement", "974", "--dir", dir, "--end", "2026-10")
	if code != ExitOK {
		t.Fatalf("code %d: %s", code, stderr)
	}
	flat := strings.Join(strings.Fields(out), " ")
	for _, want := range []string{"Jeu de démonstration pour La Réunion : 24 mois de 2024-11 à 2026-10 (graine 1), 20 conseillers, 356 lieux", "lieux 356 2"} {
		if !strings.Contains(flat, want) {
			t.Errorf("output does not contain %q:\n%s", want, out)
		}
	}
	b, err := os.ReadFile(filepath.Join(dir, "lieux.csv"))
	if err != nil {
		t.Fatal(err)
	}
	// Row 2 is the first place: code_insee (6th column) of La Réunion, latitude and longitude empty.
	rows := strings.Split(string(b), "\n")
	cols := strings.Split(rows[1], ",")
	if !strings.HasPrefix(cols[5], "974") || cols[8] != "" || cols[9] != "" {
		t.Errorf("first place %v: want a 974 commune without coordinates", cols[:10])
	}
	if code, _, _ := run("demo", "--no-ingest", "--departement", "20", "--dir", dir); code != ExitUsage {
		t.Errorf("--departement 20: code %d, want usage", code)
	}
}
