package report

import (
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"

	"github.com/sdaasp-rhone/fne/internal/catalogue"
	"github.com/sdaasp-rhone/fne/internal/engine"
)

// nbsp separates a value from its unit (« 12,3 % ») and thin separates thousands (« 1 234 », as
// `fne indicators` prints them): a plain space would let the browser break a value across two lines.
const (
	nbsp = "\u00a0"
	thin = "\u202f"
)

// minus is the typographic minus sign (the hyphen reads as a dash in a table).
const minus = "\u2212"

var moisFr = []string{"janvier", "février", "mars", "avril", "mai", "juin", "juillet", "août", "septembre", "octobre", "novembre", "décembre"}

var moisCourtFr = []string{"janv.", "févr.", "mars", "avr.", "mai", "juin", "juil.", "août", "sept.", "oct.", "nov.", "déc."}

// MonthFr reads « octobre 2026 ».
func MonthFr(m engine.Month) string { return fmt.Sprintf("%s %d", moisFr[m.Month-1], m.Year) }

// monthShort reads « oct. 26 » (chart axes).
func monthShort(m engine.Month) string {
	return fmt.Sprintf("%s %02d", moisCourtFr[m.Month-1], m.Year%100)
}

// dateFr reads « 3 novembre 2026 ».
func dateFr(t time.Time) string {
	d := t.Day()
	day := strconv.Itoa(d)
	if d == 1 {
		day = "1er"
	}
	return fmt.Sprintf("%s %s %d", day, moisFr[t.Month()-1], t.Year())
}

// decimals is how a value of that unit is rounded for reading, the rule of `fne indicators`: percentages
// to one decimal, per-capita rates to two, counts to integers (one decimal if not whole).
func decimals(v float64, unit string) int {
	switch {
	case unit == "%":
		return 1
	case strings.HasPrefix(unit, "pour "):
		return 2
	case v != math.Trunc(v):
		return 1
	}
	return 0
}

// Num is a value in French: « 1 234 », « 12,3 » (without its unit); « — » when missing.
func Num(v *float64, unit string) string {
	if v == nil {
		return "—"
	}
	return numDec(*v, decimals(*v, unit))
}

func numDec(v float64, dec int) string {
	s := strconv.FormatFloat(v, 'f', dec, 64)
	neg := strings.HasPrefix(s, "-")
	s = strings.TrimPrefix(s, "-")
	intPart, frac, _ := strings.Cut(s, ".")
	var b strings.Builder
	for i, r := range intPart {
		if i > 0 && (len(intPart)-i)%3 == 0 {
			b.WriteString(thin)
		}
		b.WriteRune(r)
	}
	out := b.String()
	if frac != "" {
		out += "," + frac
	}
	if neg && strings.Trim(out, "0,"+thin) != "" {
		out = minus + out
	}
	return out
}

// WithUnit is a value as a table cell shows it: « 12,3 % », « 1 234 », « 4,27 » (a per-capita rate: its
// label says « pour 1 000 habitants », repeating it in every cell only widens the column).
func WithUnit(v *float64, unit string) string {
	if v == nil {
		return "—"
	}
	if unit == "%" {
		return Num(v, unit) + nbsp + "%"
	}
	return Num(v, unit)
}

// Pct is a progress percentage « 45,0 % ».
func Pct(v *float64) string {
	if v == nil {
		return "—"
	}
	return numDec(*v, 1) + nbsp + "%"
}

// Delta is a signed change: « +3 », « −2,5 », « 0 »; for percentages in points (« +1,2 pt »).
func Delta(v *float64, unit string) string {
	if v == nil {
		return "—"
	}
	s := Num(v, unit)
	if *v > 0 && s != "0" && strings.Trim(s, "0,") != "" {
		s = "+" + s
	}
	if unit == "%" {
		s += nbsp + "pt"
	}
	return s
}

// TargetText is the target column: « ≥ 14 en décembre 2027 », « ≤ 0 % », « > 1 234 (un an avant) ».
func TargetText(r engine.Result) string {
	if r.Target == nil {
		return "—"
	}
	unit := r.Unit
	val := WithUnit(r.Target, unit)
	if unit == "%" && *r.Target == math.Trunc(*r.Target) {
		val = numDec(*r.Target, 0) + nbsp + "%" // a whole percentage target reads « 100 % », not « 100,0 % »
	}
	switch r.Direction {
	case catalogue.Hausse:
		return "> " + val + " (un an avant)"
	case catalogue.AuPlus:
		val = "≤ " + val
	default:
		val = "≥ " + val
	}
	if r.Deadline != "" {
		val += " en " + deadlineShort(r.Deadline)
	}
	return val
}

// deadlineShort turns "2027-12" into « déc. 2027 ».
func deadlineShort(s string) string {
	m, err := engine.ParseMonth(s)
	if err != nil {
		return s
	}
	return fmt.Sprintf("%s %d", moisCourtFr[m.Month-1], m.Year)
}

// runStatusFr is how a collection run's status reads.
func runStatusFr(s string) string {
	switch s {
	case "succes":
		return "Succès"
	case "partiel":
		return "Succès, avec rejets"
	case "echec":
		return "Échec"
	case "en_cours":
		return "En cours"
	case "":
		return "—"
	}
	return s
}

// dateTimeFr reads « 2 décembre 2026 à 16 h 05 » (UTC).
func dateTimeFr(t *time.Time) string {
	if t == nil {
		return "—"
	}
	u := t.UTC()
	return fmt.Sprintf("%s à %d h %02d", dateFr(u), u.Hour(), u.Minute())
}

// Statuses as a committee reads them, and their colour.
var statusFr = map[string]string{
	engine.StatusAtteint:     "Atteint",
	engine.StatusBonneVoie:   "En bonne voie",
	engine.StatusASurveiller: "À surveiller",
	engine.StatusEnRetard:    "En retard",
	engine.StatusSansDonnees: "Sans données",
	engine.StatusSansCible:   "Sans cible",
}

// StatusFr is the French name of a status.
func StatusFr(s string) string {
	if f, ok := statusFr[s]; ok {
		return f
	}
	return s
}

// statusOrder ranks statuses from best to worst, for the direction of a change.
var statusOrder = map[string]int{
	engine.StatusAtteint: 4, engine.StatusBonneVoie: 3, engine.StatusASurveiller: 2, engine.StatusEnRetard: 1,
}

// Axis titles, in the roadmap's words (the same as the COPIL dashboard).
var axisTitles = map[int]string{
	1: "Axe 1 — Gouvernance et coordination",
	2: "Axe 2 — Accompagnement, équipement et connexion",
	3: "Axe 3 — Visibilité de l'offre et relais",
	0: "Indicateurs de contexte",
}

// sourceFr names a collected source for the committee.
var sourceFr = map[string]string{
	"activites":      "Activités des conseillers (Coop)",
	"structures":     "Structures (Coop)",
	"lieux":          "Lieux d'accompagnement",
	"consultations":  "Consultations de la cartographie",
	"rencontres":     "Rencontres",
	"participations": "Participations aux rencontres",
	"equipements":    "Équipement et connexion",
	"jalons":         "Jalons de la feuille de route",
	SourceReport:     "Rapports mensuels",
}

func sourceName(s string) string {
	if n, ok := sourceFr[s]; ok {
		return n
	}
	return s
}

// originFr says who set a target.
func originFr(o string) string {
	switch o {
	case catalogue.TargetFeuilleDeRoute:
		return "engagement de la feuille de route"
	case catalogue.TargetCopil:
		return "valeur par défaut fixée par le COPIL"
	}
	return "non renseignée"
}
