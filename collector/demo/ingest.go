package demo

import (
	"context"
	"fmt"

	"github.com/sdaasp-rhone/fne/collector/ingest"
	"github.com/sdaasp-rhone/fne/internal/engine"
	"github.com/sdaasp-rhone/fne/internal/territory"
)

// SourceSummary adds up the runs of one source over the demo files.
type SourceSummary struct {
	Source                  string
	Files                   int
	Read, Written, Rejected uint64
	Failed                  int    // runs that failed
	FirstError              string // the first failure, for the report
	ExpectedValid           int
	ExpectedInvalid         int
}

// Ingest runs every generated file through its collector, in the order of res.Files (structures before
// activities, meetings before participations), and sums the runs per source. A failing run does not
// stop the others: its error is in the summary.
func Ingest(ctx context.Context, runner *ingest.Runner, reg *ingest.Registry, res *Result, ref *territory.Reference) ([]SourceSummary, error) {
	var out []SourceSummary
	idx := map[string]int{}
	for _, f := range res.Files {
		c, err := reg.Get(f.Source)
		if err != nil {
			return out, err
		}
		i, ok := idx[f.Source]
		if !ok {
			i = len(out)
			idx[f.Source] = i
			out = append(out, SourceSummary{Source: f.Source})
		}
		s := &out[i]
		s.Files++
		s.ExpectedValid += f.Valid
		s.ExpectedInvalid += f.Invalid
		sum, err := runner.Run(ctx, c, ingest.Input{Location: f.Path, Reference: ref})
		s.Read += sum.Read
		s.Written += sum.Written
		s.Rejected += sum.Rejected
		if err != nil {
			s.Failed++
			if s.FirstError == "" {
				s.FirstError = err.Error()
			}
			if ctx.Err() != nil {
				return out, fmt.Errorf("ingestion interrompue : %w", ctx.Err())
			}
		}
	}
	// The activity aggregates, persisted once everything is in: the first `fne indicators` reads them.
	if err := engine.New(runner.Conn, nil).Refresh(ctx); err != nil {
		return out, fmt.Errorf("agrégats d'activités : %w", err)
	}
	return out, nil
}
