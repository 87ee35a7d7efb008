//go:build integration

package engine

import (
	"context"
	"testing"
	"time"

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
		if err := x.persist(ctx, fp, months); err != nil {
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
