//go:build integration

package cli

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/sdaasp-rhone/fne/internal/chtest"
)

// TestExitCodesAndFrenchMessages: 3 means only that ClickHouse is unreachable or refuses access; a
// whole-file refusal of bad data is 4; a file that cannot be read is 1; usage mistakes are 2 and list
// what is accepted; every message is French and never echoes control bytes.
func TestExitCodesAndFrenchMessages(t *testing.T) {
	db, _ := chtest.WithReference(t)
	dir := t.TempDir()
	write := func(name, content string) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
		return p
	}
	empty := write("vide.csv", "")
	truncated := write("tronque.json", `[{"type":"activite","id":"a`)
	notZip := write("faux.xlsx", "PK\x03\x04pas une archive")
	badYAML := write("j.yaml", "- action: [1\n")
	csvFile := write("r.csv", "id,date,type,titre,territoire,action,format\n")
	for _, tc := range []struct {
		args []string
		code int
		frag string
	}{
		{[]string{"ingest", "lieux", dir}, ExitError, dir + " est un dossier : un fichier est attendu"},
		{[]string{"ingest", "rencontres", empty}, ExitInvalidData, "fichier vide : aucune ligne d'en-tête"},
		{[]string{"ingest", "activites", truncated}, ExitInvalidData, "JSON illisible dès le début (octet 1) : fin du fichier au milieu d'un élément (fichier tronqué)"},
		{[]string{"ingest", "rencontres", notZip}, ExitInvalidData, "classeur XLSX illisible (ce n'est pas une archive .xlsx valide)"},
		{[]string{"ingest", "jalons", badYAML}, ExitInvalidData, "YAML illisible : syntaxe invalide à la ligne"},
		{[]string{"ingest", "rencontres", csvFile, "--option", "couleur=bleu"}, ExitUsage,
			"option(s) inconnue(s) pour la source rencontres : couleur (options admises : encoding, sheet)"},
		{[]string{"ingest", "rencontres", csvFile, "--sheet", "S"}, ExitUsage, "--sheet ne s'applique qu'à un classeur .xlsx"},
		{[]string{"ingest", "rencontres", csvFile, "--encoding", "ebcdic"}, ExitUsage, "encodage « ebcdic » inconnu (valeurs admises : auto, utf-8, utf-16, windows-1252)"},
		{[]string{"rejects", "--source", "nosuch"}, ExitUsage, "source inconnue « nosuch » (sources : activites, consultations"},
		{[]string{"rejects", "--limit", "abc"}, ExitUsage, "valeur « abc » invalide pour l'option --limit (nombre entier attendu)"},
		{[]string{"ingest", "lieux", filepath.Join(dir, "a\x1b[31m.csv")}, ExitError, `fichier introuvable : ` + filepath.Join(dir, `a\x1b[31m.csv`)},
	} {
		code, _, errs := ingestCLI(t, db, tc.args...)
		if code != tc.code || !strings.Contains(errs, tc.frag) {
			t.Errorf("%q : code %d (attendu %d), stderr %q, attendu %q", tc.args, code, tc.code, errs, tc.frag)
		}
		if strings.ContainsRune(errs, 0x1b) {
			t.Errorf("%q : octet de contrôle renvoyé tel quel : %q", tc.args, errs)
		}
		for _, english := range []string{"is a directory", "permission denied", "not a valid zip", "invalid character", "unexpected EOF", "parse error"} {
			if strings.Contains(errs, english) {
				t.Errorf("%q : message en anglais %q", tc.args, errs)
			}
		}
	}
	code, _, errs := ingestCLI(t, nil, "help", "nosuch")
	if code != ExitUsage || !strings.Contains(errs, "aide demandée pour une sous-commande inconnue « nosuch »") {
		t.Errorf("fne help nosuch : code %d, %q", code, errs)
	}
}
