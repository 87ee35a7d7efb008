package sources

import "github.com/sdaasp-rhone/fne/collector/ingest"

// NewLieux is a placeholder until the lieux collector is written.
func NewLieux() ingest.Collector { return stub{"lieux"} }
