package sources

import "github.com/sdaasp-rhone/fne/collector/ingest"

// NewActivites is a placeholder until the activites collector is written.
func NewActivites() ingest.Collector { return stub{"activites"} }
