package plugin

import (
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"

	"github.com/grafana/grafana-plugin-sdk-go/data"

	"github.com/sdaasp-rhone/fne/internal/engine"
)

// The display contract (dashboards/README.md, « Contrat d'affichage ») starts here: the field config the
// backend sends must already read right in any panel, because Grafana applies it before the panel's own
// settings. dashboards/contract_test.go checks these frames and every provisioned panel against the
// same rules.

// StatusColors is the one colour of each indicator status, in frames and in every dashboard.
var StatusColors = map[string]string{
	engine.StatusAtteint:     "green",
	engine.StatusBonneVoie:   "super-light-green",
	engine.StatusASurveiller: "orange",
	engine.StatusEnRetard:    "red",
	engine.StatusSansDonnees: "#8e8e8e",
	engine.StatusSansCible:   "#c7d0d9",
}

// StatusLabels are the French words of the statuses.
var StatusLabels = map[string]string{
	engine.StatusAtteint:     "Atteint",
	engine.StatusBonneVoie:   "En bonne voie",
	engine.StatusASurveiller: "À surveiller",
	engine.StatusEnRetard:    "En retard",
	engine.StatusSansDonnees: "Sans données",
	engine.StatusSansCible:   "Sans cible",
}

// StatusOrder lists the statuses worst first: the order of counts and of the traffic-light grid.
var StatusOrder = []string{engine.StatusEnRetard, engine.StatusASurveiller, engine.StatusBonneVoie,
	engine.StatusAtteint, engine.StatusSansDonnees, engine.StatusSansCible}

// AxisTitles are the three axes of the roadmap in its own words (the commitments it lists per axis);
// the COPIL tiles and the `axes` query use them.
var AxisTitles = map[int]string{
	1: "Coordonner les acteurs sur chaque territoire",
	2: "Accompagner, équiper et connecter les habitants",
	3: "Faire connaître l'offre et informer les relais",
}

// AxisLabel is the categorical label of an axis ("Axe 2"; "Contexte" for context indicators).
func AxisLabel(axis int) string {
	if axis <= 0 {
		return "Contexte"
	}
	return "Axe " + strconv.Itoa(axis)
}

func statusMapper() data.ValueMapper {
	m := data.ValueMapper{}
	for i, s := range StatusOrder {
		m[s] = data.ValueMappingResult{Text: StatusLabels[s], Color: StatusColors[s], Index: i}
	}
	return m
}

// Display is how a catalogue unit is shown: Grafana unit id, decimals, bounds, and the wording that a
// per-capita figure carries in its axis label (never repeated on every tick).
type Display struct {
	Unit      string
	Decimals  uint16
	Min, Max  *float64
	AxisLabel string
}

// DisplayOf maps a catalogue unit: counts are integers (unit "none", 0 decimals); percentages are
// "percent" from 0 to 100 with 1 decimal; per-capita rates are "short" with 1 decimal and their wording
// ("pour 1 000 hab.") in the axis label.
func DisplayOf(unit string) Display {
	zero, hundred := 0.0, 100.0
	switch u := strings.ToLower(strings.TrimSpace(unit)); u {
	case "%", "percent", "pourcent", "pourcentage", "pct":
		return Display{Unit: "percent", Decimals: 1, Min: &zero, Max: &hundred}
	case "", "nombre", "count":
		return Display{Unit: "none", Decimals: 0, Min: &zero}
	}
	return Display{Unit: "short", Decimals: 1, Min: &zero, AxisLabel: strings.TrimSpace(unit)}
}

// apply writes the display into a field config.
func (d Display) apply(c *data.FieldConfig) {
	c.Unit = d.Unit
	dec := d.Decimals
	c.Decimals = &dec
	if d.Min != nil {
		v := data.ConfFloat64(*d.Min)
		c.Min = &v
	}
	if d.Max != nil {
		v := data.ConfFloat64(*d.Max)
		c.Max = &v
	}
	if d.AxisLabel != "" {
		if c.Custom == nil {
			c.Custom = map[string]any{}
		}
		c.Custom["axisLabel"] = d.AxisLabel
	}
}

// decimals sets a fixed number of decimals on a field.
func decimals(f *data.Field, n uint16) *data.Field {
	if f.Config == nil {
		f.Config = &data.FieldConfig{}
	}
	f.Config.Decimals = &n
	return f
}

// dateUnit shows a date day-first (DD/MM/YYYY), whatever the browser's locale.
const dateUnit = "time:DD/MM/YYYY"

func dated(f *data.Field) *data.Field {
	if f.Config == nil {
		f.Config = &data.FieldConfig{}
	}
	f.Config.Unit = dateUnit
	return f
}

// FormatNumber writes v the French way: decimal comma, narrow no-break space between thousands, halves
// rounded away from zero (4,25 → 4,3, as a reader rounds).
func FormatNumber(v float64, decimals int) string {
	p := math.Pow(10, float64(decimals))
	s := strconv.FormatFloat(math.Round(math.Abs(v)*p)/p, 'f', decimals, 64)
	intPart, frac, _ := strings.Cut(s, ".")
	var b strings.Builder
	if v < 0 && strings.Trim(s, "0.") != "" {
		b.WriteString("−")
	}
	for i, r := range intPart {
		if i > 0 && (len(intPart)-i)%3 == 0 {
			b.WriteRune('\u202f')
		}
		b.WriteRune(r)
	}
	if frac != "" {
		b.WriteString(",")
		b.WriteString(frac)
	}
	return b.String()
}

// FormatValue is a value in its unit, as a sentence would write it: "14", "47,6 %", "4,3 pour 1 000
// hab."; "—" without a value.
func FormatValue(v *float64, unit string) string {
	if v == nil {
		return "—"
	}
	d := DisplayOf(unit)
	s := FormatNumber(*v, int(d.Decimals))
	switch {
	case d.Unit == "percent":
		return s + "\u202f%"
	case d.AxisLabel != "":
		return s + " " + d.AxisLabel
	}
	return s
}

// FormatAgo is a French relative time ("il y a 3 min", "il y a 2 j"), "jamais" for nil; a time in the
// future reads "dans …".
func FormatAgo(t *time.Time, now time.Time) string {
	if t == nil {
		return "jamais"
	}
	d := now.Sub(*t)
	prefix := "il y a "
	if d < 0 {
		d, prefix = -d, "dans "
	}
	switch {
	case d < time.Minute:
		return "à l'instant"
	case d < time.Hour:
		return fmt.Sprintf("%s%d min", prefix, int(d/time.Minute))
	case d < 48*time.Hour:
		return fmt.Sprintf("%s%d h", prefix, int(d/time.Hour))
	case d < 60*24*time.Hour:
		return fmt.Sprintf("%s%d j", prefix, int(d/(24*time.Hour)))
	}
	return fmt.Sprintf("%s%d mois", prefix, int(d/(30*24*time.Hour)))
}

var frenchMonths = [...]string{"janvier", "février", "mars", "avril", "mai", "juin", "juillet", "août", "septembre", "octobre", "novembre", "décembre"}

// MonthLabel is a month as a sentence writes it: « octobre 2026 ».
func MonthLabel(m engine.Month) string {
	return fmt.Sprintf("%s %d", frenchMonths[m.Month-1], m.Year)
}

// Change is the direction of a value between two months: "hausse", "baisse", "stable", "" (unknown).
func Change(trend *float64) string {
	switch {
	case trend == nil:
		return ""
	case math.Abs(*trend) < 1e-9:
		return "stable"
	case *trend > 0:
		return "hausse"
	}
	return "baisse"
}

var changeMappings = data.ValueMappings{data.ValueMapper{
	"hausse": {Text: "▲ hausse", Color: "text", Index: 0},
	"baisse": {Text: "▼ baisse", Color: "text", Index: 1},
	"stable": {Text: "= stable", Color: "text", Index: 2},
}}

// statusRank orders statuses worst first (StatusOrder); unknown ones last.
func statusRank(s string) int {
	for i, x := range StatusOrder {
		if x == s {
			return i
		}
	}
	return len(StatusOrder)
}
