package sources

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"reflect"
	"testing"
	"time"

	"github.com/sdaasp-rhone/fne/collector/ingest"
)

// TestFastCounters: the plain forms are read (sorted, zeros and nulls left out, known names shared);
// every form the fast reader does not own answers ok=false, so the schema path decides.
func TestFastCounters(t *testing.T) {
	tests := []struct {
		raw  string
		keys []string
		vals []uint32
		ok   bool
	}{
		{``, nil, nil, true},
		{`null`, nil, nil, true},
		{`{}`, nil, nil, true},
		{` { } `, nil, nil, true},
		{`{"masculin":0,"feminin":1,"non_communique":0}`, []string{"genres.feminin"}, []uint32{1}, true},
		{`{"non_communique":2, "feminin":3 ,"masculin":null}`, []string{"genres.feminin", "genres.non_communique"}, []uint32{3, 2}, true},
		{"{\n\t\"autre\": 4294967295\r\n}", []string{"genres.autre"}, []uint32{4294967295}, true},
		{`{"feminin":4294967296}`, nil, nil, false},    // above UInt32
		{`{"feminin":1,"feminin":2}`, nil, nil, false}, // duplicate
		{`{"f\u00e9minin":1}`, nil, nil, false},        // escape
		{`{"féminin":1}`, nil, nil, false},             // not ASCII
		{`{"feminin":-1}`, nil, nil, false},
		{`{"feminin":1.0}`, nil, nil, false},
		{`{"feminin":1e2}`, nil, nil, false},
		{`{"feminin":01}`, nil, nil, false},
		{`{"feminin":"1"}`, nil, nil, false},
		{`{"feminin":true}`, nil, nil, false},
		{`{"feminin":1,}`, nil, nil, false},
		{`{"feminin":1} x`, nil, nil, false},
		{`{"feminin" 1}`, nil, nil, false},
		{`{"feminin":1`, nil, nil, false},
		{`[1]`, nil, nil, false},
		{`{"a":nul}`, nil, nil, false},
	}
	for _, tt := range tests {
		keys, vals, ok := fastCounters([]byte(tt.raw), "genres", nil, nil)
		if ok != tt.ok || (ok && (!reflect.DeepEqual(keys, tt.keys) || !reflect.DeepEqual(vals, tt.vals))) {
			t.Errorf("fastCounters(%q) = %v %v %v, attendu %v %v %v", tt.raw, keys, vals, ok, tt.keys, tt.vals, tt.ok)
		}
	}
	// The prefix of the group is kept, and appended after what is already there.
	keys, vals, _ := fastCounters([]byte(`{"retraite":1}`), "statuts", []string{"genres.feminin"}, []uint32{1})
	if !reflect.DeepEqual(keys, []string{"genres.feminin", "statuts.retraite"}) || !reflect.DeepEqual(vals, []uint32{1, 1}) {
		t.Errorf("ajout : %v %v", keys, vals)
	}
}

// TestActiviteFastBeneficiaires: for every shape of beneficiaires, whatever the fast path accepts the
// schema path maps to the same row, and the plain shapes do take the fast path.
func TestActiviteFastBeneficiaires(t *testing.T) {
	const record = `{"type":"activite","id":"a1","attributes":{"type":"individuel","mediateur_id":"m1","accompagnements":1,` +
		`"date":"2026-10-06","duree":45,"type_lieu":"domicile","modification":"2026-10-06T14:02:11Z"%s}}`
	tests := []struct {
		benef string
		fast  bool
	}{
		{``, true},
		{`,"beneficiaires":null`, true},
		{`,"beneficiaires":{"total":2,"genres":{"feminin":1,"masculin":1},"statuts":null}`, true},
		{`,"beneficiaires":{"total":1,"tranches_age":{"soixante_dix_plus":1,"moins_de_douze":null}}`, true},
		{`,"beneficiaires":{"total":1,"genres":{"f\u00e9minin":1}}`, false},
		{`,"beneficiaires":{"total":1,"genres":{"feminin":1,"feminin":1}}`, false},
		{`,"beneficiaires":{"total":1,"genres":{"feminin":2.0}}`, false},
		{`,"beneficiaires":{"total":1,"genres":[1]}`, false},
	}
	for _, tt := range tests {
		raw := []byte(fmt.Sprintf(record, tt.benef))
		if got := checkFastAgainstSchema(t, raw); got != tt.fast {
			t.Errorf("chemin rapide %v, attendu %v pour %s", got, tt.fast, raw)
		}
	}
}

// TestParseUTCStamp: wherever the fast reader answers, time.Parse(RFC3339Nano) gives the same instant;
// the plain Coop forms are read by the fast reader.
func TestParseUTCStamp(t *testing.T) {
	inputs := []string{
		"2026-10-06T14:02:11.000Z", "2026-10-06T14:02:11Z", "2024-02-29T23:59:59.123456789Z", "2026-12-31T00:00:00.5Z",
		"2023-02-29T10:00:00Z", "2026-04-31T10:00:00Z", "2026-13-01T10:00:00Z", "2026-00-10T10:00:00Z",
		"2026-10-06T24:00:00Z", "2026-10-06T14:60:00Z", "2026-10-06T14:02:60Z", "2026-10-06T14:02:11.Z",
		"2026-10-06T14:02:11.1234567890Z", "2026-10-06T14:02:11+02:00", "2026-10-06t14:02:11z", "2026-10-06 14:02:11Z",
		"2026-1-06T14:02:11Z", "+026-10-06T14:02:11Z", "2026-10-06T14:02:11,5Z", "2026-10-06T14:02:1xZ", "0000-01-01T00:00:00Z",
	}
	fast := map[string]bool{}
	for _, in := range inputs {
		got, ok := parseUTCStamp(in)
		want, err := time.Parse(time.RFC3339Nano, in)
		if ok && (err != nil || !got.Equal(want) || got.Location() != time.UTC) {
			t.Errorf("parseUTCStamp(%q) = %v, time.Parse = %v %v", in, got, want, err)
		}
		fast[in] = ok
	}
	for _, in := range inputs[:4] {
		if !fast[in] {
			t.Errorf("parseUTCStamp(%q) devrait lire la forme de la Coop", in)
		}
	}
	if fast["2023-02-29T10:00:00Z"] || fast["2026-10-06T14:02:11+02:00"] {
		t.Error("date impossible ou décalage horaire lus par le chemin rapide")
	}
}

// TestActiviteChunk: the typed columns take exactly the records the fast path accepts, with the very
// rows parse gives, and the records whose dates lie outside the range are the same rejects.
func TestActiviteChunk(t *testing.T) {
	var buf bytes.Buffer
	if err := writeGeneratedActivities(&buf, 300); err != nil {
		t.Fatal(err)
	}
	fixture, _ := os.ReadFile("testdata/activites/melange.json")
	late := fmt.Sprintf(`[{"type":"activite","id":"futur","attributes":{"type":"individuel","mediateur_id":"m1","accompagnements":1,`+
		`"date":"2026-10-06","duree":45,"type_lieu":"domicile","modification":"%s"}},`+
		`{"type":"activite","id":"supprime-2099","attributes":{"type":"individuel","mediateur_id":"m1","accompagnements":1,`+
		`"date":"2026-10-06","duree":45,"type_lieu":"domicile","modification":"2026-10-06T10:00:00Z","suppression":"2099-01-01T00:00:00Z"}},`+
		`{"type":"activite","id":"date-future","attributes":{"type":"individuel","mediateur_id":"m1","accompagnements":1,`+
		`"date":"2027-06-01","duree":45,"type_lieu":"domicile","modification":"2026-10-06T10:00:00Z"}}]`,
		testNow.Add(72*time.Hour).Format(time.RFC3339))
	spec := newActivites().spec
	sch, err := coopSchema(spec.schemaFile)
	if err != nil {
		t.Fatal(err)
	}
	chunk := newActiviteChunk().(*activiteChunk)
	var want [][]any
	typed, rejects := 0, 0
	for _, data := range [][]byte{buf.Bytes(), fixture, []byte(late)} {
		_, err := readCoopPage(bytes.NewReader(data), func(raw json.RawMessage) error {
			row, mod, id, rerr := spec.parse(sch, raw, testNow)
			tmod, tid, trerr, ok := chunk.parse(&spec, raw, testNow)
			_, _, fast := activiteFast(raw, testNow)
			switch {
			case ok != fast:
				t.Errorf("colonnes typées %v, chemin rapide %v : %s", ok, fast, raw)
			case ok && trerr != nil:
				rejects++
				if rerr == nil || *rerr != *trerr || id != tid {
					t.Errorf("rejet typé %+v (%s), parse %+v (%s) : %s", trerr, tid, rerr, id, raw)
				}
			case ok:
				typed++
				if rerr != nil || !mod.Equal(tmod) {
					t.Errorf("pris par les colonnes typées, parse : %+v : %s", rerr, raw)
				}
				want = append(want, row)
			}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
	}
	// 300 generated + the 3 valid fixture records; the 3 late ones are rejects.
	if typed != 303 || rejects != 3 || chunk.Len() != 303 {
		t.Fatalf("%d pris, %d rejets, %d lignes dans les colonnes ; attendu 303, 3, 303", typed, rejects, chunk.Len())
	}
	cols, ok := ingest.Columnar(want, len(activitesColumns))
	if !ok || !reflect.DeepEqual(cols, chunk.Columns()) {
		t.Errorf("colonnes typées différentes des lignes de parse")
	}
}
