package sources

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math/big"
	"net/http"
	"net/url"
	"os"
	"regexp"
	"runtime"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"

	gojson "github.com/goccy/go-json"
	"github.com/santhosh-tekuri/jsonschema/v6"
	"github.com/santhosh-tekuri/jsonschema/v6/kind"

	"github.com/sdaasp-rhone/fne/collector/ingest"
	"github.com/sdaasp-rhone/fne/schemas"
)

// Coop de la médiation numérique, API v1 (docs/regles.md « Sources »): a JSON:API list of resources, paginated with
// links.next.href. The same reader serves the API pages and the files (one page object or a bare array
// of resources); it streams with json.Decoder tokens so that a file of a million records is read in
// constant memory.

const (
	coopSource      = "la Coop de la médiation numérique"
	coopMaxPageSize = 500
	// coopMaxRaw bounds the raw payload kept with a reject: enough to read the record, not a whole page.
	coopMaxRaw = 64 << 10
	// coopWatermarkLayout is fixed-width so that watermarks compare correctly as strings (Sink keeps the
	// greatest), and is still RFC 3339 for filter[modification][depuis].
	coopWatermarkLayout = "2006-01-02T15:04:05.000Z"
)

// coopPageError is a page that is not the JSON we expect: the run fails (a reject needs a record).
type coopPageError struct {
	offset int64
	err    error
}

func (e *coopPageError) Error() string {
	return fmt.Sprintf("JSON invalide vers l'octet %d : %s", e.offset, jsonErrFR(e.err))
}

func (e *coopPageError) Unwrap() error { return e.err }

// readCoopPage streams the resources of one JSON:API page (or of a bare array of resources) to fn, and
// returns links.next (href form or plain string form). fn must not keep raw: its buffer is reused.
// Errors of fn are returned as they are; malformed JSON is a *coopPageError.
//
// The decoder is goccy/go-json's drop-in json.Decoder (same Token/More/Decode semantics as
// encoding/json): measured on this 2-core machine, encoding/json's scanner alone cost ≈ 9 µs per
// activity, i.e. more than the whole ClickHouse insert, against ≈ 1.5 µs here.
func readCoopPage(r io.Reader, fn func(raw json.RawMessage) error) (next string, err error) {
	dec := gojson.NewDecoder(r)
	fail := func(err error) (string, error) { return "", &coopPageError{offset: dec.InputOffset(), err: err} }
	tok, err := dec.Token()
	if err != nil {
		if err == io.EOF {
			return fail(frMsg("document vide"))
		}
		return fail(err)
	}
	var raw json.RawMessage
	readArray := func() error {
		for dec.More() {
			if err := dec.Decode(&raw); err != nil {
				return &coopPageError{offset: dec.InputOffset(), err: err}
			}
			if err := fn(raw); err != nil {
				return err
			}
		}
		if _, err := dec.Token(); err != nil { // ']'
			return &coopPageError{offset: dec.InputOffset(), err: err}
		}
		return nil
	}
	switch tok {
	case json.Delim('['):
		if err := readArray(); err != nil {
			return "", err
		}
	case json.Delim('{'):
		sawData := false
		for dec.More() {
			kt, err := dec.Token()
			if err != nil {
				return fail(err)
			}
			key, _ := kt.(string)
			switch key {
			case "data":
				t, err := dec.Token()
				if err != nil {
					return fail(err)
				}
				switch t {
				case json.Delim('['):
					if err := readArray(); err != nil {
						return "", err
					}
				case nil:
				default:
					return fail(frMsg("« data » doit être un tableau de ressources"))
				}
				sawData = true
			case "links":
				var links struct {
					Next json.RawMessage `json:"next"`
				}
				if err := dec.Decode(&links); err != nil {
					return fail(err)
				}
				next = coopHref(links.Next)
			case "errors":
				var errs []struct{ Title, Detail string }
				if err := dec.Decode(&errs); err != nil {
					return fail(err)
				}
				msg := "erreur sans détail"
				if len(errs) > 0 {
					msg = strings.TrimSpace(errs[0].Title + " " + errs[0].Detail)
				}
				return "", fmt.Errorf("la réponse signale une erreur : %s", msg)
			default:
				var skip json.RawMessage
				if err := dec.Decode(&skip); err != nil {
					return fail(err)
				}
			}
		}
		if _, err := dec.Token(); err != nil { // '}'
			return fail(err)
		}
		if !sawData {
			return fail(frMsg("objet sans champ « data » (page JSON:API attendue)"))
		}
	default:
		return fail(frMsg("une page JSON:API (objet) ou un tableau de ressources est attendu"))
	}
	if _, err := dec.Token(); err != io.EOF {
		if err == nil {
			err = frMsg("données après la fin du document")
		}
		return fail(err)
	}
	return next, nil
}

// coopHref reads links.next, which JSON:API allows as {"href": "…"} or as a plain string.
func coopHref(m json.RawMessage) string {
	if len(m) == 0 {
		return ""
	}
	var s string
	if json.Unmarshal(m, &s) == nil {
		return s
	}
	var o struct {
		Href string `json:"href"`
	}
	if json.Unmarshal(m, &o) == nil {
		return o.Href
	}
	return ""
}

// recordError is why one record is rejected.
type recordError struct{ field, reason string }

func rejectf(field, format string, args ...any) *recordError {
	return &recordError{field: field, reason: fmt.Sprintf(format, args...)}
}

// coopResource is one decoded resource, validated against its JSON Schema.
type coopResource struct {
	id    string
	attrs map[string]any
}

// coopSpec is what distinguishes the resources of the Coop API.
type coopSpec struct {
	name, description, resource, schemaFile, table string
	columns                                        []string
	// row maps a schema-valid resource to the table's columns; it also returns the modification time
	// (the watermark) or a typed-check failure.
	row func(res coopResource, now time.Time) ([]any, time.Time, *recordError)
	// fast, when set, maps a record that is certainly valid without the generic validator (see
	// activiteFast); ok=false sends the record through the schema and row.
	fast func(raw []byte, now time.Time) (row []any, modification time.Time, ok bool)
	// newColumns, when set, gives each job typed columns that take the records of the fast path
	// (activiteChunk); a record they refuse goes through the schema and row.
	newColumns func() coopColumns
	// observed and version are the positions in columns of coopObserved and of the version (-1 if
	// none), found once by newCoopCollector rather than per record.
	observed []int
	version  int
}

// coopColumns collects, as typed columns handed to the writer whole, the records of one job that a
// typed fast path accepts.
type coopColumns interface {
	ingest.ColumnChunk
	// parse takes raw when it certainly is valid (ok), or reports it a reject with its id (ok and rerr);
	// ok=false leaves it to the generic path.
	parse(s *coopSpec, raw []byte, now time.Time) (mod time.Time, id string, rerr *recordError, ok bool)
}

// parse validates and maps one raw resource: the row, its modification, or why it is rejected (with
// the record id when there is one).
func (s *coopSpec) parse(sch *jsonschema.Schema, raw []byte, now time.Time) (row []any, mod time.Time, id string, rerr *recordError) {
	if s.fast != nil {
		if row, mod, ok := s.fast(raw, now); ok {
			if rerr := s.checkDates(row, now); rerr != nil {
				id, _ := row[0].(string)
				return nil, time.Time{}, id, rerr
			}
			return row, mod, "", nil
		}
	}
	return s.parseSchema(sch, raw, now)
}

// parseSchema is parse without the fast path: the schema validates, row maps.
func (s *coopSpec) parseSchema(sch *jsonschema.Schema, raw []byte, now time.Time) (row []any, mod time.Time, id string, rerr *recordError) {
	res, rerr := decodeCoopResource(sch, raw)
	if rerr != nil {
		return nil, time.Time{}, res.id, rerr
	}
	row, mod, rerr = s.row(res, now)
	if rerr == nil {
		rerr = s.checkDates(row, now)
	}
	return row, mod, res.id, rerr
}

// coopObserved are the columns of Coop rows that are observed facts (dates.go): none may lie more than
// a day after the ingestion. The version's high half (the modification, or the later suppression) is
// checked too: a record modified « in 2099 » would otherwise win over every later correction and move
// the watermark to 2099.
var coopObserved = map[string]bool{"modification": true, "creation": true, "date": true}

func (s *coopSpec) checkDates(row []any, now time.Time) *recordError {
	for _, i := range s.observed {
		if i >= len(row) {
			break
		}
		if v, ok := row[i].(time.Time); ok {
			col := s.columns[i]
			if reason := checkDate(col, v, observed, col != "date", now); reason != "" {
				return &recordError{field: col, reason: reason}
			}
		}
	}
	version := s.version
	if version >= len(row) {
		version = -1
	}
	// The modification passed: a version beyond the range comes from the suppression.
	if version < 0 {
		return nil
	}
	if v, ok := row[version].(uint64); ok {
		if reason := checkDate("suppression", time.Unix(int64(v>>32), 0).UTC(), observed, true, now); reason != "" {
			return &recordError{field: "suppression", reason: reason}
		}
	}
	return nil
}

var (
	coopSchemasMu sync.Mutex
	coopSchemas   = map[string]*jsonschema.Schema{}
)

// coopSchema compiles (once) an embedded schema of schemas/sources.
func coopSchema(file string) (*jsonschema.Schema, error) {
	coopSchemasMu.Lock()
	defer coopSchemasMu.Unlock()
	if s, ok := coopSchemas[file]; ok {
		return s, nil
	}
	f, err := schemas.Sources.Open("sources/" + file)
	if err != nil {
		return nil, fmt.Errorf("schéma %s absent du binaire : %w", file, err)
	}
	defer f.Close()
	doc, err := jsonschema.UnmarshalJSON(f)
	if err != nil {
		return nil, fmt.Errorf("schéma %s illisible : %w", file, err)
	}
	c := jsonschema.NewCompiler()
	loc := "mem:///" + file
	if err := c.AddResource(loc, doc); err != nil {
		return nil, fmt.Errorf("schéma %s : %w", file, err)
	}
	s, err := c.Compile(loc)
	if err != nil {
		return nil, fmt.Errorf("schéma %s : %w", file, err)
	}
	coopSchemas[file] = s
	return s, nil
}

// decodeCoopResource decodes and validates one resource. The id is returned even when the record is
// invalid, for the reject's position.
func decodeCoopResource(sch *jsonschema.Schema, raw []byte) (coopResource, *recordError) {
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil {
		return coopResource{}, rejectf("", "JSON illisible : %v", err)
	}
	var res coopResource
	obj, _ := v.(map[string]any)
	if obj != nil {
		res.id, _ = obj["id"].(string)
	}
	if err := sch.Validate(v); err != nil {
		return res, schemaReject(err)
	}
	res.attrs, _ = obj["attributes"].(map[string]any)
	return res, nil
}

var jsonTypeFR = map[string]string{
	"string": "texte", "integer": "entier", "number": "nombre", "boolean": "booléen",
	"array": "liste", "object": "objet", "null": "null",
}

// schemaReject turns the first failing leaf of a validation error into a field and a French reason.
// Reasons carry no value from the record (the raw payload has it), so that rejects group by reason.
func schemaReject(err error) *recordError {
	var ve *jsonschema.ValidationError
	if !errors.As(err, &ve) {
		return rejectf("", "non conforme au schéma : %v", err)
	}
	for len(ve.Causes) > 0 {
		ve = ve.Causes[0]
	}
	loc := ve.InstanceLocation
	if len(loc) > 0 && loc[0] == "attributes" {
		loc = loc[1:]
	}
	field := strings.Join(loc, ".")
	join := func(p string) string {
		if field == "" {
			return p
		}
		return field + "." + p
	}
	switch k := ve.ErrorKind.(type) {
	case *kind.Required:
		return rejectf(join(k.Missing[0]), "champ obligatoire absent")
	case *kind.Type:
		want := make([]string, len(k.Want))
		for i, w := range k.Want {
			want[i] = jsonTypeFR[w]
		}
		return rejectf(field, "type incorrect : %s attendu, %s reçu", strings.Join(want, " ou "), jsonTypeFR[k.Got])
	case *kind.Enum:
		want := make([]string, len(k.Want))
		for i, w := range k.Want {
			want[i] = fmt.Sprint(w)
		}
		return rejectf(field, "valeur non autorisée (valeurs admises : %s)", strings.Join(want, ", "))
	case *kind.Const:
		return rejectf(field, "valeur inattendue (« %v » attendu)", k.Want)
	case *kind.Pattern:
		if strings.HasSuffix(field, "date") {
			return rejectf(field, "date invalide (format AAAA-MM-JJ attendu)")
		}
		return rejectf(field, "format invalide")
	case *kind.Minimum:
		return rejectf(field, "valeur inférieure au minimum %s", ratString(k.Want))
	case *kind.Maximum:
		return rejectf(field, "valeur supérieure au maximum %s", ratString(k.Want))
	case *kind.MinLength:
		return rejectf(field, "valeur vide")
	case *kind.MaxLength:
		return rejectf(field, "valeur trop longue (%d caractères au plus)", k.Want)
	}
	return rejectf(field, "non conforme au schéma : %s", ve.ErrorKind.LocalizedString(nil))
}

func ratString(r *big.Rat) string {
	if r == nil {
		return "?"
	}
	return r.FloatString(0)
}

// Typed accessors of schema-valid attributes: the schema already guarantees the JSON types, so these
// only convert (null and absent give the zero value).

func attrString(a map[string]any, k string) string {
	s, _ := a[k].(string)
	return strings.TrimSpace(s)
}

func attrStrings(a map[string]any, k string) []string {
	l, _ := a[k].([]any)
	out := make([]string, 0, len(l))
	for _, v := range l {
		if s, ok := v.(string); ok && s != "" {
			out = append(out, s)
		}
	}
	return out
}

// attrUint32 reads a non-negative integer; ok is false when it does not fit the column.
func attrUint32(a map[string]any, k string) (uint32, bool) {
	n, isNum := a[k].(json.Number)
	if !isNum {
		return 0, true
	}
	return numberUint32(n)
}

func numberUint32(n json.Number) (uint32, bool) {
	if u, err := strconv.ParseUint(string(n), 10, 32); err == nil {
		return uint32(u), true
	}
	// JSON Schema "integer" also admits 3.0 or 3e2.
	f, err := n.Float64()
	if err != nil || f < 0 || f > 1<<32-1 || f != float64(uint64(f)) {
		return 0, false
	}
	return uint32(f), true
}

func attrFloat(a map[string]any, k string) *float64 {
	n, ok := a[k].(json.Number)
	if !ok {
		return nil
	}
	f, err := n.Float64()
	if err != nil {
		return nil
	}
	return &f
}

// The ClickHouse Date and DateTime types hold 1970 to 2105: anything outside would fail the whole
// batch, so it is a reject of the record.
var (
	minStoredTime = time.Date(1970, 1, 1, 0, 0, 0, 0, time.UTC)
	maxStoredTime = time.Date(2105, 12, 31, 0, 0, 0, 0, time.UTC)
)

// attrTime parses an RFC 3339 timestamp attribute; absent or null gives the zero time.
func attrTime(a map[string]any, k string) (time.Time, *recordError) {
	s := attrString(a, k)
	if s == "" {
		return time.Time{}, nil
	}
	t, err := time.Parse(time.RFC3339Nano, s)
	if err != nil {
		return time.Time{}, rejectf(k, "horodatage invalide (ISO 8601 avec fuseau attendu, par exemple 2026-10-06T14:02:11.000Z)")
	}
	t = t.UTC()
	if t.Before(minStoredTime) || t.After(maxStoredTime) {
		return time.Time{}, rejectf(k, "horodatage « %s » hors de la plage admise (du 2000-01-01 à l'ingestion + 1 jour)", s)
	}
	return t, nil
}

// parseISODate reads a calendar date, alone or as the date part of a timestamp.
func parseISODate(s string) (time.Time, bool) {
	if len(s) < 10 {
		return time.Time{}, false
	}
	d, err := time.Parse("2006-01-02", s[:10])
	if err != nil {
		return time.Time{}, false
	}
	if len(s) > 10 {
		if _, err := time.Parse(time.RFC3339Nano, s); err != nil {
			return time.Time{}, false
		}
	}
	if d.Before(minStoredTime) || d.After(maxStoredTime) {
		return time.Time{}, false
	}
	return d, true
}

var inseeCode = regexp.MustCompile(`^(?:[0-9]{5}|2[AB][0-9]{3})$`)

// coopRecordTimes returns deleted, the version time (the later of modification and suppression for a
// deleted record, so that the deletion wins over the last modification) and the modification.
func coopRecordTimes(a map[string]any) (deleted uint8, versionAt, modification time.Time, rerr *recordError) {
	modification, rerr = attrTime(a, "modification")
	if rerr != nil {
		return
	}
	if modification.IsZero() {
		rerr = rejectf("modification", "champ obligatoire absent")
		return
	}
	sup, rerr := attrTime(a, "suppression")
	if rerr != nil {
		return
	}
	versionAt = modification
	if !sup.IsZero() {
		deleted = 1
		if sup.After(versionAt) {
			versionAt = sup
		}
	}
	return
}

// coopCollector reads one resource type of the Coop API, from a file or from the API.
type coopCollector struct {
	spec  coopSpec
	fetch *httpFetcher
}

func newCoopCollector(spec coopSpec) *coopCollector {
	spec.version = -1
	for i, col := range spec.columns {
		if coopObserved[col] {
			spec.observed = append(spec.observed, i)
		}
		if col == "version" {
			spec.version = i
		}
	}
	return &coopCollector{spec: spec, fetch: newHTTPFetcher(coopSource)}
}

func (c *coopCollector) Name() string        { return c.spec.name }
func (c *coopCollector) Description() string { return c.spec.description }

// Collect writes every resource of in. A file import does not move the watermark: the watermark says how
// far the API has been read, and a file may be older or partial.
func (c *coopCollector) Collect(ctx context.Context, in ingest.Input, sink *ingest.Sink) error {
	sch, err := coopSchema(c.spec.schemaFile)
	if err != nil {
		return err
	}
	w := sink.Writer(c.spec.table, c.spec.columns...)
	fetchStart := time.Now().UTC()
	if !in.Now.IsZero() && in.Now.Before(fetchStart) {
		fetchStart = in.Now
	}

	// Reading runs in its own goroutine, ahead of the writes, and hands records in chunks to one parsing
	// worker per core (parseAhead); chunks come back in input order, so rejects keep their order and
	// numbering. The channels hold a few chunks only, so memory stays bounded whatever the input size.
	pctx, cancel := context.WithCancel(ctx)
	defer cancel()
	var (
		prodErr error
		newest  time.Time
	)
	jobs := make(chan *coopJob, 2*coopWorkers())
	chunks := c.parseAhead(pctx, sch, in.Now, jobs, &newest)
	go func() {
		defer close(jobs)
		job := newCoopJob(1)
		n := 0
		handle := func(raw json.RawMessage) error {
			n++
			job.add(raw)
			if len(job.ends) == coopChunk {
				select {
				case jobs <- job:
				case <-pctx.Done():
					return pctx.Err()
				}
				job = newCoopJob(n + 1)
			}
			return nil
		}
		if in.IsURL() {
			prodErr = c.collectAPI(pctx, in, handle)
		} else {
			prodErr = c.collectFile(in.Location, handle)
		}
		// The records read before a break are sent too: a truncated file keeps them (files.go).
		if len(job.ends) > 0 {
			select {
			case jobs <- job:
			case <-pctx.Done():
				if prodErr == nil {
					prodErr = pctx.Err()
				}
			}
		}
	}()
	for chunk := range chunks {
		err := func() error {
			for _, it := range chunk.items {
				sink.Read(1)
				if it.reject != nil {
					sink.Reject(it.reject.position, it.reject.field, it.reject.reason, it.reject.raw)
					continue
				}
				if err := w.Append(ctx, it.row...); err != nil {
					return err
				}
			}
			if chunk.typed != nil && chunk.typed.Len() > 0 {
				sink.Read(chunk.typed.Len())
				return w.AppendChunk(ctx, chunk.typed)
			}
			return nil
		}()
		if err != nil {
			cancel()
			for range chunks { // let the reader stop
			}
			return err
		}
	}
	if prodErr != nil {
		return prodErr
	}
	if in.IsURL() && !newest.IsZero() {
		// The watermark never passes the start of the fetch that produced it: a record stamped a few
		// hours ahead (accepted, see dates.go) must not make the next run skip what is modified meanwhile.
		if newest.After(fetchStart) {
			newest = fetchStart
		}
		sink.SetWatermark(newest.UTC().Format(coopWatermarkLayout))
	}
	return nil
}

// coopChunk is how many records the reader hands to a parsing worker, and the writer, at once.
const coopChunk = 512

func coopWorkers() int { return max(1, runtime.GOMAXPROCS(0)) }

// coopJob is a chunk of raw records (copied: the reader's buffer is reused) and, once parsed, its items.
type coopJob struct {
	first  int // element number of the first record (1-based), for rejects without an id
	buf    []byte
	ends   []int
	items  []coopItem
	typed  coopColumns // the records of the typed fast path, when the spec has one
	newest time.Time
	done   chan struct{}
}

func newCoopJob(first int) *coopJob {
	buf, _ := coopBufs.Get().(*[]byte)
	if buf == nil {
		b := make([]byte, 0, 512<<10)
		buf = &b
	}
	return &coopJob{first: first, buf: (*buf)[:0], ends: make([]int, 0, coopChunk), done: make(chan struct{})}
}

// coopBufs recycles the jobs' record buffers: a fresh 512 kB buffer per chunk was zeroed and then
// collected again, 3 % of the collector's CPU.
var coopBufs sync.Pool

func (j *coopJob) add(raw []byte) {
	j.buf = append(j.buf, raw...)
	j.ends = append(j.ends, len(j.buf))
}

// parseAhead parses the jobs on coopWorkers goroutines and returns their items in job order; newest is
// the latest modification of the valid records, final once the returned channel is closed.
func (c *coopCollector) parseAhead(ctx context.Context, sch *jsonschema.Schema, now time.Time, jobs <-chan *coopJob, newest *time.Time) <-chan coopParsed {
	out := make(chan coopParsed, 4)
	ordered := make(chan *coopJob, 2*coopWorkers())
	work := make(chan *coopJob, coopWorkers())
	for i := 0; i < coopWorkers(); i++ {
		go func() {
			for j := range work {
				c.parseJob(sch, now, j)
				close(j.done)
			}
		}()
	}
	// Dispatch keeps the input order in ordered while the workers take jobs as they come.
	go func() {
		defer close(ordered)
		defer close(work)
		for j := range jobs {
			select {
			case ordered <- j:
			case <-ctx.Done():
				return
			}
			select {
			case work <- j:
			case <-ctx.Done():
				return
			}
		}
	}()
	go func() {
		defer close(out)
		for j := range ordered {
			select {
			case <-j.done:
			case <-ctx.Done():
				return
			}
			if j.newest.After(*newest) {
				*newest = j.newest
			}
			select {
			case out <- coopParsed{j.items, j.typed}:
			case <-ctx.Done():
				return
			}
		}
	}()
	return out
}

// parseJob validates and maps the records of one job.
func (c *coopCollector) parseJob(sch *jsonschema.Schema, now time.Time, j *coopJob) {
	j.items = make([]coopItem, 0, len(j.ends))
	if c.spec.newColumns != nil {
		j.typed = c.spec.newColumns()
	}
	start := 0
	for k, end := range j.ends {
		raw := j.buf[start:end:end]
		start = end
		var (
			row    []any
			mod    time.Time
			id     string
			rerr   *recordError
			parsed bool
		)
		if j.typed != nil {
			mod, id, rerr, parsed = j.typed.parse(&c.spec, raw, now)
			if parsed && rerr == nil {
				if mod.After(j.newest) {
					j.newest = mod
				}
				continue
			}
		}
		switch {
		case j.typed != nil && !parsed: // the fast path has refused it already
			row, mod, id, rerr = c.spec.parseSchema(sch, raw, now)
		case !parsed:
			row, mod, id, rerr = c.spec.parse(sch, raw, now)
		}
		if rerr != nil {
			if id == "" {
				id = fmt.Sprintf("élément %d", j.first+k)
			}
			if len(raw) > coopMaxRaw {
				raw = raw[:coopMaxRaw]
			}
			j.items = append(j.items, coopItem{reject: &coopRejectItem{id, rerr.field, rerr.reason, string(raw)}})
			continue
		}
		if mod.After(j.newest) {
			j.newest = mod
		}
		j.items = append(j.items, coopItem{row: row})
	}
	// The rows and rejects hold copies (strings), not the raw bytes: the buffer can serve again.
	buf := j.buf[:0]
	coopBufs.Put(&buf)
	j.buf = nil
}

// coopParsed is what a job gives the writer: its items in input order, then its typed columns.
type coopParsed struct {
	items []coopItem
	typed coopColumns
}

type coopItem struct {
	row    []any
	reject *coopRejectItem
}

type coopRejectItem struct{ position, field, reason, raw string }

func (c *coopCollector) collectFile(path string, handle func(json.RawMessage) error) error {
	f, err := openFile(path)
	if err != nil {
		return err
	}
	defer f.Close()
	var handleErr error
	records := 0
	br := bufio.NewReaderSize(f, 1<<20)
	bom := int64(0)
	if head, _ := br.Peek(3); bytes.HasPrefix(head, bomUTF8) {
		bom = 3
	}
	if _, err := readCoopPage(skipBOM(br), func(raw json.RawMessage) error {
		records++
		handleErr = handle(raw)
		return handleErr
	}); err != nil {
		if handleErr != nil {
			return handleErr
		}
		var pe *coopPageError
		if errors.As(err, &pe) {
			// What was read before the break lands; the rest is one reject (an excerpt as its raw text).
			rest := make([]byte, 1024)
			n, _ := f.ReadAt(rest, bom+pe.offset)
			return brokenJSON(path, records, bom+pe.offset, pe.err, string(rest[:n]))
		}
		return fmt.Errorf("%s : fichier %s : %w", c.spec.name, path, err)
	}
	return nil
}

func (c *coopCollector) collectAPI(ctx context.Context, in ingest.Input, handle func(json.RawMessage) error) error {
	token, err := secretOption(in, "token", "token_file", "FNE_COOP_TOKEN", "FNE_COOP_TOKEN_FILE")
	if err != nil {
		return err
	}
	if token == "" {
		return fmt.Errorf("%s : jeton d'accès à %s manquant (option token ou token_file, ou variable FNE_COOP_TOKEN ou FNE_COOP_TOKEN_FILE)", c.spec.name, coopSource)
	}
	size := coopMaxPageSize
	if v := in.Option("page_size", ""); v != "" {
		if size, err = strconv.Atoi(v); err != nil || size < 1 || size > coopMaxPageSize {
			return fmt.Errorf("%s : page_size doit être un entier de 1 à %d, pas %q", c.spec.name, coopMaxPageSize, v)
		}
	}
	first, err := coopFirstURL(in.Location, c.spec.resource, size, in.Watermark)
	if err != nil {
		return fmt.Errorf("%s : %w", c.spec.name, err)
	}
	header := http.Header{"Authorization": {"Bearer " + token}}
	seen := map[string]bool{}
	page := 0
	for u := first; u != ""; {
		page++
		if err := ctx.Err(); err != nil {
			return err
		}
		seen[u] = true
		body, err := c.fetch.get(ctx, u, header)
		if err != nil {
			return fmt.Errorf("%s : %w", c.spec.name, err)
		}
		var handleErr error
		next, err := readCoopPage(bytes.NewReader(bytes.TrimPrefix(body, bomUTF8)), func(raw json.RawMessage) error {
			handleErr = handle(raw)
			return handleErr
		})
		if err != nil {
			if handleErr != nil {
				return handleErr
			}
			return fmt.Errorf("%s : page %d (%s) : %w", c.spec.name, page, ingest.RedactURL(u), err)
		}
		if next == "" {
			break
		}
		nu, err := coopNextURL(first, u, next)
		if err != nil {
			return fmt.Errorf("%s : %w", c.spec.name, err)
		}
		if seen[nu] {
			return fmt.Errorf("%s : la pagination revient sur une page déjà lue (%s)", c.spec.name, ingest.RedactURL(nu))
		}
		u = nu
	}
	return nil
}

// coopFirstURL builds {base}/api/v1/{resource}?page[size]=N[&filter[modification][depuis]=W]; a base
// that already ends with the resource path is used as it is.
func coopFirstURL(base, resource string, size int, watermark string) (string, error) {
	u, err := url.Parse(base)
	if err != nil || u.Host == "" {
		return "", fmt.Errorf("adresse de l'API invalide %q", ingest.RedactURL(base))
	}
	p := strings.TrimRight(u.Path, "/")
	if !strings.HasSuffix(p, "/api/v1/"+resource) {
		p += "/api/v1/" + resource
	}
	u.Path, u.RawPath = p, ""
	q := u.Query()
	q.Set("page[size]", strconv.Itoa(size))
	if watermark != "" {
		q.Set("filter[modification][depuis]", watermark)
	}
	u.RawQuery = q.Encode()
	return u.String(), nil
}

// coopNextURL resolves links.next against the current page and refuses another host: the bearer token
// must never be sent elsewhere than to the configured API.
func coopNextURL(first, current, next string) (string, error) {
	cu, _ := url.Parse(current)
	nu, err := cu.Parse(next)
	if err != nil {
		return "", fmt.Errorf("lien de page suivante invalide : %v", err)
	}
	fu, _ := url.Parse(first)
	if !strings.EqualFold(nu.Scheme, fu.Scheme) || !strings.EqualFold(nu.Host, fu.Host) {
		return "", fmt.Errorf("le lien de page suivante mène à un autre serveur (%s) : refusé, le jeton n'y est pas envoyé", nu.Host)
	}
	return nu.String(), nil
}

// secretOption reads a credential from the option, the option naming a file, the variable or the
// variable naming a file, in that order. The value itself never appears in an error.
func secretOption(in ingest.Input, opt, fileOpt, env, envFile string) (string, error) {
	if v := in.Option(opt, ""); v != "" {
		return strings.TrimSpace(v), nil
	}
	file := in.Option(fileOpt, "")
	if file == "" && os.Getenv(env) != "" {
		return strings.TrimSpace(os.Getenv(env)), nil
	}
	if file == "" {
		file = os.Getenv(envFile)
	}
	if file == "" {
		return "", nil
	}
	b, err := os.ReadFile(file)
	if err != nil {
		return "", fmt.Errorf("lecture du fichier de jeton %s impossible : %v", file, errors.Unwrap(err))
	}
	return strings.TrimSpace(string(b)), nil
}

// beneficiaryGroups are the counters of beneficiaires, flattened to "group.key" in this order.
var beneficiaryGroups = []string{"genres", "tranches_age", "statuts"}

// flattenBeneficiaires returns total and the non-zero counters as parallel arrays (keys sorted within a
// group). Zero counters are left out: sums are the same and rows stay small.
func flattenBeneficiaires(a map[string]any) (total uint32, keys []string, vals []uint32, rerr *recordError) {
	keys, vals = []string{}, []uint32{}
	b, _ := a["beneficiaires"].(map[string]any)
	if b == nil {
		return 0, keys, vals, nil
	}
	total, ok := attrUint32(b, "total")
	if !ok {
		return 0, nil, nil, rejectf("beneficiaires.total", "nombre trop grand")
	}
	for _, g := range beneficiaryGroups {
		m, _ := b[g].(map[string]any)
		names := make([]string, 0, len(m))
		for k := range m {
			names = append(names, k)
		}
		sort.Strings(names)
		for _, k := range names {
			v, ok := attrUint32(m, k)
			if !ok {
				return 0, nil, nil, rejectf("beneficiaires."+g+"."+k, "nombre trop grand")
			}
			if v > 0 {
				keys = append(keys, g+"."+k)
				vals = append(vals, v)
			}
		}
	}
	return total, keys, vals, nil
}
