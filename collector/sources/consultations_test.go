package sources

import (
	"reflect"
	"strconv"
	"strings"
	"testing"
	"time"
)

type testConsultation struct {
	line int
	date string
	lieu string
	n    uint32
}

func parseConsultations(t testing.TB, in string) ([]testConsultation, []testReject, error) {
	var rows []testConsultation
	var rejects []testReject
	err := readConsultationsCSV(strings.NewReader(in), func(line int, d time.Time, lieu string, n uint32) error {
		rows = append(rows, testConsultation{line, d.Format("2006-01-02"), lieu, n})
		return nil
	}, func(line int, field, reason, raw string) {
		rejects = append(rejects, testReject{"ligne " + strconv.Itoa(line), field, reason})
	})
	return rows, rejects, err
}

func TestConsultationsCSV(t *testing.T) {
	rows, rejects, err := parseConsultations(t, "date,lieu_id,consultations\n2026-10-01,a1f3c9e0-0001,14\n2026-10-01,a1f3c9e0-0002,3\n2026-10-02,a1f3c9e0-0001,9\n")
	if err != nil {
		t.Fatal(err)
	}
	want := []testConsultation{{2, "2026-10-01", "a1f3c9e0-0001", 14}, {3, "2026-10-01", "a1f3c9e0-0002", 3}, {4, "2026-10-02", "a1f3c9e0-0001", 9}}
	if !reflect.DeepEqual(rows, want) || len(rejects) != 0 {
		t.Errorf("lignes %v rejets %v", rows, rejects)
	}
}

// TestConsultationsCSVRejects: columns in another order with an extra one, a BOM-less header, and every
// kind of bad line; the line numbers are the file's (header = line 1).
func TestConsultationsCSVRejects(t *testing.T) {
	data := readTestdata(t, "testdata/consultations/lignes-invalides.csv")
	rows, rejects, err := parseConsultations(t, data)
	if err != nil {
		t.Fatal(err)
	}
	// Line 5's French date is read as the other tabular sources read it (JJ/MM/AAAA); line 10 follows
	// the stray quote of line 9 and is intact.
	wantRows := []testConsultation{{2, "2026-10-01", "a1f3c9e0-0001", 14}, {3, "2026-10-01", "a1f3c9e0-0002", 3},
		{5, "2026-10-02", "a1f3c9e0-0001", 9}, {10, "2026-10-01", "a1f3c9e0-0001", 16}}
	if !reflect.DeepEqual(rows, wantRows) {
		t.Errorf("lignes %v, attendu %v", rows, wantRows)
	}
	wantRejects := []testReject{
		{"ligne 4", "lieu_id", "champ obligatoire absent"},
		{"ligne 6", "consultations", "nombre entier positif ou nul attendu, pas « -1 »"},
		{"ligne 7", "consultations", "champ obligatoire absent"},
		{"ligne 8", "date", "date invalide « 2026-13-02 » (attendu AAAA-MM-JJ)"},
		// The quote of line 9 (26th character: 14 + 1 + 10 + 1 characters before it) never closes: that
		// line alone is rejected.
		{"ligne 9", "", "guillemet « \" » ouvert au caractère 26 de la ligne 9 et jamais fermé : ligne rejetée seule, les suivantes sont lues"},
	}
	if !reflect.DeepEqual(rejects, wantRejects) {
		t.Errorf("rejets :\n%v\nattendu :\n%v", rejects, wantRejects)
	}
}

func TestConsultationsCSVHeader(t *testing.T) {
	for in, want := range map[string]string{
		"":                          "fichier vide",
		"date,lieu,consultations\n": "colonne(s) obligatoire(s) absente(s) de l'en-tête : lieu_id",
		"\ufeffDate,Lieu_ID,Consultations\n2026-10-01,x,1\n": "",
	} {
		rows, _, err := parseConsultations(t, in)
		if want == "" {
			if err != nil || len(rows) != 1 {
				t.Errorf("%q : %v %v", in, rows, err)
			}
			continue
		}
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("%q : erreur %v, attendu %q", in, err, want)
		}
	}
}

// TestMatomoDayCounts: visits of the URLs of one place add up; other pages are ignored; a bad count is a
// reject; a Matomo error object fails the day.
func TestMatomoDayCounts(t *testing.T) {
	re, idx, err := placeRegexp(defaultPlaceURLRegexp)
	if err != nil {
		t.Fatal(err)
	}
	body := `[
	 {"label":"/lieux/a1","url":"https://carte.example/lieux/a1","nb_visits":5,"nb_hits":9},
	 {"label":"/lieux/a1?utm=x","url":"https://carte.example/lieux/a1?utm=x","nb_visits":2},
	 {"label":"/lieux/a2/horaires","url":"https://carte.example/lieux/a2/horaires","nb_visits":"3"},
	 {"label":"/","url":"https://carte.example/","nb_visits":40},
	 {"label":"/lieux/a3","url":"https://carte.example/lieux/a3","nb_visits":-4},
	 {"label":"/lieux/caf%C3%A9","nb_visits":1}
	]`
	counts, rejects, err := matomoDayCounts([]byte(body), re, idx)
	if err != nil {
		t.Fatal(err)
	}
	// a1: 5 + 2 = 7; a2: 3 (string count); "/" not a place; a3 rejected; café from the label (no url).
	want := map[string]uint32{"a1": 7, "a2": 3, "café": 1}
	if !reflect.DeepEqual(counts, want) {
		t.Errorf("comptes %v, attendu %v", counts, want)
	}
	if len(rejects) != 1 || rejects[0].position != "élément 5" || rejects[0].field != "nb_visits" {
		t.Errorf("rejets %v", rejects)
	}
	_, _, err = matomoDayCounts([]byte(`{"result":"error","message":"You can't access this resource as it requires 'view' access for the website id = 3."}`), re, idx)
	if err == nil || !strings.Contains(err.Error(), "Matomo a refusé le jeton d'accès") {
		t.Errorf("erreur %v", err)
	}
	if _, _, err = matomoDayCounts([]byte(`[{"label":`), re, idx); err == nil || !strings.Contains(err.Error(), "JSON invalide") {
		t.Errorf("JSON tronqué : %v", err)
	}
	if _, _, err := placeRegexp(`/lieux/[^/]+`); err == nil {
		t.Error("une expression sans groupe doit être refusée")
	}
}
