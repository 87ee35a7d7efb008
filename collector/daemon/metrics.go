package daemon

import (
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"

	"github.com/sdaasp-rhone/fne/collector/ingest"
)

// Metrics are the daemon's Prometheus series, on an explicit registry (no global state, so tests and
// several daemons in one process do not collide).
type Metrics struct {
	Registry     *prometheus.Registry
	rowsRead     *prometheus.CounterVec
	rowsWritten  *prometheus.CounterVec
	rowsRejected *prometheus.CounterVec
	duration     *prometheus.HistogramVec
	lastSuccess  *prometheus.GaugeVec
	runs         *prometheus.CounterVec
}

// NewMetrics registers the series, plus the Go runtime and process collectors.
func NewMetrics() *Metrics {
	m := &Metrics{
		Registry: prometheus.NewRegistry(),
		rowsRead: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "fne_ingest_rows_read_total", Help: "Enregistrements lus par les collectes, par source.",
		}, []string{"source"}),
		rowsWritten: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "fne_ingest_rows_written_total", Help: "Lignes écrites dans ClickHouse, par source.",
		}, []string{"source"}),
		rowsRejected: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "fne_ingest_rows_rejected_total", Help: "Enregistrements rejetés, par source et code de motif (voir le README).",
		}, []string{"source", "reason"}),
		duration: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name: "fne_ingest_run_duration_seconds", Help: "Durée des collectes, par source.",
			Buckets: []float64{0.1, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300, 600, 1800},
		}, []string{"source"}),
		lastSuccess: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Name: "fne_ingest_last_success_timestamp_seconds", Help: "Fin de la dernière collecte réussie (horodatage Unix), par source.",
		}, []string{"source"}),
		runs: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "fne_ingest_runs_total", Help: "Collectes terminées, par source et statut (succes, partiel, echec).",
		}, []string{"source", "status"}),
	}
	m.Registry.MustRegister(m.rowsRead, m.rowsWritten, m.rowsRejected, m.duration, m.lastSuccess, m.runs,
		collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	return m
}

// declare creates the series of a configured source at zero, so that dashboards and alerts see the
// source before its first run (a missing series and a zero are not the same thing to PromQL).
func (m *Metrics) declare(source string) {
	m.rowsRead.WithLabelValues(source)
	m.rowsWritten.WithLabelValues(source)
	for _, code := range ingest.ReasonCodes {
		m.rowsRejected.WithLabelValues(source, code)
	}
	for _, st := range []string{ingest.StatusOK, ingest.StatusPartial, ingest.StatusFailed} {
		m.runs.WithLabelValues(source, st)
	}
}

// observe records a finished run; elapsed is measured by the caller because Summary times are whole
// seconds (a file run of 200 ms would read 0 s).
func (m *Metrics) observe(s ingest.Summary, elapsed time.Duration) {
	m.rowsRead.WithLabelValues(s.Source).Add(float64(s.Read))
	m.rowsWritten.WithLabelValues(s.Source).Add(float64(s.Written))
	// The label is a reason code (ingest.ReasonCodes), never the free text: /metrics stays small
	// whatever the input.
	for code, n := range s.RejectsByCode {
		m.rowsRejected.WithLabelValues(s.Source, code).Add(float64(n))
	}
	m.duration.WithLabelValues(s.Source).Observe(elapsed.Seconds())
	m.runs.WithLabelValues(s.Source, s.Status).Inc()
	if s.Status == ingest.StatusOK || s.Status == ingest.StatusPartial {
		m.lastSuccess.WithLabelValues(s.Source).Set(float64(s.Ended.Unix()))
	}
}

// setLastSuccess seeds the gauge from the runs table at start, so a restart does not look like a
// source that never succeeded.
func (m *Metrics) setLastSuccess(source string, unix int64) {
	m.lastSuccess.WithLabelValues(source).Set(float64(unix))
}
