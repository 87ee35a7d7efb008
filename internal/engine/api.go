// Package engine evaluates the roadmap indicators of the catalogue (schemas/indicators) for any territory
// and month, exactly as docs/regles.md and the catalogue define them. It is the only place that holds indicator SQL: the `fne
// indicators` command and the Grafana plugin both call it, so they give the same numbers.
package engine

import (
	"fmt"
	"time"

	"github.com/sdaasp-rhone/fne/internal/territory"
)

// Month is a calendar month, the evaluation period of every indicator ("2026-10").
type Month struct {
	Year  int
	Month time.Month
}

// ParseMonth reads "YYYY-MM".
func ParseMonth(s string) (Month, error) {
	t, err := time.Parse("2006-01", s)
	if err != nil {
		return Month{}, fmt.Errorf("période invalide %q (attendu AAAA-MM, ex. 2026-10)", s)
	}
	return Month{t.Year(), t.Month()}, nil
}

// MonthOf is the month that contains t.
func MonthOf(t time.Time) Month { return Month{t.Year(), t.Month()} }

func (m Month) String() string { return fmt.Sprintf("%04d-%02d", m.Year, int(m.Month)) }

// Start is the first day of the month, UTC.
func (m Month) Start() time.Time { return time.Date(m.Year, m.Month, 1, 0, 0, 0, 0, time.UTC) }

// End is the last day of the month, UTC (a date: the month's last day at 00:00).
func (m Month) End() time.Time { return m.Start().AddDate(0, 1, -1) }

// Add moves n months (negative for earlier).
func (m Month) Add(n int) Month { return MonthOf(m.Start().AddDate(0, n, 0)) }

// Before reports whether m is earlier than o.
func (m Month) Before(o Month) bool { return m.Start().Before(o.Start()) }

// Statuses (docs/regles.md « Indicateurs et statuts »).
const (
	StatusAtteint     = "atteint"
	StatusBonneVoie   = "en_bonne_voie"
	StatusASurveiller = "a_surveiller"
	StatusEnRetard    = "en_retard"
	StatusSansDonnees = "sans_donnees"
	StatusSansCible   = "sans_cible" // context indicators (ctx.*) have no target
)

// Result is one indicator evaluated for one territory and month. Value is nil when the indicator is
// sans_donnees (no input anywhere in its window, or not applicable to the territory).
type Result struct {
	ID         string   `json:"id"`
	Axis       int      `json:"axis"`   // 1..3, 0 for context indicators
	Action     string   `json:"action"` // "1.2", "2.x", "" for context
	Label      string   `json:"label"`
	Definition string   `json:"definition"`
	Unit       string   `json:"unit"`
	Territory  string   `json:"territory"`
	Period     string   `json:"period"`
	Value      *float64 `json:"value"`
	Target     *float64 `json:"target"`
	// TargetOrigin is catalogue.TargetFeuilleDeRoute or catalogue.TargetCopil when Target is set, else "".
	TargetOrigin string     `json:"target_origin"`
	Direction    string     `json:"direction"` // "au_moins", "au_plus", "hausse"
	Deadline     string     `json:"deadline,omitempty"`
	Progress     *float64   `json:"progress"` // % of the target reached (0–100+), nil without target
	Status       string     `json:"status"`
	Trend        *float64   `json:"trend"`     // value minus the previous month's value, nil if either is missing
	LastData     *time.Time `json:"last_data"` // newest input date feeding this indicator in the territory
}

// Point is one month of a series.
type Point struct {
	Month  Month
	Value  *float64
	Target *float64 // the trajectory target for that month
	Status string
}

// Child is one sub-territory of a breakdown.
type Child struct {
	Territory territory.ID
	Name      string
	Latitude  float64
	Longitude float64
	// NoCentroid: the reference has no centroid for it, Latitude and Longitude are not a place.
	NoCentroid bool
	Population uint64
	Value      *float64
	Status     string
}

// Gap is a territory failing a target (no wifi hotspot, far from any place, no local meeting…).
type Gap struct {
	Territory  territory.ID
	Name       string
	Indicator  string
	Label      string // French, what fails
	Value      *float64
	Target     *float64
	Population uint64
}

// Milestone is one roadmap milestone in its current state.
type Milestone struct {
	Action       string
	Jalon        string
	Libelle      string
	Statut       string
	DatePrevue   *time.Time
	DateRealisee *time.Time
	EnRetard     bool // not realised (nor abandoned) and its planned date is past
}

// Freshness is the state of one source's collection.
type Freshness struct {
	Source       string
	LastRun      *time.Time // end of the newest run
	LastSuccess  *time.Time // end of the newest successful (or partial) run
	LastStatus   string
	LastData     *time.Time // newest record date in the source's table
	RowsRejected uint64     // rejects of the newest run
	Stale        bool       // no success within the source's expected interval
	OutOfScope   uint64     // activites only: activities of the newest month located in no commune of the reference
}
