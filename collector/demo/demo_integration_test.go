//go:build integration

package demo

import (
	"context"
	"testing"

	"github.com/sdaasp-rhone/fne/collector/ingest"
	"github.com/sdaasp-rhone/fne/collector/sources"
	"github.com/sdaasp-rhone/fne/internal/chtest"
)

// The demo set goes through the real collectors: every source writes exactly the valid rows generated
// and rejects exactly the planted ones.
func TestDemoIngestion(t *testing.T) {
	db, ref := chtest.WithReference(t)
	// A fifth of the activity and consultation volume: the counts are what this test is about.
	res, err := Generate(t.TempDir(), Options{Ref: ref, End: testEnd, Seed: 1, Scale: 0.2})
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	sums, err := Ingest(ctx, &ingest.Runner{Conn: db.Conn}, sources.Registry(), res, ref)
	if err != nil {
		t.Fatal(err)
	}
	// Planted invalid rows (see the generators): activites 2 (impossible date, unknown type), lieux 2
	// (no name, unknown commune), consultations 2 (impossible date, negative count), rencontres 1
	// (unknown type), participations 1 (unknown structure type), equipements 2 (unknown indicator,
	// month 13), jalons 1 (unknown status), structures 0.
	planted := map[string]uint64{"activites": 2, "lieux": 2, "consultations": 2, "rencontres": 1, "participations": 1, "equipements": 2, "jalons": 1, "structures": 0}
	if len(sums) != 8 {
		t.Fatalf("%d sources ingested, want 8", len(sums))
	}
	for _, s := range sums {
		t.Logf("%-15s files=%d read=%d written=%d rejected=%d expected=%d/%d failed=%d %s", s.Source, s.Files, s.Read, s.Written, s.Rejected,
			s.ExpectedValid, s.ExpectedInvalid, s.Failed, s.FirstError)
		if s.Failed > 0 {
			t.Errorf("%s: %d failed runs: %s", s.Source, s.Failed, s.FirstError)
			continue
		}
		if s.Written != uint64(s.ExpectedValid) || s.Rejected != planted[s.Source] || uint64(s.ExpectedInvalid) != planted[s.Source] ||
			s.Read != s.Written+s.Rejected {
			t.Errorf("%s: read %d, written %d, rejected %d; want written %d, rejected %d", s.Source, s.Read, s.Written, s.Rejected, s.ExpectedValid, planted[s.Source])
		}
	}
	// The rejects table holds the planted rows, per source.
	rows, err := db.Conn.Query(ctx, "SELECT source, count() FROM rejects GROUP BY source ORDER BY source")
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	got := map[string]uint64{}
	for rows.Next() {
		var s string
		var n uint64
		if err := rows.Scan(&s, &n); err != nil {
			t.Fatal(err)
		}
		got[s] = n
	}
	for s, n := range planted {
		if got[s] != n {
			t.Errorf("rejects table: %s has %d rows, want %d", s, got[s], n)
		}
	}
	// Distinct places ingested: exactly the 245 generated.
	var places uint64
	if err := db.Conn.QueryRow(ctx, "SELECT uniqExact(id) FROM lieux").Scan(&places); err != nil {
		t.Fatal(err)
	}
	if places != Places {
		t.Errorf("%d distinct places, want %d", places, Places)
	}
}
