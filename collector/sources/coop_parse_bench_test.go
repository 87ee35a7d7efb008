package sources

import (
	"bytes"
	"encoding/json"
	"testing"
	"time"
)

// BenchmarkCoopParse measures reading, schema validation and mapping alone (no ClickHouse), to tell the
// collector's CPU share from the driver's in the ingest benchmark.
func BenchmarkCoopParse(b *testing.B) {
	const n = 100000
	var buf bytes.Buffer
	if err := writeGeneratedActivities(&buf, n); err != nil {
		b.Fatal(err)
	}
	sch, err := coopSchema("activite.schema.json")
	if err != nil {
		b.Fatal(err)
	}
	spec := newActivites().spec
	now := time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC)
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		rows := 0
		_, err := readCoopPage(bytes.NewReader(buf.Bytes()), func(raw json.RawMessage) error {
			_, _, _, rerr := spec.parse(sch, raw, now)
			if rerr != nil {
				b.Fatalf("%+v", rerr)
			}
			rows++
			return nil
		})
		if err != nil || rows != n {
			b.Fatal(err, rows)
		}
	}
	b.ReportMetric(float64(n*b.N)/b.Elapsed().Seconds(), "rows/s")
}
