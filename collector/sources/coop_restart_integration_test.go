//go:build integration

package sources

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/cenkalti/backoff/v4"

	"github.com/sdaasp-rhone/fne/collector/ingest"
	"github.com/sdaasp-rhone/fne/internal/chtest"
	"github.com/sdaasp-rhone/fne/internal/migrate"
	"github.com/sdaasp-rhone/fne/internal/store"
)

// Ports of this test's own server: the shared one must never be stopped.
const (
	restartTCPPort  = "19471"
	restartHTTPPort = "18471"
)

func ownClickHouse(t *testing.T, dir, action string) {
	t.Helper()
	cmd := exec.Command("../../deploy/clickhouse/local/clickhouse.sh", action)
	cmd.Env = append(os.Environ(), "FNE_CH_DIR="+dir, "FNE_CH_TCP_PORT="+restartTCPPort, "FNE_CH_HTTP_PORT="+restartHTTPPort)
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Errorf("clickhouse.sh %s : %v\n%s", action, err, out)
	}
}

// TestActivitesSurviveClickHouseRestart: the server is stopped right after the first batch and started
// again 2 s later; the Sink's retries carry the run through: every activity lands exactly once (after
// deduplication), none is lost.
func TestActivitesSurviveClickHouseRestart(t *testing.T) {
	dir := t.TempDir()
	ownClickHouse(t, dir, "up")
	t.Cleanup(func() { ownClickHouse(t, dir, "down") })
	// Bounded: a hung run must fail this test, not reach the package timeout (which would skip the
	// cleanup and leave the server running).
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	conn, err := store.EnsureDatabase(ctx, store.Config{Addr: "127.0.0.1:" + restartTCPPort, Database: "fne_restart",
		DialTimeout: 2 * time.Second, QueryTimeout: 20 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	ms, err := migrate.Load()
	if err != nil {
		t.Fatal(err)
	}
	if _, err := migrate.Apply(ctx, conn, ms, migrate.Options{}); err != nil {
		t.Fatal(err)
	}

	const n = 50000
	file := filepath.Join(t.TempDir(), "activites.json")
	f, err := os.Create(file)
	if err != nil {
		t.Fatal(err)
	}
	if err := writeGeneratedActivities(f, n); err != nil {
		t.Fatal(err)
	}
	f.Close()

	var once sync.Once
	restarted := make(chan struct{})
	batches := 0
	r := &ingest.Runner{
		Conn:      conn,
		BatchSize: 10000,
		Retry: func() backoff.BackOff {
			b := backoff.NewExponentialBackOff()
			b.InitialInterval, b.MaxInterval = 200*time.Millisecond, time.Second
			b.MaxElapsedTime = 90 * time.Second // far longer than the 2 s outage
			return b
		},
		Progress: func(_ string, _, written, _ uint64) {
			batches++
			once.Do(func() {
				t.Logf("%d lignes écrites : arrêt du serveur", written)
				ownClickHouse(t, dir, "down")
				go func() {
					time.Sleep(2 * time.Second)
					ownClickHouse(t, dir, "up")
					t.Log("serveur redémarré")
					close(restarted)
				}()
			})
		},
	}
	sum, err := r.Run(ctx, NewActivites(), ingest.Input{Location: file})
	if err != nil {
		t.Fatal(err)
	}
	<-restarted
	if sum.Read != n || sum.Written != n || sum.Rejected != 0 || batches != n/10000 {
		t.Fatalf("bilan %+v, %d lots", sum, batches)
	}
	// Expected accompagnements: record i is collectif when i%3 == 2 with 2 + i%9, else 1.
	var wantSum uint64
	for i := 0; i < n; i++ {
		if i%3 == 2 {
			wantSum += uint64(2 + i%9)
		} else {
			wantSum++
		}
	}
	db := &chtest.DB{Conn: conn}
	got := queryInts(t, db, "SELECT count(), uniqExact(id), sum(a) FROM (SELECT id, argMax(accompagnements, version) AS a FROM activites GROUP BY id)")
	if got[0] != n || got[1] != n || got[2] != wantSum {
		t.Fatalf("activités %d (distinctes %d), accompagnements %d ; attendu %d, %d, %d", got[0], got[1], got[2], n, n, wantSum)
	}
	if fin := queryInts(t, db, "SELECT count() FROM activites FINAL"); fin[0] != n {
		t.Fatalf("%d lignes après FINAL, attendu %d (pas de doublon)", fin[0], n)
	}
	status := ""
	rows, err := conn.Query(ctx, "SELECT argMax(status, version) FROM ingestion_runs GROUP BY run_id")
	if err != nil {
		t.Fatal(err)
	}
	for rows.Next() {
		_ = rows.Scan(&status)
	}
	rows.Close()
	if status != ingest.StatusOK {
		t.Errorf("statut enregistré %q", status)
	}
}
