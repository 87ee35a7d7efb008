package sources

import "github.com/sdaasp-rhone/fne/collector/ingest"

// NewEquipements is a placeholder until the equipements collector is written.
func NewEquipements() ingest.Collector { return stub{"equipements"} }
