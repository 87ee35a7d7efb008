package sources

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/url"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/sdaasp-rhone/fne/collector/ingest"
)

// Map consultations (docs/regles.md « Sources »): visits of each place's page of the public map, per day, from the
// Matomo Reporting API or from a CSV file `date,lieu_id,consultations`.

const (
	matomoSource = "le serveur Matomo"
	// defaultPlaceURLRegexp takes the place id from the page URL of the map.
	defaultPlaceURLRegexp = `/lieux/(?P<id>[^/?#]+)`
	defaultMatomoDays     = 90
)

var consultationsColumns = []string{"date", "lieu_id", "consultations", "version"}

// NewConsultations reads map consultations from Matomo or from a CSV file.
func NewConsultations() ingest.Collector { return newConsultations() }

func newConsultations() *consultationsCollector {
	return &consultationsCollector{fetch: newHTTPFetcher(matomoSource)}
}

type consultationsCollector struct{ fetch *httpFetcher }

func (*consultationsCollector) Name() string { return "consultations" }
func (*consultationsCollector) Description() string {
	return "consultations des fiches de lieux de la cartographie (API Matomo, ou CSV date,lieu_id,consultations)"
}

// Collect writes one row per (date, lieu_id). Its version is the run's IngestVersion plus the row's
// position, so a later report of the same day and place (a corrected file, a re-fetched day) replaces
// the earlier one, and within one input the later line wins. A file (CSV or XLSX) goes through the
// table reader shared by every tabular source (tabular.go).
func (c *consultationsCollector) Collect(ctx context.Context, in ingest.Input, sink *ingest.Sink) error {
	w := sink.Writer("consultations", consultationsColumns...)
	if in.IsURL() {
		return c.collectMatomo(ctx, in, sink, w)
	}
	return tabCollect(ctx, in, sink, c.Name(), consultationsRequired, w, func(r tabRow) ([]any, string, string) {
		return parseConsultation(r, in.IngestVersion)
	})
}

var consultationsRequired = []string{"date", "lieu_id", "consultations"}

// readConsultationsCSV reads the CSV form with the shared table reader: a header naming the columns
// date, lieu_id and consultations (in any order, other columns ignored), then one line per day and
// place. Bad lines go to reject with their line number in the file; only an unreadable file or a
// missing column is an error.
func readConsultationsCSV(r io.Reader, row func(line int, date time.Time, lieu string, n uint32) error,
	reject func(line int, field, reason, raw string)) error {
	t, err := newCSVTable(r)
	if err != nil {
		return fmt.Errorf("consultations : %w", err)
	}
	if err := t.require(consultationsRequired...); err != nil {
		return fmt.Errorf("consultations : %w", err)
	}
	for {
		r, err := t.Next()
		if err == io.EOF {
			return nil
		}
		if err != nil {
			return err
		}
		if r.Width != "" {
			reject(r.Line, "", r.Width, r.Raw)
			continue
		}
		vals, field, reason := parseConsultation(r, 0)
		if reason != "" {
			reject(r.Line, field, reason, r.Raw)
			continue
		}
		if err := row(r.Line, vals[0].(time.Time), vals[1].(string), vals[2].(uint32)); err != nil {
			return err
		}
	}
}

// parseConsultation validates one row: date, lieu_id, consultations and the version.
func parseConsultation(r tabRow, ingestVersion uint64) ([]any, string, string) {
	if r.get("date") == "" {
		return nil, "date", "champ obligatoire absent"
	}
	date, reason := r.date("date", observed)
	if reason != "" {
		return nil, "date", reason
	}
	lieu := r.get("lieu_id")
	if lieu == "" {
		return nil, "lieu_id", "champ obligatoire absent"
	}
	ns := r.get("consultations")
	if ns == "" {
		return nil, "consultations", "champ obligatoire absent"
	}
	n, err := strconv.ParseUint(ns, 10, 32)
	if err != nil {
		return nil, "consultations", fmt.Sprintf("nombre entier positif ou nul attendu, pas « %s »", ns)
	}
	return []any{date, lieu, uint32(n), ingestVersion + uint64(r.Line)}, "", ""
}

// matomoRow is one line of Actions.getPageUrls with flat=1.
type matomoRow struct {
	Label    string          `json:"label"`
	URL      string          `json:"url"`
	NbVisits json.RawMessage `json:"nb_visits"`
}

// collectMatomo asks one day at a time, from the watermark day to yesterday (UTC):
//   - today is excluded: its figures are partial until the day is over and archived, and the watermark
//     must only ever name a complete day;
//   - the watermark day itself is fetched again: Matomo may archive a day late (log import, archiving
//     cron), and the re-fetched figures simply replace the earlier ones (later version);
//   - UTC dates are never ahead of the site's day in Europe (UTC+1/+2), so "yesterday UTC" is complete.
func (c *consultationsCollector) collectMatomo(ctx context.Context, in ingest.Input, sink *ingest.Sink, w *ingest.Writer) error {
	site := in.Option("site_id", "")
	if _, err := strconv.ParseUint(site, 10, 32); err != nil {
		return fmt.Errorf("consultations : option site_id manquante ou invalide (identifiant numérique du site Matomo)")
	}
	token, err := secretOption(in, "token", "token_file", "FNE_MATOMO_TOKEN", "FNE_MATOMO_TOKEN_FILE")
	if err != nil {
		return fmt.Errorf("consultations : %w", err)
	}
	if token == "" {
		return errors.New("consultations : jeton Matomo manquant (option token ou token_file, ou variable FNE_MATOMO_TOKEN ou FNE_MATOMO_TOKEN_FILE)")
	}
	re, idx, err := placeRegexp(in.Option("url_regexp", defaultPlaceURLRegexp))
	if err != nil {
		return err
	}
	now := in.Now
	if now.IsZero() {
		now = time.Now()
	}
	today := time.Date(now.UTC().Year(), now.UTC().Month(), now.UTC().Day(), 0, 0, 0, 0, time.UTC)
	start := today.AddDate(0, 0, -defaultMatomoDays)
	if s := in.Option("since", ""); s != "" {
		if start, err = time.Parse("2006-01-02", s); err != nil {
			return fmt.Errorf("consultations : option since invalide %q (AAAA-MM-JJ attendu)", s)
		}
	}
	if in.Watermark != "" {
		wm, err := time.Parse("2006-01-02", in.Watermark)
		if err != nil {
			return fmt.Errorf("consultations : filigrane enregistré illisible %q", in.Watermark)
		}
		start = wm
	}
	base, err := matomoBase(in.Location)
	if err != nil {
		return err
	}
	var pos uint64
	for day := start; day.Before(today); day = day.AddDate(0, 0, 1) {
		if err := ctx.Err(); err != nil {
			return err
		}
		ds := day.Format("2006-01-02")
		q := url.Values{
			"module": {"API"}, "method": {"Actions.getPageUrls"}, "idSite": {site}, "period": {"day"},
			"date": {ds}, "format": {"JSON"}, "flat": {"1"}, "filter_limit": {"-1"}, "token_auth": {token},
		}
		u := *base
		u.RawQuery = q.Encode()
		body, err := c.fetch.get(ctx, u.String(), nil)
		if err != nil {
			return fmt.Errorf("consultations : %w", err)
		}
		counts, rejects, err := matomoDayCounts(body, re, idx)
		if err != nil {
			return fmt.Errorf("consultations : réponse de Matomo pour le %s : %s", ds, strings.ReplaceAll(err.Error(), token, "***"))
		}
		for _, r := range rejects {
			sink.Read(1)
			sink.Reject(fmt.Sprintf("%s %s", ds, r.position), r.field, r.reason, r.raw)
		}
		ids := make([]string, 0, len(counts))
		for id := range counts {
			ids = append(ids, id)
		}
		sort.Strings(ids)
		for _, id := range ids {
			pos++
			sink.Read(1)
			if err := w.Append(ctx, day, id, counts[id], in.IngestVersion+pos); err != nil {
				return err
			}
		}
		sink.SetWatermark(ds)
	}
	return nil
}

type matomoReject struct{ position, field, reason, raw string }

// matomoDayCounts sums nb_visits per place id over the page URLs of one day. Several URLs may name the
// same place (query strings, trailing segments): their visits add up.
func matomoDayCounts(body []byte, re *regexp.Regexp, idx int) (map[string]uint32, []matomoReject, error) {
	trimmed := strings.TrimSpace(string(body))
	if strings.HasPrefix(trimmed, "{") {
		var e struct {
			Result  string `json:"result"`
			Message string `json:"message"`
		}
		if err := json.Unmarshal(body, &e); err != nil {
			return nil, nil, fmt.Errorf("JSON invalide : %v", err)
		}
		if e.Result == "error" {
			lm := strings.ToLower(e.Message)
			if strings.Contains(lm, "access") || strings.Contains(lm, "token") || strings.Contains(lm, "authenticat") {
				return nil, nil, fmt.Errorf("%w : Matomo a refusé le jeton d'accès (%s)", errHTTPAuth, e.Message)
			}
			return nil, nil, fmt.Errorf("Matomo signale une erreur : %s", e.Message)
		}
		return nil, nil, errors.New("un tableau de pages était attendu")
	}
	var rows []matomoRow
	if err := json.Unmarshal(body, &rows); err != nil {
		return nil, nil, fmt.Errorf("JSON invalide : %v", err)
	}
	counts := map[string]uint32{}
	var rejects []matomoReject
	for i, r := range rows {
		target := r.URL
		if target == "" {
			target = r.Label
		}
		m := re.FindStringSubmatch(target)
		if m == nil || m[idx] == "" {
			continue // not a place page
		}
		id, err := url.PathUnescape(m[idx])
		if err != nil {
			id = m[idx]
		}
		var num json.Number
		dec := json.NewDecoder(strings.NewReader(string(r.NbVisits)))
		dec.UseNumber()
		var v any
		_ = dec.Decode(&v)
		switch t := v.(type) {
		case json.Number:
			num = t
		case string:
			num = json.Number(t)
		}
		n, ok := numberUint32(num)
		if !ok || num == "" {
			raw, _ := json.Marshal(r)
			rejects = append(rejects, matomoReject{fmt.Sprintf("élément %d", i+1), "nb_visits", "nombre entier positif ou nul attendu", string(raw)})
			continue
		}
		if s := uint64(counts[id]) + uint64(n); s > 1<<32-1 {
			counts[id] = 1<<32 - 1
		} else {
			counts[id] = uint32(s)
		}
	}
	return counts, rejects, nil
}

// placeRegexp compiles the URL pattern; the place id is its group named id, else its first group.
func placeRegexp(expr string) (*regexp.Regexp, int, error) {
	re, err := regexp.Compile(expr)
	if err != nil {
		return nil, 0, fmt.Errorf("consultations : url_regexp invalide : %v", err)
	}
	if i := re.SubexpIndex("id"); i > 0 {
		return re, i, nil
	}
	if re.NumSubexp() >= 1 {
		return re, 1, nil
	}
	return nil, 0, fmt.Errorf("consultations : url_regexp doit capturer l'identifiant du lieu, par exemple %s", defaultPlaceURLRegexp)
}

// matomoBase is the Reporting API endpoint: the location as given, index.php when it names the root.
func matomoBase(loc string) (*url.URL, error) {
	u, err := url.Parse(loc)
	if err != nil || u.Host == "" {
		return nil, fmt.Errorf("consultations : adresse Matomo invalide %q", ingest.RedactURL(loc))
	}
	if u.Path == "" || strings.HasSuffix(u.Path, "/") {
		u.Path += "index.php"
		if !strings.HasPrefix(u.Path, "/") {
			u.Path = "/" + u.Path
		}
	}
	u.RawQuery, u.Fragment = "", ""
	return u, nil
}
