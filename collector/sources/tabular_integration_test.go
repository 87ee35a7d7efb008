//go:build integration

package sources

import (
	"context"
	"fmt"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/cenkalti/backoff/v4"

	"github.com/sdaasp-rhone/fne/collector/ingest"
	"github.com/sdaasp-rhone/fne/internal/chtest"
)

// ftRun runs one collector on a file against db and returns its summary.
func ftRun(t *testing.T, db *chtest.DB, c ingest.Collector, in ingest.Input) ingest.Summary {
	t.Helper()
	r := &ingest.Runner{Conn: db.Conn, Retry: func() backoff.BackOff { return &backoff.StopBackOff{} }}
	sum, _ := r.Run(context.Background(), c, in)
	return sum
}

// ftCounts checks read / written / rejected of a run.
func ftCounts(t *testing.T, sum ingest.Summary, read, written, rejected uint64) {
	t.Helper()
	if sum.Err != nil {
		t.Fatalf("run %s en échec : %v", sum.Source, sum.Err)
	}
	if sum.Read != read || sum.Written != written || sum.Rejected != rejected {
		t.Fatalf("%s : lues/écrites/rejetées = %d/%d/%d, attendu %d/%d/%d (motifs : %v)", sum.Source, sum.Read, sum.Written, sum.Rejected,
			read, written, rejected, sum.RejectsByReason)
	}
}

// ftQuery returns every row of query as strings joined by "|" (each column converted with toString).
func ftQuery(t *testing.T, db *chtest.DB, query string, args ...any) []string {
	t.Helper()
	rows, err := db.Conn.Query(context.Background(), query, args...)
	if err != nil {
		t.Fatalf("%s : %v", query, err)
	}
	defer rows.Close()
	var out []string
	n := len(rows.Columns())
	for rows.Next() {
		vals := make([]string, n)
		ptrs := make([]any, n)
		for i := range vals {
			ptrs[i] = &vals[i]
		}
		if err := rows.Scan(ptrs...); err != nil {
			t.Fatalf("%s : %v", query, err)
		}
		out = append(out, strings.Join(vals, "|"))
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	return out
}

// ftRejects lists the rejects of a run as "position|field" sorted by line, and their reasons.
func ftRejects(t *testing.T, db *chtest.DB, runID string) (keys []string, reasons map[string]string) {
	t.Helper()
	reasons = map[string]string{}
	for _, r := range ftQuery(t, db, "SELECT position, field, reason, raw FROM rejects WHERE run_id = ? ORDER BY length(position), position", runID) {
		p := strings.SplitN(r, "|", 4)
		keys = append(keys, p[0]+"|"+p[1])
		reasons[p[0]] = p[2]
	}
	return keys, reasons
}

func ftEqual(t *testing.T, what string, got, want []string) {
	t.Helper()
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Fatalf("%s :\nobtenu :\n  %s\nattendu :\n  %s", what, strings.Join(got, "\n  "), strings.Join(want, "\n  "))
	}
}

func ftSorted(s []string) []string { s = append([]string(nil), s...); sort.Strings(s); return s }

// ftWait makes two runs land in different seconds when a test needs distinct ingestion times.
func ftWait() { time.Sleep(1100 * time.Millisecond) }

var _ = fmt.Sprintf
