package plugin

import (
	"context"
	"fmt"
	"os"

	"github.com/sdaasp-rhone/fne/internal/catalogue"
	"github.com/sdaasp-rhone/fne/internal/engine"
	"github.com/sdaasp-rhone/fne/internal/migrate"
	"github.com/sdaasp-rhone/fne/internal/store"
)

// CatalogueEnv names an optional deployment catalogue file (targets and deadlines overridden, as for the
// `fne` command): the plugin process must use the same file as the CLI to give the same numbers.
const CatalogueEnv = "FNE_CATALOGUE"

// LoadCatalogue is the embedded catalogue, or the deployment file named by FNE_CATALOGUE.
func LoadCatalogue() (*catalogue.Catalogue, error) {
	if p := os.Getenv(CatalogueEnv); p != "" {
		return catalogue.LoadFile(p)
	}
	return catalogue.Load()
}

// Open is the production Opener: a ClickHouse connection from the settings and the engine on it.
func Open(ctx context.Context, s Settings) (*Session, error) {
	cat, err := LoadCatalogue()
	if err != nil {
		return nil, fmt.Errorf("catalogue des indicateurs : %w", err)
	}
	conn, err := store.Open(ctx, s.StoreConfig())
	if err != nil {
		return nil, err
	}
	return &Session{
		Engine: Wrap(engine.New(conn, cat)),
		Schema: func(ctx context.Context) (int, int, error) { return migrate.Check(ctx, conn) },
		Close:  conn.Close,
	}, nil
}

// Wrap adapts *engine.Engine to Engine.
func Wrap(e *engine.Engine) Engine {
	return engineAdapter{Engine: e, inds: Indicators(e.Catalogue())}
}

type engineAdapter struct {
	*engine.Engine
	inds []Indicator
}

func (a engineAdapter) Indicators() []Indicator { return a.inds }

// Indicators describes a catalogue for the editors.
func Indicators(c *catalogue.Catalogue) []Indicator {
	out := make([]Indicator, 0, len(c.Indicators))
	for _, i := range c.Indicators {
		levels := make([]string, len(i.Levels))
		for j, l := range i.Levels {
			levels[j] = string(l)
		}
		out = append(out, Indicator{
			ID: i.ID, Axis: i.Axis, Action: i.Action, Label: i.Label, Definition: i.Definition, Unit: i.Unit,
			Levels: levels, Target: i.Target, Direction: i.Direction, targetLevels: i.TargetLevels, TargetOrigin: i.TargetOrigin,
		})
	}
	return out
}
