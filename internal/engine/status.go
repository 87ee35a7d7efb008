package engine

import (
	"math"

	"github.com/sdaasp-rhone/fne/internal/catalogue"
)

// Status rule (docs/regles.md « Indicateurs et statuts »), the single place where a value becomes a status.
//
// value nil                         → sans_donnees (no input at all, or the indicator does not apply).
// no target (context indicators, a target restricted to other levels) → sans_cible.
//
// Direction au_moins / au_plus, with a target and a deadline:
//   - the trajectory is the straight line from the baseline B, at the baseline period P0, to the target C
//     at the deadline D: expected(M) = B + (C − B) × f, f = months(P0→M) / months(P0→D), f clamped to
//     [0, 1] (before P0 the trajectory is B, after D it is C).
//   - B is measured when it can be: the indicator's own value at P0 for the same territory, when the
//     data covers P0 (a value, not sans_donnees) and the computation can look back in time. Else B is
//     the catalogue (or deployment) baseline when declared; without either, there is no trajectory and
//     expected(M) = C. Measured first, because a declared guess (0 counsellors) drawn against 14 posts
//     at work makes every month look late; declared as the fallback for what happened before the
//     collection started. Current-state computations (milestones, places: their past states are not
//     kept) only use the declared baseline: their "value at P0" would be today's value, a start that
//     moves with progress.
//   - au_moins: atteint if v ≥ C; en_bonne_voie if v ≥ expected(M); a_surveiller if v ≥ 80 % of
//     expected(M); en_retard otherwise.
//   - au_plus (mirror): atteint if v ≤ C; en_bonne_voie if v ≤ expected(M); a_surveiller if
//     expected(M) ≥ 80 % of v (v ≤ expected / 0.8); en_retard otherwise.
//   - year-to-date counts (meetings held since 1 January, EPCI that held them, structure types met:
//     the roadmap's commitments are per year) restart every January: their trajectory starts from 0
//     at each 1 January and reaches C in December, expected(M) = C × month(M) / 12, every year, with
//     no baseline (a count at P0 says nothing about the next year); for counts of whole things (unit
//     "nombre") the whole part of it (the yearly meeting is expected in December, not 1/12 of it in
//     January).
//   - without a deadline, or when B already meets C (au_moins B ≥ C, au_plus B ≤ C), the trajectory is
//     C itself (same comparisons).
//
// Direction hausse (no fixed target): the reference R is the indicator's value for the same territory in
// the same month a year before (M − 12) — it is shown as the target — or, when that month has no data,
// the declared baseline. atteint if v > R (a rise); a_surveiller if v ≥ 80 % of R (stable or a small
// fall); en_retard otherwise. en_bonne_voie is not used: a rise is either there or not. Without R the
// status is sans_cible (nothing to compare with).
//
// Progress is v / C × 100 for au_moins (v/R for hausse); for au_plus it is 100 when v ≤ C, else
// C / v × 100 (0 when C = 0). nil when there is no target or C (R) is 0 for au_moins/hausse.

// currentState lists the computations that read their source in its current state whatever the month
// (DESIGN §3: milestones in their current state; places without history): no value of the past.
var currentState = map[string]bool{"jalons_realises": true, "zone_blanche": true, "fiches_a_jour": true, "lieux": true}

// measuredBaseline reports whether the trajectory of ind may start from its measured value at the
// baseline period.
func measuredBaseline(ind catalogue.Indicator) bool {
	return ind.BaselinePeriod != "" && ind.Direction != catalogue.Hausse && !currentState[ind.Compute] &&
		!(ind.Window == catalogue.WindowAnnee && yearToDate[ind.Compute])
}

// yearToDate lists the computations whose value accumulates from 1 January and restarts every year
// (meetings held, EPCI that held them, structure types met): the roadmap commits to them per year.
var yearToDate = map[string]bool{"rencontre_tenue": true, "epci_rencontres": true, "diversite_structures": true}

// trajectory is the expected value at month m (see the rule above).
func trajectory(ind catalogue.Indicator, target float64, baseline *float64, m Month) float64 {
	if ind.Direction == catalogue.AuMoins && ind.Window == catalogue.WindowAnnee && yearToDate[ind.Compute] {
		exp := target * float64(m.Month) / 12
		if ind.Unit == "nombre" {
			// Whole things (a meeting, a type of structure): nobody holds a twelfth of the yearly meeting
			// in January.
			exp = math.Floor(exp + 1e-9)
		}
		return exp
	}
	if baseline == nil || ind.Deadline == "" || ind.BaselinePeriod == "" {
		return target
	}
	// A start already at or beyond the target (9 governance meetings measured for a target of 4) needs
	// no path: the target itself is the bar, never a line falling towards it.
	if (ind.Direction == catalogue.AuMoins && *baseline >= target) || (ind.Direction == catalogue.AuPlus && *baseline <= target) {
		return target
	}
	p0, err1 := ParseMonth(ind.BaselinePeriod)
	d, err2 := ParseMonth(ind.Deadline)
	if err1 != nil || err2 != nil {
		return target
	}
	total := monthsBetween(p0, d)
	if total <= 0 {
		return target
	}
	f := float64(monthsBetween(p0, m)) / float64(total)
	f = math.Max(0, math.Min(1, f))
	return *baseline + (target-*baseline)*f
}

func monthsBetween(a, b Month) int {
	return (b.Year-a.Year)*12 + int(b.Month) - int(a.Month)
}

// status applies the rule. target is the fixed target at this level (nil: none), ref the hausse
// reference, baseline the trajectory start (nil: none). It returns the status, the progress and the
// target to display (the trajectory point for series is computed by the caller with trajectory()).
func status(ind catalogue.Indicator, v, target, ref, baseline *float64, m Month) (string, *float64) {
	if v == nil {
		return StatusSansDonnees, nil
	}
	switch ind.Direction {
	case catalogue.Hausse:
		if ref == nil {
			return StatusSansCible, nil
		}
		var prog *float64
		if *ref != 0 {
			prog = ptr(*v / *ref * 100)
		}
		switch {
		case *v > *ref && !near(*v, *ref):
			return StatusAtteint, prog
		case ge(*v, 0.8**ref):
			return StatusASurveiller, prog
		}
		return StatusEnRetard, prog
	case catalogue.AuMoins:
		if target == nil {
			return StatusSansCible, nil
		}
		var prog *float64
		if *target != 0 {
			prog = ptr(*v / *target * 100)
		}
		exp := trajectory(ind, *target, baseline, m)
		switch {
		case ge(*v, *target):
			return StatusAtteint, prog
		case ge(*v, exp):
			return StatusBonneVoie, prog
		case ge(*v, 0.8*exp):
			return StatusASurveiller, prog
		}
		return StatusEnRetard, prog
	case catalogue.AuPlus:
		if target == nil {
			return StatusSansCible, nil
		}
		prog := ptr(100.0)
		if *v > *target {
			if *v > 0 {
				prog = ptr(*target / *v * 100)
			}
		}
		exp := trajectory(ind, *target, baseline, m)
		switch {
		case ge(*target, *v):
			return StatusAtteint, prog
		case ge(exp, *v):
			return StatusBonneVoie, prog
		case ge(exp, 0.8**v):
			return StatusASurveiller, prog
		}
		return StatusEnRetard, prog
	}
	return StatusSansCible, nil
}

func ptr(f float64) *float64 { return &f }

// Comparisons tolerate floating-point noise so that a value exactly on a boundary (80 % of 6 is
// 4.800000000000001 in binary) gets the status the rule states.
func near(a, b float64) bool {
	return math.Abs(a-b) <= 1e-9*math.Max(1, math.Max(math.Abs(a), math.Abs(b)))
}

func ge(a, b float64) bool { return a > b || near(a, b) }
