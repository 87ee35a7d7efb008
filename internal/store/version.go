package store

import "time"

// Version is the ReplacingMergeTree version of a record: the upstream modification time in the high 32
// bits and the ingestion time in the low 32 bits, both Unix seconds. The latest upstream modification
// wins; for equal modifications the later ingestion wins (rule « versions » of docs/regles.md): the
// ingestion time is the run's, which ingest.Runner makes strictly increasing from run to run. Callers
// check dates against their accepted range first (collector/sources/dates.go), so the clamp below is
// never reached by accepted data.
func Version(modified, ingested time.Time) uint64 {
	return uint64(clampU32(modified.Unix()))<<32 | uint64(clampU32(ingested.Unix()))
}

func clampU32(v int64) uint32 {
	if v < 0 {
		return 0
	}
	if v > 1<<32-1 {
		return 1<<32 - 1
	}
	return uint32(v)
}
