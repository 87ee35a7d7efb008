// Package sources holds one collector per source of DESIGN §2, each in its own file with its own test,
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
