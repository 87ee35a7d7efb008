package ingest

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"net/url"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/ClickHouse/clickhouse-go/v2/lib/driver"
	"github.com/cenkalti/backoff/v4"

	"github.com/sdaasp-rhone/fne/internal/reference"
	"github.com/sdaasp-rhone/fne/internal/store"
)

// Run statuses, as stored in ingestion_runs.status.
const (
	StatusRunning = "en_cours"
	StatusOK      = "succes"
	StatusPartial = "partiel" // succeeded with rejects
	StatusFailed  = "echec"
)

// Summary is the outcome of a run.
type Summary struct {
	RunInfo
	Ended             time.Time
	Read              uint64
	Written           uint64
	Rejected          uint64
	RejectsByReason   map[string]uint64 // bounded reasons (at most maxDistinctReasons)
	RejectsByCode     map[string]uint64 // one of ReasonCodes: the metrics' label
	Notes             []string          // how the input was read (its encoding), for the summary
	Status            string
	Err               error
	Watermark         string
	PreviousWatermark string
}

// Duration of the run.
func (s Summary) Duration() time.Duration { return s.Ended.Sub(s.Started) }

// Runner runs collectors against one database.
type Runner struct {
	Conn      driver.Conn
	BatchSize int
	// Retry builds the backoff policy for ClickHouse writes; nil means exponential up to 2 minutes.
	Retry func() backoff.BackOff
	// Progress, when set, is called after each batch sent.
	Progress func(source string, read, written, rejected uint64)
	// Now is the clock (tests).
	Now func() time.Time
}

func (r *Runner) now() time.Time {
	if r.Now != nil {
		return r.Now().UTC().Truncate(time.Second)
	}
	return time.Now().UTC().Truncate(time.Second)
}

// Run collects one input: records the run, reads the watermark, calls the collector, flushes its rows
// and rejects, stores the new watermark if everything succeeded, and records the outcome. The returned
// error is the run's failure (also in Summary.Err).
func (r *Runner) Run(ctx context.Context, c Collector, in Input) (Summary, error) {
	// One file is one input however it is named: relative and absolute paths give the same key in the
	// rejects and the same source_input.
	if !in.IsURL() && in.Location != "" {
		if abs, err := filepath.Abs(in.Location); err == nil {
			in.Location = abs
		}
	}
	start, err := r.ingestionTime(ctx, c.Name())
	if err != nil {
		return Summary{RunInfo: RunInfo{Source: c.Name(), Input: RedactURL(in.Location), Started: r.now()}, Status: StatusFailed, Err: err, Ended: r.now()}, err
	}
	info := RunInfo{ID: newRunID(start), Source: c.Name(), Input: RedactURL(in.Location), Started: start}
	sum := Summary{RunInfo: info, Status: StatusRunning}
	retry := r.Retry
	if retry == nil {
		retry = func() backoff.BackOff {
			b := backoff.NewExponentialBackOff()
			b.InitialInterval = 500 * time.Millisecond
			b.MaxElapsedTime = 2 * time.Minute
			return b
		}
	}
	batch := r.BatchSize
	if batch <= 0 {
		batch = DefaultBatchSize
	}
	sink := &Sink{conn: r.Conn, run: &info, batchSize: batch, retry: retry, writers: map[string]*Writer{}, reasons: map[string]uint64{}, codes: map[string]uint64{}}
	if r.Progress != nil {
		sink.progress = func(rd, w, rj uint64) { r.Progress(c.Name(), rd, w, rj) }
	}
	live.Lock()
	live.ids[info.ID] = true
	live.Unlock()
	defer func() {
		live.Lock()
		delete(live.ids, info.ID)
		live.Unlock()
	}()
	if err := sink.withRetry(ctx, "enregistrement du lancement", func() error { return r.writeRun(ctx, sum) }); err != nil {
		sum.Status, sum.Err, sum.Ended = StatusFailed, err, r.now()
		return sum, err
	}
	r.markInterrupted(ctx, c.Name(), info.ID)
	wm, err := r.watermark(ctx, c.Name())
	if err != nil {
		return r.finish(ctx, sink, sum, err)
	}
	sum.PreviousWatermark = wm
	// start is strictly greater than every earlier run's (see ingestionTime), so both version forms are
	// strictly increasing from one ingestion to the next; positions within a file stay below 1e9.
	in.Watermark, in.Now, in.IngestVersion = wm, start, uint64(start.UnixNano())
	if in.Reference == nil {
		ref, err := reference.Current(ctx, r.Conn)
		if err != nil && !errors.Is(err, reference.ErrNotLoaded) {
			return r.finish(ctx, sink, sum, err)
		}
		in.Reference = ref
	}
	err = c.Collect(ctx, in, sink)
	var te *TruncatedError
	if errors.As(err, &te) {
		sink.Read(1)
		sink.Reject(te.Position, "", te.Reason, te.Raw)
		err = nil
	}
	if err == nil {
		err = sink.Flush(ctx)
	}
	return r.finish(ctx, sink, sum, err)
}

// lastIngestion is the latest ingestion time handed out by this process, per connection and source:
// with the database's own maximum it keeps concurrent runs of one process (the daemon) apart too.
var lastIngestion struct {
	sync.Mutex
	t map[ingestionKey]time.Time
}

type ingestionKey struct {
	conn   driver.Conn
	source string
}

// ingestionTime is the run's ingestion time, the low half of every version it writes (rule « versions »
// of docs/regles.md): the clock in whole seconds, but strictly after the start of every run already
// recorded in ingestion_runs for the same source and of every run of this process. Two ingestions
// within the same second would otherwise tie, and ReplacingMergeTree (like argMax) would then keep
// either of them, the earlier one after a merge. Every table is written by one source only, so runs of
// different sources never tie on a record; under a burst of runs of one source the ingestion time runs
// a few seconds ahead of the clock, then the clock catches up.
func (r *Runner) ingestionTime(ctx context.Context, source string) (time.Time, error) {
	var last time.Time
	err := backoff.Retry(func() error {
		return r.Conn.QueryRow(ctx, "SELECT max(started_at) FROM ingestion_runs WHERE source = ?", source).Scan(&last)
	}, backoff.WithContext(backoff.WithMaxRetries(backoff.NewExponentialBackOff(), 3), ctx))
	if err != nil {
		return time.Time{}, fmt.Errorf("lecture des lancements précédents : %w", store.Classify(err))
	}
	lastIngestion.Lock()
	defer lastIngestion.Unlock()
	if lastIngestion.t == nil {
		lastIngestion.t = map[ingestionKey]time.Time{}
	}
	key := ingestionKey{r.Conn, source}
	if p := lastIngestion.t[key]; p.After(last) {
		last = p
	}
	t := r.now()
	if !t.After(last) {
		t = last.UTC().Truncate(time.Second).Add(time.Second)
	}
	lastIngestion.t[key] = t
	return t, nil
}

func (r *Runner) finish(ctx context.Context, sink *Sink, sum Summary, runErr error) (Summary, error) {
	// Bookkeeping must be written even when the run was cancelled (SIGTERM): use a fresh context.
	bctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 30*time.Second)
	defer cancel()
	// The ingestion time may run a few seconds ahead of the clock (ingestionTime): a run never ends
	// before it started.
	if sum.Ended = r.now(); sum.Ended.Before(sum.Started) {
		sum.Ended = sum.Started
	}
	if err := sink.flushRejects(bctx, sum.Ended); err != nil && runErr == nil {
		runErr = err
	}
	sum.Read, sum.Written, sum.Rejected = sink.Counts()
	sum.RejectsByReason = sink.reasons
	sum.RejectsByCode = sink.codes
	sum.Notes = append([]string(nil), sink.notes...)
	switch {
	case runErr != nil:
		sum.Status, sum.Err = StatusFailed, runErr
	case sum.Rejected > 0:
		sum.Status = StatusPartial
	default:
		sum.Status = StatusOK
	}
	if runErr == nil && sink.watermark != "" && sink.watermark > sum.PreviousWatermark {
		if err := sink.withRetry(bctx, "enregistrement du filigrane", func() error { return r.writeWatermark(bctx, sum.Source, sink.watermark) }); err != nil {
			sum.Status, sum.Err, runErr = StatusFailed, err, err
		} else {
			sum.Watermark = sink.watermark
		}
	}
	if err := sink.withRetry(bctx, "enregistrement du bilan", func() error { return r.writeRun(bctx, sum) }); err != nil && runErr == nil {
		runErr = err
		sum.Err = err
	}
	return sum, runErr
}

func (r *Runner) writeRun(ctx context.Context, s Summary) error {
	b, err := r.Conn.PrepareBatch(ctx, "INSERT INTO ingestion_runs (run_id, version, source, input, started_at, ended_at, rows_read, rows_written, rows_rejected, status, error)")
	if err != nil {
		return err
	}
	// Versions: 1 when the run starts, 2 when a later run finds it interrupted, 3 when it ends (so that
	// a run wrongly thought dead still has the last word).
	ended, version := s.Ended, uint64(1)
	if s.Status != StatusRunning {
		version = 3
	}
	if ended.IsZero() {
		ended = s.Started
	}
	msg := ""
	if s.Err != nil {
		msg = s.Err.Error()
	}
	if err := b.Append(s.ID, version, s.Source, s.Input, s.Started, ended, s.Read, s.Written, s.Rejected, s.Status, msg); err != nil {
		return backoff.Permanent(err)
	}
	return b.Send()
}

// live lists the runs in progress in this process, which markInterrupted must not touch.
var live = struct {
	sync.Mutex
	ids map[string]bool
}{ids: map[string]bool{}}

// markInterrupted closes the runs of source still « en_cours » that no process runs any more (the
// process died, or lost ClickHouse before writing its outcome): they become « echec » with an
// explanation, instead of staying « en_cours » forever. A run of this process is live; a run of another
// process is taken as dead once this one starts the same source (one collection of a source at a time,
// docs/regles.md). Best effort: the bookkeeping of a dead run must not stop a new one.
func (r *Runner) markInterrupted(ctx context.Context, source, self string) {
	rows, err := r.Conn.Query(ctx, `SELECT run_id, argMax(input, version), min(started_at), argMax(rows_read, version),
	argMax(rows_written, version), argMax(rows_rejected, version)
FROM ingestion_runs WHERE source = ? GROUP BY run_id HAVING argMax(status, version) = ?`, source, StatusRunning)
	if err != nil {
		return
	}
	var stale []Summary
	live.Lock()
	for rows.Next() {
		var s Summary
		if err := rows.Scan(&s.ID, &s.Input, &s.Started, &s.Read, &s.Written, &s.Rejected); err != nil {
			break
		}
		if s.ID != self && !live.ids[s.ID] {
			stale = append(stale, s)
		}
	}
	live.Unlock()
	rows.Close()
	for _, s := range stale {
		b, err := r.Conn.PrepareBatch(ctx, "INSERT INTO ingestion_runs (run_id, version, source, input, started_at, ended_at, rows_read, rows_written, rows_rejected, status, error)")
		if err != nil {
			return
		}
		_ = b.Append(s.ID, uint64(2), source, s.Input, s.Started, s.Started, s.Read, s.Written, s.Rejected, StatusFailed,
			"interrompu : le processus s'est arrêté ou a perdu ClickHouse avant la fin (constaté au lancement "+self+")")
		_ = b.Send()
	}
}

func (r *Runner) watermark(ctx context.Context, source string) (string, error) {
	var wm string
	rows, err := r.Conn.Query(ctx, "SELECT argMax(watermark, version) FROM watermarks WHERE source = ? GROUP BY source", source)
	if err != nil {
		return "", fmt.Errorf("lecture du filigrane de %s : %w", source, store.Classify(err))
	}
	defer rows.Close()
	for rows.Next() {
		if err := rows.Scan(&wm); err != nil {
			return "", err
		}
	}
	return wm, rows.Err()
}

func (r *Runner) writeWatermark(ctx context.Context, source, wm string) error {
	b, err := r.Conn.PrepareBatch(ctx, "INSERT INTO watermarks (source, version, watermark, updated_at)")
	if err != nil {
		return err
	}
	now := r.now()
	if err := b.Append(source, uint64(time.Now().UnixNano()), wm, now); err != nil {
		return backoff.Permanent(err)
	}
	return b.Send()
}

func newRunID(t time.Time) string {
	b := make([]byte, 4)
	_, _ = rand.Read(b)
	return t.Format("20060102T150405Z") + "-" + hex.EncodeToString(b)
}

// RedactURL is a location as it may be stored and shown (ingestion_runs, source_input, logs, /healthz,
// messages): without user info, without fragment and without any query value, whatever the key and its
// case (keys are kept, values become ***). Credentials hide under too many names (token, Token,
// apiKey, sig, X-Amz-Signature, private_token, auth…) for a list of names to be safe.
func RedactURL(loc string) string {
	u, err := url.Parse(loc)
	if err != nil || u.Scheme == "" || u.Host == "" {
		if i := strings.IndexAny(loc, "?#"); i >= 0 && (strings.Contains(loc, "://") || err != nil) {
			return loc[:i] + "?***" // not parseable as a URL but looks like one: keep nothing after the path
		}
		return loc
	}
	u.User = nil
	u.Fragment, u.RawFragment = "", ""
	if u.RawQuery != "" {
		parts := strings.Split(u.RawQuery, "&")
		for i, p := range parts {
			key, _, _ := strings.Cut(p, "=")
			parts[i] = key + "=***"
		}
		u.RawQuery = strings.Join(parts, "&")
	}
	return u.String()
}

// IsStorage reports whether err is ClickHouse being unreachable or refusing access (for metrics and
// exit codes); a query the server refused, a bad file or a bad page is not.
func IsStorage(err error) bool {
	return errors.Is(err, store.ErrUnreachable) || errors.Is(err, store.ErrAuth)
}

// ErrInvalidInput marks the refusal of a whole input for its content (empty file, missing header column,
// unreadable JSON, YAML or workbook): exit code 4 of the CLI. A bad record is a reject, never this.
var ErrInvalidInput = errors.New("données invalides")

// InvalidInput wraps a French explanation as an ErrInvalidInput.
func InvalidInput(format string, args ...any) error {
	return fmt.Errorf("%w : %s", ErrInvalidInput, fmt.Sprintf(format, args...))
}

// TruncatedError is returned by a collector whose input breaks midway (a truncated JSON file): what was
// read before the break is valid and lands; the unreadable rest becomes one reject at Position, and the
// run is « partiel ».
type TruncatedError struct {
	Position, Reason, Raw string
}

func (e *TruncatedError) Error() string { return e.Position + " : " + e.Reason }
