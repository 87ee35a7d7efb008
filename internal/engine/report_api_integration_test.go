//go:build integration

package engine

import (
	"context"
	"reflect"
	"testing"
	"time"

	"github.com/sdaasp-rhone/fne/internal/chtest"
	"github.com/sdaasp-rhone/fne/internal/territory"
)

// SeriesMany gives, for every indicator, exactly the points Series gives (one request instead of one per
// indicator).
func TestSeriesManyIsSeries(t *testing.T) {
	e, conn, _ := newTestEngine(t)
	loadFixture(t, conn)
	loadLateArrivals(t, conn)
	ctx := context.Background()
	from, to := Month{2025, time.September}, Month{2026, time.October}
	for _, terr := range []string{dep, e1, c1} {
		tid := territory.MustParse(terr)
		all, err := e.SeriesMany(ctx, tid, from, to)
		if err != nil {
			t.Fatal(err)
		}
		if len(all) != len(e.cat.Indicators) {
			t.Fatalf("%s : %d séries, attendu %d", terr, len(all), len(e.cat.Indicators))
		}
		for _, ind := range e.cat.Indicators {
			one, err := e.Series(ctx, ind.ID, tid, from, to)
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(one, all[ind.ID]) {
				t.Errorf("%s %s : SeriesMany %v, Series %v", terr, ind.ID, all[ind.ID], one)
			}
		}
	}
	// Fixture: accompagnements of dep:69 in October 2026 (see engine_integration_test) are those of
	// Series; one hand check: September 2026 = A12 (4, Villefranche) → 4.
	pts, _ := e.SeriesMany(ctx, territory.MustParse(c1), Month{2026, time.September}, Month{2026, time.September}, "a2.accompagnements")
	if v := pts["a2.accompagnements"][0].Value; v == nil || *v != 4 {
		t.Errorf("Villefranche septembre 2026 : %v, attendu 4", v)
	}
}

// Rejects counts the rejects of a window by source and reason, a re-ingested row once.
func TestRejectsByReason(t *testing.T) {
	db := chtest.Migrated(t)
	e := New(db.Conn, nil)
	at := func(s string) time.Time { d, _ := time.Parse("2006-01-02 15:04", s); return d }
	r := func(src, pos string, ver uint64, when, reason string) []any {
		return []any{src, "f.csv", pos, "champ", ver, "run", reason, "brut", at(when)}
	}
	chtest.Insert(t, db.Conn, "INSERT INTO rejects (source, input, position, field, version, run_id, reason, raw, rejected_at)",
		r("lieux", "l2", 1, "2026-10-02 08:00", "nom vide"),
		r("lieux", "l2", 2, "2026-10-03 08:00", "nom vide"), // the same row re-ingested: once
		r("lieux", "l3", 1, "2026-10-04 08:00", "nom vide"),
		r("lieux", "l4", 1, "2026-10-04 09:00", "commune inconnue"),
		r("jalons", "l5", 1, "2026-10-05 09:00", "statut inconnu"),
		r("jalons", "l6", 1, "2026-09-30 23:59", "statut inconnu"), // before the window
		r("jalons", "l7", 1, "2026-11-01 00:00", "statut inconnu"), // at the end: excluded
	)
	got, err := e.Rejects(context.Background(), at("2026-10-01 00:00"), at("2026-11-01 00:00"))
	if err != nil {
		t.Fatal(err)
	}
	want := []RejectCount{{"lieux", "nom vide", 2}, {"jalons", "statut inconnu", 1}, {"lieux", "commune inconnue", 1}}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("rejets %v, attendu %v", got, want)
	}
}

// Overviews evaluates overlapping territories (the département, its EPCI, their communes) in one request
// and gives each exactly what Evaluate and SeriesMany give it alone.
func TestOverviewsAreEvaluateAndSeries(t *testing.T) {
	e, conn, _ := newTestEngine(t)
	loadFixture(t, conn)
	loadLateArrivals(t, conn)
	ctx := context.Background()
	from, oct := Month{2025, time.November}, Month{2026, time.October}
	var ts []territory.ID
	for _, s := range []string{dep, e1, e2, c1, c2, c3} {
		ts = append(ts, territory.MustParse(s))
	}
	all, err := e.Overviews(ctx, ts, from, oct)
	if err != nil {
		t.Fatal(err)
	}
	for _, tid := range ts {
		o := all[tid]
		rs, err := e.Evaluate(ctx, tid, oct)
		if err != nil {
			t.Fatal(err)
		}
		if !reflect.DeepEqual(rs, o.Results) {
			t.Errorf("%s : Overviews\n%+v\nEvaluate\n%+v", tid, o.Results, rs)
		}
		series, err := e.SeriesMany(ctx, tid, from, oct)
		if err != nil {
			t.Fatal(err)
		}
		if !reflect.DeepEqual(series, o.Series) {
			t.Errorf("%s : séries de Overviews différentes de SeriesMany", tid)
		}
	}
	// Hand checks on overlapping groups (TestIndicators, phase 2): a commune's figure counts for its
	// commune, its EPCI and the département alike.
	value := func(terr, id string) *float64 {
		for _, r := range all[territory.MustParse(terr)].Results {
			if r.ID == id {
				return r.Value
			}
		}
		return nil
	}
	for _, w := range []struct {
		terr, id string
		v        float64
	}{
		{dep, "a3.consultations", 45}, {e1, "a3.consultations", 30}, {c1, "a3.consultations", 23}, {c2, "a3.consultations", 7},
		{dep, "a2.accompagnements", 31}, {e1, "a2.accompagnements", 15}, {c1, "a2.accompagnements", 5}, {c2, "a2.accompagnements", 10},
	} {
		if v := value(w.terr, w.id); v == nil || *v != w.v {
			t.Errorf("%s %s : %v, attendu %v", w.terr, w.id, v, w.v)
		}
	}
}

// GapsMany gives each territory the gaps Gaps gives it alone, though every check runs once for all.
func TestGapsManyIsGaps(t *testing.T) {
	e, conn, _ := newTestEngine(t)
	loadFixture(t, conn)
	loadLateArrivals(t, conn)
	ctx := context.Background()
	oct := Month{2026, time.October}
	var ts []territory.ID
	for _, s := range []string{dep, e1, e2, c2} {
		ts = append(ts, territory.MustParse(s))
	}
	all, err := e.GapsMany(ctx, ts, oct)
	if err != nil {
		t.Fatal(err)
	}
	for _, tid := range ts {
		one, err := e.Gaps(ctx, tid, oct)
		if err != nil {
			t.Fatal(err)
		}
		if !reflect.DeepEqual(one, all[tid]) {
			t.Errorf("%s : GapsMany\n%+v\nGaps\n%+v", tid, all[tid], one)
		}
	}
	// As TestIndicators « manques »: E2 has 4 communes without hotspot and too few information
	// meetings; Gleizé (C2) no hotspot and 2 outdated sheets of 3. The département lists them too.
	count := func(gs []Gap, id string) int {
		n := 0
		for _, g := range gs {
			if g.Indicator == id {
				n++
			}
		}
		return n
	}
	e2Gaps, c2Gaps := all[territory.MustParse(e2)], all[territory.MustParse(c2)]
	if len(e2Gaps) != 5 || count(e2Gaps, "a2.communes_hotspot") != 4 || count(e2Gaps, "a3.epci_deux_rencontres") != 1 {
		t.Errorf("manques E2 : %+v", e2Gaps)
	}
	if len(c2Gaps) != 2 || c2Gaps[1].Indicator != "a3.fiches_a_jour" || *c2Gaps[1].Value != 1 || *c2Gaps[1].Target != 3 {
		t.Errorf("manques C2 : %+v", c2Gaps)
	}
	depGaps := all[territory.MustParse(dep)]
	for _, g := range append(e2Gaps, c2Gaps...) {
		found := false
		for _, d := range depGaps {
			found = found || reflect.DeepEqual(d, g)
		}
		if !found {
			t.Errorf("le département ne liste pas %+v", g)
		}
	}
}
