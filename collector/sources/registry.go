// Package sources holds one collector per source of docs/regles.md « Sources », each in its own file with its own test,
// and the explicit registry of all of them.
package sources

import "github.com/sdaasp-rhone/fne/collector/ingest"

// All returns every collector, in the order a full collection runs them (structures before activities
// is not required for correctness, only for the first figures to be complete sooner).
func All() []ingest.Collector {
	return []ingest.Collector{
		NewStructures(),
		NewActivites(),
		NewLieux(),
		NewConsultations(),
		NewRencontres(),
		NewParticipations(),
		NewEquipements(),
		NewJalons(),
	}
}

// Registry is the explicit registry of All.
func Registry() *ingest.Registry { return ingest.NewRegistry(All()...) }

// Options accepted by each kind of source (--option clé=valeur, the daemon's options), checked by
// ingest.CheckOptions so that a mistyped key is an error rather than silently ignored.
var (
	tableOptions  = []string{"encoding", "sheet"}
	coopOptions   = []string{"page_size", "token", "token_file"}
	formatOptions = []string{"encoding", "format", "sheet"}
)

func (*consultationsCollector) Options() []string {
	return []string{"encoding", "sheet", "since", "site_id", "token", "token_file", "url_regexp"}
}
func (*coopCollector) Options() []string { return coopOptions }
func (equipements) Options() []string    { return tableOptions }
func (jalons) Options() []string         { return formatOptions }
func (lieux) Options() []string          { return formatOptions }
func (participations) Options() []string { return tableOptions }
func (rencontres) Options() []string     { return tableOptions }
