package sources

import (
	"bytes"
	"encoding/json"
	"strings"
	"testing"
	"time"
)

// FuzzCoopPage: the page reader and both resource parsers never panic, whatever the bytes; and whatever
// the fast path accepts, the schema path accepts with the same row. Seeds: testdata/fuzz/FuzzCoopPage.
func FuzzCoopPage(f *testing.F) {
	f.Add([]byte(`{"data":[],"links":{"next":{"href":"/p2"}}}`))
	f.Add([]byte(readTestdata(f, "testdata/activites/page-exemple.json")))
	f.Add([]byte(readTestdata(f, "testdata/structures/structures.json")))
	acts, structs := newActivites(), newStructures()
	schA, err := coopSchema(acts.spec.schemaFile)
	if err != nil {
		f.Fatal(err)
	}
	schS, err := coopSchema(structs.spec.schemaFile)
	if err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		_, _ = readCoopPage(bytes.NewReader(data), func(raw json.RawMessage) error {
			checkFastAgainstSchema(t, raw)
			_, _, _, _ = acts.spec.parse(schA, raw, testNow)
			_, _, _, _ = structs.spec.parse(schS, raw, testNow)
			return nil
		})
	})
}

// FuzzConsultationsCSV: the CSV parser never panics, reports rows with sane values and positive line
// numbers. Seeds: testdata/fuzz/FuzzConsultationsCSV.
func FuzzConsultationsCSV(f *testing.F) {
	f.Add(readTestdata(f, "testdata/consultations/exemple.csv"))
	f.Add(readTestdata(f, "testdata/consultations/lignes-invalides.csv"))
	f.Fuzz(func(t *testing.T, data string) {
		_ = readConsultationsCSV(strings.NewReader(data), func(line int, d time.Time, lieu string, n uint32) error {
			if line < 2 || lieu == "" || d.Year() < 1970 || d.Year() > 2105 {
				t.Fatalf("ligne %d acceptée avec lieu %q et date %v", line, lieu, d)
			}
			return nil
		}, func(line int, field, reason, raw string) {
			if line < 1 || reason == "" {
				t.Fatalf("rejet sans ligne ou sans motif : %d %q", line, reason)
			}
		})
	})
}

// FuzzMatomoDay: the Matomo response parser never panics.
func FuzzMatomoDay(f *testing.F) {
	f.Add([]byte(`[{"label":"/lieux/a1","url":"https://carte.example/lieux/a1","nb_visits":5}]`))
	f.Add([]byte(`{"result":"error","message":"x"}`))
	re, idx, _ := placeRegexp(defaultPlaceURLRegexp)
	f.Fuzz(func(t *testing.T, data []byte) {
		_, _, _ = matomoDayCounts(data, re, idx)
	})
}
