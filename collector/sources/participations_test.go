//go:build integration

package sources

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/sdaasp-rhone/fne/collector/ingest"
	"github.com/sdaasp-rhone/fne/internal/chtest"
)

const participationsDedup = `SELECT rencontre_id, structure_id, argMax(structure_nom, version), argMax(structure_type, version),
	toString(argMax(personnes, version)), toString(argMax(relais, version)), ifNull(toString(argMax(connait_offre, version)), 'NULL')
FROM participations GROUP BY rencontre_id, structure_id ORDER BY rencontre_id, structure_id`

func TestParticipationsCSV(t *testing.T) {
	db := chtest.Migrated(t)
	sum := ftRun(t, db, NewParticipations(), ingest.Input{Location: "testdata/participations/participations.csv"})
	// 12 data lines: lines 2, 3, 4, 5 and 13 land, 7 rejected.
	ftCounts(t, sum, 12, 5, 7)
	want := []string{
		"R-2026-014|19690001200019|Collège Maurice Utrillo|education_nationale|1|1|NULL",
		"R-2026-014|21690243000017|Mairie de Tarare|collectivite|2|1|1",
		// Line 13 repeats (R-2026-014, W691000001): the later line wins.
		"R-2026-014|W691000001|Association Familles Rurales|association|4|1|1",
		// A meeting not ingested (yet) is no reason to reject: "Non"/"Oui" in any case.
		"R-2099-404|W691000002|Centre social|association|3|0|1",
	}
	ftEqual(t, "participations", ftQuery(t, db, participationsDedup), want)
	keys, reasons := ftRejects(t, db, sum.ID)
	ftEqual(t, "rejets", keys, []string{"ligne 6|structure_type", "ligne 7|personnes", "ligne 8|personnes", "ligne 9|relais",
		"ligne 10|connait_offre", "ligne 11|rencontre_id", "ligne 12|structure_id"})
	for pos, frag := range map[string]string{
		"ligne 6":  "structure_type « club_sportif » inconnu",
		"ligne 7":  "nombre de personnes « 0 » invalide",
		"ligne 8":  "nombre de personnes « deux » invalide",
		"ligne 9":  "relais « peut-être » invalide (oui ou non attendu)",
		"ligne 10": "connait_offre « je ne sais pas » invalide (oui, non ou vide attendu)",
		"ligne 11": "identifiant de la rencontre absent",
		"ligne 12": "identifiant de la structure absent",
	} {
		if !strings.Contains(reasons[pos], frag) {
			t.Errorf("%s : motif %q, attendu %q", pos, reasons[pos], frag)
		}
	}

	// A later file replaces the answer of a structure, whatever the line numbers.
	p := filepath.Join(t.TempDir(), "correction.csv")
	_ = os.WriteFile(p, []byte("rencontre_id,structure_id,structure_nom,structure_type,personnes,relais,connait_offre\n"+
		"R-2026-014,19690001200019,Collège Maurice Utrillo,education_nationale,2,oui,oui\n"), 0o644)
	sum = ftRun(t, db, NewParticipations(), ingest.Input{Location: p})
	ftCounts(t, sum, 1, 1, 0)
	want[0] = "R-2026-014|19690001200019|Collège Maurice Utrillo|education_nationale|2|1|1"
	ftEqual(t, "après correction", ftQuery(t, db, participationsDedup), want)
}
