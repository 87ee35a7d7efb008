//go:build integration

package sources

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/sdaasp-rhone/fne/collector/ingest"
	"github.com/sdaasp-rhone/fne/internal/chtest"
)

const rencontresDedup = `SELECT id, toString(argMax(date, version)), argMax(type, version), argMax(titre, version),
	argMax(territoire, version), argMax(action, version), argMax(format, version)
FROM rencontres GROUP BY id ORDER BY id`

func TestRencontresCSV(t *testing.T) {
	db := chtest.Migrated(t)
	in := ingest.Input{Location: "testdata/rencontres/rencontres.csv"}
	sum := ftRun(t, db, NewRencontres(), in)
	// 13 lines after the header, one blank: 12 read; lines 2, 3, 4, 13, 14 land; 7 rejected.
	ftCounts(t, sum, 12, 5, 7)
	want := []string{
		"R-2026-001|2026-03-19|rencontre_departementale|Rencontre départementale de l'inclusion numérique|dep:69|1.2|presentiel",
		"R-2026-014|2026-05-12|petit_dejeuner|Petit déj' : comprendre Parcoursup; inscriptions|epci:200040566|3.2|presentiel",
		// Line 13 repeats R-2026-020 after line 4: the later line wins; a bare INSEE code is a commune.
		"R-2026-020|2026-06-04|echange_pratiques|Échange de pratiques (date corrigée)|com:69243|1.2|presentiel",
		"R-2026-027|2026-09-12|instance_coordination|Instance de coordination|epci:200066587||distanciel",
	}
	ftEqual(t, "rencontres", ftQuery(t, db, rencontresDedup), want)
	keys, reasons := ftRejects(t, db, sum.ID)
	ftEqual(t, "rejets", keys, []string{"ligne 5|type", "ligne 6|date", "ligne 7|territoire", "ligne 8|format", "ligne 9|id", "ligne 10|titre", "ligne 11|action"})
	for pos, frag := range map[string]string{
		"ligne 5":  "type « reunion » inconnu (valeurs admises : rencontre_departementale, ",
		"ligne 6":  "date invalide « 2026-06-31 »",
		"ligne 7":  "territoire « Tarare » invalide",
		"ligne 8":  "format « visio » inconnu (valeurs admises : presentiel, distanciel, hybride)",
		"ligne 9":  "identifiant de la rencontre absent",
		"ligne 10": "titre de la rencontre absent",
		"ligne 11": "action « un » invalide",
	} {
		if !strings.Contains(reasons[pos], frag) {
			t.Errorf("%s : motif %q, attendu %q", pos, reasons[pos], frag)
		}
	}
	// Replay: the same meetings, no duplicate after merge.
	sum = ftRun(t, db, NewRencontres(), in)
	ftCounts(t, sum, 12, 5, 7)
	ftEqual(t, "rencontres après rejeu", ftQuery(t, db, rencontresDedup), want)
	ftEqual(t, "FINAL", ftQuery(t, db, "SELECT toString(count()) FROM rencontres FINAL"), []string{"4"})
}

// The coordinators' workbook: each source reads the sheet named after it, dates typed as Excel dates.
func TestRencontresParticipationsXLSX(t *testing.T) {
	db := chtest.Migrated(t)
	p := ftWorkbook(t,
		ftSheet{"Lisez-moi", [][]any{{"Classeur de la coordination"}}},
		ftSheet{"rencontres", [][]any{
			{"id", "date", "type", "titre", "territoire", "action", "format"},
			{"R-1", ftExcelDate(2026, 4, 2), "comite_technique", "COTECH", "dep:69", "1.1", "distanciel"},
			{"R-2", "2026-04-03", "petit_dejeuner", "Petit déjeuner", "epci:200040566", 3.2, "presentiel"},
			{"R-3", "2026-04-03", "petit_dejeuner", "Petit déjeuner", "epci:2000", 3.2, "presentiel"},
		}},
		ftSheet{"participations", [][]any{
			{"rencontre_id", "structure_id", "structure_nom", "structure_type", "personnes", "relais", "connait_offre"},
			{"R-2", "S-1", "Mairie", "collectivite", 2, "oui", "non"},
			{"R-2", "S-2", "Asso", "association", 1, "oui", nil},
			{"R-2", "S-3", "Asso", "association", 1.5, "oui", nil},
		}},
	)
	sum := ftRun(t, db, NewRencontres(), ingest.Input{Location: p})
	ftCounts(t, sum, 3, 2, 1)
	ftEqual(t, "rencontres XLSX", ftQuery(t, db, rencontresDedup), []string{
		"R-1|2026-04-02|comite_technique|COTECH|dep:69|1.1|distanciel",
		"R-2|2026-04-03|petit_dejeuner|Petit déjeuner|epci:200040566|3.2|presentiel",
	})
	keys, _ := ftRejects(t, db, sum.ID)
	ftEqual(t, "rejet XLSX", keys, []string{"rencontres!ligne 4|territoire"})
	sum = ftRun(t, db, NewParticipations(), ingest.Input{Location: p})
	ftCounts(t, sum, 3, 2, 1)
	ftEqual(t, "participations XLSX", ftQuery(t, db, participationsDedup), []string{
		"R-2|S-1|Mairie|collectivite|2|1|0",
		"R-2|S-2|Asso|association|1|1|NULL",
	})
	_, reasons := ftRejects(t, db, sum.ID)
	if !strings.Contains(reasons["participations!ligne 4"], "nombre de personnes « 1.5 » invalide") {
		t.Errorf("motif %q", reasons["participations!ligne 4"])
	}
}

// A spreadsheet published at a URL is read like a file; an HTTP error fails the run.
func TestRencontresURL(t *testing.T) {
	db := chtest.Migrated(t)
	srv := httptest.NewServer(http.FileServer(http.Dir("testdata/rencontres")))
	defer srv.Close()
	sum := ftRun(t, db, NewRencontres(), ingest.Input{Location: srv.URL + "/rencontres.csv"})
	ftCounts(t, sum, 12, 5, 7)
	if got := ftQuery(t, db, "SELECT DISTINCT source_input FROM rencontres"); len(got) != 1 || got[0] != srv.URL+"/rencontres.csv" {
		t.Errorf("provenance %v", got)
	}
	sum = ftRun(t, db, NewRencontres(), ingest.Input{Location: srv.URL + "/absent.csv"})
	if sum.Err == nil || !strings.Contains(sum.Err.Error(), "réponse HTTP 404") || sum.Status != ingest.StatusFailed {
		t.Errorf("404 : %v %s", sum.Err, sum.Status)
	}
}
