package engine

import (
	"math"

	"github.com/sdaasp-rhone/fne/internal/territory"
	"testing"

	"github.com/sdaasp-rhone/fne/internal/catalogue"
)

// Every boundary of the status rule (status.go). The trajectory runs from 2025-01 to the deadline
// 2027-12: 35 months; 2026-10 is 21 months in, so f = 21/35 = 0.6.
func TestStatusBoundaries(t *testing.T) {
	m := Month{2026, 10}
	moins := catalogue.Indicator{Direction: catalogue.AuMoins, Deadline: "2027-12", BaselinePeriod: "2025-01", Axis: 1}
	plus := catalogue.Indicator{Direction: catalogue.AuPlus, Deadline: "2027-12", BaselinePeriod: "2025-01", Axis: 1}
	hausse := catalogue.Indicator{Direction: catalogue.Hausse, Axis: 2}
	cases := []struct {
		name                  string
		ind                   catalogue.Indicator
		v, target, ref, basel *float64
		want                  string
	}{
		// au_moins, target 10, baseline 0: expected(2026-10) = 0 + 10 × 0.6 = 6; 80 % of it = 4.8.
		{"au_moins atteint à la cible", moins, ptr(10), ptr(10), nil, ptr(0), StatusAtteint},
		{"au_moins au-dessus de la trajectoire", moins, ptr(9.99), ptr(10), nil, ptr(0), StatusBonneVoie},
		{"au_moins sur la trajectoire", moins, ptr(6), ptr(10), nil, ptr(0), StatusBonneVoie},
		{"au_moins juste sous la trajectoire", moins, ptr(5.99), ptr(10), nil, ptr(0), StatusASurveiller},
		{"au_moins à 80 % de la trajectoire", moins, ptr(4.8), ptr(10), nil, ptr(0), StatusASurveiller},
		{"au_moins sous 80 %", moins, ptr(4.79), ptr(10), nil, ptr(0), StatusEnRetard},
		// baseline 5: expected = 5 + (10 − 5) × 0.6 = 8; 80 % = 6.4.
		{"au_moins base 5 sur la trajectoire", moins, ptr(8), ptr(10), nil, ptr(5), StatusBonneVoie},
		{"au_moins base 5 à 80 %", moins, ptr(6.4), ptr(10), nil, ptr(5), StatusASurveiller},
		{"au_moins base 5 en retard", moins, ptr(6.39), ptr(10), nil, ptr(5), StatusEnRetard},
		// without baseline, the trajectory is the target itself: 80 % of 10 = 8.
		{"au_moins sans base à 80 % de la cible", moins, ptr(8), ptr(10), nil, nil, StatusASurveiller},
		{"au_moins sans base sous 80 %", moins, ptr(7.9), ptr(10), nil, nil, StatusEnRetard},
		{"sans valeur", moins, nil, ptr(10), nil, ptr(0), StatusSansDonnees},
		{"sans cible à ce niveau", moins, ptr(3), nil, nil, ptr(0), StatusSansCible},
		// au_plus, target 0, baseline 50: expected = 50 − 50 × 0.6 = 20; a_surveiller while 0.8 v ≤ 20, v ≤ 25.
		{"au_plus atteint", plus, ptr(0), ptr(0), nil, ptr(50), StatusAtteint},
		{"au_plus sur la trajectoire", plus, ptr(20), ptr(0), nil, ptr(50), StatusBonneVoie},
		{"au_plus au-dessus de la trajectoire", plus, ptr(20.01), ptr(0), nil, ptr(50), StatusASurveiller},
		{"au_plus limite des 80 %", plus, ptr(25), ptr(0), nil, ptr(50), StatusASurveiller},
		{"au_plus en retard", plus, ptr(25.01), ptr(0), nil, ptr(50), StatusEnRetard},
		// hausse: reference = value a year before, 10.
		{"hausse : hausse", hausse, ptr(10.01), nil, ptr(10), nil, StatusAtteint},
		{"hausse : stable", hausse, ptr(10), nil, ptr(10), nil, StatusASurveiller},
		{"hausse : baisse de 20 %", hausse, ptr(8), nil, ptr(10), nil, StatusASurveiller},
		{"hausse : baisse de plus de 20 %", hausse, ptr(7.99), nil, ptr(10), nil, StatusEnRetard},
		{"hausse : zéro contre zéro", hausse, ptr(0), nil, ptr(0), nil, StatusASurveiller},
		{"hausse : rien à comparer", hausse, ptr(5), nil, nil, nil, StatusSansCible},
	}
	for _, c := range cases {
		got, _ := status(c.ind, c.v, c.target, c.ref, c.basel, m)
		if got != c.want {
			t.Errorf("%s : statut %s, attendu %s", c.name, got, c.want)
		}
	}
}

func TestTrajectoryEnds(t *testing.T) {
	ind := catalogue.Indicator{Direction: catalogue.AuMoins, Deadline: "2027-12", BaselinePeriod: "2025-01"}
	for _, c := range []struct {
		m    Month
		want float64
	}{
		{Month{2024, 6}, 2},    // before the baseline period: the baseline
		{Month{2025, 1}, 2},    // at the baseline period
		{Month{2026, 10}, 6.8}, // 2 + (10 − 2) × 21/35 = 6.8
		{Month{2027, 12}, 10},  // deadline
		{Month{2029, 1}, 10},   // after the deadline: the target
	} {
		if got := trajectory(ind, 10, ptr(2), c.m); !near(got, c.want) {
			t.Errorf("%s : trajectoire %v, attendu %v", c.m, got, c.want)
		}
	}
	// A measured start beyond the target: the target, at every month (not 9 falling to 4).
	for _, m := range []Month{{2024, 6}, {2025, 1}, {2026, 10}} {
		if got := trajectory(ind, 4, ptr(9), m); got != 4 {
			t.Errorf("au_moins, référence 9 > cible 4, %s : %v, attendu 4", m, got)
		}
		plus := catalogue.Indicator{Direction: catalogue.AuPlus, Deadline: "2027-12", BaselinePeriod: "2025-01"}
		if got := trajectory(plus, 5, ptr(2), m); got != 5 {
			t.Errorf("au_plus, référence 2 < cible 5, %s : %v, attendu 5", m, got)
		}
	}
}

func TestProgress(t *testing.T) {
	moins := catalogue.Indicator{Direction: catalogue.AuMoins}
	if _, p := status(moins, ptr(5), ptr(14), nil, nil, Month{2026, 10}); p == nil || !near(*p, 5.0/14*100) {
		t.Errorf("progression au_moins : %v", p)
	}
	plus := catalogue.Indicator{Direction: catalogue.AuPlus}
	if _, p := status(plus, ptr(20), ptr(5), nil, nil, Month{2026, 10}); p == nil || !near(*p, 25) {
		t.Errorf("progression au_plus 5/20 = 25 %% : %v", p)
	}
}

// The distance rule is strict (> km) on a sphere of radius 6371 km.
func TestDistance(t *testing.T) {
	// One degree of latitude on R = 6371 km is 6371 × π / 180 = 111.194… km.
	if got := distanceKM(45, 4, 46, 4); !near(got, 6371*3.141592653589793/180) {
		t.Errorf("1° de latitude : %v km", got)
	}
	if got := distanceKM(45.988, 4.732, 45.988, 4.732); got != 0 {
		t.Errorf("même point : %v", got)
	}
}

func TestFarCommuneIsStrict(t *testing.T) {
	ref := territory.NewReference("69", "Test", []territory.Commune{{Code: "69001", Latitude: 45.8, Longitude: 4.4, Population: 100}}, nil)
	lat := 45.8 + 10/6371.0*180/math.Pi // ≈ 10 km north
	lon := 4.4
	r := &request{ref: ref, places: []place{{code: "01001", lat: &lat, lon: &lon}}}
	exact := distanceKM(45.8, 4.4, lat, lon)
	if math.Abs(exact-10) > 1e-6 {
		t.Fatalf("distance %v, attendu 10 km", exact)
	}
	if r.farCommune("69001", exact) {
		t.Error("un lieu à exactement la distance limite couvre la commune (« > » strict)")
	}
	if !r.farCommune("69001", exact-1e-9) {
		t.Error("un lieu au-delà de la limite ne couvre pas la commune")
	}
	r = &request{ref: ref, places: append(r.places, place{code: "69001"})} // no coordinates: ignored by the distance rule
	if !r.farCommune("69001", 9) {
		t.Error("un lieu sans coordonnées ne doit pas compter")
	}
}

// Year-to-date counts restart every January: the trajectory is rebuilt each year from 0 to the target
// in December, whatever the baseline and the deadline.
func TestYearToDateTrajectory(t *testing.T) {
	pct := catalogue.Indicator{Direction: catalogue.AuMoins, Window: catalogue.WindowAnnee, Compute: "epci_rencontres", Unit: "%",
		Deadline: "2027-12", BaselinePeriod: "2025-01"}
	meeting := pct
	meeting.Compute, meeting.Unit = "rencontre_tenue", "nombre"
	for _, c := range []struct {
		ind        catalogue.Indicator
		target     float64
		m          Month
		want       float64
		v          float64
		wantStatus string
	}{
		// 100 × 1/12 = 8.33 in January 2027 (the line 2025-01 → 2027-12 would ask 100 × 24/35 = 68.6);
		// 0 % of EPCI in January: 0 < 80 % × 8.33 → en_retard.
		{pct, 100, Month{2027, 1}, 100.0 / 12, 0, StatusEnRetard},
		// 100 × 6/12 = 50 in June; 45 ≥ 40 → a_surveiller
		{pct, 100, Month{2026, 6}, 50, 45, StatusASurveiller},
		{pct, 100, Month{2028, 12}, 100, 100, StatusAtteint}, // after the deadline, the same yearly ramp
		// one meeting a year: ⌊1 × 11/12⌋ = 0 until November (not late), 1 in December
		{meeting, 1, Month{2026, 11}, 0, 0, StatusBonneVoie},
		{meeting, 1, Month{2026, 12}, 1, 0, StatusEnRetard},
	} {
		if got := trajectory(c.ind, c.target, ptr(0), c.m); !near(got, c.want) {
			t.Errorf("%s %s : trajectoire %v, attendu %v", c.ind.Compute, c.m, got, c.want)
		}
		if st, _ := status(c.ind, ptr(c.v), ptr(c.target), nil, ptr(0), c.m); st != c.wantStatus {
			t.Errorf("%s %s, valeur %v : %s, attendu %s", c.ind.Compute, c.m, c.v, st, c.wantStatus)
		}
	}
	if measuredBaseline(meeting) {
		t.Error("un cumul annuel n'a pas de référence mesurée")
	}
}
