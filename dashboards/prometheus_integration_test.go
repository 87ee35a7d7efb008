//go:build integration

package dashboards

import (
	"encoding/json"
	"fmt"
	"io"
	"math"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/sdaasp-rhone/fne/internal/chtest"
)

// The Prometheus panels of « Collecte des données » proved against a real Prometheus (the Debian
// package, unpacked by deploy/prometheus/install.sh) scraping a real `fne run` daemon that collects a
// fixture file every second into a throw-away ClickHouse database. Every PromQL expression of every
// panel whose datasource is Prometheus is read from the provisioned JSON, its Grafana variables
// replaced as Grafana does, and run through Prometheus' HTTP API: each must return series, and the
// values that follow from the fixture are checked by hand.

// promJalons: 3 milestones, the third with an unknown status: every run reads 3 rows, writes 2, rejects
// 1 (status partiel).
const promJalons = `- action: "2.1"
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
`

// promTarget is one Prometheus query of a panel.
type promTarget struct {
	panel, expr string
}

// promTargets walks every panel (rows' panels included) and keeps the targets whose datasource (the
// target's, else the panel's) is Prometheus.
func promTargets(t *testing.T, file string) ([]promTarget, map[string]any) {
	t.Helper()
	b, err := FS.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	var d map[string]any
	if err := json.Unmarshal(b, &d); err != nil {
		t.Fatal(err)
	}
	isProm := func(ds any) bool {
		m, _ := ds.(map[string]any)
		return m != nil && (m["type"] == "prometheus" || m["uid"] == "${prom}" || m["uid"] == "$prom")
	}
	var out []promTarget
	var walk func(ps []any)
	walk = func(ps []any) {
		for _, p := range ps {
			pm, _ := p.(map[string]any)
			if pm == nil {
				continue
			}
			title, _ := pm["title"].(string)
			ts, _ := pm["targets"].([]any)
			for _, tg := range ts {
				tm, _ := tg.(map[string]any)
				ds := tm["datasource"]
				if ds == nil {
					ds = pm["datasource"]
				}
				if expr, _ := tm["expr"].(string); isProm(ds) && strings.TrimSpace(expr) != "" {
					out = append(out, promTarget{title, expr})
				}
			}
			sub, _ := pm["panels"].([]any)
			walk(sub)
		}
	}
	ps, _ := d["panels"].([]any)
	walk(ps)
	return out, d
}

// promVariables gives the dashboard's own variables the value Grafana sends by default: the "All" value
// of a multi-value variable (its allValue, else a regexp of everything), else its current value.
func promVariables(d map[string]any) map[string]string {
	vars := map[string]string{}
	tmpl, _ := d["templating"].(map[string]any)
	list, _ := tmpl["list"].([]any)
	for _, v := range list {
		vm, _ := v.(map[string]any)
		name, _ := vm["name"].(string)
		if name == "" || vm["type"] == "datasource" {
			continue
		}
		if all, _ := vm["includeAll"].(bool); all {
			if av, _ := vm["allValue"].(string); av != "" {
				vars[name] = av
			} else {
				vars[name] = ".*"
			}
			continue
		}
		if cur, _ := vm["current"].(map[string]any); cur != nil {
			vars[name] = fmt.Sprint(cur["value"])
		}
	}
	return vars
}

var promVarRe = regexp.MustCompile(`\$\{([A-Za-z0-9_]+)(?::[a-z]+)?\}|\$([A-Za-z0-9_]+)|\[\[([A-Za-z0-9_]+)\]\]`)

// promInterpolate replaces Grafana's variables: $__interval and $__rate_interval as Grafana computes
// them for this range (interval = the step; rate interval = max(interval + scrape, 4 × scrape)),
// $__range the range, and the dashboard's variables.
func promInterpolate(t *testing.T, expr string, vars map[string]string, step, scrape, rng time.Duration) string {
	t.Helper()
	rate := step + scrape
	if 4*scrape > rate {
		rate = 4 * scrape
	}
	builtin := map[string]string{
		"__interval": secs(step), "__interval_ms": strconv.FormatInt(step.Milliseconds(), 10),
		"__rate_interval": secs(rate), "__range": secs(rng), "__range_s": strconv.Itoa(int(rng.Seconds())),
		"__range_ms": strconv.FormatInt(rng.Milliseconds(), 10),
	}
	var missing []string
	out := promVarRe.ReplaceAllStringFunc(expr, func(m string) string {
		sm := promVarRe.FindStringSubmatch(m)
		name := sm[1] + sm[2] + sm[3]
		if v, ok := builtin[name]; ok {
			return v
		}
		if v, ok := vars[name]; ok {
			return v
		}
		missing = append(missing, name)
		return m
	})
	if len(missing) > 0 {
		t.Fatalf("variables inconnues %v dans %q", missing, expr)
	}
	return out
}

func secs(d time.Duration) string { return strconv.Itoa(int(d.Seconds())) + "s" }

func freeAddr(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().String()
}

// startProcess runs cmd with its output in a log file and stops it (SIGTERM, then SIGKILL) when the
// test ends; the log is printed if the test failed.
func startProcess(t *testing.T, name string, cmd *exec.Cmd) {
	t.Helper()
	logf, err := os.Create(filepath.Join(t.TempDir(), name+".log"))
	if err != nil {
		t.Fatal(err)
	}
	cmd.Stdout, cmd.Stderr = logf, logf
	if err := cmd.Start(); err != nil {
		t.Fatalf("démarrage de %s : %v", name, err)
	}
	t.Cleanup(func() {
		_ = cmd.Process.Signal(syscall.SIGTERM)
		done := make(chan struct{})
		go func() { _ = cmd.Wait(); close(done) }()
		select {
		case <-done:
		case <-time.After(15 * time.Second):
			_ = cmd.Process.Kill()
			<-done
		}
		logf.Close()
		if t.Failed() {
			b, _ := os.ReadFile(logf.Name())
			t.Logf("journal de %s :\n%s", name, b)
		}
	})
}

// promSeries is one series of a range query.
type promSeries struct {
	Metric map[string]string `json:"metric"`
	Values [][2]any          `json:"values"`
}

func (s promSeries) floats() []float64 {
	out := make([]float64, 0, len(s.Values))
	for _, v := range s.Values {
		f, _ := strconv.ParseFloat(fmt.Sprint(v[1]), 64)
		out = append(out, f)
	}
	return out
}

func (s promSeries) last() float64 { f := s.floats(); return f[len(f)-1] }

func promQuery(t *testing.T, base, expr string, start, end time.Time, step time.Duration) []promSeries {
	t.Helper()
	rs, err := promTry(base, expr, start, end, step)
	if err != nil {
		t.Fatal(err)
	}
	return rs
}

func promTry(base, expr string, start, end time.Time, step time.Duration) ([]promSeries, error) {
	q := url.Values{"query": {expr}, "start": {strconv.FormatInt(start.Unix(), 10)}, "end": {strconv.FormatInt(end.Unix(), 10)}, "step": {secs(step)}}
	resp, err := http.Get(base + "/api/v1/query_range?" + q.Encode())
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	var r struct {
		Status string `json:"status"`
		Error  string `json:"error"`
		Data   struct {
			Result []promSeries `json:"result"`
		} `json:"data"`
	}
	if err := json.Unmarshal(b, &r); err != nil || r.Status != "success" {
		return nil, fmt.Errorf("%s : %s %s", expr, r.Error, b)
	}
	return r.Data.Result, nil
}

func TestPrometheusPanels(t *testing.T) {
	targets, dash := promTargets(t, "collecte.json")
	if len(targets) < 5 {
		t.Fatalf("%d requêtes Prometheus dans collecte.json, attendu les panneaux de la collecte", len(targets))
	}
	vars := promVariables(dash)

	// Prometheus from its Debian package (installed here if missing; make test does it too).
	out, err := exec.Command("../deploy/prometheus/install.sh").Output()
	if err != nil {
		t.Fatalf("installation de prometheus (deploy/prometheus/install.sh) : %v", err)
	}
	promBin := strings.TrimSpace(string(out))

	dir := t.TempDir()
	fne := filepath.Join(dir, "fne")
	if b, err := exec.Command(filepath.Join(runtime.GOROOT(), "bin", "go"), "build", "-o", fne, "../collector/cmd/fne").CombinedOutput(); err != nil {
		t.Fatalf("construction de fne : %v\n%s", err, b)
	}
	db := chtest.Migrated(t)
	jalons := filepath.Join(dir, "jalons.yaml")
	cfg := filepath.Join(dir, "fne.yaml")
	if err := os.WriteFile(jalons, []byte(promJalons), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(cfg, []byte("timezone: UTC\nsources:\n  - source: jalons\n    location: "+jalons+"\n    every: 1s\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	fneAddr, promAddr := freeAddr(t), freeAddr(t)
	startProcess(t, "fne-run", exec.Command(fne, "run", "--config", cfg, "--listen", fneAddr, "--addr", db.Config.Addr, "--database", db.Config.Database, "--grace", "2s"))

	const scrape = time.Second
	// The job name is the one of deploy/prometheus/prometheus.yml, which the dashboard filters on.
	promCfg := filepath.Join(dir, "prometheus.yml")
	if err := os.WriteFile(promCfg, []byte(fmt.Sprintf("global:\n  scrape_interval: 1s\n  evaluation_interval: 1s\nscrape_configs:\n  - job_name: fne-collecteur\n    static_configs:\n      - targets: [%q]\n", fneAddr)), 0o644); err != nil {
		t.Fatal(err)
	}
	startProcess(t, "prometheus", exec.Command(promBin, "--config.file="+promCfg, "--storage.tsdb.path="+filepath.Join(dir, "tsdb"),
		"--web.listen-address="+promAddr, "--log.level=warn"))
	base := "http://" + promAddr

	// Wait for 12 scrapes of runs: enough samples for every window below.
	deadline := time.Now().Add(60 * time.Second)
	start := time.Now()
	for {
		if time.Now().After(deadline) {
			t.Fatal("Prometheus n'a pas collecté le démon à temps")
		}
		now := time.Now()
		rs, err := promTry(base, `count_over_time(fne_ingest_runs_total{job="fne-collecteur",status="partiel"}[1m])`, now, now, scrape)
		if err == nil && len(rs) == 1 && rs[0].last() >= 12 {
			break
		}
		time.Sleep(500 * time.Millisecond)
	}
	end := time.Now()
	const step = 5 * time.Second
	rng := end.Sub(start).Truncate(time.Second)

	results := map[string][]promSeries{}
	for _, tg := range targets {
		expr := promInterpolate(t, tg.expr, vars, step, scrape, rng)
		rs := promQuery(t, base, expr, end.Add(-rng), end, step)
		if len(rs) == 0 {
			t.Errorf("« %s » : aucune série pour %s", tg.panel, expr)
			continue
		}
		results[tg.expr] = rs
		t.Logf("« %s » : %d série(s), dernière valeur %v", tg.panel, len(rs), rs[0].last())
		checkPromValues(t, tg, rs)
	}
	// Read and written rows come from the same scrapes of runs that read 3 and write 2 rows: their
	// increases are in the ratio 3/2 over any window.
	var read, written []promSeries
	for e, rs := range results {
		if strings.Contains(e, "fne_ingest_rows_read_total") && !strings.Contains(e, "rejected") {
			read = rs
		}
		if strings.Contains(e, "fne_ingest_rows_written_total") {
			written = rs
		}
	}
	if read != nil && written != nil {
		if r, w := read[0].last(), written[0].last(); w <= 0 || math.Abs(r/w-1.5) > 1e-9 {
			t.Errorf("lignes lues %v / écrites %v, attendu 3/2", r, w)
		}
	} else {
		t.Errorf("panneaux des lignes lues et écrites absents")
	}
}

// checkPromValues asserts what follows from the fixture, recognised by the metrics the expression uses
// (titles change with the dashboards, metrics do not).
func checkPromValues(t *testing.T, tg promTarget, rs []promSeries) {
	t.Helper()
	e := tg.expr
	for _, s := range rs {
		if len(s.Values) == 0 {
			t.Errorf("« %s » : série %v sans valeur", tg.panel, s.Metric)
		}
	}
	switch {
	case strings.Contains(e, "up{"):
		// the daemon answered every scrape
		for _, s := range rs {
			for _, v := range s.floats() {
				if v != 1 {
					t.Errorf("« %s » : up = %v, attendu 1", tg.panel, v)
				}
			}
		}
	case strings.Contains(e, "fne_ingest_rows_rejected_total") && strings.Contains(e, "fne_ingest_rows_read_total"):
		// 1 rejected of 3 read per run: 100 × 1/3 = 33.33 % over the range
		if v := rs[0].last(); math.Abs(v-100.0/3) > 1e-6 || rs[0].Metric["source"] != "jalons" {
			t.Errorf("« %s » : taux de rejet %v (%v), attendu 33,33 %% pour jalons", tg.panel, v, rs[0].Metric)
		}
	case strings.Contains(e, "fne_ingest_rows_rejected_total"):
		// Every reason code of the source is exported (at 0 until it occurs); the one row rejected per run
		// (statut « fini », not a known status) counts under valeur_inconnue and nowhere else.
		var hit []string
		for _, s := range rs {
			if s.last() > 0 {
				hit = append(hit, s.Metric["reason"])
			}
		}
		if len(hit) != 1 || hit[0] != "valeur_inconnue" {
			t.Errorf("« %s » : rejets attendus sous le seul motif valeur_inconnue, vus sous %v : %+v", tg.panel, hit, rs)
		}
	case strings.Contains(e, "fne_ingest_runs_total"):
		// every run is partiel (a reject each time); succes and echec are declared at zero
		for _, s := range rs {
			if st, v := s.Metric["status"], s.last(); (st == "partiel") != (v > 0) {
				t.Errorf("« %s » : %s = %v", tg.panel, st, v)
			}
		}
	case strings.Contains(e, "fne_ingest_last_success_timestamp_seconds"):
		// a run every second: the last success is at most a few seconds old (whole seconds)
		for _, v := range rs[0].floats() {
			if v < 0 || v > 10 {
				t.Errorf("« %s » : %v s depuis le dernier succès, attendu entre 0 et 10", tg.panel, v)
			}
		}
	case strings.Contains(e, "fne_ingest_run_duration_seconds_bucket"):
		// a 3-row file: well under the first buckets' second
		if v := rs[0].last(); !(v > 0 && v < 10) {
			t.Errorf("« %s » : 95e centile %v s", tg.panel, v)
		}
	}
}
