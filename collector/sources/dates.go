package sources

// Accepted date ranges (rule « dates » of docs/regles.md). Every date a source gives is checked here
// before it is stored: an observed fact (an activity, a consultation, an update of a place, a figure, a
// milestone reached, an upstream modification) cannot lie more than one day after the ingestion; a
// planned one (a meeting, a milestone's due date) may lie ahead, up to the end of 2099. Nothing before
// 2000 is a date of this programme. A date outside its range is a reject that names the value and the
// range: it is never wrapped (ClickHouse Date stops in 2149, DateTime in 2106) nor clamped.

import (
	"fmt"
	"time"
)

var (
	// dateFloor is the earliest date accepted anywhere.
	dateFloor = time.Date(2000, 1, 1, 0, 0, 0, 0, time.UTC)
	// plannedCeiling is the latest date of a planned event.
	plannedCeiling = time.Date(2099, 12, 31, 0, 0, 0, 0, time.UTC)
)

// observedSlack is how far after the ingestion an observed fact may be dated: time zones and clocks
// a few hours ahead, not more.
const observedSlack = 24 * time.Hour

// dateKind says which range applies.
type dateKind int

const (
	observed dateKind = iota // happened: from 2000-01-01 to the ingestion + 1 day
	planned                  // may lie ahead: from 2000-01-01 to 2099-12-31
)

// dateBounds is the accepted range of kind for an ingestion at now (the clock when now is zero).
func dateBounds(kind dateKind, now time.Time) (lo, hi time.Time) {
	if kind == planned {
		return dateFloor, plannedCeiling
	}
	if now.IsZero() {
		now = time.Now()
	}
	return dateFloor, now.UTC().Add(observedSlack)
}

// checkDate returns "" when d (a calendar date, or a timestamp when withTime) is in the range of kind,
// else the French reason of the reject, with the value and the range.
func checkDate(field string, d time.Time, kind dateKind, withTime bool, now time.Time) string {
	lo, hi := dateBounds(kind, now)
	if !d.Before(lo) && !d.After(hi) {
		return ""
	}
	layout := "2006-01-02"
	if withTime {
		layout = "2006-01-02T15:04:05Z"
	}
	why := "date d'un fait observé : au plus un jour après l'ingestion"
	if kind == planned {
		why = "date prévue : jusqu'à fin 2099"
	}
	return fmt.Sprintf("%s « %s » hors de la plage admise, du %s au %s (%s)", field, d.UTC().Format(layout),
		lo.Format(layout), hi.UTC().Format(layout), why)
}
