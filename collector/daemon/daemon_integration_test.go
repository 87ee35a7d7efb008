//go:build integration

package daemon

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/ClickHouse/clickhouse-go/v2"
	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"

	"github.com/sdaasp-rhone/fne/collector/ingest"
	"github.com/sdaasp-rhone/fne/internal/chtest"
	"github.com/sdaasp-rhone/fne/internal/store"
)

// lineCollector reads a small file: "ok" lines are written to participations, "rejet:<motif>" lines
// are rejected with that reason. Each run lasts at least delay, and the collector records how many runs
// overlapped.
type lineCollector struct {
	name            string
	delay           time.Duration
	cur, max, calls atomic.Int32
}

func (c *lineCollector) Name() string        { return c.name }
func (c *lineCollector) Description() string { return "collecteur d'essai" }
func (c *lineCollector) Collect(ctx context.Context, in ingest.Input, sink *ingest.Sink) error {
	n := c.cur.Add(1)
	defer c.cur.Add(-1)
	c.calls.Add(1)
	for {
		m := c.max.Load()
		if n <= m || c.max.CompareAndSwap(m, n) {
			break
		}
	}
	f, err := os.Open(in.Location)
	if err != nil {
		return err
	}
	defer f.Close()
	w := sink.Writer("participations", "rencontre_id", "structure_id", "version", "personnes")
	sc := bufio.NewScanner(f)
	line := 0
	for sc.Scan() {
		line++
		sink.Read(1)
		txt := sc.Text()
		if reason, ok := strings.CutPrefix(txt, "rejet:"); ok {
			sink.Reject(fmt.Sprintf("ligne %d", line), "personnes", reason, txt)
			continue
		}
		if err := w.Append(ctx, "R-essai", fmt.Sprint(line), store.Version(in.Now, in.Now), uint32(1)); err != nil {
			return err
		}
	}
	select {
	case <-time.After(c.delay):
	case <-ctx.Done():
		return ctx.Err()
	}
	return sc.Err()
}

// slowCollector sets a watermark, then takes work to finish, unless cancelled first.
type slowCollector struct {
	name    string
	work    time.Duration
	started chan struct{}
	once    sync.Once
}

func (c *slowCollector) Name() string        { return c.name }
func (c *slowCollector) Description() string { return "collecteur lent" }
func (c *slowCollector) Collect(ctx context.Context, in ingest.Input, sink *ingest.Sink) error {
	sink.Read(1)
	sink.SetWatermark("2026-10-31T00:00:00Z")
	c.once.Do(func() { close(c.started) })
	select {
	case <-time.After(c.work):
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

type failing struct{}

func (failing) Name() string        { return "panne" }
func (failing) Description() string { return "toujours en échec" }
func (failing) Collect(context.Context, ingest.Input, *ingest.Sink) error {
	return errors.New("HTTP 401 : jeton refusé")
}

type runLog struct {
	mu   sync.Mutex
	sums []ingest.Summary
}

func (l *runLog) add(s ingest.Summary) { l.mu.Lock(); l.sums = append(l.sums, s); l.mu.Unlock() }
func (l *runLog) len() int             { l.mu.Lock(); defer l.mu.Unlock(); return len(l.sums) }
func (l *runLog) all() []ingest.Summary {
	l.mu.Lock()
	defer l.mu.Unlock()
	return append([]ingest.Summary(nil), l.sums...)
}

func waitFor(t *testing.T, what string, d time.Duration, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(d)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timeout waiting for %s", what)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func scrape(t *testing.T, addr string) map[string]*dto.MetricFamily {
	t.Helper()
	resp, err := http.Get("http://" + addr + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	p := expfmt.NewTextParser(model.UTF8Validation)
	fams, err := p.TextToMetricFamilies(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return fams
}

// value returns the counter/gauge value (or histogram count) of the series with exactly these labels.
func value(t *testing.T, fams map[string]*dto.MetricFamily, name string, labels map[string]string) float64 {
	t.Helper()
	f, ok := fams[name]
	if !ok {
		t.Fatalf("metric %s absent", name)
	}
	for _, m := range f.Metric {
		if len(m.Label) != len(labels) {
			continue
		}
		match := true
		for _, lp := range m.Label {
			if labels[lp.GetName()] != lp.GetValue() {
				match = false
			}
		}
		if !match {
			continue
		}
		switch {
		case m.Counter != nil:
			return m.Counter.GetValue()
		case m.Gauge != nil:
			return m.Gauge.GetValue()
		case m.Histogram != nil:
			return float64(m.Histogram.GetSampleCount())
		}
	}
	t.Fatalf("series %s%v absent", name, labels)
	return 0
}

func histSum(t *testing.T, fams map[string]*dto.MetricFamily, name string, labels map[string]string) float64 {
	t.Helper()
	for _, m := range fams[name].GetMetric() {
		if len(m.Label) == 1 && m.Label[0].GetValue() == labels["source"] && m.Histogram != nil {
			return m.Histogram.GetSampleSum()
		}
	}
	t.Fatalf("histogram %s%v absent", name, labels)
	return 0
}

func health(t *testing.T, addr string) (int, HealthReport) {
	t.Helper()
	resp, err := http.Get("http://" + addr + "/healthz")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	var rep HealthReport
	if err := json.Unmarshal(b, &rep); err != nil {
		t.Fatalf("healthz body %q: %v", b, err)
	}
	return resp.StatusCode, rep
}

func newDaemon(t *testing.T, db *chtest.DB, yaml string, reg *ingest.Registry, grace time.Duration, now func() time.Time, log *runLog) *Daemon {
	t.Helper()
	cfg, err := ParseConfig("essai.yaml", []byte(yaml), reg.Names())
	if err != nil {
		t.Fatal(err)
	}
	d, err := New(Options{Config: cfg, Registry: reg, Runner: &ingest.Runner{Conn: db.Conn}, Listen: "127.0.0.1:0",
		Grace: grace, Now: now, AfterRun: log.add, Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	if err != nil {
		t.Fatal(err)
	}
	if err := d.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = d.Stop() })
	return d
}

// A short interval against a small file: runs never overlap (each lasts 300 ms, the interval is 100 ms),
// and /metrics counts exactly what the runs did.
func TestScheduleSingletonMetricsHealth(t *testing.T) {
	db := chtest.Migrated(t)
	dir := t.TempDir()
	file := filepath.Join(dir, "essai.txt")
	// 5 lines: 3 valid, 2 rejected with reasons of two different codes.
	if err := os.WriteFile(file, []byte("ok\nrejet:valeur négative\nok\nrejet:champ personnes absent\nok\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	c := &lineCollector{name: "essai", delay: 300 * time.Millisecond}
	var log runLog
	d := newDaemon(t, db, "sources:\n  - source: essai\n    location: "+file+"\n    every: 100ms\n    stale_after: 1m\n", ingest.NewRegistry(c), 5*time.Second, time.Now, &log)

	waitFor(t, "3 runs", 20*time.Second, func() bool { return log.len() >= 3 })
	var fams map[string]*dto.MetricFamily
	var n int
	for {
		n = log.len()
		fams = scrape(t, d.Addr())
		if log.len() == n {
			break
		}
	}
	if m := c.max.Load(); m != 1 {
		t.Errorf("max concurrent runs = %d, want 1 (singleton mode)", m)
	}
	src := map[string]string{"source": "essai"}
	N := float64(n)
	// Each run reads 5 lines, writes 3, rejects 1 for each reason and ends "partiel".
	checks := []struct {
		name   string
		labels map[string]string
		want   float64
	}{
		{"fne_ingest_rows_read_total", src, 5 * N},
		{"fne_ingest_rows_written_total", src, 3 * N},
		// The label is the reason's code: « valeur négative » → valeur_invalide, « … absent » → champ_absent.
		{"fne_ingest_rows_rejected_total", map[string]string{"source": "essai", "reason": "valeur_invalide"}, N},
		{"fne_ingest_rows_rejected_total", map[string]string{"source": "essai", "reason": "champ_absent"}, N},
		{"fne_ingest_rows_rejected_total", map[string]string{"source": "essai", "reason": "date_hors_plage"}, 0},
		{"fne_ingest_runs_total", map[string]string{"source": "essai", "status": "partiel"}, N},
		{"fne_ingest_runs_total", map[string]string{"source": "essai", "status": "succes"}, 0},
		{"fne_ingest_runs_total", map[string]string{"source": "essai", "status": "echec"}, 0},
		{"fne_ingest_run_duration_seconds", src, N},
	}
	for _, ch := range checks {
		if got := value(t, fams, ch.name, ch.labels); got != ch.want {
			t.Errorf("%s%v = %v, want %v", ch.name, ch.labels, got, ch.want)
		}
	}
	last := log.all()[n-1]
	if got := value(t, fams, "fne_ingest_last_success_timestamp_seconds", src); got != float64(last.Ended.Unix()) {
		t.Errorf("last success = %v, want %d", got, last.Ended.Unix())
	}
	// Each run lasts at least its 300 ms delay: the histogram sums wall-clock time, not whole seconds.
	if sum := histSum(t, fams, "fne_ingest_run_duration_seconds", src); sum < 0.3*N {
		t.Errorf("duration sum %v s for %d runs of >= 300 ms", sum, n)
	}
	if _, ok := fams["go_goroutines"]; !ok {
		t.Error("Go collector missing")
	}
	if _, ok := fams["process_cpu_seconds_total"]; !ok {
		t.Error("process collector missing")
	}
	// Runs are sequential: each starts after the previous one ended.
	sums := log.all()
	for i := 1; i < len(sums); i++ {
		if sums[i].Started.Before(sums[i-1].Started) || sums[i].Duration() < 0 {
			t.Errorf("run %d started %s before run %d (%s)", i, sums[i].Started, i-1, sums[i-1].Started)
		}
	}

	code, rep := health(t, d.Addr())
	if code != http.StatusOK || rep.Statut != "ok" || !rep.ClickHouse.Joignable || len(rep.Sources) != 1 ||
		rep.Sources[0].DernierStatut != "partiel" || rep.Sources[0].PerimeApres != "1m0s" {
		t.Errorf("healthz = %d %+v", code, rep)
	}
	if err := d.Stop(); err != nil {
		t.Fatal(err)
	}
	// The runs table holds every run, finished as "partiel" with 3 rows written each.
	var runs, written uint64
	if err := db.Conn.QueryRow(context.Background(), `SELECT count(), sum(w) FROM (SELECT run_id, argMax(status, version) AS s, argMax(rows_written, version) AS w
		FROM ingestion_runs WHERE source = 'essai' GROUP BY run_id) WHERE s = 'partiel'`).Scan(&runs, &written); err != nil {
		t.Fatal(err)
	}
	total := uint64(log.len())
	if runs != total || written != 3*total {
		t.Errorf("ingestion_runs: %d partial runs, %d rows written; want %d and %d", runs, written, total, 3*total)
	}
}

// /healthz: 503 with reasons for a failed source, a stale one and an unreachable ClickHouse.
func TestHealthReasons(t *testing.T) {
	db := chtest.Migrated(t)
	var mu sync.Mutex
	clock := time.Date(2026, 11, 30, 8, 0, 0, 0, time.UTC)
	now := func() time.Time { mu.Lock(); defer mu.Unlock(); return clock }
	lc := &lineCollector{name: "essai"}
	var log runLog
	yaml := `sources:
  - source: panne
    location: https://coop.example/api?token_auth=SECRET
    every: 1h
  - source: essai
    location: /nonexistent
    every: 1h
    run_at_start: false
    stale_after: 90m
`
	d := newDaemon(t, db, yaml, ingest.NewRegistry(failing{}, lc), time.Second, now, &log)
	waitFor(t, "failed run", 10*time.Second, func() bool { return log.len() >= 1 })
	code, rep := health(t, d.Addr())
	if code != http.StatusServiceUnavailable || rep.Statut != "degrade" || len(rep.Raisons) != 1 ||
		rep.Raisons[0] != "panne : dernière collecte en échec : HTTP 401 : jeton refusé" {
		t.Errorf("failed source: %d %+v", code, rep)
	}
	if strings.Contains(fmt.Sprint(rep), "SECRET") || rep.Sources[0].Emplacement != "https://coop.example/api?token_auth=***" {
		t.Errorf("location not redacted: %q", rep.Sources[0].Emplacement)
	}
	fams := scrape(t, d.Addr())
	if got := value(t, fams, "fne_ingest_runs_total", map[string]string{"source": "panne", "status": "echec"}); got != 1 {
		t.Errorf("runs_total{panne,echec} = %v, want 1", got)
	}
	// essai never ran: 2 h after the start, beyond its 90 min, it is stale.
	mu.Lock()
	clock = clock.Add(2 * time.Hour)
	mu.Unlock()
	_, rep = health(t, d.Addr())
	if len(rep.Raisons) != 2 || rep.Raisons[1] != "essai : aucune collecte réussie depuis le démarrage (2h0m0s, au-delà de 1h30m0s)" {
		t.Errorf("stale source: %+v", rep.Raisons)
	}

	// ClickHouse unreachable: nothing listens on port 1.
	conn, err := clickhouse.Open(&clickhouse.Options{Addr: []string{"127.0.0.1:1"}, DialTimeout: time.Second})
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	d.opts.Conn = conn
	code, rep = health(t, d.Addr())
	if code != http.StatusServiceUnavailable || rep.ClickHouse.Joignable || !strings.HasPrefix(rep.Raisons[0], "ClickHouse ne répond pas") {
		t.Errorf("unreachable: %d %+v", code, rep)
	}
}

// Shutdown with a run in flight: within the grace period the run finishes and its watermark is kept;
// past it the run is cancelled, recorded as failed, and the watermark does not move.
func TestShutdownInFlight(t *testing.T) {
	cases := []struct {
		name        string
		work, grace time.Duration
		status      string
		watermark   string
	}{
		{"finishes within grace", 600 * time.Millisecond, 10 * time.Second, ingest.StatusOK, "2026-10-31T00:00:00Z"},
		{"cancelled after grace", time.Minute, 300 * time.Millisecond, ingest.StatusFailed, ""},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			db := chtest.Migrated(t)
			sc := &slowCollector{name: "lent", work: c.work, started: make(chan struct{})}
			var log runLog
			d := newDaemon(t, db, "sources:\n  - source: lent\n    location: x\n    every: 1h\n", ingest.NewRegistry(sc), c.grace, time.Now, &log)
			select {
			case <-sc.started:
			case <-time.After(10 * time.Second):
				t.Fatal("run did not start")
			}
			t0 := time.Now()
			if err := d.Stop(); err != nil {
				t.Fatal(err)
			}
			el := time.Since(t0)
			if el > 8*time.Second {
				t.Errorf("stop took %s", el)
			}
			if c.status == ingest.StatusFailed && el < c.grace {
				t.Errorf("stop took %s, less than the grace period %s", el, c.grace)
			}
			sums := log.all()
			if len(sums) != 1 || sums[0].Status != c.status {
				t.Fatalf("summaries: %+v", sums)
			}
			if c.status == ingest.StatusFailed && !errors.Is(sums[0].Err, context.Canceled) {
				t.Errorf("error = %v, want context.Canceled", sums[0].Err)
			}
			var status, wm string
			if err := db.Conn.QueryRow(context.Background(), "SELECT argMax(status, version) FROM ingestion_runs WHERE source = 'lent'").Scan(&status); err != nil {
				t.Fatal(err)
			}
			if status != c.status {
				t.Errorf("stored status %q, want %q", status, c.status)
			}
			if err := db.Conn.QueryRow(context.Background(), "SELECT ifNull(any(watermark), '') FROM (SELECT argMax(watermark, version) AS watermark FROM watermarks WHERE source = 'lent' GROUP BY source)").Scan(&wm); err != nil {
				t.Fatal(err)
			}
			if wm != c.watermark {
				t.Errorf("watermark %q, want %q", wm, c.watermark)
			}
			// The HTTP server is closed.
			if _, err := http.Get("http://" + d.Addr() + "/healthz"); err == nil {
				t.Error("HTTP server still answering after stop")
			}
			// No run starts after the stop.
			time.Sleep(100 * time.Millisecond)
			if log.len() != 1 {
				t.Errorf("%d runs after stop, want 1", log.len())
			}
		})
	}
}

// After a restart the last success comes from ingestion_runs: the freshness gauge and /healthz do not
// start from nothing.
func TestLastSuccessSeededFromRuns(t *testing.T) {
	db := chtest.Migrated(t)
	file := filepath.Join(t.TempDir(), "essai.txt")
	if err := os.WriteFile(file, []byte("ok\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	c := &lineCollector{name: "essai"}
	prev, err := (&ingest.Runner{Conn: db.Conn}).Run(context.Background(), c, ingest.Input{Location: file})
	if err != nil || prev.Status != ingest.StatusOK {
		t.Fatalf("previous run: %v %+v", err, prev)
	}
	var log runLog
	d := newDaemon(t, db, "sources:\n  - source: essai\n    location: "+file+"\n    every: 1h\n    run_at_start: false\n", ingest.NewRegistry(c), time.Second, time.Now, &log)
	fams := scrape(t, d.Addr())
	if got := value(t, fams, "fne_ingest_last_success_timestamp_seconds", map[string]string{"source": "essai"}); got != float64(prev.Ended.Unix()) {
		t.Errorf("seeded last success %v, want %d", got, prev.Ended.Unix())
	}
	code, rep := health(t, d.Addr())
	if code != http.StatusOK || rep.Sources[0].DerniereReussite != prev.Ended.UTC().Format(time.RFC3339) || rep.Sources[0].Executions != 0 {
		t.Errorf("healthz %d %+v", code, rep.Sources)
	}
}
