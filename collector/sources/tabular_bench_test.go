package sources

import (
	"bytes"
	"fmt"
	"io"
	"testing"
	"time"

	"github.com/sdaasp-rhone/fne/internal/reference"
)

// BenchmarkParseLieuxCSV measures reading and checking places without ClickHouse (rows/s).
func BenchmarkParseLieuxCSV(b *testing.B) {
	p, err := reference.ParseDir("")
	if err != nil {
		b.Fatal(err)
	}
	m := newLieuMatcher(p.Ref)
	var buf bytes.Buffer
	buf.WriteString("id,pivot,nom,commune,code_postal,adresse,date_maj,latitude,longitude,services\n")
	const n = 50000
	names := []string{"Beaujeu", "St-Didier-sur-Beaujeu", "Tarare", "Mornant"}
	for i := 0; i < n; i++ {
		fmt.Fprintf(&buf, "L-%d,1,Lieu %d,%s,69430,1 rue,2026-0%d-01,46.1,4.5,A|B\n", i, i, names[i%4], 1+i%9)
	}
	data := buf.Bytes()
	now := time.Now()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		t, err := newCSVTable(bytes.NewReader(data))
		if err != nil {
			b.Fatal(err)
		}
		for {
			r, err := t.Next()
			if err == io.EOF {
				break
			}
			if _, _, reason := parseLieu(lieuFromRow(r), m, now); reason != "" {
				b.Fatal(reason)
			}
		}
	}
	b.ReportMetric(float64(n*b.N)/b.Elapsed().Seconds(), "rows/s")
}
