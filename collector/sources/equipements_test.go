//go:build integration

package sources

import (
	"strings"
	"testing"

	"github.com/sdaasp-rhone/fne/collector/ingest"
	"github.com/sdaasp-rhone/fne/internal/chtest"
)

const equipementsDedup = `SELECT toString(periode), territoire, indicateur, toString(argMax(valeur, version)), argMax(source_donnee, version),
	argMax(commentaire, version)
FROM equipements GROUP BY periode, territoire, indicateur ORDER BY periode, territoire, indicateur`

func TestEquipementsCSV(t *testing.T) {
	db := chtest.Migrated(t)
	sum := ftRun(t, db, NewEquipements(), ingest.Input{Location: "testdata/equipements/equipements.csv"})
	// 12 data lines: lines 2-5 and 13 land, lines 6-12 are rejected.
	ftCounts(t, sum, 12, 5, 7)
	want := []string{
		"2026-09-01|com:69018|pc_libre_acces|3.5|Médiathèque|valeur décimale à la française",
		"2026-09-01|com:69243|hotspots_wifi_actifs|2|Mairie de Tarare|",
		"2026-09-01|com:69243|pc_reconditionnes_distribues|12|Recyclerie de l'Ouest|dons via CCAS",
		"2026-09-01|epci:200040566|foyers_connectes|31|Opérateur|cartes SIM solidaires et box à prix coûtant",
		"2026-10-01|com:69243|hotspots_wifi_actifs|1200|Mairie|espace insécable",
	}
	ftEqual(t, "équipements", ftQuery(t, db, equipementsDedup), want)
	keys, reasons := ftRejects(t, db, sum.ID)
	ftEqual(t, "rejets", keys, []string{"ligne 6|periode", "ligne 7|periode", "ligne 8|territoire", "ligne 9|indicateur",
		"ligne 10|valeur", "ligne 11|valeur", "ligne 12|valeur"})
	for pos, frag := range map[string]string{
		"ligne 6":  "période invalide « 2026-9 » (attendu AAAA-MM",
		"ligne 7":  "période invalide « 2026/09 »",
		"ligne 8":  "territoire « Tarare » invalide",
		"ligne 9":  "indicateur « ordinateurs » inconnu (stocks : hotspots_wifi_actifs",
		"ligne 10": "valeur « -1 » négative",
		"ligne 11": "valeur « beaucoup » invalide",
		"ligne 12": "valeur absente",
	} {
		if !strings.Contains(reasons[pos], frag) {
			t.Errorf("%s : motif %q, attendu %q", pos, reasons[pos], frag)
		}
	}
	// A later file replaces 2026-09 hotspots of Tarare: its second line (4) wins over its first (3).
	sum = ftRun(t, db, NewEquipements(), ingest.Input{Location: "testdata/equipements/equipements-corrige.csv"})
	ftCounts(t, sum, 2, 2, 0)
	want[1] = "2026-09-01|com:69243|hotspots_wifi_actifs|4|Mairie de Tarare|seconde correction dans le même fichier"
	ftEqual(t, "après correction", ftQuery(t, db, equipementsDedup), want)
	ftEqual(t, "FINAL", ftQuery(t, db, "SELECT toString(count()) FROM equipements FINAL"), []string{"5"})
}

func TestEquipementsXLSX(t *testing.T) {
	db := chtest.Migrated(t)
	p := ftWorkbook(t, ftSheet{"Feuil1", [][]any{
		{"Periode", "Territoire", "Indicateur", "Valeur", "Source", "Commentaire"},
		{"2026-08", 69243, "pc_dons", 7, "Recyclerie", nil},
		// Excel turned "2026-07" into a date: the month is kept.
		{ftExcelDate(2026, 7, 1), "com:69018", "foyers_equipes", 2.5, nil, nil},
	}})
	sum := ftRun(t, db, NewEquipements(), ingest.Input{Location: p})
	ftCounts(t, sum, 2, 2, 0)
	ftEqual(t, "équipements XLSX", ftQuery(t, db, equipementsDedup), []string{
		"2026-07-01|com:69018|foyers_equipes|2.5||",
		"2026-08-01|com:69243|pc_dons|7|Recyclerie|",
	})
}
