package sources

import (
	"context"
	"fmt"

	"github.com/sdaasp-rhone/fne/collector/ingest"
)

// stub stands for a collector not written yet. TODO(collectors): delete once every source is real.
type stub struct{ name string }

func (s stub) Name() string        { return s.name }
func (s stub) Description() string { return "non disponible" }
func (s stub) Collect(context.Context, ingest.Input, *ingest.Sink) error {
	return fmt.Errorf("la source %s n'est pas encore disponible", s.name)
}
