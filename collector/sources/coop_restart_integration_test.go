//go:build integration

package sources

import (
	"bytes"
	"context"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"sync"
	"syscall"
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

// ownClickHouse starts (clickhouse.sh up, which writes the config into dir) or stops this test's server.
// Stopping is done here, by the PID of the process whose --config-file is in dir: the 18.16 server does
// not write the --pid-file that clickhouse.sh down relies on.
func ownClickHouse(t *testing.T, dir, action string) {
	t.Helper()
	if action == "down" {
		stopOwnClickHouse(t, dir)
		return
	}
	// Output to a file, not a pipe: a pipe inherited by the daemonised server would keep Wait blocked.
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	logf, err := os.CreateTemp(dir, "clickhouse-sh-*.log")
	if err != nil {
		t.Error(err)
		return
	}
	defer logf.Close()
	cmd := exec.CommandContext(ctx, "../../deploy/clickhouse/local/clickhouse.sh", action)
	cmd.Env = append(os.Environ(), "FNE_CH_DIR="+dir, "FNE_CH_TCP_PORT="+restartTCPPort, "FNE_CH_HTTP_PORT="+restartHTTPPort)
	cmd.Stdout, cmd.Stderr = logf, logf
	if err := cmd.Run(); err != nil {
		out, _ := os.ReadFile(logf.Name())
		t.Errorf("clickhouse.sh %s : %v\n%s", action, err, out)
	}
}

func stopOwnClickHouse(t *testing.T, dir string) {
	t.Helper()
	marker := []byte("--config-file=" + filepath.Join(dir, "config.xml"))
	procs, _ := filepath.Glob("/proc/[0-9]*/cmdline")
	for _, p := range procs {
		b, err := os.ReadFile(p)
		if err != nil || !bytes.Contains(b, marker) {
			continue
		}
		pid, err := strconv.Atoi(filepath.Base(filepath.Dir(p)))
		if err != nil {
			continue
		}
		_ = syscall.Kill(pid, syscall.SIGTERM)
		deadline := time.Now().Add(30 * time.Second)
		for syscall.Kill(pid, 0) == nil && time.Now().Before(deadline) {
			time.Sleep(100 * time.Millisecond)
		}
		if syscall.Kill(pid, 0) == nil {
			_ = syscall.Kill(pid, syscall.SIGKILL)
		}
	}
	// Stopped means the port no longer answers.
	for i := 0; i < 50; i++ {
		resp, err := http.Get("http://127.0.0.1:" + restartHTTPPort + "/?query=SELECT%201")
		if err != nil {
			return
		}
		resp.Body.Close()
		time.Sleep(100 * time.Millisecond)
	}
	t.Errorf("le serveur de test répond encore sur le port %s", restartHTTPPort)
}

// TestActivitesSurviveClickHouseRestart: the server is stopped right after the first batch and started
// again 2 s later; the Sink's retries carry the run through: every activity lands exactly once (after
// deduplication), none is lost.
func TestActivitesSurviveClickHouseRestart(t *testing.T) {
	dir := t.TempDir()
	// clickhouse.sh reuses a server already answering: a leftover on these ports would hold old data.
	if resp, err := http.Get("http://127.0.0.1:" + restartHTTPPort + "/?query=SELECT%201"); err == nil {
		resp.Body.Close()
		t.Fatalf("un serveur ClickHouse répond déjà sur le port %s : arrêtez-le avant ce test", restartHTTPPort)
	}
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
		rows, _ := conn.Query(ctx, "SELECT id, toString(date), toString(version), _part, run_id FROM activites WHERE id IN (SELECT id FROM activites GROUP BY id HAVING count() > 1 LIMIT 2) ORDER BY id")
		for rows != nil && rows.Next() {
			var a, b, c, d, e string
			_ = rows.Scan(&a, &b, &c, &d, &e)
			t.Log(a, b, c, d, e)
		}
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
