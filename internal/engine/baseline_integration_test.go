//go:build integration

package engine

import (
	"context"
	"fmt"
	"testing"

	"github.com/sdaasp-rhone/fne/internal/catalogue"
	"github.com/sdaasp-rhone/fne/internal/chtest"
	"github.com/sdaasp-rhone/fne/internal/territory"
)

// TestMeasuredBaseline pins where a trajectory starts (status.go): the measured value at the baseline
// period when the data covers it, the declared baseline otherwise, and only the declared one for
// computations without a past (milestones).
func TestMeasuredBaseline(t *testing.T) {
	e, conn, _ := newTestEngine(t)
	ctx := context.Background()
	oct := Month{2026, 10}
	day := chtest.Day("2024-01-01")
	act := func(id, date, med string) []any {
		return []any{id, uint64(1), uint8(0), chtest.Day(date), med, uint32(1), "domicile", "", "69264", day, day}
	}
	// 12 counsellors at work in January 2025 (the baseline month), 10 in September 2026, 11 in October.
	var rows [][]any
	for k := 1; k <= 12; k++ {
		rows = append(rows, act(fmt.Sprintf("J%d", k), "2025-01-15", fmt.Sprintf("m%d", k)))
		if k <= 10 {
			rows = append(rows, act(fmt.Sprintf("S%d", k), "2026-09-15", fmt.Sprintf("m%d", k)))
		}
		if k <= 11 {
			rows = append(rows, act(fmt.Sprintf("O%d", k), "2026-10-15", fmt.Sprintf("m%d", k)))
		}
	}
	chtest.Insert(t, conn, insAct, rows...)
	r := func(id, date, typ string) []any {
		return []any{id, uint64(1), uint8(0), chtest.Day(date), typ, "dep:69"}
	}
	// Two governance meetings in 2026, none in 2025 (so far).
	chtest.Insert(t, conn, insRen, r("G1", "2026-02-10", "comite_pilotage"), r("G2", "2026-06-10", "comite_technique"))
	// Milestones of action 2.1: 1 of 2 done.
	chtest.Insert(t, conn, insJal,
		[]any{"2.1", "J1", uint64(1), uint8(0), "realise"},
		[]any{"2.1", "J2", uint64(1), uint8(0), "en_cours"})

	dep := territory.MustParse("dep:69")
	get := func() map[string]Result {
		rs, err := e.Evaluate(ctx, dep, oct)
		if err != nil {
			t.Fatal(err)
		}
		out := map[string]Result{}
		for _, r := range rs {
			out[r.ID] = r
		}
		return out
	}
	rs := get()

	// a1.conseillers_actifs: measured baseline 12 at 2025-01 (not a declared 0), target 14 in 2027-12,
	// f(2026-10) = 21/35: trajectory 12 + 2 × 0.6 = 13.2, 80 % = 10.56; 11 → a_surveiller.
	if c := rs["a1.conseillers_actifs"]; *c.Value != 11 || c.Status != StatusASurveiller || c.TargetOrigin != catalogue.TargetCopil {
		t.Errorf("conseillers : %v %s %q, attendu 11 a_surveiller copil", *c.Value, c.Status, c.TargetOrigin)
	}
	pts, err := e.Series(ctx, "a1.conseillers_actifs", dep, Month{2025, 1}, oct)
	if err != nil {
		t.Fatal(err)
	}
	// The trajectory starts at the measured 12 (January 2025), 12 + 2 × 20/35 = 13.143 in September
	// 2026, 13.2 in October; never 0.
	if p := pts[0]; !near(*p.Target, 12) || *p.Value != 12 || p.Status != StatusBonneVoie {
		t.Errorf("janvier 2025 : cible %v valeur %v %s, attendu 12 12 en_bonne_voie", *p.Target, *p.Value, p.Status)
	}
	if n := len(pts); n != 22 || !near(*pts[n-2].Target, 12+2*20.0/35) || !near(*pts[n-1].Target, 13.2) {
		t.Errorf("trajectoire : %d points, septembre %v, octobre %v", n, *pts[n-2].Target, *pts[n-1].Target)
	}

	// a1.instances_actives: no governance meeting in the 12 months of the baseline month 2025-12, so the
	// declared baseline 0: f = 10/24, trajectory 4 × 10/24 = 1.667; 2 meetings → en_bonne_voie.
	if c := rs["a1.instances_actives"]; *c.Value != 2 || c.Status != StatusBonneVoie {
		t.Errorf("instances (référence déclarée) : %v %s, attendu 2 en_bonne_voie", *c.Value, c.Status)
	}
	// a2.jalons_diagnostic: milestones have no past state, so the declared 0 even though "today's" 50 %
	// could be read at 2025-01: trajectory 100 × 0.6 = 60, 80 % = 48; 50 → a_surveiller (a measured 50
	// would give 50 + 50 × 0.6 = 80, 64 → en_retard).
	if c := rs["a2.jalons_diagnostic"]; *c.Value != 50 || c.Status != StatusASurveiller {
		t.Errorf("jalons : %v %s, attendu 50 a_surveiller", *c.Value, c.Status)
	}

	// A meeting of June 2025 arrives: the baseline month is now covered and measured, 1 meeting; the
	// trajectory is 1 + 3 × 10/24 = 2.25, 80 % = 1.8; 2 → a_surveiller.
	chtest.Insert(t, conn, insRen, r("G0", "2025-06-10", "instance_coordination"))
	if c := get()["a1.instances_actives"]; *c.Value != 2 || c.Status != StatusASurveiller {
		t.Errorf("instances (référence mesurée) : %v %s, attendu 2 a_surveiller", *c.Value, c.Status)
	}
}
