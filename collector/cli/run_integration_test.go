//go:build integration

package cli

import (
	"bytes"
	"context"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/sdaasp-rhone/fne/internal/chtest"
)

// fne run end to end: a real collector (jalons) on a file, /healthz and /metrics answer, and cancelling
// the context (what SIGTERM does in main) stops the daemon with exit code 0.
func TestRunCommand(t *testing.T) {
	db := chtest.Migrated(t)
	dir := t.TempDir()
	jalons := filepath.Join(dir, "jalons.yaml")
	// 2 valid milestones and 1 with an unknown status.
	if err := os.WriteFile(jalons, []byte(`- action: "2.1"
  jalon: a
  libelle: A
  statut: realise
  date_prevue: 2026-01-31
  date_realisee: 2026-01-20
- action: "2.1"
  jalon: b
  libelle: B
  statut: en_cours
  date_prevue: 2026-12-31
  date_realisee:
- action: "2.1"
  jalon: c
  libelle: C
  statut: fini
  date_prevue: 2026-12-31
  date_realisee:
`), 0o644); err != nil {
		t.Fatal(err)
	}
	cfg := filepath.Join(dir, "fne.yaml")
	if err := os.WriteFile(cfg, []byte("sources:\n  - source: jalons\n    location: "+jalons+"\n    every: 1h\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()

	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var stdout, stderr bytes.Buffer
	done := make(chan int, 1)
	go func() {
		done <- Main(ctx, []string{"run", "--config", cfg, "--listen", addr, "--addr", db.Config.Addr, "--database", db.Config.Database, "--grace", "2s"}, &stdout, &stderr)
	}()
	get := func(path string) (int, string) {
		resp, err := http.Get("http://" + addr + path)
		if err != nil {
			return 0, err.Error()
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(b)
	}
	deadline := time.Now().Add(20 * time.Second)
	var code int
	var body string
	for time.Now().Before(deadline) {
		code, body = get("/healthz")
		if code == http.StatusOK && strings.Contains(body, `"dernier_statut": "partiel"`) {
			break
		}
		time.Sleep(50 * time.Millisecond)
	}
	if code != http.StatusOK || !strings.Contains(body, `"statut": "ok"`) {
		t.Fatalf("healthz %d %s (stderr %s)", code, body, stderr.String())
	}
	_, metrics := get("/metrics")
	for _, want := range []string{
		`fne_ingest_rows_read_total{source="jalons"} 3`,
		`fne_ingest_rows_written_total{source="jalons"} 2`,
		`fne_ingest_runs_total{source="jalons",status="partiel"} 1`,
	} {
		if !strings.Contains(metrics, want) {
			t.Errorf("/metrics lacks %s", want)
		}
	}
	cancel()
	select {
	case c := <-done:
		if c != ExitOK {
			t.Errorf("exit code %d: %s", c, stderr.String())
		}
	case <-time.After(10 * time.Second):
		t.Fatal("fne run did not stop after cancellation")
	}
	logs := stderr.String()
	for _, want := range []string{"msg=\"collecte terminée\" source=jalons statut=partiel lus=3 ecrits=2 rejetes=1", "signal d'arrêt reçu", "démon arrêté"} {
		if !strings.Contains(logs, want) {
			t.Errorf("logs lack %q:\n%s", want, logs)
		}
	}
}
