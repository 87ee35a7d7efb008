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
