package sources

// The table reader shared by the file sources of coordinators (lieux in CSV, rencontres, participations,
// equipements, jalons in CSV): CSV with "," ";" or tab, with or without a UTF-8 BOM, or an XLSX sheet.
// Every data row keeps its position ("ligne N" for CSV, "feuille!ligne N" for XLSX) and its text as
// read, so that a rejected row can be found and fixed by the person who typed it.

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"math"
	"net/http"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/xuri/excelize/v2"

	"github.com/sdaasp-rhone/fne/collector/ingest"
)

// tabMaxRecord bounds one CSV record (a quote left open would otherwise swallow the rest of the file).
const tabMaxRecord = 1 << 20

// tabRow is one data row of a table.
type tabRow struct {
	Pos   string    // "ligne 3" or "rencontres!ligne 3"
	Line  int       // physical line (CSV) or row number (XLSX) where the row starts; orders duplicates
	Raw   string    // the row as read (CSV text, or the XLSX cells joined as CSV)
	XLSX  bool      // cells come from a workbook: dates may be Excel serial numbers
	Width string    // non-empty when the CSV row does not have as many cells as the header: the reason
	Now   time.Time // the ingestion time, for the accepted date ranges (dates.go)
	cells []string
	hdr   map[string]int
}

// get returns the trimmed cell of column col ("" when absent).
func (r tabRow) get(col string) string {
	i, ok := r.hdr[col]
	if !ok || i >= len(r.cells) {
		return ""
	}
	return strings.TrimSpace(r.cells[i])
}

// multi splits a multi-valued cell on "|" (docs/regles.md « Sources »), trimming and dropping empty values.
func (r tabRow) multi(col string) []string { return tabSplitMulti(r.get(col)) }

func tabSplitMulti(s string) []string {
	out := []string{}
	for _, v := range strings.Split(s, "|") {
		if v = strings.TrimSpace(v); v != "" {
			out = append(out, v)
		}
	}
	return out
}

// tabTable iterates over the data rows of a CSV file or an XLSX sheet.
type tabTable struct {
	Header []string
	Sheet  string        // XLSX sheet read, "" for CSV
	Now    time.Time     // the ingestion time, copied to every row
	note   func() string // what the run summary must say about the reading (the encoding), once read
	hdr    map[string]int
	next   func() (tabRow, error)
}

// Next returns the next non-blank data row, or io.EOF.
func (t *tabTable) Next() (tabRow, error) {
	r, err := t.next()
	r.Now = t.Now
	return r, err
}

// date parses the cell of col as a date and checks it against the range of kind: the date, or the
// French reason of the reject ("" cell gives the zero time and no reason).
func (r tabRow) date(col string, kind dateKind) (time.Time, string) {
	v := r.get(col)
	if v == "" {
		return time.Time{}, ""
	}
	d, err := tabDate(v, r.XLSX)
	if err != nil {
		return time.Time{}, err.Error()
	}
	return d, checkDate(col, d, kind, false, r.Now)
}

// Has reports whether the header holds col.
func (t *tabTable) Has(col string) bool { _, ok := t.hdr[col]; return ok }

// require checks that every required column is in the header: a file without one of them cannot be
// read at all (an error for the whole run, not one reject per row).
func (t *tabTable) require(cols ...string) error {
	var missing []string
	for _, c := range cols {
		if !t.Has(c) {
			missing = append(missing, c)
		}
	}
	if len(missing) > 0 {
		where := "l'en-tête"
		if t.Sheet != "" {
			where = "l'en-tête de la feuille « " + t.Sheet + " »"
		}
		return ingest.InvalidInput("colonne(s) obligatoire(s) absente(s) de %s : %s (colonnes lues : %s)", where,
			strings.Join(missing, ", "), strings.Join(t.Header, ", "))
	}
	return nil
}

func tabHeader(cells []string) ([]string, map[string]int) {
	h := make([]string, len(cells))
	m := make(map[string]int, len(cells))
	for i, c := range cells {
		c = strings.ToLower(strings.TrimSpace(strings.TrimPrefix(c, "\ufeff")))
		h[i] = c
		if _, dup := m[c]; !dup && c != "" {
			m[c] = i
		}
	}
	return h, m
}

func tabBlank(cells []string) bool {
	for _, c := range cells {
		if strings.TrimSpace(c) != "" {
			return false
		}
	}
	return true
}

// tabOpen opens a file or downloads a URL. The caller closes the reader.
func tabOpen(ctx context.Context, in ingest.Input) (io.ReadCloser, error) {
	if !in.IsURL() {
		return openFile(in.Location)
	}
	ctx, cancel := context.WithTimeout(ctx, 5*time.Minute)
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, in.Location, nil)
	if err != nil {
		cancel()
		return nil, fmt.Errorf("adresse invalide %s : %w", ingest.RedactURL(in.Location), err)
	}
	resp, err := tabHTTP.Do(req)
	if err != nil {
		cancel()
		return nil, fmt.Errorf("téléchargement de %s : %v", ingest.RedactURL(in.Location), transportErr(err))
	}
	if resp.StatusCode/100 != 2 {
		resp.Body.Close()
		cancel()
		return nil, fmt.Errorf("téléchargement de %s : réponse HTTP %d", ingest.RedactURL(in.Location), resp.StatusCode)
	}
	return tabCloser{resp.Body, cancel}, nil
}

// tabHTTP downloads tables (no overall timeout: the request's context bounds it).
var tabHTTP = newHTTPClient(0)

type tabCloser struct {
	io.ReadCloser
	cancel context.CancelFunc
}

func (c tabCloser) Close() error { err := c.ReadCloser.Close(); c.cancel(); return err }

// tabIsXLSX tells a workbook (a zip archive) from text by its first bytes.
func tabIsXLSX(head []byte) bool { return bytes.HasPrefix(head, []byte("PK\x03\x04")) }

// tabOpenTable opens in as a table: an XLSX workbook (sheet --sheet, else the one named like source,
// else the only one) or a CSV file. It returns the table and a closer.
func tabOpenTable(ctx context.Context, in ingest.Input, source string) (*tabTable, io.Closer, error) {
	rc, err := tabOpen(ctx, in)
	if err != nil {
		return nil, nil, err
	}
	t, err := tabTableFrom(bufio.NewReaderSize(rc, 64<<10), in, source)
	if err != nil {
		rc.Close()
		return nil, nil, err
	}
	return t, rc, nil
}

// tabTableFrom reads an opened input as a table: an XLSX workbook, or a CSV text decoded to UTF-8
// (encoding.go, option encoding).
func tabTableFrom(br *bufio.Reader, in ingest.Input, source string) (*tabTable, error) {
	head, _ := br.Peek(4)
	var t *tabTable
	var err error
	if tabIsXLSX(head) || strings.EqualFold(filepath.Ext(in.Location), ".xlsx") {
		t, err = newXLSXTable(br, in.Option("sheet", ""), source)
	} else {
		var dec *textDecoder
		if br, dec, err = decodeText(br, in.Option("encoding", "")); err == nil {
			if t, err = newCSVTable(br); err == nil {
				t.note = dec.note
			}
		}
	}
	if err != nil {
		return nil, fmt.Errorf("%s : %w", ingest.RedactURL(in.Location), err)
	}
	t.Now = in.Now
	return t, nil
}

// newCSVTable reads a CSV stream: the first non-blank line is the header; the separator is the most
// frequent of "," ";" and tab in it.
func newCSVTable(r io.Reader) (*tabTable, error) {
	br, ok := r.(*bufio.Reader)
	if !ok {
		br = bufio.NewReaderSize(r, 64<<10)
	}
	s := &tabCSV{br: br}
	var headerText string
	for {
		l, err := s.readPhys()
		if err != nil {
			if err == io.EOF {
				return nil, ingest.InvalidInput("fichier vide : aucune ligne d'en-tête")
			}
			return nil, err
		}
		line := l.text
		if l.n == 1 {
			line = strings.TrimPrefix(line, "\ufeff")
		}
		if strings.TrimSpace(tabChomp(line)) != "" {
			headerText = tabChomp(line)
			break
		}
	}
	s.sep = tabDetectSep(headerText)
	cells, _ := tabSplitCSV(headerText, s.sep)
	t := &tabTable{}
	t.Header, t.hdr = tabHeader(cells)
	s.width = len(cells)
	t.next = func() (tabRow, error) {
		for {
			rec, err := s.record()
			if err != nil {
				return tabRow{}, err
			}
			if rec.reason == "" && tabBlank(rec.cells) {
				continue
			}
			row := tabRow{Pos: fmt.Sprintf("ligne %d", rec.start), Line: rec.start, Raw: rec.raw, cells: rec.cells, hdr: t.hdr, Width: rec.reason}
			if row.Width == "" && len(rec.cells) != s.width {
				row.Width = fmt.Sprintf("%d cellule(s) au lieu des %d colonnes de l'en-tête (séparateur « %s »)", len(rec.cells), s.width, tabSepName(s.sep))
			}
			return row, nil
		}
	}
	return t, nil
}

func tabSepName(sep byte) string {
	if sep == '\t' {
		return "tabulation"
	}
	return string(sep)
}

// Bounds of one CSV record. A quote left open would otherwise swallow the rest of the file; a legitimate
// cell spanning lines (an address, a comment) is far below both.
const (
	tabMaxRecordLines = 200
)

// tabCSV splits a CSV stream into records, following quoted cells across lines. A quote that is still
// open after tabMaxRecordLines lines or tabMaxRecord bytes, at the end of the file, or whose record does
// not have the header's width once closed, is a stray quote: its line alone is rejected and reading
// resumes at the next line (the lines read ahead are read again), so one bad quote costs one row.
type tabCSV struct {
	br      *bufio.Reader
	sep     byte
	width   int
	line    int // physical lines consumed from br
	eof     bool
	pending []tabLine // lines read ahead, to read again after a stray quote
}

// tabLine is one physical line, with its line break; long when it exceeded tabMaxRecord (the text is
// then cut there and the rest of the line skipped).
type tabLine struct {
	text string
	n    int
	long bool
}

// tabRecord is one record: its cells, its text without the final line break, its first line, and the
// reason of its reject when it cannot be read as cells.
type tabRecord struct {
	cells  []string
	raw    string
	start  int
	reason string
}

func (s *tabCSV) readPhys() (tabLine, error) {
	if len(s.pending) > 0 {
		l := s.pending[0]
		s.pending = s.pending[1:]
		return l, nil
	}
	if s.eof {
		return tabLine{}, io.EOF
	}
	var buf []byte
	long := false
	for {
		chunk, err := s.br.ReadSlice('\n')
		if room := tabMaxRecord - len(buf); len(chunk) <= room {
			buf = append(buf, chunk...)
		} else {
			buf = append(buf, chunk[:room]...)
			long = true
		}
		if err == bufio.ErrBufferFull {
			continue
		}
		if err == io.EOF {
			s.eof = true
			if len(buf) == 0 {
				return tabLine{}, io.EOF
			}
			break
		}
		if err != nil {
			return tabLine{}, err
		}
		break
	}
	s.line++
	return tabLine{text: string(buf), n: s.line, long: long}, nil
}

func (s *tabCSV) record() (tabRecord, error) {
	first, err := s.readPhys()
	if err != nil {
		return tabRecord{}, err
	}
	if first.long {
		return tabRecord{raw: tabChomp(first.text), start: first.n, reason: fmt.Sprintf(
			"ligne %d de plus de %d Mo (cellule trop longue) : rejetée seule, la suivante est lue", first.n, tabMaxRecord>>20)}, nil
	}
	text := tabChomp(first.text)
	cells, complete := tabSplitCSV(text, s.sep)
	if complete {
		return tabRecord{cells: cells, raw: text, start: first.n}, nil
	}
	// A quoted cell goes on at the next line: read ahead until it closes.
	ahead := []tabLine{}
	var buf strings.Builder
	buf.WriteString(first.text)
	for len(ahead) < tabMaxRecordLines {
		l, err := s.readPhys()
		if err == io.EOF {
			break
		}
		if err != nil {
			return tabRecord{}, err
		}
		ahead = append(ahead, l)
		if l.long || buf.Len()+len(l.text) > tabMaxRecord {
			break
		}
		buf.WriteString(l.text)
		all := tabChomp(buf.String())
		if cells, complete := tabSplitCSV(all, s.sep); complete {
			if len(cells) == s.width {
				return tabRecord{cells: cells, raw: all, start: first.n}, nil
			}
			break
		}
	}
	s.pending = append(ahead, s.pending...)
	return tabRecord{raw: text, start: first.n, reason: fmt.Sprintf(
		"guillemet « \" » ouvert au caractère %d de la ligne %d et jamais fermé : ligne rejetée seule, les suivantes sont lues",
		tabOpenQuote(text, s.sep), first.n)}, nil
}

// tabOpenQuote is the position (in characters, from 1) of the quote that opens the cell still open at
// the end of text.
func tabOpenQuote(text string, sep byte) int {
	inQ, start, at := false, true, 0
	for i := 0; i < len(text); i++ {
		c := text[i]
		switch {
		case inQ && c == '"' && i+1 < len(text) && text[i+1] == '"':
			i++
		case inQ && c == '"':
			inQ = false
		case inQ:
		case c == sep:
			start = true
		case c == '"' && start:
			inQ, start, at = true, false, i
		default:
			start = false
		}
	}
	return utf8.RuneCountInString(text[:at]) + 1
}

func tabChomp(s string) string {
	s = strings.TrimSuffix(s, "\n")
	return strings.TrimSuffix(s, "\r")
}

// tabSplitCSV splits one record (RFC 4180, leniently: a quote inside an unquoted cell is kept as is,
// text after a closing quote is appended). complete is false when a quoted cell is still open.
func tabSplitCSV(text string, sep byte) (cells []string, complete bool) {
	var b strings.Builder
	inQ, start := false, true
	for i := 0; i < len(text); i++ {
		c := text[i]
		if inQ {
			if c == '"' {
				if i+1 < len(text) && text[i+1] == '"' {
					b.WriteByte('"')
					i++
					continue
				}
				inQ = false
				continue
			}
			b.WriteByte(c)
			continue
		}
		switch {
		case c == sep:
			cells = append(cells, b.String())
			b.Reset()
			start = true
		case c == '"' && start:
			inQ, start = true, false
		default:
			b.WriteByte(c)
			start = false
		}
	}
	return append(cells, b.String()), !inQ
}

func tabDetectSep(header string) byte {
	best, n := byte(','), 0
	for _, sep := range []byte{',', ';', '\t'} {
		cells, _ := tabSplitCSV(header, sep)
		if len(cells)-1 > n {
			best, n = sep, len(cells)-1
		}
	}
	return best
}

// tabJoinCSV renders cells as one CSV line (the raw text of an XLSX row in the rejects).
func tabJoinCSV(cells []string) string {
	out := make([]string, len(cells))
	for i, c := range cells {
		if strings.ContainsAny(c, ",\"\n\r") {
			c = `"` + strings.ReplaceAll(c, `"`, `""`) + `"`
		}
		out[i] = c
	}
	return strings.Join(out, ",")
}

// tabSheetKey compares sheet and source names: case and surrounding spaces do not matter.
func tabSheetKey(s string) string { return strings.ToLower(strings.TrimSpace(s)) }

// WorkbookSheets lists the sheets of an XLSX file or URL (for `fne ingest classeur`).
func WorkbookSheets(ctx context.Context, location string) ([]string, error) {
	rc, err := tabOpen(ctx, ingest.Input{Location: location})
	if err != nil {
		return nil, err
	}
	defer rc.Close()
	f, err := tabOpenWorkbook(rc)
	if err != nil {
		return nil, fmt.Errorf("%s : %w", ingest.RedactURL(location), err)
	}
	defer f.Close()
	return f.GetSheetList(), nil
}

func tabOpenWorkbook(r io.Reader) (f *excelize.File, err error) {
	// A damaged workbook must be an error for the run, never a crash of the daemon.
	defer func() {
		if p := recover(); p != nil {
			f, err = nil, ingest.InvalidInput("classeur XLSX illisible (archive endommagée)")
		}
	}()
	// A coordinators' workbook is a few MB: refuse to inflate a hostile archive beyond 1 GiB.
	f, err = excelize.OpenReader(r, excelize.Options{UnzipSizeLimit: 1 << 30})
	if err != nil {
		return nil, &frError{msg: ingest.InvalidInput("classeur XLSX illisible (ce n'est pas une archive .xlsx valide)").Error(), err: errors.Join(ingest.ErrInvalidInput, err)}
	}
	return f, nil
}

// newXLSXTable reads one sheet of a workbook: sheet when given, else the sheet named like source, else
// the only sheet. The whole workbook is in memory (the zip format needs it); rows are streamed.
func newXLSXTable(r io.Reader, sheet, source string) (t *tabTable, err error) {
	f, err := tabOpenWorkbook(r)
	if err != nil {
		return nil, err
	}
	list := f.GetSheetList()
	name := ""
	want := sheet
	if want == "" {
		want = source
	}
	for _, s := range list {
		if tabSheetKey(s) == tabSheetKey(want) {
			name = s
			break
		}
	}
	if name == "" {
		switch {
		case sheet != "":
			f.Close()
			return nil, ingest.InvalidInput("feuille « %s » absente du classeur (feuilles : %s)", sheet, strings.Join(list, ", "))
		case len(list) == 1:
			name = list[0]
		default:
			f.Close()
			return nil, fmt.Errorf("le classeur a plusieurs feuilles et aucune ne s'appelle « %s » (feuilles : %s) : précisez --sheet", source, strings.Join(list, ", "))
		}
	}
	defer func() {
		if p := recover(); p != nil {
			t, err = nil, fmt.Errorf("feuille « %s » illisible (%v)", name, p)
		}
	}()
	rows, err := f.Rows(name)
	if err != nil {
		f.Close()
		return nil, fmt.Errorf("feuille « %s » illisible : %v", name, err)
	}
	n := 0
	nextCells := func() ([]string, error) {
		if !rows.Next() {
			if err := rows.Error(); err != nil {
				return nil, fmt.Errorf("feuille « %s » illisible : %v", name, err)
			}
			rows.Close()
			f.Close()
			return nil, io.EOF
		}
		n++
		// Raw values: a number typed as 1,5 in a French Excel is stored as 1.5; a date as a serial
		// number, which the date parsers understand for XLSX rows.
		return rows.Columns(excelize.Options{RawCellValue: true})
	}
	t = &tabTable{Sheet: name}
	for {
		cells, err := nextCells()
		if err == io.EOF {
			return nil, ingest.InvalidInput("feuille « %s » vide : aucune ligne d'en-tête", name)
		}
		if err != nil {
			return nil, err
		}
		if !tabBlank(cells) {
			t.Header, t.hdr = tabHeader(cells)
			break
		}
	}
	t.next = func() (row tabRow, err error) {
		defer func() {
			if p := recover(); p != nil {
				row, err = tabRow{}, fmt.Errorf("feuille « %s » illisible (%v)", name, p)
			}
		}()
		for {
			cells, err := nextCells()
			if err != nil {
				return tabRow{}, err
			}
			if tabBlank(cells) {
				continue
			}
			return tabRow{Pos: fmt.Sprintf("%s!ligne %d", name, n), Line: n, Raw: tabJoinCSV(cells), XLSX: true, cells: cells, hdr: t.hdr}, nil
		}
	}
	return t, nil
}

var (
	tabISODate   = regexp.MustCompile(`^\d{4}-\d{2}-\d{2}$`)
	tabFrDate    = regexp.MustCompile(`^\d{2}/\d{2}/\d{4}$`)
	tabISOMonth  = regexp.MustCompile(`^\d{4}-\d{2}$`)
	tabExcelDate = regexp.MustCompile(`^\d{4,5}(\.\d+)?$`)
)

// tabDate parses an ISO 8601 date (a datetime keeps its date), a French JJ/MM/AAAA date, or, in an XLSX
// row, an Excel date serial number. The error is a French reason.
func tabDate(s string, xlsx bool) (time.Time, error) {
	switch {
	case tabISODate.MatchString(s):
		if t, err := time.Parse("2006-01-02", s); err == nil {
			return t, nil
		}
	case tabFrDate.MatchString(s):
		if t, err := time.Parse("02/01/2006", s); err == nil {
			return t, nil
		}
	case len(s) > 10 && tabISODate.MatchString(s[:10]) && (s[10] == 'T' || s[10] == ' '):
		if t, err := time.Parse(time.RFC3339, strings.Replace(s, " ", "T", 1)); err == nil {
			return time.Date(t.Year(), t.Month(), t.Day(), 0, 0, 0, 0, time.UTC), nil
		}
		if t, err := time.Parse("2006-01-02T15:04:05", strings.Replace(s, " ", "T", 1)); err == nil {
			return time.Date(t.Year(), t.Month(), t.Day(), 0, 0, 0, 0, time.UTC), nil
		}
	case xlsx && tabExcelDate.MatchString(s):
		if t, ok := tabExcelSerial(s); ok {
			return t, nil
		}
	}
	return time.Time{}, fmt.Errorf("date invalide « %s » (attendu AAAA-MM-JJ)", s)
}

func tabExcelSerial(s string) (time.Time, bool) {
	v, err := strconv.ParseFloat(s, 64)
	if err != nil || v < 1 || v > 2958465 {
		return time.Time{}, false
	}
	t, err := excelize.ExcelDateToTime(v, false)
	if err != nil {
		return time.Time{}, false
	}
	return time.Date(t.Year(), t.Month(), t.Day(), 0, 0, 0, 0, time.UTC), true
}

// tabMonth parses a period "AAAA-MM" (or an Excel date serial in an XLSX row) as its first day.
func tabMonth(s string, xlsx bool) (time.Time, error) {
	if tabISOMonth.MatchString(s) {
		if t, err := time.Parse("2006-01", s); err == nil {
			return t, nil
		}
	}
	if xlsx && tabExcelDate.MatchString(s) {
		if t, ok := tabExcelSerial(s); ok {
			return time.Date(t.Year(), t.Month(), 1, 0, 0, 0, 0, time.UTC), nil
		}
	}
	return time.Time{}, fmt.Errorf("période invalide « %s » (attendu AAAA-MM, ex. 2026-09)", s)
}

var tabNumberSpaces = strings.NewReplacer(" ", "", "\u00a0", "", "\u202f", "")

// tabNumber parses a decimal number written the French way ("1 234,5") or the English way ("1234.5").
func tabNumber(s string) (float64, error) {
	c := tabNumberSpaces.Replace(s)
	if strings.Contains(c, ",") {
		if strings.Contains(c, ".") || strings.Count(c, ",") > 1 {
			return 0, fmt.Errorf("nombre invalide « %s »", s)
		}
		c = strings.Replace(c, ",", ".", 1)
	}
	v, err := strconv.ParseFloat(c, 64)
	if err != nil || c == "" || math.IsNaN(v) || math.IsInf(v, 0) || strings.ContainsAny(c, "xXpPnN_") {
		return 0, fmt.Errorf("nombre invalide « %s »", s)
	}
	return v, nil
}

// tabCollect drives a table collector: it opens the table, checks the required columns, counts every
// row as read, and for each row either appends what parse returns or rejects it with parse's reason.
func tabCollect(ctx context.Context, in ingest.Input, sink *ingest.Sink, source string, required []string, w *ingest.Writer,
	parse func(r tabRow) (values []any, field, reason string)) error {
	t, closer, err := tabOpenTable(ctx, in, source)
	if err != nil {
		return err
	}
	defer closer.Close()
	if err := t.require(required...); err != nil {
		return err
	}
	return tabEach(ctx, t, sink, w, parse)
}

// tabRows walks the rows of t: each one is counted as read, a row whose width differs from the
// header's is rejected, and every other row is handed to fn.
func tabRows(ctx context.Context, t *tabTable, sink *ingest.Sink, fn func(r tabRow) error) error {
	for {
		if err := ctx.Err(); err != nil {
			return err
		}
		row, err := t.Next()
		if err == io.EOF {
			if t.note != nil {
				if n := t.note(); n != "" {
					sink.Note(n)
				}
			}
			return nil
		}
		if err != nil {
			return err
		}
		sink.Read(1)
		if row.Width != "" {
			sink.Reject(row.Pos, "", row.Width, row.Raw)
			continue
		}
		if err := fn(row); err != nil {
			return err
		}
	}
}

// tabEach parses every row into the values of w, rejecting the rows parse refuses.
func tabEach(ctx context.Context, t *tabTable, sink *ingest.Sink, w *ingest.Writer, parse func(r tabRow) ([]any, string, string)) error {
	return tabRows(ctx, t, sink, func(row tabRow) error {
		vals, field, reason := parse(row)
		if reason != "" {
			sink.Reject(row.Pos, field, reason, row.Raw)
			return nil
		}
		return w.Append(ctx, vals...)
	})
}

// tabYesNo reads oui/non (any case): 1/0; ok false for anything else.
func tabYesNo(s string) (uint8, bool) {
	switch strings.ToLower(s) {
	case "oui":
		return 1, true
	case "non":
		return 0, true
	}
	return 0, false
}

// tabEnum checks v against the allowed values (exact, after trimming) and returns a French reason.
func tabEnum(field, v string, allowed []string) string {
	for _, a := range allowed {
		if v == a {
			return ""
		}
	}
	if v == "" {
		return fmt.Sprintf("%s absent (valeurs admises : %s)", field, strings.Join(allowed, ", "))
	}
	return fmt.Sprintf("%s « %s » inconnu (valeurs admises : %s)", field, v, strings.Join(allowed, ", "))
}
