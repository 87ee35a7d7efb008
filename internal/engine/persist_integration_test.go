//go:build integration

package engine

import (
	"context"
	"fmt"
	"sort"
	"testing"
	"time"

	"github.com/ClickHouse/clickhouse-go/v2/lib/driver"

	"github.com/sdaasp-rhone/fne/internal/chtest"
	"github.com/sdaasp-rhone/fne/internal/territory"
)

// TestPersistedAggregates: a second engine (another process) reads the aggregates the first persisted
// and gives the same figures without any pass; a merge keeps the fingerprint; a new activity changes
// it and the figures.
func TestPersistedAggregates(t *testing.T) {
	e, conn, _ := newTestEngine(t)
	ctx := context.Background()
	loadFixture(t, conn)
	loadLateArrivals(t, conn)
	oct := Month{2026, 10}
	fresh := func() *Engine {
		x := New(conn, e.cat)
		x.noWarm = true
		return x
	}
	figures := func(x *Engine) (scorecard []Result, series []Point) {
		t.Helper()
		rs, err := x.Evaluate(ctx, territory.MustParse(dep), oct)
		if err != nil {
			t.Fatal(err)
		}
		ps, err := x.Series(ctx, "a2.accompagnements", territory.MustParse(c1), Month{2025, 10}, oct)
		if err != nil {
			t.Fatal(err)
		}
		return rs, ps
	}
	valueOf := func(rs []Result, id string) float64 {
		for _, r := range rs {
			if r.ID == id && r.Value != nil {
				return *r.Value
			}
		}
		t.Fatalf("%s sans valeur", id)
		return 0
	}

	first := fresh()
	if err := first.Refresh(ctx); err != nil {
		t.Fatal(err)
	}
	if err := first.Refresh(ctx); err != nil { // already persisted: no second pass
		t.Fatal(err)
	}
	if n := first.passes.Load(); n != 1 {
		t.Errorf("Refresh ×2 : %d passes, attendu 1", n)
	}
	var markers uint64
	if err := conn.QueryRow(ctx, "SELECT count() FROM activites_agregats WHERE kind = 0").Scan(&markers); err != nil || markers != 1 {
		t.Errorf("marqueurs persistés : %d (%v), attendu 1", markers, err)
	}
	rs1, ps1 := figures(first) // from memory

	second := fresh()
	rs2, ps2 := figures(second)
	if n := second.passes.Load(); n != 0 {
		t.Errorf("second moteur : %d passe(s), attendu 0 (agrégats persistés)", n)
	}
	for i := range rs1 {
		a, b := rs1[i], rs2[i]
		if show(a.Value) != show(b.Value) || a.Status != b.Status || (a.LastData == nil) != (b.LastData == nil) ||
			(a.LastData != nil && !a.LastData.Equal(*b.LastData)) {
			t.Errorf("%s : mémoire %s/%s, persistés %s/%s", a.ID, show(a.Value), a.Status, show(b.Value), b.Status)
		}
	}
	for i := range ps1 {
		if show(ps1[i].Value) != show(ps2[i].Value) {
			t.Errorf("série %s : mémoire %s, persistés %s", ps1[i].Month, show(ps1[i].Value), show(ps2[i].Value))
		}
	}
	// dep October: C1 5 + C2 10 + C3 6 + Tarare 10 = 31; counsellors m1 m2 m3 m5 m9 = 5 (TestIndicators).
	if v := valueOf(rs2, "a2.accompagnements"); v != 31 {
		t.Errorf("a2.accompagnements dep persistés : %v, attendu 31", v)
	}
	if v := valueOf(rs2, "a1.conseillers_actifs"); v != 5 {
		t.Errorf("a1.conseillers_actifs dep persistés : %v, attendu 5", v)
	}
	if v := ps2[len(ps2)-1].Value; v == nil || *v != 5 { // C1: A1 3 + A2 2
		t.Errorf("série C1 2026-10 : %s, attendu 5", show(v))
	}

	// A merge (duplicates collapsed) changes no figure and must not change the fingerprint.
	ref, err := first.Reference(ctx)
	if err != nil {
		t.Fatal(err)
	}
	fp0, err := first.fingerprint(ctx, ref)
	if err != nil {
		t.Fatal(err)
	}
	if err := conn.Exec(ctx, "OPTIMIZE TABLE activites FINAL"); err != nil {
		t.Fatal(err)
	}
	if fp, err := first.fingerprint(ctx, ref); err != nil || fp != fp0 {
		t.Errorf("empreinte après fusion : %q (%v), attendu %q", fp, err, fp0)
	}

	// A new activity of counsellor m1 in C1, October, 7 accompagnements.
	created := chtest.Day("2026-10-20")
	chtest.Insert(t, conn, insAct, []any{"A99", uint64(1), uint8(0), created, "m1", uint32(7), "domicile", "", "69264", created, created})
	fp1, err := first.fingerprint(ctx, ref)
	if err != nil || fp1 == fp0 {
		t.Fatalf("empreinte après ingestion : %q (%v), inchangée", fp1, err)
	}
	third := fresh()
	if err := third.Refresh(ctx); err != nil {
		t.Fatal(err)
	}
	fourth := fresh()
	rs4, ps4 := figures(fourth)
	if n := fourth.passes.Load(); n != 0 {
		t.Errorf("quatrième moteur : %d passe(s), attendu 0", n)
	}
	// 31 + 7 = 38; counsellors unchanged (m1 already active); C1 5 + 7 = 12.
	if v := valueOf(rs4, "a2.accompagnements"); v != 38 {
		t.Errorf("a2.accompagnements dep après ingestion : %v, attendu 38", v)
	}
	if v := valueOf(rs4, "a1.conseillers_actifs"); v != 5 {
		t.Errorf("a1.conseillers_actifs dep après ingestion : %v, attendu 5", v)
	}
	if v := ps4[len(ps4)-1].Value; v == nil || *v != 12 {
		t.Errorf("série C1 2026-10 après ingestion : %s, attendu 12", show(v))
	}
	// The first engine's memory is stale: it must see the new figures too (persisted by the third).
	rs5, _ := figures(first)
	if v := valueOf(rs5, "a2.accompagnements"); v != 38 {
		t.Errorf("premier moteur après ingestion : %v, attendu 38", v)
	}
	if n := first.passes.Load(); n != 1 {
		t.Errorf("premier moteur : %d passes, attendu 1 (les agrégats du troisième sont relus)", n)
	}
}

// TestPrunePersisted: only the keptFingerprints most recent fingerprints stay; readers never depend on
// the (asynchronous) delete.
func TestPrunePersisted(t *testing.T) {
	e, conn, _ := newTestEngine(t)
	ctx := context.Background()
	x := New(conn, e.cat)
	t0 := time.Now().Add(-10 * time.Hour)
	defer func() { nowFunc = time.Now }()
	for i, fp := range []string{"a", "b", "c", "d", "e"} {
		// Written two hours apart: the last write (e) is at t0 + 8 h, and a, b are older than pruneAge
		// and beyond the 3 kept (e, d, c).
		nowFunc = func() time.Time { return t0.Add(time.Duration(2*i) * time.Hour) }
		months := map[Month]*actMonth{{2026, 10}: {total: uint64(i + 1), communes: map[string]*communeAgg{"69264": {acc: uint64(i + 1), n: uint64(i + 1)}}, meds: map[uint64][]string{42: {"69264"}}}}
		if err := x.writeSet(ctx, fp, nil, nil, months, nil, nil); err != nil {
			t.Fatal(err)
		}
		if err := conn.Exec(ctx, "OPTIMIZE TABLE activites_agregats FINAL"); err != nil { // run the mutation now (18.16 applies it on merge)
			t.Fatal(err)
		}
	}
	got, ok, err := x.loadPersisted(ctx, "e", nil)
	if err != nil || !ok || got[Month{2026, 10}].communes["69264"].acc != 5 || got[Month{2026, 10}].total != 5 {
		t.Fatalf("fingerprint e : %v %v", ok, err)
	}
	// The delete is a mutation, applied asynchronously: wait for it (at most 10 s).
	count := func(fp string) uint64 {
		var n uint64
		if err := conn.QueryRow(ctx, "SELECT count() FROM activites_agregats WHERE fingerprint = ?", fp).Scan(&n); err != nil {
			t.Fatal(err)
		}
		return n
	}
	for i := 0; i < 100 && count("a")+count("b") > 0; i++ {
		time.Sleep(100 * time.Millisecond)
	}
	for fp, kept := range map[string]bool{"a": false, "b": false, "c": true, "d": true, "e": true} {
		// kept: 1 commune row + 1 counsellor row + 1 marker
		if n, want := count(fp), map[bool]uint64{true: 3, false: 0}[kept]; n != want {
			t.Errorf("empreinte %s : %d lignes, attendu %d", fp, n, want)
		}
	}
}

// TestIncrementalRefresh: after a full Refresh, a collection adds, moves (across months, one leaving its
// month empty), deletes activities and relocates a structure; the incremental Refresh recomputes only the
// months concerned and its persisted set equals, row for row, a full pass over the same data.
func TestIncrementalRefresh(t *testing.T) {
	e, conn, _ := newTestEngine(t)
	ctx := context.Background()
	defer func(s float64) { incrementalShare = s }(incrementalShare)
	incrementalShare = 1 // the fixture has few months: let most of them be recomputed incrementally
	loadFixture(t, conn)
	loadLateArrivals(t, conn)
	created := chtest.Day("2024-01-01")
	act := func(id string, ver uint64, del uint8, date, med string, acc uint32, tl, sid, lci string) []any {
		return []any{id, ver, del, chtest.Day(date), med, acc, tl, sid, lci, created, created.AddDate(0, 0, int(ver)-1)}
	}
	chtest.Insert(t, conn, insAct,
		act("A21", 1, 0, "2026-06-15", "m4", 5, "lieu_activite", "S1", ""), // S1 relocates below
		act("A22", 1, 0, "2026-05-20", "m2", 1, "domicile", "", "69092"),   // alone in May; moves below
	)
	x := New(conn, e.cat)
	x.noWarm = true
	info, err := x.RefreshReport(ctx)
	if err != nil || !info.Full {
		t.Fatalf("premier Refresh : %+v %v, attendu une passe complète", info, err)
	}

	// The collection.
	chtest.Insert(t, conn, insAct,
		act("A20", 1, 0, "2026-09-12", "m3", 3, "domicile", "", "69092"),  // new in September
		act("A13", 2, 0, "2026-10-25", "m1", 2, "domicile", "", "69264"),  // 2025-10 → 2026-10
		act("A11", 2, 1, "2026-10-13", "m9", 10, "domicile", "", "69243"), // deleted
		act("A22", 2, 0, "2026-11-03", "m2", 1, "domicile", "", "69092"),  // 2026-05 (left empty) → 2026-11
		act("A8", 3, 0, "2026-10-15", "m2", 2, "domicile", "", "69027"),   // edited again (v1 July, v2 October)
	)
	chtest.Insert(t, conn, insStr, []any{"S1", uint64(2), uint8(0), "69027"}) // S1 moves to Brignais
	info, err = x.RefreshReport(ctx)
	if err != nil {
		t.Fatal(err)
	}
	// Partitions that received rows: 2026-09, 2026-10, 2026-11, and S1's activities: 2026-06 (A21),
	// 2026-10 (A2); months of the previous latest version of the activities edited by the collection:
	// 2025-10 (A13 v1), 2026-05 (A22 v1). Not 2026-07: A8's previous latest version (v2) was already in
	// October, its v1 of July counted nowhere. Not 2026-08 (A7 v2, whose v1 is in October, is not in
	// the collection: October is recomputed with it anyway).
	want := []Month{{2025, 10}, {2026, 5}, {2026, 6}, {2026, 9}, {2026, 10}, {2026, 11}}
	if info.Full || fmt.Sprint(info.Months) != fmt.Sprint(want) {
		t.Fatalf("Refresh incrémental : %+v, attendu les mois %v", info, want)
	}
	ref, err := x.Reference(ctx)
	if err != nil {
		t.Fatal(err)
	}
	fp, err := x.fingerprint(ctx, ref)
	if err != nil {
		t.Fatal(err)
	}
	got, ok, err := x.loadPersisted(ctx, fp, nil)
	if err != nil || !ok {
		t.Fatalf("agrégats persistés : %v %v", ok, err)
	}
	full, err := x.passActivities(ctx, ref, nil)
	if err != nil {
		t.Fatal(err)
	}
	compareMonths(t, got, full)

	agg := func(y int, m time.Month, code string) communeAgg {
		if am := got[Month{y, m}]; am != nil && am.communes[code] != nil {
			return *am.communes[code]
		}
		return communeAgg{}
	}
	for _, c := range []struct {
		y      int
		m      time.Month
		code   string
		acc, n uint64
		why    string
	}{
		{2025, 10, "69264", 0, 0, "A13 left"},
		{2025, 10, "69027", 6, 1, "A14"},
		{2026, 10, "69264", 5, 2, "A1 3 + A13 2 (A2 left with S1)"},
		{2026, 10, "69027", 9, 3, "A3 5 + A8 2 (v3) + A2 2 (S1 now in Brignais)"},
		{2026, 7, "69027", 0, 0, "A8 v1 superseded since before the collection"},
		{2026, 10, "69243", 0, 0, "A11 deleted"},
		{2026, 6, "69027", 5, 1, "A21 through S1"},
		{2026, 6, "69264", 0, 0, "S1 left Villefranche"},
		{2026, 9, "69092", 3, 1, "A20"},
		{2026, 11, "69092", 1, 1, "A22 moved in"},
	} {
		if a := agg(c.y, c.m, c.code); a.acc != c.acc || a.n != c.n {
			t.Errorf("%d-%02d %s : %d accompagnements / %d activités, attendu %d / %d (%s)", c.y, c.m, c.code, a.acc, a.n, c.acc, c.n, c.why)
		}
	}
	if am := got[Month{2026, 5}]; am != nil && am.total != 0 {
		t.Errorf("2026-05 : %d activités, attendu 0 (A22 est partie en novembre)", am.total)
	}
	// Counsellor m1 in October: A1 and A13 in Villefranche, A2 in Brignais.
	if cs := got[Month{2026, 10}].meds[cityHash(t, conn, "m1")]; fmt.Sprint(sorted(cs)) != "[69027 69264]" {
		t.Errorf("communes de m1 en octobre : %v, attendu [69027 69264]", cs)
	}

	// A merge changes no state: nothing to do.
	if err := conn.Exec(ctx, "OPTIMIZE TABLE activites FINAL"); err != nil {
		t.Fatal(err)
	}
	if info, err := x.RefreshReport(ctx); err != nil || !info.UpToDate {
		t.Errorf("Refresh après fusion : %+v %v, attendu à jour", info, err)
	}
	// Structures collected again, unchanged: a new state, no month recomputed, the set copied whole.
	chtest.Insert(t, conn, insStr, []any{"S1", uint64(3), uint8(0), "69027"})
	info, err = x.RefreshReport(ctx)
	if err != nil || info.Full || len(info.Months) != 0 {
		t.Fatalf("Refresh après structures inchangées : %+v %v, attendu aucun mois", info, err)
	}
	fp2, _ := x.fingerprint(ctx, ref)
	again, ok, err := x.loadPersisted(ctx, fp2, nil)
	if err != nil || !ok || fp2 == fp {
		t.Fatalf("agrégats copiés : %v %v (empreinte %s → %s)", ok, err, fp, fp2)
	}
	compareMonths(t, again, full)

	// A collection merged with older rows before the refresh: the merged part holds blocks of both, so
	// all its rows count as new (more months followed at worst, the same figures). A13 v3 moves from
	// October (v2) to September, whose partition OPTIMIZE merges into one part with A20's.
	chtest.Insert(t, conn, insAct, act("A13", 3, 0, "2026-09-20", "m1", 4, "domicile", "", "69264"))
	if err := conn.Exec(ctx, "OPTIMIZE TABLE activites PARTITION 202609 FINAL"); err != nil {
		t.Fatal(err)
	}
	info, err = x.RefreshReport(ctx)
	if want := "[2026-09 2026-10]"; err != nil || info.Full || fmt.Sprint(info.Months) != want {
		t.Fatalf("Refresh après fusion de la collecte : %+v %v, attendu les mois %s", info, err, want)
	}
	fp3, _ := x.fingerprint(ctx, ref)
	merged, ok, err := x.loadPersisted(ctx, fp3, nil)
	if err != nil || !ok {
		t.Fatalf("agrégats après fusion : %v %v", ok, err)
	}
	full, err = x.passActivities(ctx, ref, nil)
	if err != nil {
		t.Fatal(err)
	}
	compareMonths(t, merged, full)
	if a := merged[Month{2026, 9}].communes["69264"]; a == nil || a.acc != 8 || a.n != 2 {
		t.Errorf("2026-09 69264 : %+v, attendu 8 accompagnements / 2 activités (A12 4 + A13 v3 4)", a)
	}
	if a := merged[Month{2026, 10}].communes["69264"]; a == nil || a.acc != 3 || a.n != 1 {
		t.Errorf("2026-10 69264 : %+v, attendu 3 accompagnements / 1 activité (A1, A13 partie)", a)
	}
}

// compareMonths reports every difference between two sets of month aggregates.
func compareMonths(t *testing.T, got, want map[Month]*actMonth) {
	t.Helper()
	nonEmpty := func(ms map[Month]*actMonth) []Month {
		var out []Month
		for m, am := range ms {
			if am.total > 0 || len(am.communes) > 0 {
				out = append(out, m)
			}
		}
		sort.Slice(out, func(i, j int) bool { return out[i].Before(out[j]) })
		return out
	}
	if a, b := fmt.Sprint(nonEmpty(got)), fmt.Sprint(nonEmpty(want)); a != b {
		t.Errorf("mois : %s, passe complète %s", a, b)
	}
	for m, w := range want {
		g := got[m]
		if g == nil {
			g = newActMonth()
		}
		if g.total != w.total {
			t.Errorf("%s : total %d, passe complète %d", m, g.total, w.total)
		}
		for code, wc := range w.communes {
			if gc := g.communes[code]; gc == nil || *gc != *wc {
				t.Errorf("%s commune %q : %+v, passe complète %+v", m, code, gc, wc)
			}
		}
		if len(g.communes) != len(w.communes) {
			t.Errorf("%s : %d communes, passe complète %d", m, len(g.communes), len(w.communes))
		}
		for med, wc := range w.meds {
			if a, b := fmt.Sprint(sorted(g.meds[med])), fmt.Sprint(sorted(wc)); a != b {
				t.Errorf("%s conseiller %d : %s, passe complète %s", m, med, a, b)
			}
		}
		if len(g.meds) != len(w.meds) {
			t.Errorf("%s : %d conseillers, passe complète %d", m, len(g.meds), len(w.meds))
		}
	}
}

func sorted(s []string) []string {
	out := append([]string(nil), s...)
	sort.Strings(out)
	return out
}

func cityHash(t *testing.T, conn driver.Conn, s string) uint64 {
	var h uint64
	if err := conn.QueryRow(context.Background(), "SELECT cityHash64(?)", s).Scan(&h); err != nil {
		t.Fatal(err)
	}
	return h
}
