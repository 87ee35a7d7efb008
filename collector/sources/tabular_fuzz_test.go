package sources

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/sdaasp-rhone/fne/collector/ingest"
	"github.com/sdaasp-rhone/fne/internal/territory"
)

// Fuzz tests: whatever the bytes, the readers and parsers return rows or errors, never panic, and keep
// their invariants. Seeds: the fixtures of testdata plus testdata/fuzz/FuzzXxx.

func fuzzSeedFiles(f *testing.F, globs ...string) {
	for _, g := range globs {
		ms, _ := filepath.Glob(g)
		for _, m := range ms {
			if b, err := os.ReadFile(m); err == nil {
				f.Add(b)
			}
		}
	}
}

// fuzzRows reads at most 1000 rows of t, checking positions grow.
func fuzzRows(t *testing.T, tb *tabTable, each func(tabRow)) {
	last := 0
	for i := 0; i < 1000; i++ {
		r, err := tb.Next()
		if errors.Is(err, io.EOF) {
			return
		}
		if err != nil {
			return
		}
		if r.Line <= last {
			t.Fatalf("position %d après %d", r.Line, last)
		}
		last = r.Line
		if !r.XLSX && r.Pos != fmt.Sprintf("ligne %d", r.Line) {
			t.Fatalf("position %q pour la ligne %d", r.Pos, r.Line)
		}
		each(r)
	}
}

func FuzzTabCSV(f *testing.F) {
	fuzzSeedFiles(f, "testdata/*/*.csv")
	f.Fuzz(func(t *testing.T, data []byte) {
		tb, err := newCSVTable(bytes.NewReader(data))
		if err != nil {
			return
		}
		fuzzRows(t, tb, func(r tabRow) {
			if r.Width == "" && len(r.cells) != len(tb.Header) {
				t.Fatalf("%d cellules pour %d colonnes sans motif", len(r.cells), len(tb.Header))
			}
			if strings.HasSuffix(r.Raw, "\n") {
				t.Fatalf("texte brut avec fin de ligne : %q", r.Raw)
			}
		})
	})
}

func FuzzTabXLSX(f *testing.F) {
	fuzzSeedFiles(f, "testdata/fuzz/xlsx/*.xlsx")
	f.Add([]byte("PK\x03\x04"))
	f.Fuzz(func(t *testing.T, data []byte) {
		if len(data) > 1<<16 {
			return
		}
		tb, err := newXLSXTable(bytes.NewReader(data), "", "rencontres")
		if err != nil {
			return
		}
		fuzzRows(t, tb, func(tabRow) {})
	})
}

// FuzzParseRows feeds every row of a CSV to every row parser.
func FuzzParseRows(f *testing.F) {
	fuzzSeedFiles(f, "testdata/*/*.csv")
	ref := territory.NewReference("69", "Test", []territory.Commune{{Code: "69018", Nom: "Beaujeu"}, {Code: "69243", Nom: "Tarare"}}, nil)
	m := newLieuMatcher(ref)
	now := time.Date(2026, 11, 30, 0, 0, 0, 0, time.UTC)
	f.Fuzz(func(t *testing.T, data []byte) {
		tb, err := newCSVTable(bytes.NewReader(data))
		if err != nil {
			return
		}
		fuzzRows(t, tb, func(r tabRow) {
			for name, n := range map[string]int{"rencontre": 9, "participation": 9, "equipement": 8, "jalon": 8, "lieu": 20} {
				var vals []any
				var reason string
				switch name {
				case "rencontre":
					vals, _, reason = parseRencontre(r, 1)
				case "participation":
					vals, _, reason = parseParticipation(r, 1)
				case "equipement":
					vals, _, reason = parseEquipement(r, 1)
				case "jalon":
					vals, _, reason = parseJalon(r, 1)
				case "lieu":
					vals, _, reason = parseLieu(lieuFromRow(r), m, now)
				}
				if reason == "" && len(vals) != n {
					t.Fatalf("%s : %d valeurs, attendu %d", name, len(vals), n)
				}
				if reason != "" && vals != nil {
					t.Fatalf("%s : rejet %q avec des valeurs", name, reason)
				}
			}
		})
	})
}

func FuzzLieuxJSON(f *testing.F) {
	fuzzSeedFiles(f, "testdata/lieux/*.json")
	m := newLieuMatcher(nil)
	f.Fuzz(func(t *testing.T, data []byte) {
		sink := &ingest.Sink{}
		n := 0
		_ = lieuEachJSON(context.Background(), bytes.NewReader(data), sink, func(pos, raw string, rec lieuRecord, field, reason string) error {
			n++
			if pos != fmt.Sprintf("enregistrement %d", n) {
				t.Fatalf("position %q", pos)
			}
			if reason == "" {
				vals, _, r2 := parseLieu(rec, m, time.Unix(0, 0))
				if r2 == "" && len(vals) != 20 {
					t.Fatalf("%d valeurs", len(vals))
				}
			}
			return nil
		})
		if read, _, _ := sink.Counts(); read != uint64(n) {
			t.Fatalf("%d lus, %d vus", read, n)
		}
	})
}

func FuzzJalonsYAML(f *testing.F) {
	fuzzSeedFiles(f, "testdata/jalons/*.yaml")
	f.Fuzz(func(t *testing.T, data []byte) {
		tb, err := newYAMLTable(bytes.NewReader(data))
		if err != nil {
			return
		}
		for i := 0; i < 1000; i++ {
			r, err := tb.Next()
			if err != nil {
				return
			}
			if r.Width == "" {
				if vals, _, reason := parseJalon(r, 1); reason == "" && len(vals) != 8 {
					t.Fatalf("%d valeurs", len(vals))
				}
			}
		}
	})
}
