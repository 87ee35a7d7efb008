package engine

import (
	"context"
	"fmt"
	"time"
)

// pastSQL reads, for the sources whose records carry a date that may lie ahead (a planned meeting), the
// newest record dated at or before a day.
var pastSQL = map[string]string{
	"rencontres":    "SELECT toDateTime(max(date)) FROM rencontres WHERE deleted = 0 AND date <= toDate(?)",
	"activites":     "SELECT toDateTime(max(date)) FROM activites WHERE deleted = 0 AND date <= toDate(?)",
	"consultations": "SELECT toDateTime(max(date)) FROM consultations WHERE date <= toDate(?)",
}

// NewestPast is the newest record of source dated at or before now's day (nil when there is none, or
// when the source has no such date). Freshness's LastData may be a planned meeting in the future; what
// a freshness table must show is the newest data that really happened.
func (e *Engine) NewestPast(ctx context.Context, source string, now time.Time) (*time.Time, error) {
	q, ok := pastSQL[source]
	if !ok {
		return nil, nil
	}
	var d time.Time
	if err := e.conn.QueryRow(ctx, q, now.UTC().Format("2006-01-02")).Scan(&d); err != nil {
		return nil, fmt.Errorf("donnée la plus récente de %s : %w", source, err)
	}
	if d.Year() <= 1970 {
		return nil, nil
	}
	return &d, nil
}
