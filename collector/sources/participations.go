package sources

import "github.com/sdaasp-rhone/fne/collector/ingest"

// NewParticipations is a placeholder until the participations collector is written.
func NewParticipations() ingest.Collector { return stub{"participations"} }
