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
