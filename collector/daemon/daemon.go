// Package daemon is `fne run`: a gocron scheduler that runs the configured collectors on their
// schedules through ingest.Runner (one singleton job per configured source, so runs of one entry never
// overlap), exposes Prometheus metrics on /metrics and a French health report on /healthz, and stops
// gracefully: no new run once asked to stop, the run in flight gets a grace period, then is cancelled
// (the Runner records it as failed and keeps the previous watermark, so nothing is lost).
package daemon

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/ClickHouse/clickhouse-go/v2/lib/driver"
	"github.com/go-co-op/gocron/v2"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/sdaasp-rhone/fne/collector/ingest"
	"github.com/sdaasp-rhone/fne/internal/engine"
)

// DefaultGrace is how long a run in flight may go on after a stop request.
const DefaultGrace = 30 * time.Second

// Options configure a Daemon.
type Options struct {
	Config   *Config
	Registry *ingest.Registry
	Runner   *ingest.Runner
	// Conn is pinged by /healthz and read at start for the last successful runs; usually Runner.Conn.
	Conn driver.Conn
	// Listen is the HTTP address of /metrics and /healthz ("127.0.0.1:0" picks a free port).
	Listen string
	Grace  time.Duration
	Logger *slog.Logger
	// Now is the clock of the health report (tests).
	Now func() time.Time
	// AfterRun, when set, is called after each run once its metrics are recorded (tests, embedding).
	AfterRun func(ingest.Summary)
}

// Daemon runs scheduled collections.
type Daemon struct {
	opts    Options
	log     *slog.Logger
	metrics *Metrics
	entries []*entry
	reports []*reportEntry // report.go
	sched   gocron.Scheduler
	ln      net.Listener
	srv     *http.Server
	started time.Time

	runCtx     context.Context
	cancelRuns context.CancelFunc

	mu       sync.Mutex
	stopping bool
	wg       sync.WaitGroup
	stopOnce sync.Once
	stopErr  error
	srvErr   chan error
}

type entry struct {
	cfg       SourceConfig
	name      string
	collector ingest.Collector
	job       gocron.Job

	mu          sync.Mutex
	running     bool
	runs        int
	last        *ingest.Summary
	lastSuccess time.Time
}

// New checks the configuration against the registry and prepares the daemon; nothing runs yet.
func New(o Options) (*Daemon, error) {
	if o.Config == nil || len(o.Config.Sources) == 0 {
		return nil, fmt.Errorf("%w : aucune source configurée", ErrConfig)
	}
	if o.Grace <= 0 {
		o.Grace = DefaultGrace
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.Conn == nil && o.Runner != nil {
		o.Conn = o.Runner.Conn
	}
	d := &Daemon{opts: o, log: o.Logger, metrics: NewMetrics(), srvErr: make(chan error, 1)}
	count := map[string]int{}
	for _, sc := range o.Config.Sources {
		count[sc.Source]++
	}
	idx := map[string]int{}
	for _, sc := range o.Config.Sources {
		c, err := o.Registry.Get(sc.Source)
		if err != nil {
			return nil, fmt.Errorf("%w : ligne %d : %v", ErrConfig, sc.Line, err)
		}
		// A mistyped option key would otherwise be ignored, every scheduled run long.
		if err := ingest.CheckOptions(c, sc.Options); err != nil {
			return nil, fmt.Errorf("%w : ligne %d : %v", ErrConfig, sc.Line, err)
		}
		idx[sc.Source]++
		name := sc.Source
		if count[sc.Source] > 1 {
			name = fmt.Sprintf("%s#%d", sc.Source, idx[sc.Source])
		}
		d.entries = append(d.entries, &entry{cfg: sc, name: name, collector: c})
		d.metrics.declare(sc.Source)
	}
	d.newReports()
	return d, nil
}

// Metrics returns the daemon's metrics (tests, embedding).
func (d *Daemon) Metrics() *Metrics { return d.metrics }

// Addr is the HTTP listener's address once started.
func (d *Daemon) Addr() string {
	if d.ln == nil {
		return ""
	}
	return d.ln.Addr().String()
}

// Start opens the HTTP listener, seeds the last successes from ClickHouse and starts the scheduler.
func (d *Daemon) Start(ctx context.Context) error {
	d.started = d.opts.Now()
	d.runCtx, d.cancelRuns = context.WithCancel(context.WithoutCancel(ctx))
	ln, err := net.Listen("tcp", d.opts.Listen)
	if err != nil {
		d.cancelRuns()
		return fmt.Errorf("écoute HTTP sur %s impossible : %w", d.opts.Listen, err)
	}
	d.ln = ln
	d.seedLastSuccess(ctx)

	opts := []gocron.SchedulerOption{gocron.WithStopTimeout(d.opts.Grace + 45*time.Second)}
	if d.opts.Config.Location != nil {
		opts = append(opts, gocron.WithLocation(d.opts.Config.Location))
	}
	s, err := gocron.NewScheduler(opts...)
	if err != nil {
		_ = ln.Close()
		d.cancelRuns()
		return fmt.Errorf("création du planificateur : %w", err)
	}
	d.sched = s
	for _, e := range d.entries {
		var def gocron.JobDefinition
		if e.cfg.Every > 0 {
			def = gocron.DurationJob(e.cfg.Every)
		} else {
			def = gocron.CronJob(e.cfg.Schedule, false)
		}
		jopts := []gocron.JobOption{gocron.WithName(e.name), gocron.WithSingletonMode(gocron.LimitModeReschedule)}
		if e.cfg.RunAtStart {
			jopts = append(jopts, gocron.WithStartAt(gocron.WithStartImmediately()))
		}
		e := e
		j, err := s.NewJob(def, gocron.NewTask(func() { d.runEntry(e) }), jopts...)
		if err != nil {
			_ = s.Shutdown()
			_ = ln.Close()
			d.cancelRuns()
			return fmt.Errorf("%w : ligne %d : planification de %s impossible : %v", ErrConfig, e.cfg.Line, e.name, err)
		}
		e.job = j
	}
	if err := d.scheduleReports(s); err != nil {
		_ = s.Shutdown()
		_ = ln.Close()
		d.cancelRuns()
		return err
	}

	mux := http.NewServeMux()
	mux.Handle("/metrics", promhttp.HandlerFor(d.metrics.Registry, promhttp.HandlerOpts{Registry: d.metrics.Registry}))
	mux.HandleFunc("/healthz", d.serveHealth)
	d.srv = &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second}
	go func() {
		if err := d.srv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			d.srvErr <- err
		}
	}()
	s.Start()
	for _, e := range d.entries {
		quand := e.cfg.Schedule
		if e.cfg.Every > 0 {
			quand = "toutes les " + e.cfg.Every.String()
		}
		d.log.Info("source planifiée", "source", e.name, "emplacement", ingest.RedactURL(e.cfg.Location), "planification", quand, "au_demarrage", e.cfg.RunAtStart)
	}
	d.log.Info("démon démarré", "http", d.Addr(), "sources", len(d.entries))
	return nil
}

// Run starts the daemon and blocks until ctx is cancelled (SIGTERM/SIGINT in `fne run`), then stops
// gracefully.
func (d *Daemon) Run(ctx context.Context) error {
	if err := d.Start(ctx); err != nil {
		return err
	}
	var serveErr error
	select {
	case <-ctx.Done():
		d.log.Info("signal d'arrêt reçu")
	case serveErr = <-d.srvErr:
		d.log.Error("serveur HTTP arrêté", "erreur", serveErr)
	}
	if err := d.Stop(); err != nil {
		return err
	}
	if serveErr != nil {
		return fmt.Errorf("serveur HTTP : %w", serveErr)
	}
	return nil
}

// Stop stops scheduling, lets the runs in flight finish within the grace period, cancels them past it,
// then closes the HTTP server. It is safe to call more than once.
func (d *Daemon) Stop() error {
	d.stopOnce.Do(func() {
		d.mu.Lock()
		d.stopping = true
		d.mu.Unlock()
		d.log.Info("arrêt : plus aucune nouvelle collecte ne sera lancée", "delai_de_grace", d.opts.Grace.String())
		schedDone := make(chan error, 1)
		go func() { schedDone <- d.sched.Shutdown() }()
		runsDone := make(chan struct{})
		go func() { d.wg.Wait(); close(runsDone) }()
		timer := time.NewTimer(d.opts.Grace)
		defer timer.Stop()
		select {
		case <-runsDone:
		case <-timer.C:
			d.log.Warn("délai de grâce dépassé : annulation des collectes en cours (elles seront reprises au prochain démarrage)")
			d.cancelRuns()
			<-runsDone
		}
		d.cancelRuns()
		if err := <-schedDone; err != nil {
			d.log.Warn("arrêt du planificateur", "erreur", err)
		}
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		if err := d.srv.Shutdown(ctx); err != nil {
			d.stopErr = fmt.Errorf("arrêt du serveur HTTP : %w", err)
		}
		d.log.Info("démon arrêté")
	})
	return d.stopErr
}

func (d *Daemon) runEntry(e *entry) {
	d.mu.Lock()
	if d.stopping {
		d.mu.Unlock()
		return
	}
	d.wg.Add(1)
	d.mu.Unlock()
	defer d.wg.Done()

	e.mu.Lock()
	e.running = true
	e.mu.Unlock()
	loc := ingest.RedactURL(e.cfg.Location)
	d.log.Info("collecte démarrée", "source", e.name, "emplacement", loc)
	t0 := time.Now()
	sum, err := d.opts.Runner.Run(d.runCtx, e.collector, ingest.Input{Location: e.cfg.Location, Options: e.cfg.Options})
	elapsed := time.Since(t0)
	if sum.Source == "" {
		sum.Source = e.collector.Name()
	}
	if sum.Status == "" || sum.Status == ingest.StatusRunning {
		sum.Status = ingest.StatusFailed
	}
	d.metrics.observe(sum, elapsed)
	e.mu.Lock()
	e.running = false
	e.runs++
	e.last = &sum
	if sum.Status != ingest.StatusFailed {
		// The wall clock, not sum.Ended: the Runner truncates to whole seconds.
		e.lastSuccess = d.opts.Now()
	}
	e.mu.Unlock()
	if d.opts.AfterRun != nil {
		d.opts.AfterRun(sum)
	}
	// New activities or structures: persist the activity aggregates now, so that dashboards and `fne
	// indicators` read them instead of each deduplicating every activity (internal/engine, Refresh).
	if err == nil && sum.Status != ingest.StatusFailed && (sum.Source == "activites" || sum.Source == "structures") && d.opts.Conn != nil {
		if rerr := engine.New(d.opts.Conn, nil).Refresh(d.runCtx); rerr != nil {
			d.log.Warn("agrégats d'activités non rafraîchis", "source", e.name, "erreur", rerr.Error())
		}
	}
	attrs := []any{"source", e.name, "statut", sum.Status, "lus", sum.Read, "ecrits", sum.Written, "rejetes", sum.Rejected, "duree", elapsed.Round(time.Millisecond).String()}
	if len(sum.Notes) > 0 {
		attrs = append(attrs, "lecture", strings.Join(sum.Notes, " ; ")) // the encoding read, for instance
	}
	if err != nil {
		attrs = append(attrs, "erreur", err.Error())
		// The message is translated where it is made (French); the JSON log keeps the original
		// error of the system, the library or ClickHouse when there is one under it.
		if orig := rootError(err); orig != nil && orig.Error() != err.Error() {
			attrs = append(attrs, "erreur_origine", orig.Error())
		}
		d.log.Error("collecte en échec", attrs...)
		return
	}
	d.log.Info("collecte terminée", attrs...)
}

// seedLastSuccess reads the last successful run of each configured source from ingestion_runs, so that
// a restart neither resets the freshness gauge nor makes /healthz forget how old the data is.
func (d *Daemon) seedLastSuccess(ctx context.Context) {
	if d.opts.Conn == nil {
		return
	}
	qctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	rows, err := d.opts.Conn.Query(qctx, "SELECT source, toUInt32(max(ended_at)) FROM ingestion_runs WHERE status IN ('succes', 'partiel') GROUP BY source")
	if err != nil {
		d.log.Warn("lecture des dernières collectes réussies impossible", "erreur", err.Error())
		return
	}
	defer rows.Close()
	last := map[string]uint32{}
	for rows.Next() {
		var s string
		var t uint32
		if err := rows.Scan(&s, &t); err != nil {
			return
		}
		last[s] = t
	}
	for _, e := range d.entries {
		if t, ok := last[e.cfg.Source]; ok && t > 0 {
			e.lastSuccess = time.Unix(int64(t), 0).UTC()
			d.metrics.setLastSuccess(e.cfg.Source, int64(t))
		}
	}
}

// HealthReport is the JSON body of /healthz (keys in French: it is read by operators).
type HealthReport struct {
	Statut     string         `json:"statut"` // "ok" or "degrade"
	ClickHouse HealthDatabase `json:"clickhouse"`
	Sources    []HealthSource `json:"sources"`
	Raisons    []string       `json:"raisons"`
}

// HealthDatabase is the ClickHouse part of the report.
type HealthDatabase struct {
	Joignable bool   `json:"joignable"`
	Erreur    string `json:"erreur,omitempty"`
}

// HealthSource is one configured entry.
type HealthSource struct {
	Source             string `json:"source"`
	Emplacement        string `json:"emplacement"`
	EnCours            bool   `json:"en_cours"`
	Executions         int    `json:"executions"`
	DernierStatut      string `json:"dernier_statut,omitempty"`
	DerniereFin        string `json:"derniere_fin,omitempty"`
	DerniereReussite   string `json:"derniere_reussite,omitempty"`
	DerniereErreur     string `json:"derniere_erreur,omitempty"`
	ProchaineExecution string `json:"prochaine_execution,omitempty"`
	PerimeApres        string `json:"perime_apres"`
	Probleme           string `json:"probleme,omitempty"`
}

// Health computes the report and its HTTP status.
func (d *Daemon) Health(ctx context.Context) (int, HealthReport) {
	rep := HealthReport{Statut: "ok", Raisons: []string{}}
	if d.opts.Conn == nil {
		rep.ClickHouse.Erreur = "aucune connexion configurée"
	} else {
		pctx, cancel := context.WithTimeout(ctx, 3*time.Second)
		err := d.opts.Conn.Ping(pctx)
		cancel()
		if err != nil {
			rep.ClickHouse.Erreur = err.Error()
		} else {
			rep.ClickHouse.Joignable = true
		}
	}
	if !rep.ClickHouse.Joignable {
		rep.Raisons = append(rep.Raisons, "ClickHouse ne répond pas : "+rep.ClickHouse.Erreur)
	}
	now := d.opts.Now()
	for _, e := range d.entries {
		e.mu.Lock()
		hs := HealthSource{Source: e.name, Emplacement: ingest.RedactURL(e.cfg.Location), EnCours: e.running, Executions: e.runs}
		stale := e.cfg.EffectiveStaleAfter(now, d.opts.Config.Location)
		hs.PerimeApres = stale.String()
		since := hs.setLastRun(e.last, e.lastSuccess, d.started)
		switch {
		case e.last != nil && e.last.Status == ingest.StatusFailed:
			hs.Probleme = "dernière collecte en échec : " + hs.DerniereErreur
		case stale > 0 && now.Sub(since) > stale:
			if e.lastSuccess.IsZero() {
				hs.Probleme = fmt.Sprintf("aucune collecte réussie depuis le démarrage (%s, au-delà de %s)", now.Sub(since).Round(time.Second), stale)
			} else {
				hs.Probleme = fmt.Sprintf("données périmées : dernière collecte réussie il y a %s (au-delà de %s)", now.Sub(since).Round(time.Second), stale)
			}
		}
		e.mu.Unlock()
		rep.add(hs, e.job)
	}
	d.reportHealth(now, &rep)
	if len(rep.Raisons) > 0 {
		rep.Statut = "degrade"
		return http.StatusServiceUnavailable, rep
	}
	return http.StatusOK, rep
}

// setLastRun fills what the last run and the last success say, for a collection or a report entry, and
// returns the time freshness counts from: the last success, else the start of the daemon.
func (hs *HealthSource) setLastRun(last *ingest.Summary, lastSuccess, started time.Time) time.Time {
	if last != nil {
		hs.DernierStatut = last.Status
		hs.DerniereFin = last.Ended.UTC().Format(time.RFC3339)
		if last.Err != nil {
			hs.DerniereErreur = last.Err.Error()
		}
	}
	if lastSuccess.IsZero() {
		return started
	}
	hs.DerniereReussite = lastSuccess.UTC().Format(time.RFC3339)
	return lastSuccess
}

// add lists an entry with its next scheduled run; its problem, if any, makes the report degraded.
func (rep *HealthReport) add(hs HealthSource, job gocron.Job) {
	if job != nil {
		if nr, err := job.NextRun(); err == nil && !nr.IsZero() {
			hs.ProchaineExecution = nr.UTC().Format(time.RFC3339)
		}
	}
	if hs.Probleme != "" {
		rep.Raisons = append(rep.Raisons, hs.Source+" : "+hs.Probleme)
	}
	rep.Sources = append(rep.Sources, hs)
}

func (d *Daemon) serveHealth(w http.ResponseWriter, r *http.Request) {
	code, rep := d.Health(r.Context())
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(code)
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	_ = enc.Encode(rep)
}

// rootError is the innermost error of err's chain (the first branch of a joined error).
func rootError(err error) error {
	for {
		var next error
		switch u := err.(type) {
		case interface{ Unwrap() []error }:
			if l := u.Unwrap(); len(l) > 0 {
				next = l[len(l)-1]
			}
		case interface{ Unwrap() error }:
			next = u.Unwrap()
		}
		if next == nil {
			return err
		}
		err = next
	}
}
