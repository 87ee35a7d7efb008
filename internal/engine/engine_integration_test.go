//go:build integration

package engine

import (
	"context"
	"errors"
	"fmt"
	"math"
	"testing"
	"time"

	"github.com/sdaasp-rhone/fne/internal/chtest"
	"github.com/sdaasp-rhone/fne/internal/territory"
)

func show(v *float64) string {
	if v == nil {
		return "sans donnée"
	}
	return fmt.Sprint(*v)
}

type want struct {
	terr, id string
	v        *float64 // nil: sans_donnees
	status   string
}

// checkAll evaluates with e (a cold engine: window pass for activities), with an engine whose cache
// holds the full pass, and with a new engine that reads the aggregates that full pass persisted (no
// pass of its own): the three must give the expected values.
func checkAll(t *testing.T, e *Engine, m Month, cases []want) {
	t.Helper()
	ctx := context.Background()
	full := New(e.conn, e.cat)
	full.noWarm = true
	if err := full.fillNow(ctx); err != nil {
		t.Fatal(err)
	}
	loaded := New(e.conn, e.cat)
	loaded.noWarm = true
	byTerr := map[string]map[string]Result{}
	for _, c := range cases {
		if byTerr[c.terr] == nil {
			rs, err := e.Evaluate(ctx, territory.MustParse(c.terr), m)
			if err != nil {
				t.Fatalf("%s : %v", c.terr, err)
			}
			rsFull, err := full.Evaluate(ctx, territory.MustParse(c.terr), m)
			if err != nil {
				t.Fatalf("%s : %v", c.terr, err)
			}
			rsLoaded, err := loaded.Evaluate(ctx, territory.MustParse(c.terr), m)
			if err != nil {
				t.Fatalf("%s : %v", c.terr, err)
			}
			if n := loaded.passes.Load(); n != 0 {
				t.Fatalf("%s : le moteur neuf a refait %d passe(s) au lieu de lire les agrégats persistés", c.terr, n)
			}
			byTerr[c.terr] = map[string]Result{}
			for i, r := range rs {
				if l := rsLoaded[i]; (r.Value == nil) != (l.Value == nil) || (r.Value != nil && *r.Value != *l.Value) || r.Status != l.Status ||
					(r.LastData == nil) != (l.LastData == nil) || (r.LastData != nil && !r.LastData.Equal(*l.LastData)) {
					t.Errorf("%s %s %s : passe fenêtrée %s/%s, agrégats persistés %s/%s", c.terr, r.ID, m, show(r.Value), r.Status, show(l.Value), l.Status)
				}
				byTerr[c.terr][r.ID] = r
				f := rsFull[i]
				if (r.Value == nil) != (f.Value == nil) || (r.Value != nil && *r.Value != *f.Value) || r.Status != f.Status {
					t.Errorf("%s %s %s : passe fenêtrée %s/%s, passe complète %s/%s", c.terr, r.ID, m, show(r.Value), r.Status, show(f.Value), f.Status)
				}
			}
		}
		r, ok := byTerr[c.terr][c.id]
		if !ok {
			t.Errorf("%s %s absent du résultat", c.terr, c.id)
			continue
		}
		switch {
		case c.v == nil && r.Value != nil:
			t.Errorf("%s %s %s : valeur %v, attendu sans donnée", c.terr, c.id, m, *r.Value)
		case c.v != nil && r.Value == nil:
			t.Errorf("%s %s %s : sans donnée, attendu %v", c.terr, c.id, m, *c.v)
		case c.v != nil && !near(*r.Value, *c.v):
			t.Errorf("%s %s %s : valeur %v, attendu %v", c.terr, c.id, m, *r.Value, *c.v)
		}
		if c.status != "" && r.Status != c.status {
			t.Errorf("%s %s %s : statut %s, attendu %s", c.terr, c.id, m, r.Status, c.status)
		}
	}
}

// farPopulation recomputes a2.population_zone_blanche independently of the engine: population of the
// communes of t whose centroid is more than 10 km from the three located places of the fixture (L1 at
// Villefranche, L3 at Brignais, L5 in the Ain on Saint-Cyr-le-Chatoux), over t's population, in %.
func farPopulation(ref *territory.Reference, t string) float64 {
	places := [][2]float64{{45.988, 4.732}, {45.678, 4.753}, {46.031, 4.539}}
	tr, _ := ref.Resolve(territory.MustParse(t))
	var far float64
	for _, code := range tr.Communes {
		c, _ := ref.Commune(code)
		near := false
		for _, p := range places {
			// haversine, R = 6371 km
			φ1, φ2 := c.Latitude*math.Pi/180, p[0]*math.Pi/180
			dφ, dλ := φ2-φ1, (p[1]-c.Longitude)*math.Pi/180
			h := math.Sin(dφ/2)*math.Sin(dφ/2) + math.Cos(φ1)*math.Cos(φ2)*math.Sin(dλ/2)*math.Sin(dλ/2)
			if 2*6371*math.Asin(math.Sqrt(h)) <= 10 {
				near = true
			}
		}
		if !near {
			far += float64(c.Population)
		}
	}
	return far * 100 / float64(tr.Population)
}

func TestIndicators(t *testing.T) {
	e, conn, ref := newTestEngine(t)
	ctx := context.Background()
	oct := Month{2026, 10}
	loadFixture(t, conn)

	// Phase 1: structure S3, meeting R99 and place LX are not there yet.
	checkAll(t, e, oct, []want{
		{e1, "a2.accompagnements", ptr(9), ""}, // A1 3 + A2 2 + A4 4; A6 (structure S3 unknown) not located
		{c2, "a2.accompagnements", ptr(4), ""}, // A4 only
		{dep, "a2.accompagnements", ptr(25), ""},
		{e2, "a1.diversite_structures", ptr(1), ""},  // R3: association; R99 not arrived
		{dep, "a1.diversite_structures", ptr(4), ""}, // collectivite, association, mediatheque, ccas
		{c2, "a3.consultations", ptr(0), ""},         // LX unknown
		{dep, "a3.consultations", ptr(38), ""},       // 14 + 9 + 5 + 10; LX 7 and L5 50 (Ain) not located
	})
	oos, err := e.OutOfScope(ctx, oct, oct)
	// October activities after dedup: A1 A2 A3 A4 A6 A8 A9 A10 A11 (A5 deleted, A7 moved out) = 9;
	// not located: A6 (S3 unknown), A9 (Ain), A10 (no commune) = 3.
	if err != nil || len(oos) != 1 || oos[0].Activites != 3 || oos[0].Total != 9 {
		t.Errorf("hors périmètre / non localisées en phase 1 : %+v (%v), attendu 3 sur 9", oos, err)
	}

	loadLateArrivals(t, conn)
	oos, err = e.OutOfScope(ctx, oct, oct)
	if err != nil || len(oos) != 1 || oos[0].Activites != 2 || oos[0].Total != 9 {
		t.Errorf("hors périmètre / non localisées : %+v (%v), attendu 2 (A9, A10) sur 9", oos, err)
	}

	// Every indicator for dep:69, E1 and C1, plus chosen cases elsewhere, October 2026.
	// Trajectories (au_moins, baseline 0 at 2025-01, deadline 2027-12): f = 21/35 = 0.6.
	zbDep := farPopulation(ref, dep)
	zb200040566 := farPopulation(ref, "epci:200040566")
	if zbDep <= 0 || zbDep >= 100 || zb200040566 <= 0 {
		t.Fatalf("jeu d'essai mal construit : zone blanche %v / %v", zbDep, zb200040566)
	}
	checkAll(t, e, oct, []want{
		// a1.instances_actives: governance meetings, 12 months 2025-11..2026-10: R7 (dep) + R8 (E1); R9 is
		// 2025-10. Measured baselines at 2025-12 (12 months 2025-01..2025-12): dep R9 + R8 = 2, E1 R8 = 1;
		// f = 10/24. dep 2: trajectory 2 + (4 − 2) × 10/24 = 2.833, 80 % = 2.267 → en_retard; E1 1:
		// 1 + 3 × 10/24 = 2.25 → en_retard; communes have no target → sans_cible.
		{dep, "a1.instances_actives", ptr(2), StatusEnRetard},
		{e1, "a1.instances_actives", ptr(1), StatusEnRetard},
		{c1, "a1.instances_actives", ptr(0), StatusSansCible},
		// a1.conseillers_actifs: dep m1 m2 m3 m5 m9 = 5 (m4 deleted, m6 moved to August, m7 m8 not
		// located); nothing collected at the baseline month 2025-01 and no declared baseline: no
		// trajectory, 80 % of 14 = 11.2 → en_retard. Target at dep level only.
		{dep, "a1.conseillers_actifs", ptr(5), StatusEnRetard},
		{e1, "a1.conseillers_actifs", ptr(3), StatusSansCible}, // m1 (C1), m3 m5 (C2)
		{c1, "a1.conseillers_actifs", ptr(1), StatusSansCible},
		// a1.rencontre_annuelle: R1 in 2026. Département only.
		{dep, "a1.rencontre_annuelle", ptr(1), StatusAtteint},
		{e1, "a1.rencontre_annuelle", nil, StatusSansDonnees},
		{c1, "a1.rencontre_annuelle", nil, StatusSansDonnees},
		// a1.epci_rencontre_locale: local meetings 2026: R2 (C1 → E1), R3 (E2), R12 (moved to CCPA),
		// R99 (C3 → E2); R10 is in the Ain part of E1 (outside scope), R11 deleted. 3 / 12 EPCI = 25 %
		// (a year-to-date count: trajectory 100 × 10/12 = 83.3 in October, 80 % = 66.7 → en_retard).
		{dep, "a1.epci_rencontre_locale", ptr(25), StatusEnRetard},
		{e1, "a1.epci_rencontre_locale", ptr(100), StatusAtteint},
		{"epci:200040566", "a1.epci_rencontre_locale", ptr(0), StatusEnRetard},
		{c1, "a1.epci_rencontre_locale", nil, StatusSansDonnees},
		// a1.diversite_structures: participants of local meetings 2026. C1 (R2): collectivite,
		// association, mediatheque (etat deleted) = 3. E1 = same 3 (R10 is outside scope). E2: R3
		// association + R99 france_services = 2 (year-to-date trajectory of whole types ⌊3 × 10/12⌋ = 2 →
		// en_bonne_voie). C3: R99 = 1 (< 80 % of 2 = 1.6 → en_retard). dep: + ccas (R12) = 5.
		{dep, "a1.diversite_structures", ptr(5), StatusAtteint},
		{e1, "a1.diversite_structures", ptr(3), StatusAtteint},
		{c1, "a1.diversite_structures", ptr(3), StatusAtteint},
		{e2, "a1.diversite_structures", ptr(2), StatusBonneVoie},
		{c3, "a1.diversite_structures", ptr(1), StatusEnRetard},
		// a2.jalons_diagnostic: action 2.1: J1 realise, J2 en_cours, J3 realise (v2), J4 deleted →
		// 2 / 3 = 66.67 % ≥ trajectory 60 → en_bonne_voie. Département only.
		{dep, "a2.jalons_diagnostic", ptr(200.0 / 3), StatusBonneVoie},
		{e1, "a2.jalons_diagnostic", nil, StatusSansDonnees},
		{c1, "a2.jalons_diagnostic", nil, StatusSansDonnees},
		// a2.accompagnements (hausse vs 2025-10): C1 A1 3 + A2 2 = 5 (vs A13 2); C2 A4 4 (v2) + A6 6 = 10
		// (vs 0); C3 A3 5 (deleted structure S2 still locates) + A8 1 (moved in) = 6 (vs A14 6 → stable:
		// a_surveiller); Tarare A11 10 vs A15 20 → en_retard. E1 = 15 (vs 2); E2 = 6 (vs 6); dep = 5 + 10
		// + 6 + 10 = 31 (vs 2 + 6 + 20 = 28).
		{dep, "a2.accompagnements", ptr(31), StatusAtteint},
		{e1, "a2.accompagnements", ptr(15), StatusAtteint},
		{c1, "a2.accompagnements", ptr(5), StatusAtteint},
		{c2, "a2.accompagnements", ptr(10), StatusAtteint},
		{c3, "a2.accompagnements", ptr(6), StatusASurveiller},
		{e2, "a2.accompagnements", ptr(6), StatusASurveiller},
		{cT, "a2.accompagnements", ptr(10), StatusEnRetard},
		// a2.accompagnements_1000_hab = accompagnements × 1000 / population.
		{dep, "a2.accompagnements_1000_hab", ptr(31 * 1000 / popDep), StatusAtteint},
		{e1, "a2.accompagnements_1000_hab", ptr(15 * 1000 / popE1), StatusAtteint},
		{c1, "a2.accompagnements_1000_hab", ptr(5 * 1000 / popC1), StatusAtteint},
		// a2.foyers_equipes_connectes, October: C1 foyers_equipes 5; C2 foyers_connectes 4; E1-level 31
		// (E1 and dep only); dep-level 100 (dep only); com:01194 50 is outside scope. C1 5, E1 5+31+4 = 40,
		// dep 140. C3: 0 vs 7 in 2025-10 → en_retard.
		{dep, "a2.foyers_equipes_connectes", ptr(140), StatusAtteint},
		{e1, "a2.foyers_equipes_connectes", ptr(40), StatusAtteint},
		{c1, "a2.foyers_equipes_connectes", ptr(5), StatusAtteint},
		{c3, "a2.foyers_equipes_connectes", ptr(0), StatusEnRetard},
		// a2.communes_hotspot at end of October: 69264 has 2 (replaced 0 → 2 in 2026-03), 69027 1 (bare
		// code, 2025-12, carried forward), 69092 back to 0 in 2026-09, 69268 only from 2026-11, the E2-level
		// row counts for no commune. dep 2/208; E1 1/17; E2 1/5 = 20 % (trajectory 60, 80 % 48 → en_retard).
		{dep, "a2.communes_hotspot", ptr(200.0 / 208), StatusEnRetard},
		{e1, "a2.communes_hotspot", ptr(100.0 / 17), StatusEnRetard},
		{e2, "a2.communes_hotspot", ptr(20), StatusEnRetard},
		{c1, "a2.communes_hotspot", ptr(100), StatusAtteint},
		{c2, "a2.communes_hotspot", ptr(0), StatusEnRetard},
		{c3, "a2.communes_hotspot", ptr(100), StatusAtteint},
		// a2.reconditionnement, quarter 2026-08..10: C1 12 (August), C2 6 (5 replaced by 6); C3's 3 is
		// July. E1 18, dep 18; C3 0 < 80 % of 0.6 → en_retard.
		{dep, "a2.reconditionnement", ptr(18), StatusAtteint},
		{e1, "a2.reconditionnement", ptr(18), StatusAtteint},
		{c1, "a2.reconditionnement", ptr(12), StatusAtteint},
		{c3, "a2.reconditionnement", ptr(0), StatusEnRetard},
		// a2.population_zone_blanche: located places L1 (Villefranche), L3 (Brignais), L5 (Ain, on
		// Saint-Cyr-le-Chatoux: counts although outside the reference); L6 deleted. C1 0 % (L1 in it);
		// Rivolet 0 % (11.9 km from L1 but 4.2 km from L5); Tarare 100 % (16.7 km from L5); E1 and E2
		// 0 %; dep recomputed independently (farPopulation). Places have no past state, so no measured
		// baseline, and none is declared: the trajectory is the target 0 → en_retard.
		{dep, "a2.population_zone_blanche", ptr(zbDep), StatusEnRetard},
		{"epci:200040566", "a2.population_zone_blanche", ptr(zb200040566), ""},
		{e1, "a2.population_zone_blanche", ptr(0), StatusAtteint},
		{e2, "a2.population_zone_blanche", ptr(0), StatusAtteint},
		{c1, "a2.population_zone_blanche", ptr(0), StatusAtteint},
		{"com:69167", "a2.population_zone_blanche", ptr(0), StatusAtteint},
		{cT, "a2.population_zone_blanche", ptr(100), StatusEnRetard},
		// a3.fiches_a_jour: date_maj after 2025-10-31 (365 days before 2026-10-31). C1: L1 yes, L2 no → 1
		// of 2 (trajectory 1.2, 80 % 0.96 → a_surveiller). C2: L4 (exactly 365 days) no, L7 (v2 2026-09)
		// yes, LX no → 1 of 3 (1.8, 1.44 → en_retard). C3: L3 (364 days) → 1 of 1 atteint. E1 2 of 5
		// (3, 2.4 → en_retard); dep 3 of 6 (3.6, 2.88 → a_surveiller).
		{dep, "a3.fiches_a_jour", ptr(3), StatusASurveiller},
		{e1, "a3.fiches_a_jour", ptr(2), StatusEnRetard},
		{c1, "a3.fiches_a_jour", ptr(1), StatusASurveiller},
		{c2, "a3.fiches_a_jour", ptr(1), StatusEnRetard},
		{c3, "a3.fiches_a_jour", ptr(1), StatusAtteint},
		// a3.consultations, October: L1 14 + 9 = 23 (C1); L3 5 + 10 (replaced 100) = 15 (C3); LX 7 (C2,
		// arrived later); L5 50 outside. E1 30, dep 45; vs 2025-10: L1 20.
		{dep, "a3.consultations", ptr(45), StatusAtteint},
		{e1, "a3.consultations", ptr(30), StatusAtteint},
		{c1, "a3.consultations", ptr(23), StatusAtteint},
		{c2, "a3.consultations", ptr(7), StatusAtteint}, // 2025-10 had consultations (L1), C2 none: 7 > 0
		// a3.epci_deux_rencontres: information meetings 2026: R4 (E1), R5 (C2 → E1), R6 (C3 → E2). E1 has
		// 2 → 1 / 12 = 8.33 % for dep; E2 0 %.
		{dep, "a3.epci_deux_rencontres", ptr(100.0 / 12), StatusEnRetard},
		{e1, "a3.epci_deux_rencontres", ptr(100), StatusAtteint},
		{e2, "a3.epci_deux_rencontres", ptr(0), StatusEnRetard},
		{c1, "a3.epci_deux_rencontres", nil, StatusSansDonnees},
		// a3.relais_informes: relay structures at information meetings 2026: E1 st1 st2 (R4), st1 st10
		// (R5) = 3; C2 (R5) = 2; E2 st11 = 1; dep 4; C1 none = 0. vs 2025 (R9 only): 0.
		{dep, "a3.relais_informes", ptr(4), StatusAtteint},
		{e1, "a3.relais_informes", ptr(3), StatusAtteint},
		{c2, "a3.relais_informes", ptr(2), StatusAtteint},
		{c1, "a3.relais_informes", ptr(0), StatusASurveiller}, // 0 vs 0: stable
		// a3.relais_connaissent_offre: answered relay participations: R4 st1 oui, R4 st2 non, R5 st10 oui
		// (R5 st1 unanswered, R4 st9 not a relay) → E1 2/3; C2 1/1; dep + R6 st11 non → 2/4 = 50 % (80 % of
		// 60 = 48 → a_surveiller); C1 none answered → sans_donnees.
		{dep, "a3.relais_connaissent_offre", ptr(50), StatusASurveiller},
		{e1, "a3.relais_connaissent_offre", ptr(200.0 / 3), StatusBonneVoie},
		{c2, "a3.relais_connaissent_offre", ptr(100), StatusAtteint},
		{e2, "a3.relais_connaissent_offre", ptr(0), StatusEnRetard},
		{c1, "a3.relais_connaissent_offre", nil, StatusSansDonnees},
		// ctx.lieux: C1 L1 L2; C2 L4 L7 LX; C3 L3; L5 outside, L6 deleted.
		{dep, "ctx.lieux", ptr(6), StatusSansCible},
		{e1, "ctx.lieux", ptr(5), StatusSansCible},
		{c1, "ctx.lieux", ptr(2), StatusSansCible},
		{dep, "ctx.lieux_10000_hab", ptr(6 * 10000 / popDep), StatusSansCible},
		{e1, "ctx.lieux_10000_hab", ptr(5 * 10000 / popE1), StatusSansCible},
		{c1, "ctx.lieux_10000_hab", ptr(2 * 10000 / popC1), StatusSansCible},
	})

	// Months without input: sans_donnees, not 0.
	checkAll(t, e, Month{2026, 11}, []want{
		{dep, "a2.accompagnements", nil, StatusSansDonnees}, // nothing collected for November
		{c1, "a2.accompagnements", nil, StatusSansDonnees},
		{dep, "a1.conseillers_actifs", nil, StatusSansDonnees},
		{dep, "a2.accompagnements_1000_hab", nil, StatusSansDonnees},
	})
	checkAll(t, e, Month{2026, 7}, []want{
		{dep, "a2.accompagnements", nil, StatusSansDonnees}, // A8, July's only activity, moved to October
	})
	checkAll(t, e, Month{2026, 9}, []want{
		{dep, "a3.consultations", nil, StatusSansDonnees},
		{dep, "a2.foyers_equipes_connectes", nil, StatusSansDonnees},
		{dep, "a2.accompagnements", ptr(4), ""}, // A12
		{c3, "a2.accompagnements", ptr(0), ""},  // others reported: a count is a count
	})
	checkAll(t, e, Month{2026, 6}, []want{
		{dep, "a2.reconditionnement", nil, StatusSansDonnees}, // nothing reported 2026-04..06
	})
	checkAll(t, e, Month{2025, 11}, []want{
		{dep, "a2.communes_hotspot", nil, StatusSansDonnees}, // first hotspot report is 2025-12
	})
	checkAll(t, e, Month{2025, 3}, []want{
		{dep, "a1.rencontre_annuelle", nil, StatusSansDonnees}, // no meeting 2025-01..03
		{dep, "a1.instances_actives", nil, StatusSansDonnees},  // nor 2024-04..2025-03
	})

	t.Run("tendance et cible de hausse", func(t *testing.T) {
		rs, err := e.Evaluate(ctx, territory.MustParse(c1), oct, "a2.accompagnements")
		if err != nil {
			t.Fatal(err)
		}
		r := rs[0]
		// trend: October 5 − September 4 (A12) = +1; target = October 2025 = 2; progress 5/2 = 250 %.
		if r.Trend == nil || *r.Trend != 1 || r.Target == nil || *r.Target != 2 || r.Progress == nil || *r.Progress != 250 {
			t.Errorf("C1 a2.accompagnements : %+v", r)
		}
		if r.LastData == nil || !r.LastData.Equal(chtest.Day("2026-10-06")) { // A2
			t.Errorf("dernière donnée : %v", r.LastData)
		}
		if r.Period != "2026-10" || r.Territory != c1 || r.Unit != "nombre" || r.Label == "" {
			t.Errorf("métadonnées : %+v", r)
		}
	})

	t.Run("série", func(t *testing.T) {
		pts, err := e.Series(ctx, "a2.accompagnements", territory.MustParse(dep), Month{2026, 6}, Month{2026, 11})
		if err != nil {
			t.Fatal(err)
		}
		// June none, July none (A8 moved), August 8 (A7 moved), September 4, October 31, November none.
		exp := []*float64{nil, nil, ptr(8), ptr(4), ptr(31), nil}
		if len(pts) != len(exp) {
			t.Fatalf("%d points", len(pts))
		}
		for i, p := range pts {
			if (p.Value == nil) != (exp[i] == nil) || (p.Value != nil && *p.Value != *exp[i]) {
				t.Errorf("%s : %v, attendu %v", p.Month, p.Value, exp[i])
			}
		}
		if pts[4].Target == nil || *pts[4].Target != 28 || pts[4].Status != StatusAtteint {
			t.Errorf("octobre : cible %v statut %s, attendu 28 atteint", pts[4].Target, pts[4].Status)
		}
		// au_moins without a baseline (nothing at 2025-01, none declared): the point's target is the
		// target itself, never a line from an invented 0 (TestMeasuredBaseline has the trajectory).
		pts, err = e.Series(ctx, "a1.conseillers_actifs", territory.MustParse(dep), Month{2026, 9}, Month{2026, 10})
		if err != nil {
			t.Fatal(err)
		}
		if !near(*pts[0].Target, 14) || !near(*pts[1].Target, 14) || *pts[0].Value != 1 || *pts[1].Value != 5 {
			t.Errorf("trajectoire : %+v %+v", pts[0], pts[1])
		}
	})

	t.Run("ventilation", func(t *testing.T) {
		kids, err := e.Breakdown(ctx, "a2.accompagnements", territory.MustParse(dep), territory.LevelEPCI, oct)
		if err != nil {
			t.Fatal(err)
		}
		if len(kids) != 12 {
			t.Fatalf("%d EPCI", len(kids))
		}
		got := map[string]float64{}
		var sum float64
		for _, k := range kids {
			got[k.Territory.String()] = *k.Value
			sum += *k.Value
		}
		// E1 15, E2 6, Ouest Rhodanien (Tarare) 10, the others 0: the children add up to dep's 31.
		if got[e1] != 15 || got[e2] != 6 || got["epci:200040566"] != 10 || sum != 31 {
			t.Errorf("par EPCI : %v (somme %v)", got, sum)
		}
		kids, err = e.Breakdown(ctx, "a2.accompagnements", territory.MustParse(e1), territory.LevelCommune, oct)
		if err != nil {
			t.Fatal(err)
		}
		got = map[string]float64{}
		for _, k := range kids {
			got[k.Territory.String()] = *k.Value
			if k.Territory.String() == c1 && (k.Population != 36172 || k.Name != "Villefranche-sur-Saône" || k.Status != StatusAtteint) {
				t.Errorf("enfant C1 : %+v", k)
			}
		}
		if len(kids) != 17 || got[c1] != 5 || got[c2] != 10 || got["com:69013"] != 0 {
			t.Errorf("communes de E1 : %d %v", len(kids), got)
		}
		kids, err = e.Breakdown(ctx, "a1.epci_rencontre_locale", territory.MustParse(e1), territory.LevelCommune, oct)
		if err != nil {
			t.Fatal(err)
		}
		for _, k := range kids {
			if k.Value != nil || k.Status != StatusSansDonnees {
				t.Errorf("un pourcentage d'EPCI n'a pas de valeur par commune : %+v", k)
			}
		}
	})

	t.Run("manques", func(t *testing.T) {
		gaps, err := e.Gaps(ctx, territory.MustParse(e2), oct)
		if err != nil {
			t.Fatal(err)
		}
		// E2: 4 communes without hotspot (all but Brignais: Vourles reports only in November), fewer than
		// two information meetings (R6 only). R3 is a local meeting; Brignais' sheet is up to date; every
		// commune is within 10 km of L3.
		n := map[string]int{}
		for _, g := range gaps {
			n[g.Indicator]++
		}
		if len(gaps) != 5 || n["a2.communes_hotspot"] != 4 || n["a3.epci_deux_rencontres"] != 1 {
			t.Errorf("manques E2 : %+v", gaps)
		}
		gaps, err = e.Gaps(ctx, territory.MustParse(c2), oct)
		if err != nil {
			t.Fatal(err)
		}
		// Gleizé: no hotspot (0 since September), 2 outdated sheets of 3 (L4, LX).
		if len(gaps) != 2 || gaps[1].Indicator != "a3.fiches_a_jour" || *gaps[1].Value != 1 || *gaps[1].Target != 3 {
			t.Errorf("manques C2 : %+v", gaps)
		}
	})

	t.Run("jalons", func(t *testing.T) {
		ms, err := e.Milestones(ctx)
		if err != nil {
			t.Fatal(err)
		}
		// J1 J2 J3 (2.1) and J5 (1.1); J4 deleted. J3 in its newest state.
		if len(ms) != 4 || ms[0].Action != "1.1" || ms[3].Jalon != "J3" || ms[3].Statut != "realise" {
			t.Errorf("jalons : %+v", ms)
		}
	})

	t.Run("erreurs", func(t *testing.T) {
		if _, err := e.Evaluate(ctx, territory.MustParse(dep), oct, "a9.nexiste_pas"); !errors.Is(err, ErrUnknownIndicator) {
			t.Errorf("indicateur inconnu : %v", err)
		}
		if _, err := e.Evaluate(ctx, territory.MustParse("com:01194"), oct); !errors.Is(err, territory.ErrUnknown) {
			t.Errorf("commune hors référentiel : %v", err)
		}
		if _, err := e.Series(ctx, "a2.accompagnements", territory.MustParse(dep), oct, Month{2026, 1}); err == nil {
			t.Error("série à l'envers acceptée")
		}
	})

	t.Run("fraîcheur", func(t *testing.T) {
		chtest.Insert(t, conn, "INSERT INTO ingestion_runs (run_id, version, source, started_at, ended_at, rows_rejected, status)",
			[]any{"run1", uint64(1), "activites", chtest.Day("2026-11-01"), chtest.Day("2026-11-01"), uint64(0), "succes"},
			[]any{"run2", uint64(1), "activites", chtest.Day("2026-11-02"), chtest.Day("2026-11-02"), uint64(0), "en_cours"},
			[]any{"run2", uint64(2), "activites", chtest.Day("2026-11-02"), chtest.Day("2026-11-02").Add(time.Hour), uint64(3), "echec"},
		)
		fs, err := e.Freshness(ctx, chtest.Day("2026-11-02").Add(12*time.Hour))
		if err != nil {
			t.Fatal(err)
		}
		got := map[string]Freshness{}
		for _, f := range fs {
			got[f.Source] = f
		}
		a := got["activites"]
		// newest run: run2 (its second write: echec, 3 rejects); newest success run1, 36 h ago < 48 h.
		if a.LastStatus != "echec" || a.RowsRejected != 3 || a.LastSuccess == nil || !a.LastSuccess.Equal(chtest.Day("2026-11-01")) || a.Stale || a.OutOfScope != 2 {
			t.Errorf("activites : %+v", a)
		}
		if s := got["structures"]; !s.Stale || s.LastRun != nil {
			t.Errorf("structures sans collecte : %+v", s)
		}
		if l := got["lieux"]; l.LastData == nil || !l.LastData.Equal(chtest.Day("2026-09-01")) {
			t.Errorf("lieux : dernière donnée %v, attendu 2026-09-01 (L7)", l.LastData)
		}
		lm, err := e.LatestMonth(ctx)
		if err != nil || lm != oct {
			t.Errorf("dernier mois : %v %v", lm, err)
		}
	})
}

// An empty database: every figure is sans_donnees, not 0.
func TestEmpty(t *testing.T) {
	e, _, _ := newTestEngine(t)
	rs, err := e.Evaluate(context.Background(), territory.MustParse(dep), Month{2026, 10})
	if err != nil {
		t.Fatal(err)
	}
	if len(rs) != 19 {
		t.Fatalf("%d résultats", len(rs))
	}
	for _, r := range rs {
		if r.Value != nil || r.Status != StatusSansDonnees {
			t.Errorf("%s : %v %s", r.ID, r.Value, r.Status)
		}
	}
}

// TestEquipmentSpellingsAndCache: a2.reconditionnement of C1 over the quarter 2026-08..10 (12 in the
// fixture), read by one long-lived engine while equipment files arrive: each new file is seen (the
// cache follows the table), and for one period reported under both spellings of the commune (bare
// INSEE code and com:) the later report wins, after each spelling's own deletions.
func TestEquipmentSpellingsAndCache(t *testing.T) {
	e, conn, _ := newTestEngine(t)
	ctx := context.Background()
	loadFixture(t, conn)
	oct := Month{2026, 10}
	eq := func(terr string, ver uint64, del uint8, v float64) []any {
		return []any{chtest.Day("2026-10-01"), terr, "pc_reconditionnes_distribues", ver, del, v}
	}
	for _, step := range []struct {
		row  []any
		want float64
		why  string
	}{
		{nil, 12, "fixture: August"},
		{eq("69264", 1, 0, 5), 17, "bare code, October: 12 + 5"},
		{eq("com:69264", 2, 0, 7), 19, "com: reported later for October: 12 + 7"},
		{eq("69264", 3, 0, 4), 16, "bare code reported again, later: 12 + 4"},
		{eq("69264", 4, 1, 0), 19, "bare code deleted: com:'s 7 is left"},
		{eq("com:69264", 5, 1, 0), 12, "both deleted"},
	} {
		if step.row != nil {
			chtest.Insert(t, conn, insEq, step.row)
		}
		rs, err := e.Evaluate(ctx, territory.MustParse(c1), oct, "a2.reconditionnement")
		if err != nil {
			t.Fatal(err)
		}
		if v := rs[0].Value; v == nil || *v != step.want {
			t.Errorf("%s : %v, attendu %v", step.why, v, step.want)
		}
	}
}

// TestConsultationsCache: one engine (as the plugin keeps it) answers from what it read while
// consultations and lieux are unchanged, and follows every change of either: a new day, a later
// report replacing a day, a place moved to another commune, a place deleted.
func TestConsultationsCache(t *testing.T) {
	e, conn, _ := newTestEngine(t)
	ctx := context.Background()
	loadFixture(t, conn)
	oct := Month{2026, 10}
	c := func(date, lieu string, n uint32, ver uint64) []any { return []any{chtest.Day(date), lieu, n, ver} }
	l := func(id string, ver uint64, del uint8, code string) []any {
		return []any{id, ver, del, code, (*float64)(nil), (*float64)(nil), chtest.Day("2026-06-12")}
	}
	for _, step := range []struct {
		ins      string
		row      []any
		wC1, wC2 float64
		why      string
	}{
		{"", nil, 23, 0, "fixture: L1 14 + 9; LX not arrived"},
		{"", nil, 23, 0, "nothing changed: the same figures"},
		{insConsu, c("2026-10-07", "L1", 4, 1), 27, 0, "a new day for L1: 23 + 4"},
		{insConsu, c("2026-10-01", "L1", 1, 2), 14, 0, "a later report replaces 14 by 1: 1 + 9 + 4"},
		{insLieu, l("LX", 1, 0, "69092"), 14, 7, "LX arrives in C2"},
		{insLieu, l("L1", 2, 0, "69092"), 0, 21, "L1 moves to C2: 7 + 14"},
		{insLieu, l("L1", 3, 1, "69092"), 0, 21, "L1 deleted: a deleted place keeps locating its consultations"},
	} {
		if step.row != nil {
			chtest.Insert(t, conn, step.ins, step.row)
		}
		for _, x := range []struct {
			terr string
			want float64
		}{{c1, step.wC1}, {c2, step.wC2}} {
			rs, err := e.Evaluate(ctx, territory.MustParse(x.terr), oct, "a3.consultations")
			if err != nil {
				t.Fatal(err)
			}
			if v := rs[0].Value; v == nil || *v != x.want {
				t.Errorf("%s, %s : %v, attendu %v", step.why, x.terr, v, x.want)
			}
		}
	}
}

// TestPlacesAndMeetingsCache: one engine follows every change of lieux (places, and the communes far
// from any place, which it keeps) and of rencontres/participations, and serves the same figures while
// they are unchanged.
func TestPlacesAndMeetingsCache(t *testing.T) {
	e, conn, _ := newTestEngine(t)
	ctx := context.Background()
	loadFixture(t, conn)
	oct := Month{2026, 10}
	value := func(terr, id string) float64 {
		t.Helper()
		rs, err := e.Evaluate(ctx, territory.MustParse(terr), oct, id)
		if err != nil {
			t.Fatal(err)
		}
		if rs[0].Value == nil {
			t.Fatalf("%s %s : pas de valeur", terr, id)
		}
		return *rs[0].Value
	}
	l := func(id string, ver uint64, del uint8, code string, lat, lon *float64) []any {
		return []any{id, ver, del, code, lat, lon, chtest.Day("2026-09-01")}
	}
	// ctx.lieux, C2: L4 and L7 (LX not arrived yet).
	for _, step := range []struct {
		row  []any
		want float64
	}{{nil, 2}, {nil, 2}, {l("LX", 1, 0, "69092", nil, nil), 3}, {l("L7", 3, 1, "69092", nil, nil), 2}} {
		if step.row != nil {
			chtest.Insert(t, conn, insLieu, step.row)
		}
		if v := value(c2, "ctx.lieux"); v != step.want {
			t.Errorf("ctx.lieux %s : %v, attendu %v", c2, v, step.want)
		}
	}
	// Tarare is 100 % in the zone blanche (16.7 km from L5); a place put on Tarare takes it out.
	if v := value(cT, "a2.population_zone_blanche"); v != 100 {
		t.Errorf("zone blanche de Tarare : %v, attendu 100", v)
	}
	chtest.Insert(t, conn, insLieu, l("LT", 1, 0, "69243", f64(45.904), f64(4.424)))
	if v := value(cT, "a2.population_zone_blanche"); v != 0 {
		t.Errorf("zone blanche de Tarare après un lieu sur place : %v, attendu 0", v)
	}
	// a1.diversite_structures, E2: R3 (association) only; a new meeting of E2 with a commune brings 2.
	if v := value(e2, "a1.diversite_structures"); v != 1 {
		t.Fatalf("diversité E2 : %v, attendu 1", v)
	}
	chtest.Insert(t, conn, insRen, []any{"R50", uint64(1), uint8(0), chtest.Day("2026-09-10"), "atelier_thematique", e2})
	chtest.Insert(t, conn, insPart, []any{"R50", "S50", uint64(1), uint8(0), "collectivite", uint8(0), (*uint8)(nil)})
	if v := value(e2, "a1.diversite_structures"); v != 2 {
		t.Errorf("diversité E2 après R50 : %v, attendu 2", v)
	}
}
