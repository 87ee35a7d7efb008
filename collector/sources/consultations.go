package sources

import "github.com/sdaasp-rhone/fne/collector/ingest"

// NewConsultations is a placeholder until the consultations collector is written.
func NewConsultations() ingest.Collector { return stub{"consultations"} }
