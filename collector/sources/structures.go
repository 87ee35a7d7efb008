package sources

import "github.com/sdaasp-rhone/fne/collector/ingest"

// NewStructures is a placeholder until the structures collector is written.
func NewStructures() ingest.Collector { return stub{"structures"} }
