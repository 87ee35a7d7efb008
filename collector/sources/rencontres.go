package sources

import "github.com/sdaasp-rhone/fne/collector/ingest"

// NewRencontres is a placeholder until the rencontres collector is written.
func NewRencontres() ingest.Collector { return stub{"rencontres"} }
