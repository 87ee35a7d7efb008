//go:build integration

package sources

import (
	"strings"
	"testing"

	"github.com/sdaasp-rhone/fne/collector/ingest"
	"github.com/sdaasp-rhone/fne/internal/chtest"
)

const jalonsDedup = `SELECT action, jalon, argMax(libelle, version), argMax(statut, version),
	ifNull(toString(argMax(date_prevue, version)), 'NULL'), ifNull(toString(argMax(date_realisee, version)), 'NULL')
FROM jalons GROUP BY action, jalon ORDER BY action, jalon`

func TestJalonsYAMLAndCSV(t *testing.T) {
	db := chtest.Migrated(t)
	sum := ftRun(t, db, NewJalons(), ingest.Input{Location: "testdata/jalons/jalons.yaml"})
	// 6 entries: 1 (line 1), 2 (line 7) and 6 (line 22) land; 3, 4, 5 are rejected.
	ftCounts(t, sum, 6, 3, 3)
	want := []string{
		// The entry at line 22 repeats (2.1, cahier_des_charges): the later entry wins.
		"2.1|cahier_des_charges|Cahier des charges (révisé)|realise|2025-06-30|2025-07-15",
		// action 2.1 unquoted is read as text "2.1"; an empty date is NULL.
		"2.1|diagnostic_partage|Diagnostic partagé des besoins produit|en_cours|2026-12-31|NULL",
	}
	ftEqual(t, "jalons", ftQuery(t, db, jalonsDedup), want)
	keys, reasons := ftRejects(t, db, sum.ID)
	ftEqual(t, "rejets YAML", keys, []string{"ligne 13|statut", "ligne 17|date_prevue", "ligne 21|"})
	for pos, frag := range map[string]string{
		"ligne 13": "statut « termine » inconnu (valeurs admises : a_lancer, en_cours, realise, abandonne)",
		"ligne 17": "date invalide « fin 2026 »",
		"ligne 21": "entrée YAML qui n'est pas un jalon",
	} {
		if !strings.Contains(reasons[pos], frag) {
			t.Errorf("%s : motif %q, attendu %q", pos, reasons[pos], frag)
		}
	}
	raw := ftQuery(t, db, "SELECT raw FROM rejects WHERE run_id = ? AND position = 'ligne 13'", sum.ID)
	ftEqual(t, "texte brut YAML", raw, []string{"action: \"2.1\"\njalon: restitution\nlibelle: Restitution\nstatut: termine"})

	sum = ftRun(t, db, NewJalons(), ingest.Input{Location: "testdata/jalons/jalons.csv"})
	ftCounts(t, sum, 3, 1, 2)
	keys, _ = ftRejects(t, db, sum.ID)
	ftEqual(t, "rejets CSV", keys, []string{"ligne 3|jalon", "ligne 4|date_realisee"})
	want = append(want, "3.1|fiches_a_jour|Mise à jour des fiches|en_cours|2026-12-31|NULL")
	ftEqual(t, "jalons après CSV", ftQuery(t, db, jalonsDedup), want)
}
