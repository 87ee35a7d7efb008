//go:build integration

package demo

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strconv"
	"testing"
	"time"

	"github.com/ClickHouse/clickhouse-go/v2/lib/driver"

	"github.com/sdaasp-rhone/fne/collector/ingest"
	"github.com/sdaasp-rhone/fne/collector/sources"
	"github.com/sdaasp-rhone/fne/internal/catalogue"
	"github.com/sdaasp-rhone/fne/internal/chtest"
	"github.com/sdaasp-rhone/fne/internal/engine"
	"github.com/sdaasp-rhone/fne/internal/reference"
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
	if places != Places || res.Places != Places || res.Posts != Counsellors {
		t.Errorf("%d distinct places (result %d places, %d posts), want %d and %d posts", places, res.Places, res.Posts, Places, Counsellors)
	}
	checkDefaultPeriod(t, db.Conn, res)
}

// checkDefaultPeriod: at the last month of the demo (the default period) every indicator of the
// département has a value; the household flows equal the sum of the file's last-month rows; the
// counsellors of each month equal the distinct counsellors of the activity files, never more than the
// posts; no activity is dated before the first month.
func checkDefaultPeriod(t *testing.T, conn driver.Conn, res *Result) {
	ctx := context.Background()
	cat, err := catalogue.Load()
	if err != nil {
		t.Fatal(err)
	}
	eng := engine.New(conn, cat)
	ref, err := eng.Reference(ctx)
	if err != nil {
		t.Fatal(err)
	}
	last := engine.MonthOf(res.Last)
	rs, err := eng.Evaluate(ctx, ref.Root(), last)
	if err != nil {
		t.Fatal(err)
	}
	// Household flows: each (month, territory, indicator) once, the later line wins (the correction).
	_, rows := readCSV(t, filepath.Join(res.Dir, "equipements.csv"))
	flows := map[string]float64{}
	for _, r := range rows {
		if r[0] == last.String() && (r[2] == "foyers_equipes" || r[2] == "foyers_connectes") {
			v, _ := strconv.ParseFloat(r[3], 64)
			flows[r[1]+"/"+r[2]] = v
		}
	}
	var wantFlows float64
	for _, v := range flows {
		wantFlows += v
	}
	for _, r := range rs {
		if r.Value == nil && (r.ID != "a2.population_zone_blanche" || reference.NoCentroidReason(ref, ref.Root()) == "") {
			t.Errorf("%s is sans données at the default month %s", r.ID, last)
		}
		if r.ID == "a2.population_zone_blanche" && r.Value != nil && reference.NoCentroidReason(ref, ref.Root()) != "" {
			t.Errorf("distance indicator = %v without centroids", *r.Value)
		}
		if r.ID == "a2.foyers_equipes_connectes" && (r.Value == nil || *r.Value != wantFlows || wantFlows == 0) {
			t.Errorf("foyers équipés ou connectés = %v, want %v (sum of %d rows of %s)", r.Value, wantFlows, len(flows), last)
		}
	}
	// Counsellors per month from the files: distinct mediateur_id of the valid, not deleted activities.
	perMonth := map[string]map[string]bool{}
	for _, f := range filesOf(res, "activites") {
		var page struct {
			Data []struct {
				Attributes struct {
					Type        string  `json:"type"`
					MediateurID string  `json:"mediateur_id"`
					Date        string  `json:"date"`
					Suppression *string `json:"suppression"`
				} `json:"attributes"`
			} `json:"data"`
		}
		b, _ := os.ReadFile(f.Path)
		if err := json.Unmarshal(b, &page); err != nil {
			t.Fatal(err)
		}
		for _, d := range page.Data {
			a := d.Attributes
			if _, err := time.Parse("2006-01-02", a.Date); err != nil || a.Type == "atelier_libre" || a.Suppression != nil {
				continue
			}
			if perMonth[a.Date[:7]] == nil {
				perMonth[a.Date[:7]] = map[string]bool{}
			}
			perMonth[a.Date[:7]][a.MediateurID] = true
		}
	}
	first := engine.MonthOf(res.First)
	pts, err := eng.Series(ctx, "a1.conseillers_actifs", ref.Root(), first, last)
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range pts {
		want := len(perMonth[p.Month.String()])
		if p.Value == nil || int(*p.Value) != want || want > res.Posts {
			t.Errorf("%s: %v counsellors, want %d (≤ %d posts)", p.Month, p.Value, want, res.Posts)
		}
	}
	var before uint64
	if err := conn.QueryRow(ctx, "SELECT count() FROM activites WHERE date < ?", res.First.Format("2006-01-02")).Scan(&before); err != nil || before != 0 {
		t.Errorf("%d activities before %s (%v)", before, res.First.Format("2006-01-02"), err)
	}
}

// Another département from the national reference: La Réunion (24 communes, 5 EPCI, no centroid). The
// demo is sized to it (20 posts, 356 places: see Size), every source lands exactly, every indicator has
// a value at the default month except the distance one, sans données for want of centroids.
func TestDemoIngestionOtherDepartement(t *testing.T) {
	ctx := context.Background()
	db := chtest.Migrated(t)
	nat, err := reference.LoadNational()
	if err != nil {
		t.Fatal(err)
	}
	p, err := nat.Scope("974")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := reference.Load(ctx, db.Conn, p); err != nil {
		t.Fatal(err)
	}
	res, err := Generate(t.TempDir(), Options{Ref: p.Ref, End: testEnd, Seed: 1, Scale: 0.05})
	if err != nil {
		t.Fatal(err)
	}
	if res.Posts != 20 || res.Places != 356 {
		t.Errorf("%d posts, %d places; want 20 and 356", res.Posts, res.Places)
	}
	sums, err := Ingest(ctx, &ingest.Runner{Conn: db.Conn}, sources.Registry(), res, p.Ref)
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range sums {
		if s.Failed > 0 || s.Written != uint64(s.ExpectedValid) || s.Rejected != uint64(s.ExpectedInvalid) {
			t.Errorf("%s: written %d rejected %d failed %d (%s); want %d / %d", s.Source, s.Written, s.Rejected, s.Failed, s.FirstError, s.ExpectedValid, s.ExpectedInvalid)
		}
	}
	checkDefaultPeriod(t, db.Conn, res)
}
