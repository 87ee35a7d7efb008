package plugin

import (
	"context"
	"time"

	"github.com/sdaasp-rhone/fne/internal/engine"
	"github.com/sdaasp-rhone/fne/internal/territory"
)

// Engine is what the plugin needs of internal/engine: the same methods as *engine.Engine, except that
// the catalogue is reduced to the indicator descriptions the editors and frames show. Keeping it an
// interface lets unit tests exercise the query and scope logic without a database.
type Engine interface {
	Indicators() []Indicator
	Reference(ctx context.Context) (*territory.Reference, error)
	Evaluate(ctx context.Context, t territory.ID, m engine.Month, ids ...string) ([]engine.Result, error)
	Series(ctx context.Context, id string, t territory.ID, from, to engine.Month) ([]engine.Point, error)
	Breakdown(ctx context.Context, id string, parent territory.ID, level territory.Level, m engine.Month) ([]engine.Child, error)
	Gaps(ctx context.Context, t territory.ID, m engine.Month) ([]engine.Gap, error)
	Milestones(ctx context.Context) ([]engine.Milestone, error)
	Freshness(ctx context.Context, now time.Time) ([]engine.Freshness, error)
	LatestMonth(ctx context.Context) (engine.Month, error)
}

// Indicator is one catalogue entry as the editors see it (resource `catalogue`).
type Indicator struct {
	ID         string   `json:"id"`
	Axis       int      `json:"axis"`
	Action     string   `json:"action"`
	Label      string   `json:"label"`
	Definition string   `json:"definition"`
	Unit       string   `json:"unit"`
	Levels     []string `json:"levels"`
	Target     *float64 `json:"target"` // the département-level target; see TargetAt
	Direction  string   `json:"direction"`
	// TargetOrigin: "feuille_de_route" (a roadmap commitment) or "copil" (a default), "" for context.
	TargetOrigin string `json:"target_origin"`

	targetLevels []territory.Level // levels the target applies to; empty = every level
}

// TargetAt is the target for a territory of level l, nil when the indicator has none there (the
// 14 active counsellors are a département target, not an EPCI one).
func (i Indicator) TargetAt(l territory.Level) *float64 {
	if i.Target == nil {
		return nil
	}
	if len(i.targetLevels) > 0 {
		ok := false
		for _, x := range i.targetLevels {
			ok = ok || x == l
		}
		if !ok {
			return nil
		}
	}
	v := *i.Target
	return &v
}

// Session is one datasource's live connection: the engine, the schema check and how to close it.
type Session struct {
	Engine Engine
	// Schema returns the applied and the expected schema versions (internal/migrate.Check).
	Schema func(ctx context.Context) (current, latest int, err error)
	Close  func() error
}

// Opener connects a datasource to its database.
type Opener func(ctx context.Context, s Settings) (*Session, error)
