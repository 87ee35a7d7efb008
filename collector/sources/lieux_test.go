//go:build integration

package sources

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/sdaasp-rhone/fne/collector/ingest"
	"github.com/sdaasp-rhone/fne/internal/chtest"
	"github.com/sdaasp-rhone/fne/internal/territory"
)

const lieuxDedup = `SELECT id, argMax(nom, version), argMax(commune, version), argMax(code_insee, version),
	toString(argMax(code_insee_resolu, version)), toString(argMax(date_maj, version)),
	ifNull(toString(argMax(latitude, version)), 'NULL'), arrayStringConcat(argMax(services, version), '+'),
	arrayStringConcat(argMax(typologie, version), '+')
FROM lieux GROUP BY id ORDER BY id`

func TestLieuxCSV(t *testing.T) {
	db, _ := chtest.WithReference(t)
	in := ingest.Input{Location: "testdata/lieux/lieux.csv"}
	sum := ftRun(t, db, NewLieux(), in)
	// 16 data lines: 7 land (lines 2,3,4,5,6,8 and the older duplicate of line 15), 9 rejected.
	ftCounts(t, sum, 16, 7, 9)
	want := []string{
		// Beaujeu has no code_insee: resolved by name to 69018.
		"L-0004|Espace numérique|St-Didier-sur-Beaujeu|69196|1|2026-10-01|46.146|Maîtrise des outils numériques du quotidien+Loisirs et créations numériques|BIB",
		"L-0005|Point info|SAINTE FOY L'ARGENTIERE|69201|1|2026-01-15|NULL|Maîtrise des outils numériques du quotidien+Loisirs et créations numériques|BIB",
		// Outside the reference but with a code: kept (it serves the distance rule).
		"L-0007|Médiathèque de Saint-Étienne|Saint-Étienne|42218|0|2026-03-01|45.4397|Aide aux démarches administratives+Accès internet et matériel informatique|MUNI+PIMMS",
		// Line 15 repeats this id with date_maj 2025-01-01: the 2026-06-12 record wins.
		"a1f3c9e0-0001|France Services de Tarare|Tarare|69243|0|2026-06-12|45.8963|Aide aux démarches administratives+Accès internet et matériel informatique|MUNI+PIMMS",
		"a1f3c9e0-0002|Médiathèque de Beaujeu|Beaujeu|69018|1|2024-09-30|46.1546|Maîtrise des outils numériques du quotidien+Loisirs et créations numériques|BIB",
		"a1f3c9e0-0003|Bus numérique COPAMO|Mornant|69141|0|2026-09-01|45.6186|Aide aux démarches administratives|EPCI",
	}
	ftEqual(t, "lieux dédoublonnés", ftQuery(t, db, lieuxDedup), want)
	keys, reasons := ftRejects(t, db, sum.ID)
	ftEqual(t, "rejets", keys, []string{
		"ligne 7|commune", "ligne 9|latitude", "ligne 10|date_maj", "ligne 11|nom", "ligne 12|code_postal",
		"ligne 13|longitude", "ligne 14|", "ligne 16|latitude", "ligne 17|code_insee",
	})
	for pos, frag := range map[string]string{
		"ligne 7":  "commune « Villeurbanne » introuvable dans le référentiel",
		"ligne 9":  "latitude « abc » invalide",
		"ligne 10": "date_maj : date invalide « 2026-13-01 »",
		"ligne 11": "champ obligatoire « nom » vide",
		"ligne 12": "code postal « 6917 » invalide",
		"ligne 13": "latitude sans longitude",
		"ligne 14": "5 cellule(s) au lieu des 31 colonnes",
		"ligne 16": "latitude « 95 » invalide",
		"ligne 17": "code INSEE « 6924 » invalide",
	} {
		if !strings.Contains(reasons[pos], frag) {
			t.Errorf("%s : motif %q, attendu %q", pos, reasons[pos], frag)
		}
	}
	raw := ftQuery(t, db, "SELECT raw FROM rejects WHERE run_id = ? AND position = 'ligne 14'", sum.ID)
	ftEqual(t, "texte brut", raw, []string{"L-0013,123,Trop court,Tarare,69170"})

	// Replaying the same file changes no figure: same places, same rejects (deduplicated by key).
	ftWait()
	sum2 := ftRun(t, db, NewLieux(), in)
	ftCounts(t, sum2, 16, 7, 9)
	ftEqual(t, "lieux après rejeu", ftQuery(t, db, lieuxDedup), want)
	ftEqual(t, "FINAL après rejeu", ftQuery(t, db, "SELECT toString(count()) FROM lieux FINAL"), []string{"6"})
	ftEqual(t, "rejets après rejeu", ftQuery(t, db,
		"SELECT toString(count()) FROM (SELECT 1 FROM rejects WHERE source = 'lieux' GROUP BY source, input, position, field)"), []string{"9"})
}

func TestLieuxJSON(t *testing.T) {
	db, _ := chtest.WithReference(t)
	sum := ftRun(t, db, NewLieux(), ingest.Input{Location: "testdata/lieux/lieux.json"})
	ftCounts(t, sum, 6, 2, 4)
	ftEqual(t, "lieux JSON", ftQuery(t, db, lieuxDedup), []string{
		"J-0001|France Services de Tarare|Tarare|69243|0|2026-06-12|45.8963|Aide aux démarches administratives|MUNI+PIMMS",
		// "St Genis l'Argentiere" → Saint-Genis-l'Argentière 69203; a "|" string is read as a list; the
		// datetime keeps its date; the coordinates were strings with a decimal comma.
		"J-0002|Atelier de Saint-Genis|St Genis l'Argentiere|69203|1|2026-04-02|45.713|Maîtrise des outils numériques du quotidien+Loisirs et créations numériques|",
	})
	keys, reasons := ftRejects(t, db, sum.ID)
	ftEqual(t, "rejets JSON", keys, []string{"enregistrement 3|nom", "enregistrement 4|latitude", "enregistrement 5|typologie/1", "enregistrement 6|date_maj"})
	for pos, want := range map[string]string{
		"enregistrement 3": "champ obligatoire absent : nom",
		"enregistrement 4": "latitude : type booléen au lieu de null ou nombre ou texte",
		"enregistrement 5": "typologie/1 : type nombre au lieu de texte",
		"enregistrement 6": "date_maj : date invalide « hier » (attendu AAAA-MM-JJ)",
	} {
		if reasons[pos] != want {
			t.Errorf("%s : motif %q, attendu %q", pos, reasons[pos], want)
		}
	}
}

// An ambiguous name and an unknown one are rejected; accents, case and Saint/Ste are ignored.
func TestLieuxNameMatching(t *testing.T) {
	db := chtest.Migrated(t)
	ref := territory.NewReference("99", "Test", []territory.Commune{
		{Code: "99001", Nom: "Sainte-Colombe", EPCI: "200000001"},
		{Code: "99002", Nom: "Saint-Colombe", EPCI: "200000001"},
		{Code: "99003", Nom: "Écully", EPCI: "200000001"},
	}, []territory.EPCIInfo{{Siren: "200000001", Nom: "CC Test"}})
	dir := t.TempDir()
	csv := "id,pivot,nom,commune,code_postal,adresse,date_maj\n" +
		"A,1,Lieu A,ste colombe,99100,1 rue,2026-01-01\n" +
		"B,1,Lieu B,ECULLY,99130,1 rue,2026-01-01\n" +
		"C,1,Lieu C,Lyon,69001,1 rue,2026-01-01\n"
	p := filepath.Join(dir, "noms.csv")
	if err := os.WriteFile(p, []byte(csv), 0o644); err != nil {
		t.Fatal(err)
	}
	sum := ftRun(t, db, NewLieux(), ingest.Input{Location: p, Reference: ref})
	ftCounts(t, sum, 3, 1, 2)
	ftEqual(t, "lieu résolu", ftQuery(t, db, "SELECT id, code_insee, toString(code_insee_resolu) FROM lieux"), []string{"B|99003|1"})
	_, reasons := ftRejects(t, db, sum.ID)
	if !strings.Contains(reasons["ligne 2"], "ambiguë dans le référentiel (99001, 99002)") {
		t.Errorf("ligne 2 : %q", reasons["ligne 2"])
	}
	if !strings.Contains(reasons["ligne 4"], "« Lyon » introuvable") {
		t.Errorf("ligne 4 : %q", reasons["ligne 4"])
	}
}

func TestLieuxXLSXAndMissingColumn(t *testing.T) {
	db, _ := chtest.WithReference(t)
	p := ftWorkbook(t, ftSheet{"lieux", [][]any{
		{"id", "pivot", "nom", "commune", "code_postal", "adresse", "date_maj", "latitude", "longitude", "services"},
		{"X-1", "1", "Lieu", "Beaujeu", "69430", "1 rue", ftExcelDate(2026, 5, 4), 46.15, 4.58, "A|B"},
	}})
	sum := ftRun(t, db, NewLieux(), ingest.Input{Location: p})
	ftCounts(t, sum, 1, 1, 0)
	ftEqual(t, "lieu XLSX", ftQuery(t, db, lieuxDedup), []string{"X-1|Lieu|Beaujeu|69018|1|2026-05-04|46.15|A+B|"})

	bad := filepath.Join(t.TempDir(), "sans-date.csv")
	_ = os.WriteFile(bad, []byte("id,pivot,nom,commune,code_postal,adresse\nX,1,N,Tarare,69170,r\n"), 0o644)
	sum = ftRun(t, db, NewLieux(), ingest.Input{Location: bad})
	if sum.Err == nil || !strings.Contains(sum.Err.Error(), "colonne(s) obligatoire(s) absente(s) de l'en-tête : date_maj") {
		t.Fatalf("erreur attendue sur la colonne manquante, obtenu %v", sum.Err)
	}
}
