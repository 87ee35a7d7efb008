//go:build integration

package ingest_test

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/sdaasp-rhone/fne/collector/ingest"
	"github.com/sdaasp-rhone/fne/internal/chtest"
)

// fake writes n milestones, rejects the ones listed, and reports a watermark; it fails at the end when
// failWith is set (after its rows were sent).
type fake struct {
	rows     []string
	rejects  []string
	wm       string
	failWith error
}

func (f fake) Name() string        { return "jalons" }
func (f fake) Description() string { return "test" }
func (f fake) Collect(ctx context.Context, in ingest.Input, s *ingest.Sink) error {
	w := s.Writer("jalons", "action", "jalon", "version", "deleted", "libelle", "statut", "date_prevue", "date_realisee")
	for i, j := range f.rows {
		s.Read(1)
		if err := w.Append(ctx, "2.1", j, in.IngestVersion+uint64(i), uint8(0), "libellé "+j, "en_cours", nil, nil); err != nil {
			return err
		}
	}
	for i, r := range f.rejects {
		s.Read(1)
		s.Reject("ligne "+string(rune('5'+i)), "statut", "statut inconnu « "+r+" »", "2.1,"+r)
	}
	if f.wm != "" {
		s.SetWatermark(f.wm)
	}
	if f.failWith != nil {
		if err := s.Flush(ctx); err != nil {
			return err
		}
		return f.failWith
	}
	return nil
}

func TestRunBookkeeping(t *testing.T) {
	ctx := context.Background()
	db := chtest.Migrated(t)
	r := &ingest.Runner{Conn: db.Conn, BatchSize: 2}
	sum, err := r.Run(ctx, fake{rows: []string{"a", "b", "c"}, rejects: []string{"fini"}, wm: "2026-10-09T08:12:40Z"}, ingest.Input{Location: "https://u:p@x.example/j.yaml?token_auth=SECRET"})
	if err != nil {
		t.Fatal(err)
	}
	// 3 valid rows + 1 reject read; batches of 2 → 2 sends, all 3 written.
	if sum.Read != 4 || sum.Written != 3 || sum.Rejected != 1 || sum.Status != ingest.StatusPartial {
		t.Fatalf("summary %+v", sum)
	}
	if sum.Input != "https://x.example/j.yaml?token_auth=***" {
		t.Errorf("input not redacted: %s", sum.Input)
	}
	var status, input string
	var read, written, rejected uint64
	if err := db.Conn.QueryRow(ctx, "SELECT argMax(status, version), argMax(input, version), argMax(rows_read, version), argMax(rows_written, version), argMax(rows_rejected, version) FROM ingestion_runs WHERE run_id = ? GROUP BY run_id", sum.ID).
		Scan(&status, &input, &read, &written, &rejected); err != nil {
		t.Fatal(err)
	}
	if status != "partiel" || read != 4 || written != 3 || rejected != 1 || input != sum.Input {
		t.Errorf("ingestion_runs: %s %d %d %d %s", status, read, written, rejected, input)
	}
	var reason, raw, pos string
	if err := db.Conn.QueryRow(ctx, "SELECT reason, raw, position FROM rejects WHERE run_id = ?", sum.ID).Scan(&reason, &raw, &pos); err != nil {
		t.Fatal(err)
	}
	if reason != "statut inconnu « fini »" || raw != "2.1,fini" || pos != "ligne 5" {
		t.Errorf("reject: %q %q %q", reason, raw, pos)
	}
	var n uint64
	_ = db.Conn.QueryRow(ctx, "SELECT count() FROM jalons WHERE run_id = ?", sum.ID).Scan(&n)
	if n != 3 {
		t.Errorf("jalons rows: %d, want 3", n)
	}

	// A second run sees the stored watermark; a failing run does not advance it.
	sum2, err := r.Run(ctx, fake{rows: []string{"d"}, wm: "2026-11-01T00:00:00Z", failWith: errors.New("page mal formée")}, ingest.Input{Location: "f"})
	if err == nil || sum2.Status != ingest.StatusFailed || sum2.PreviousWatermark != "2026-10-09T08:12:40Z" {
		t.Fatalf("failing run: %+v, %v", sum2, err)
	}
	var wm string
	_ = db.Conn.QueryRow(ctx, "SELECT argMax(watermark, version) FROM watermarks WHERE source = 'jalons'").Scan(&wm)
	if wm != "2026-10-09T08:12:40Z" {
		t.Errorf("watermark after a failed run = %q, want the previous one", wm)
	}
	var msg string
	_ = db.Conn.QueryRow(ctx, "SELECT argMax(error, version) FROM ingestion_runs WHERE run_id = ? GROUP BY run_id", sum2.ID).Scan(&msg)
	if msg != "page mal formée" {
		t.Errorf("stored error = %q", msg)
	}
}

func TestRunCancelledIsRecordedAsFailed(t *testing.T) {
	db := chtest.Migrated(t)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	r := &ingest.Runner{Conn: db.Conn, Now: func() time.Time { return time.Date(2026, 11, 30, 6, 0, 0, 0, time.UTC) }}
	sum, err := r.Run(ctx, fake{rows: []string{"a"}}, ingest.Input{Location: "f"})
	if err == nil || sum.Status != ingest.StatusFailed {
		t.Fatalf("cancelled run: %+v, %v", sum, err)
	}
}

// cancelling writes batches of milestones and cancels the run (as SIGTERM does) after `after` rows.
type cancelling struct {
	cancel context.CancelFunc
	after  int
}

func (cancelling) Name() string        { return "jalons" }
func (cancelling) Description() string { return "test" }
func (c cancelling) Collect(ctx context.Context, in ingest.Input, s *ingest.Sink) error {
	w := s.Writer("jalons", "action", "jalon", "version", "deleted", "libelle", "statut", "date_prevue", "date_realisee")
	for i := 0; i < 10; i++ {
		if i == c.after {
			c.cancel()
		}
		s.Read(1)
		if err := w.Append(ctx, "2.1", fmt.Sprintf("j%d", i), in.IngestVersion+uint64(i), uint8(0), "x", "en_cours", nil, nil); err != nil {
			return err
		}
	}
	return nil
}

// TestRunBookkeepingInterruptedAndCancelled: a run left « en_cours » by a dead process is closed as
// interrupted by the next run of its source; a cancelled run reports exactly what is in the table.
func TestRunBookkeepingInterruptedAndCancelled(t *testing.T) {
	db := chtest.Migrated(t)
	ctx := context.Background()
	day := time.Date(2026, 11, 29, 6, 0, 0, 0, time.UTC)
	b, err := db.Conn.PrepareBatch(ctx, "INSERT INTO ingestion_runs (run_id, version, source, input, started_at, ended_at, rows_read, rows_written, rows_rejected, status, error)")
	if err != nil {
		t.Fatal(err)
	}
	_ = b.Append("mort", uint64(1), "jalons", "/data/j.csv", day, day, uint64(0), uint64(0), uint64(0), "en_cours", "")
	_ = b.Append("autre-source", uint64(1), "lieux", "/data/l.csv", day, day, uint64(0), uint64(0), uint64(0), "en_cours", "")
	if err := b.Send(); err != nil {
		t.Fatal(err)
	}
	// Batches of 2, cancelled before the 7th row: rows 1-6 were sent in 3 batches, nothing after.
	cctx, cancel := context.WithCancel(ctx)
	r := &ingest.Runner{Conn: db.Conn, BatchSize: 2}
	sum, err := r.Run(cctx, cancelling{cancel: cancel, after: 6}, ingest.Input{Location: "f"})
	if err == nil || sum.Status != ingest.StatusFailed {
		t.Fatalf("run annulé : %+v %v", sum, err)
	}
	var inTable uint64
	_ = db.Conn.QueryRow(ctx, "SELECT count() FROM jalons").Scan(&inTable)
	if sum.Written != 6 || inTable != 6 {
		t.Errorf("écrites : bilan %d, table %d, attendu 6 et 6", sum.Written, inTable)
	}
	got := map[string]string{}
	rows, err := db.Conn.Query(ctx, "SELECT run_id, argMax(status, version), argMax(error, version) FROM ingestion_runs WHERE run_id IN ('mort', 'autre-source') GROUP BY run_id")
	if err != nil {
		t.Fatal(err)
	}
	for rows.Next() {
		var id, st, msg string
		_ = rows.Scan(&id, &st, &msg)
		got[id] = st + "|" + msg
	}
	rows.Close()
	if want := "echec|interrompu : le processus s'est arrêté ou a perdu ClickHouse avant la fin (constaté au lancement " + sum.ID + ")"; got["mort"] != want {
		t.Errorf("run mort : %q, attendu %q", got["mort"], want)
	}
	if got["autre-source"] != "en_cours|" {
		t.Errorf("run d'une autre source touché : %q", got["autre-source"])
	}
}
