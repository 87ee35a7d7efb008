package ingest

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"time"

	"github.com/ClickHouse/clickhouse-go/v2/lib/driver"
	"github.com/cenkalti/backoff/v4"

	"github.com/sdaasp-rhone/fne/internal/store"
)

// DefaultBatchSize is how many rows a Writer buffers before sending them: large enough for ClickHouse
// (every insert makes one part per month it touches), small enough that memory stays flat whatever the
// input size (two batches are held: one being filled, one being sent, whose copy in the driver is the
// largest). Measured on 1 M activities, 2 cores: 10 000 rows 5.4 s and 145 MB peak RSS, 20 000 rows
// 4.7 s and 218 MB, 25 000 rows 240 MB, 50 000 rows 390 MB.
const DefaultBatchSize = 20000

// Sink receives a collector's output for one run.
type Sink struct {
	conn      driver.Conn
	run       *RunInfo
	batchSize int
	retry     func() backoff.BackOff

	mu        sync.Mutex
	writers   map[string]*Writer
	rejects   []rejectRow
	reasons   map[string]uint64
	codes     map[string]uint64
	read      uint64
	written   uint64
	rejected  uint64
	watermark string
	notes     []string
	progress  func(read, written, rejected uint64)
	reportMu  sync.Mutex
}

// Note adds a line to the run summary about how the input was read (its encoding, for instance).
func (s *Sink) Note(msg string) {
	s.mu.Lock()
	s.notes = append(s.notes, msg)
	s.mu.Unlock()
}

// RunInfo identifies a run.
type RunInfo struct {
	ID      string
	Source  string
	Input   string // location with credentials removed
	Started time.Time
}

type rejectRow struct {
	position, field, reason, raw string
}

// Writer appends rows to one table, in batches. A full batch is sent by a goroutine of its own while
// the collector fills the next one (at most one batch in flight per writer, so memory stays at two
// batches): measured on 2 cores, sending synchronously left the parser idle for the whole insert.
type Writer struct {
	sink      *Sink
	table     string
	columns   []string
	rows      [][]any
	chunks    []ColumnChunk
	spare     [][]any // the buffer of the batch in flight, reused once it is sent
	chunkRows int
	inFlight  chan error // result of the batch being sent; nil when none
}

// Writer returns the writer of table for the given columns; the provenance columns source_input, run_id
// and ingested_at are appended automatically to every row, so collectors list only their own columns.
func (s *Sink) Writer(table string, columns ...string) *Writer {
	s.mu.Lock()
	defer s.mu.Unlock()
	if w, ok := s.writers[table]; ok {
		return w
	}
	w := &Writer{sink: s, table: table, columns: append(append([]string(nil), columns...), "source_input", "run_id", "ingested_at")}
	s.writers[table] = w
	return w
}

// Append adds one valid row (values in the order of the writer's columns) and counts it as written
// once its batch is sent. An error is the failure of this row's batch or of the previous one. The
// slice values is kept until the batch is sent: a caller must not reuse it for the next row.
func (w *Writer) Append(ctx context.Context, values ...any) error {
	if len(values) != len(w.columns)-3 {
		return fmt.Errorf("ingest: %s: %d values for %d columns", w.table, len(values), len(w.columns)-3)
	}
	// The provenance is the same for every row: send adds it as three constant columns, so the row is
	// kept as the collector built it (appending three values would copy every row).
	w.rows = append(w.rows, values)
	return w.handOver(ctx)
}

// A ColumnChunk is valid rows already laid out as typed columns, one slice per column of the writer in
// its order (provenance excluded), of the types Columnar gives: a collector that decodes into typed
// columns hands them over whole, without a boxed value per cell (a sixth of the activities' CPU).
type ColumnChunk interface {
	Len() int
	Columns() []any
}

// AppendChunk adds the rows of c, as Append adds one row; c is kept until its batch is sent.
func (w *Writer) AppendChunk(ctx context.Context, c ColumnChunk) error {
	if c.Len() == 0 {
		return nil
	}
	if n := len(c.Columns()); n != len(w.columns)-3 {
		return fmt.Errorf("ingest: %s: %d columns for %d", w.table, n, len(w.columns)-3)
	}
	w.chunks = append(w.chunks, c)
	w.chunkRows += c.Len()
	return w.handOver(ctx)
}

// handOver sends the buffered rows and chunks once they make a batch.
func (w *Writer) handOver(ctx context.Context) error {
	if len(w.rows)+w.chunkRows < w.sink.batchSize {
		return nil
	}
	if err := w.wait(); err != nil {
		return err
	}
	// A cancelled run (SIGTERM) hands over no new batch; one handed over is sent to the end (send).
	if err := ctx.Err(); err != nil {
		return err
	}
	rows, chunks := w.rows, w.chunks
	w.rows, w.chunks, w.chunkRows = w.spare[:0], nil, 0
	done := make(chan error, 1)
	w.inFlight = done
	go func() {
		err := w.send(ctx, rows, chunks)
		if err == nil {
			w.spare = rows[:0] // read by handOver only after wait()
		}
		done <- err
	}()
	return nil
}

// wait returns the outcome of the batch in flight, if any, and takes its buffer back.
func (w *Writer) wait() error {
	if w.inFlight == nil {
		return nil
	}
	err := <-w.inFlight
	w.inFlight = nil
	return err
}

// flush sends every buffered row and waits for it.
func (w *Writer) flush(ctx context.Context) error {
	if err := w.wait(); err != nil {
		return err
	}
	if len(w.rows)+w.chunkRows == 0 {
		return nil
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	if err := w.send(ctx, w.rows, w.chunks); err != nil {
		return err
	}
	w.rows, w.chunks, w.chunkRows = w.rows[:0], nil, 0
	return nil
}

// send inserts rows (retried), then counts them as written. Values go to the driver column by column
// (one typed slice per column) rather than row by row through the driver's per-value type switch, which
// was a sixth of the collector's CPU; a column whose values are not all of one supported type goes row
// by row as before.
func (w *Writer) send(ctx context.Context, rows [][]any, chunks []ColumnChunk) error {
	// A batch once handed over is sent to the end even if the run is cancelled meanwhile (SIGTERM): a
	// send cut short may still be stored by the server while the run would not count it. The callers
	// check for cancellation before handing a batch over.
	sendCtx := context.WithoutCancel(ctx)
	query := fmt.Sprintf("INSERT INTO %s (%s)", w.table, strings.Join(w.columns, ", "))
	run := w.sink.run
	n := len(rows)
	var cols []any
	columnar := false
	if len(rows) > 0 {
		cols, columnar = Columnar(rows, len(w.columns)-3)
		if columnar {
			cols = append(cols, Provenance(len(rows), run.Input, run.ID, run.Started)...)
			// The typed columns are all that is sent, retries included: the rows (a slice and a boxed
			// value per cell, ~600 bytes per activity) are released now rather than after the insert.
			clear(rows)
		}
	}
	chunkCols := make([][]any, len(chunks))
	for i, c := range chunks {
		chunkCols[i] = append(c.Columns(), Provenance(c.Len(), run.Input, run.ID, run.Started)...)
		n += c.Len()
	}
	invalid := func(err error) error {
		return backoff.Permanent(fmt.Errorf("ligne invalide pour %s : %w", w.table, err))
	}
	err := w.sink.withRetry(ctx, "écriture dans "+w.table, func() error {
		b, err := w.sink.conn.PrepareBatch(sendCtx, query)
		if err != nil {
			return err
		}
		switch {
		case columnar:
			err = AppendColumns(b, cols)
		case len(rows) > 0:
			for _, r := range rows {
				if err = b.Append(append(r[:len(r):len(r)], run.Input, run.ID, run.Started)...); err != nil {
					break
				}
			}
		}
		for i := 0; err == nil && i < len(chunkCols); i++ {
			err = AppendColumns(b, chunkCols[i])
		}
		if err != nil {
			_ = b.Abort()
			return invalid(err)
		}
		return b.Send()
	})
	clear(rows) // the buffer serves the next batch: it must not keep this one's rows alive
	if err != nil {
		return err
	}
	w.sink.mu.Lock()
	w.sink.written += uint64(n)
	w.sink.mu.Unlock()
	w.sink.report()
	return nil
}

// Provenance returns the columns source_input, run_id and ingested_at of n rows of one run, as the
// writers append them after the collector's columns.
func Provenance(n int, input, runID string, at time.Time) []any {
	in, id, ts := make([]string, n), make([]string, n), make([]time.Time, n)
	for i := range n {
		in[i], id[i], ts[i] = input, runID, at
	}
	return []any{in, id, ts}
}

// Columnar transposes rows into one typed slice per column, as the driver's Column().Append takes them;
// ok is false when a column mixes types or holds a type not listed (append row by row then).
func Columnar(rows [][]any, n int) ([]any, bool) {
	if len(rows) == 0 {
		return nil, false
	}
	cols := make([]any, n)
	for i := 0; i < n; i++ {
		var ok bool
		switch rows[0][i].(type) {
		case string:
			cols[i], ok = column[string](rows, i)
		case uint8:
			cols[i], ok = column[uint8](rows, i)
		case uint16:
			cols[i], ok = column[uint16](rows, i)
		case uint32:
			cols[i], ok = column[uint32](rows, i)
		case uint64:
			cols[i], ok = column[uint64](rows, i)
		case int32:
			cols[i], ok = column[int32](rows, i)
		case int64:
			cols[i], ok = column[int64](rows, i)
		case float64:
			cols[i], ok = column[float64](rows, i)
		case time.Time:
			cols[i], ok = column[time.Time](rows, i)
		case []string:
			cols[i], ok = column[[]string](rows, i)
		case []uint32:
			cols[i], ok = column[[]uint32](rows, i)
		case *uint8:
			cols[i], ok = column[*uint8](rows, i)
		case *float64:
			cols[i], ok = column[*float64](rows, i)
		case *string:
			cols[i], ok = column[*string](rows, i)
		}
		if !ok {
			return nil, false
		}
	}
	return cols, true
}

// AppendColumns appends the columns of Columnar to batch b. Array columns go row by row: the driver's
// whole-column Append of an array walks it by reflection, its AppendRow of a plain slice does not.
func AppendColumns(b driver.Batch, cols []any) error {
	for i, col := range cols {
		bc := b.Column(i)
		var err error
		switch c := col.(type) {
		case [][]string:
			for _, v := range c {
				if err = bc.AppendRow(v); err != nil {
					break
				}
			}
		case [][]uint32:
			for _, v := range c {
				if err = bc.AppendRow(v); err != nil {
					break
				}
			}
		default:
			err = bc.Append(col)
		}
		if err != nil {
			return fmt.Errorf("colonne %d : %w", i+1, err)
		}
	}
	return nil
}

func column[T any](rows [][]any, i int) ([]T, bool) {
	out := make([]T, len(rows))
	for r, row := range rows {
		v, ok := row[i].(T)
		if !ok {
			return nil, false
		}
		out[r] = v
	}
	return out, true
}

// Read counts one input record (valid or not): the run's "rows read".
func (s *Sink) Read(n int) {
	s.mu.Lock()
	s.read += uint64(n)
	s.mu.Unlock()
}

// Reject records an invalid record: position is "ligne N" (or "feuille!ligne N", or the record id),
// field the offending field ("" for the whole record), reason a French sentence, raw the record as read.
// Rejects are written at the end of the run, and a reject never stops the run.
func (s *Sink) Reject(position, field, reason, raw string) {
	reason, raw = BoundReason(reason), BoundRaw(raw)
	code := ReasonCode(reason)
	s.mu.Lock()
	defer s.mu.Unlock()
	s.rejected++
	s.codes[code]++
	if _, seen := s.reasons[reason]; seen || len(s.reasons) < maxDistinctReasons {
		s.reasons[reason]++
	} else {
		s.reasons["autres motifs (code "+code+")"]++
	}
	s.rejects = append(s.rejects, rejectRow{BoundReason(position), BoundReason(field), reason, raw})
}

// SetWatermark records the newest upstream modification seen (RFC 3339). It is stored only when the
// run succeeds, so a failed run is resumed from the previous watermark.
func (s *Sink) SetWatermark(w string) {
	s.mu.Lock()
	if w > s.watermark {
		s.watermark = w
	}
	s.mu.Unlock()
}

// Counts returns rows read, written and rejected so far.
func (s *Sink) Counts() (read, written, rejected uint64) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.read, s.written, s.rejected
}

// report calls the progress callback, one call at a time (batches are sent by goroutines).
func (s *Sink) report() {
	if s.progress != nil {
		s.reportMu.Lock()
		defer s.reportMu.Unlock()
		s.progress(s.Counts())
	}
}

// Flush sends every buffered row. Run calls it at the end; collectors may call it to bound memory.
func (s *Sink) Flush(ctx context.Context) error {
	s.mu.Lock()
	ws := make([]*Writer, 0, len(s.writers))
	for _, w := range s.writers {
		ws = append(ws, w)
	}
	s.mu.Unlock()
	for _, w := range ws {
		if err := w.flush(ctx); err != nil {
			return err
		}
	}
	return nil
}

func (s *Sink) flushRejects(ctx context.Context, now time.Time) error {
	s.settle()
	if len(s.rejects) == 0 {
		return nil
	}
	return s.withRetry(ctx, "écriture des rejets", func() error {
		b, err := s.conn.PrepareBatch(ctx, "INSERT INTO rejects (source, input, position, field, version, run_id, reason, raw, rejected_at)")
		if err != nil {
			return err
		}
		// The run's ingestion time: strictly increasing from run to run, so the later rejects win.
		v := store.Version(s.run.Started, s.run.Started)
		for _, r := range s.rejects {
			if err := b.Append(s.run.Source, s.run.Input, r.position, r.field, v, s.run.ID, r.reason, r.raw, now); err != nil {
				_ = b.Abort()
				return backoff.Permanent(err)
			}
		}
		return b.Send()
	})
}

// settle waits for the batches in flight (a failed run must not count them after its summary).
func (s *Sink) settle() {
	s.mu.Lock()
	ws := make([]*Writer, 0, len(s.writers))
	for _, w := range s.writers {
		ws = append(ws, w)
	}
	s.mu.Unlock()
	for _, w := range ws {
		_ = w.wait()
	}
}

// withRetry retries fn on ClickHouse failures with exponential backoff (bounded in time), so that a
// server restart during a run does not lose the batch.
func (s *Sink) withRetry(ctx context.Context, what string, fn func() error) error {
	err := backoff.Retry(fn, backoff.WithContext(s.retry(), ctx))
	if err != nil {
		return fmt.Errorf("%s : %w", what, store.Classify(err))
	}
	return nil
}
