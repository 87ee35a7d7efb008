package sources

import (
	"bytes"
	"encoding/json"
	"errors"
	"os"
	"reflect"
	"strconv"
	"strings"
	"testing"
	"time"
)

var testNow = time.Date(2026, 11, 2, 10, 0, 0, 0, time.UTC)

type testReject struct{ position, field, reason string }

// parseCoop runs the collector's parse path over a file without ClickHouse.
func parseCoop(t testing.TB, c *coopCollector, data []byte) (rows [][]any, rejects []testReject, err error) {
	t.Helper()
	sch, err := coopSchema(c.spec.schemaFile)
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	_, err = readCoopPage(bytes.NewReader(data), func(raw json.RawMessage) error {
		n++
		row, _, id, rerr := c.spec.parse(sch, raw, testNow)
		if rerr != nil {
			if id == "" {
				id = "élément " + strconv.Itoa(n)
			}
			rejects = append(rejects, testReject{id, rerr.field, rerr.reason})
			return nil
		}
		rows = append(rows, row)
		return nil
	})
	return rows, rejects, err
}

func TestReadCoopPageShapes(t *testing.T) {
	tests := []struct {
		name    string
		in      string
		ids     []string
		next    string
		wantErr string
	}{
		{"page", `{"data":[{"id":"a"},{"id":"b"}],"links":{"next":{"href":"/p2"}},"meta":{"total_count":2}}`, []string{"a", "b"}, "/p2", ""},
		{"links avant data, next chaîne", `{"links":{"next":"/p3"},"data":[{"id":"a"}]}`, []string{"a"}, "/p3", ""},
		{"tableau nu", `[{"id":"x"},{"id":"y"},{"id":"z"}]`, []string{"x", "y", "z"}, "", ""},
		{"dernière page", `{"data":[],"links":{"next":null}}`, nil, "", ""},
		{"data null", `{"data":null}`, nil, "", ""},
		{"JSON tronqué", `{"data":[{"id":"a"},{"id":`, []string{"a"}, "", "JSON invalide"},
		{"virgule en trop", `{"data":[{"id":"a"},]}`, []string{"a"}, "", "JSON invalide"},
		{"sans data", `{"meta":{}}`, nil, "", "sans champ « data »"},
		{"data objet", `{"data":{"id":"a"}}`, nil, "", "doit être un tableau"},
		{"scalaire", `"bonjour"`, nil, "", "page JSON:API (objet) ou un tableau"},
		{"vide", ``, nil, "", "document vide"},
		{"données après", `[{"id":"a"}] [`, []string{"a"}, "", "JSON invalide"},
		{"erreurs JSON:API", `{"errors":[{"title":"Forbidden","detail":"jeton expiré"}]}`, nil, "", "Forbidden jeton expiré"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var ids []string
			next, err := readCoopPage(strings.NewReader(tc.in), func(raw json.RawMessage) error {
				var v struct{ ID string }
				_ = json.Unmarshal(raw, &v)
				ids = append(ids, v.ID)
				return nil
			})
			if tc.wantErr == "" && err != nil || tc.wantErr != "" && (err == nil || !strings.Contains(err.Error(), tc.wantErr)) {
				t.Fatalf("erreur %v, attendu %q", err, tc.wantErr)
			}
			if !reflect.DeepEqual(ids, tc.ids) {
				t.Errorf("ids %v, attendu %v", ids, tc.ids)
			}
			if err == nil && next != tc.next {
				t.Errorf("next %q, attendu %q", next, tc.next)
			}
		})
	}
}

func TestReadCoopPageStopsOnWriterError(t *testing.T) {
	boom := errors.New("écriture impossible")
	n := 0
	_, err := readCoopPage(strings.NewReader(`[{"id":"a"},{"id":"b"}]`), func(json.RawMessage) error { n++; return boom })
	if !errors.Is(err, boom) || n != 1 {
		t.Fatalf("err %v après %d éléments, attendu l'erreur d'écriture après 1", err, n)
	}
}

func day(s string) time.Time {
	d, err := time.Parse("2006-01-02", s)
	if err != nil {
		panic(err)
	}
	return d
}

func ts(s string) time.Time {
	d, err := time.Parse(time.RFC3339Nano, s)
	if err != nil {
		panic(err)
	}
	return d.UTC()
}

func u8(v uint8) *uint8 { return &v }

// TestActivitesMapping pins the mapping of the fixture melange.json: 3 valid activities (the 2 of the
// documented example page and a deleted one) and 6 rejects, each with its French reason.
func TestActivitesMapping(t *testing.T) {
	data, err := os.ReadFile("testdata/activites/melange.json")
	if err != nil {
		t.Fatal(err)
	}
	rows, rejects, err := parseCoop(t, newActivites(), data)
	if err != nil {
		t.Fatal(err)
	}
	nowLow := uint64(testNow.Unix())
	want := [][]any{
		{"6f1c2a4e-8b0d-4c1e-9a55-0d2f6b7c1a01", uint64(ts("2026-10-06T14:02:11Z").Unix())<<32 | nowLow, uint8(0),
			ts("2026-10-06T14:02:11Z"), ts("2026-10-06T14:02:11Z"), "individuel", "0b8e5a1c-3f2d-4e6a-8c9b-7d1e2f3a4b5c",
			day("2026-10-06"), uint32(45), uint32(1), "lieu_activite", "9d8c7b6a-5f4e-4d3c-2b1a-0f9e8d7c6b5a", "", "", "",
			[]string{"aide_aux_demarches_administratives", "argent_impots"}, []string{"telephone"}, "partiellement_autonome",
			u8(0), "", uint32(1),
			// non-zero counters only: feminin 1, soixante_soixante_neuf 1, retraite 1
			[]string{"genres.feminin", "tranches_age.soixante_soixante_neuf", "statuts.retraite"}, []uint32{1, 1, 1}},
		{"6f1c2a4e-8b0d-4c1e-9a55-0d2f6b7c1a02", uint64(ts("2026-10-09T08:12:40Z").Unix())<<32 | nowLow, uint8(0),
			ts("2026-10-09T08:12:40Z"), ts("2026-10-08T16:30:00Z"), "collectif", "0b8e5a1c-3f2d-4e6a-8c9b-7d1e2f3a4b5c",
			day("2026-10-08"), uint32(120), uint32(6), "autre", "", "69243", "69170", "Tarare",
			[]string{"email", "securite_numerique"}, []string{"ordinateur"}, "", (*uint8)(nil), "debutant", uint32(6),
			// genres 2+4, tranches 1+3+2, statuts 1+5 (zeros left out), keys sorted within a group
			[]string{"genres.feminin", "genres.masculin", "tranches_age.quarante_cinquante_neuf", "tranches_age.soixante_dix_plus",
				"tranches_age.soixante_soixante_neuf", "statuts.retraite", "statuts.sans_emploi"}, []uint32{4, 2, 1, 2, 3, 5, 1}},
		// deleted: version uses the suppression (later than the modification), deleted = 1
		{"act-0003-supprimee", uint64(ts("2026-10-12T10:00:00Z").Unix())<<32 | nowLow, uint8(1),
			ts("2026-10-10T09:00:00Z"), ts("2026-10-10T09:00:00Z"), "demarche_administrative", "0b8e5a1c-3f2d-4e6a-8c9b-7d1e2f3a4b5c",
			day("2026-10-10"), uint32(30), uint32(1), "domicile", "", "69266", "69100", "Villeurbanne",
			[]string{"argent_impots"}, []string{}, "partiellement_autonome", u8(1), "", uint32(1),
			[]string{"genres.masculin", "tranches_age.soixante_dix_plus", "statuts.retraite"}, []uint32{1, 1, 1}},
	}
	if len(rows) != len(want) {
		t.Fatalf("%d lignes, attendu %d (rejets %v)", len(rows), len(want), rejects)
	}
	for i := range want {
		for j := range want[i] {
			if !reflect.DeepEqual(rows[i][j], want[i][j]) {
				t.Errorf("ligne %d, colonne %s : %#v, attendu %#v", i+1, activitesColumns[j], rows[i][j], want[i][j])
			}
		}
	}
	wantRejects := []testReject{
		{"act-0004-type-inconnu", "type", "valeur non autorisée (valeurs admises : individuel, demarche_administrative, collectif)"},
		{"act-0005-sans-structure", "structure_id", "structure_id est obligatoire quand type_lieu vaut lieu_activite"},
		{"act-0006-insee-court", "lieu_code_insee", "code INSEE invalide (5 caractères, par exemple 69123 ou 2A004)"},
		{"act-0007-date-impossible", "date", "date « 2026-02-30 » invalide ou hors de la plage admise (AAAA-MM-JJ, du 2000-01-01 à l'ingestion + 1 jour)"},
		{"act-0008-negatif", "accompagnements", "valeur inférieure au minimum 0"},
		{"élément 9", "", "type incorrect : objet attendu, nombre reçu"},
	}
	if !reflect.DeepEqual(rejects, wantRejects) {
		t.Errorf("rejets :\n%v\nattendu :\n%v", rejects, wantRejects)
	}
}

// TestActiviteSchemaRejects pins the French wording of schema failures, field by field.
func TestActiviteSchemaRejects(t *testing.T) {
	base := `{"type":"activite","id":"x","attributes":{"type":"individuel","mediateur_id":"m","date":"2026-10-06","accompagnements":1,"type_lieu":"domicile","modification":"2026-10-06T14:02:11.000Z"%s}}`
	tests := []struct{ extra, field, reason string }{
		{``, "", ""},
		{`,"duree":"45"`, "duree", "type incorrect : null ou entier attendu, texte reçu"},
		{`,"accompagnements":1.5`, "accompagnements", "type incorrect : entier attendu, nombre reçu"},
		{`,"accompagnements":5000000000`, "accompagnements", "nombre trop grand"},
		{`,"accompagnements":3.0`, "", ""},
		{`,"date":"06/10/2026"`, "date", "date invalide (format AAAA-MM-JJ attendu)"},
		{`,"mediateur_id":""`, "mediateur_id", "valeur vide"},
		{`,"mediateur_id":null`, "mediateur_id", "type incorrect : texte attendu, null reçu"},
		{`,"modification":"hier"`, "modification", "horodatage invalide (ISO 8601 avec fuseau attendu, par exemple 2026-10-06T14:02:11.000Z)"},
		{`,"suppression":"1900-01-01T00:00:00Z"`, "suppression", "horodatage « 1900-01-01T00:00:00Z » hors de la plage admise (du 2000-01-01 à l'ingestion + 1 jour)"},
		{`,"thematiques":["a",null]`, "thematiques.1", "type incorrect : texte attendu, null reçu"},
		{`,"beneficiaires":{"total":2,"genres":{"feminin":-1}}`, "beneficiaires.genres.feminin", "valeur inférieure au minimum 0"},
		{`,"oriente_vers_structure":"oui"`, "oriente_vers_structure", "type incorrect : null ou booléen attendu, texte reçu"},
		{`,"lieu_code_insee":"2A004"`, "", ""},
		// Same key twice: the last one wins, as in encoding/json.
		{`,"type_lieu":"lieu_activite"`, "structure_id", "structure_id est obligatoire quand type_lieu vaut lieu_activite"},
	}
	for _, tc := range tests {
		t.Run(tc.extra, func(t *testing.T) {
			raw := []byte(strings.Replace(base, "%s", tc.extra, 1))
			_, rejects, err := parseCoop(t, newActivites(), append(append([]byte("["), raw...), ']'))
			if err != nil {
				t.Fatal(err)
			}
			if tc.reason == "" {
				if len(rejects) != 0 {
					t.Fatalf("rejet inattendu %v", rejects)
				}
				return
			}
			if len(rejects) != 1 || rejects[0].field != tc.field || rejects[0].reason != tc.reason {
				t.Fatalf("rejets %v, attendu champ %q : %q", rejects, tc.field, tc.reason)
			}
		})
	}
}

// TestStructuresMapping pins the structures fixture: 2 valid (one deleted), 2 rejects.
func TestStructuresMapping(t *testing.T) {
	data, err := os.ReadFile("testdata/structures/structures.json")
	if err != nil {
		t.Fatal(err)
	}
	rows, rejects, err := parseCoop(t, newStructures(), data)
	if err != nil {
		t.Fatal(err)
	}
	nowLow := uint64(testNow.Unix())
	lat, lon := 45.7676, 4.8345
	want := [][]any{
		{"9d8c7b6a-5f4e-4d3c-2b1a-0f9e8d7c6b5a", uint64(ts("2026-09-01T08:00:00Z").Unix())<<32 | nowLow, uint8(0), ts("2026-09-01T08:00:00Z"),
			"Médiathèque de Lyon 1er", "12345678900011", "69381", "69001", "Lyon", &lat, &lon, []string{"aide_aux_demarches_administratives", "prise_en_main_du_materiel"}},
		{"st-fermee", uint64(ts("2026-10-03T00:00:00Z").Unix())<<32 | nowLow, uint8(1), ts("2026-09-15T10:00:00Z"),
			"Espace numérique fermé", "", "69243", "69170", "Tarare", (*float64)(nil), (*float64)(nil), []string{}},
	}
	if !reflect.DeepEqual(rows, want) {
		t.Errorf("lignes :\n%#v\nattendu :\n%#v", rows, want)
	}
	wantRejects := []testReject{
		{"st-sans-nom", "nom", "champ obligatoire absent"},
		{"st-lat-hors", "latitude", "valeur supérieure au maximum 90"},
	}
	if !reflect.DeepEqual(rejects, wantRejects) {
		t.Errorf("rejets %v, attendu %v", rejects, wantRejects)
	}
}

// TestActiviteFastMatchesSchemaPath: on the fixtures and on generated records, the fast path accepts
// valid records and gives the very row of the schema path.
func TestActiviteFastMatchesSchemaPath(t *testing.T) {
	var buf bytes.Buffer
	if err := writeGeneratedActivities(&buf, 500); err != nil {
		t.Fatal(err)
	}
	fixture, _ := os.ReadFile("testdata/activites/melange.json")
	fast := 0
	for _, data := range [][]byte{buf.Bytes(), fixture} {
		_, err := readCoopPage(bytes.NewReader(data), func(raw json.RawMessage) error {
			if checkFastAgainstSchema(t, raw) {
				fast++
			}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
	}
	// 500 generated + the 3 valid fixture records take the fast path.
	if fast != 503 {
		t.Errorf("%d enregistrements par le chemin rapide, attendu 503", fast)
	}
}

// checkFastAgainstSchema fails the test when the fast path accepts what the schema path does not map to
// the same row; it reports whether the fast path accepted.
func checkFastAgainstSchema(t testing.TB, raw []byte) bool {
	row, mod, ok := activiteFast(raw, testNow)
	if !ok {
		return false
	}
	sch, err := coopSchema("activite.schema.json")
	if err != nil {
		t.Fatal(err)
	}
	res, rerr := decodeCoopResource(sch, raw)
	if rerr != nil {
		t.Fatalf("chemin rapide accepté, schéma refusé (%s : %s) : %s", rerr.field, rerr.reason, raw)
	}
	srow, smod, rerr := activiteRow(res, testNow)
	if rerr != nil {
		t.Fatalf("chemin rapide accepté, contrôles refusés (%s : %s) : %s", rerr.field, rerr.reason, raw)
	}
	if !reflect.DeepEqual(row, srow) || !mod.Equal(smod) {
		t.Fatalf("lignes différentes :\nrapide %#v\nschéma %#v\npour %s", row, srow, raw)
	}
	return true
}

func TestCoopURLs(t *testing.T) {
	u, err := coopFirstURL("https://coop.example/", "activites", 500, "2026-10-01T00:00:00.000Z")
	if err != nil {
		t.Fatal(err)
	}
	want := "https://coop.example/api/v1/activites?filter%5Bmodification%5D%5Bdepuis%5D=2026-10-01T00%3A00%3A00.000Z&page%5Bsize%5D=500"
	if u != want {
		t.Errorf("%s\nattendu %s", u, want)
	}
	if u, _ := coopFirstURL("https://coop.example/api/v1/structures", "structures", 10, ""); u != "https://coop.example/api/v1/structures?page%5Bsize%5D=10" {
		t.Errorf("base déjà complète : %s", u)
	}
	if n, err := coopNextURL(want, want, "/api/v1/activites?page%5Bafter%5D=x"); err != nil || n != "https://coop.example/api/v1/activites?page%5Bafter%5D=x" {
		t.Errorf("lien relatif : %s %v", n, err)
	}
	if _, err := coopNextURL(want, want, "https://ailleurs.example/api/v1/activites?page=2"); err == nil || !strings.Contains(err.Error(), "autre serveur") {
		t.Errorf("lien vers un autre hôte accepté : %v", err)
	}
}

func readTestdata(t testing.TB, path string) string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}
