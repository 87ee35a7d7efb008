package sources

import "github.com/sdaasp-rhone/fne/collector/ingest"

// NewJalons is a placeholder until the jalons collector is written.
func NewJalons() ingest.Collector { return stub{"jalons"} }
