// Package ingest is the collectors' framework: the Collector interface, the explicit registry, and the
// Sink through which every collector writes rows, rejects and its watermark. Run wraps one collection
// with the bookkeeping of docs/regles.md « Lancements » (ingestion_runs, rejects, watermarks) and the
// retries that make a ClickHouse restart harmless: rows are only ever appended with a version, so
// re-sending a batch or replaying a whole run never changes a figure.
package ingest

import (
	"context"
	"fmt"
	"sort"
	"strings"
	"time"

	"github.com/sdaasp-rhone/fne/internal/territory"
)

// Collector reads one source of docs/regles.md « Sources » and writes its records through the Sink.
type Collector interface {
	// Name is the source name used on the command line and in the tables ("activites", "lieux"…).
	Name() string
	// Description is a one-line French description for `fne help ingest`.
	Description() string
	// Collect reads in and writes every record to sink: valid rows with sink.Writer(…).Append, invalid
	// ones with sink.Reject. It returns an error only when the run as a whole cannot go on (unreadable
	// file, HTTP 401, malformed page); a bad record is a reject, never an error.
	Collect(ctx context.Context, in Input, sink *Sink) error
}

// Configurable is a collector that declares the option keys it reads.
type Configurable interface {
	Options() []string
}

// CheckOptions refuses an option key that c does not read (a typo would otherwise be ignored), with the
// list of the accepted keys.
func CheckOptions(c Collector, opts map[string]string) error {
	cc, ok := c.(Configurable)
	if !ok {
		return nil
	}
	known := map[string]bool{}
	for _, k := range cc.Options() {
		known[k] = true
	}
	var bad []string
	for k := range opts {
		if !known[k] {
			bad = append(bad, k)
		}
	}
	if len(bad) == 0 {
		return nil
	}
	sort.Strings(bad)
	accepted := strings.Join(cc.Options(), ", ")
	if accepted == "" {
		accepted = "aucune"
	}
	return fmt.Errorf("option(s) inconnue(s) pour la source %s : %s (options admises : %s)", c.Name(), strings.Join(bad, ", "), accepted)
}

// Input is what to read.
type Input struct {
	// Location is a file path or an http(s) URL.
	Location string
	// Options are the source's settings from the daemon's YAML config (base_url, token_file, regexp…),
	// empty for a one-off file import.
	Options map[string]string
	// Watermark is the last upstream modification time already ingested for this source (RFC 3339), ""
	// the first time. Incremental collectors ask only for what changed since then.
	Watermark string
	// Now is the ingestion time (ingested_at, store.Version), whole seconds; set by Run.
	Now time.Time
	// IngestVersion is a version that grows with every run (Unix nanoseconds of its start), for tables
	// where the later ingestion wins (consultations, meetings, equipment, milestones): add the record's
	// position in the input so that, within one file, a later line wins over an earlier duplicate.
	IngestVersion uint64
	// Reference is the territory reference in force (nil if none was loaded): collectors that locate
	// records by commune name need it.
	Reference *territory.Reference
}

// Option returns an option or its default.
func (in Input) Option(name, def string) string {
	if v, ok := in.Options[name]; ok && v != "" {
		return v
	}
	return def
}

// IsURL reports whether the input is read over HTTP.
func (in Input) IsURL() bool {
	l := strings.ToLower(in.Location)
	return strings.HasPrefix(l, "http://") || strings.HasPrefix(l, "https://")
}

// Registry is the explicit list of collectors, by name.
type Registry struct{ m map[string]Collector }

// NewRegistry registers cs; duplicate names are a programming error.
func NewRegistry(cs ...Collector) *Registry {
	r := &Registry{m: map[string]Collector{}}
	for _, c := range cs {
		if _, dup := r.m[c.Name()]; dup {
			panic("ingest: collector registered twice: " + c.Name())
		}
		r.m[c.Name()] = c
	}
	return r
}

// Get returns the collector named name.
func (r *Registry) Get(name string) (Collector, error) {
	c, ok := r.m[name]
	if !ok {
		return nil, fmt.Errorf("source inconnue « %s » (sources : %s)", name, strings.Join(r.Names(), ", "))
	}
	return c, nil
}

// Names lists the registered sources, sorted.
func (r *Registry) Names() []string {
	out := make([]string, 0, len(r.m))
	for n := range r.m {
		out = append(out, n)
	}
	sort.Strings(out)
	return out
}
