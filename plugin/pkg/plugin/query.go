package plugin

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/grafana/grafana-plugin-sdk-go/backend"
	"github.com/grafana/grafana-plugin-sdk-go/backend/log"
	"github.com/grafana/grafana-plugin-sdk-go/data"

	"github.com/sdaasp-rhone/fne/internal/engine"
	"github.com/sdaasp-rhone/fne/internal/territory"
)

// Query types of the contract.
const (
	TypeSeries     = "series"
	TypeScorecard  = "scorecard"
	TypeBreakdown  = "breakdown"
	TypeGaps       = "gaps"
	TypeMilestones = "milestones"
	TypeFreshness  = "freshness"
	TypeAxes       = "axes"    // per axis, the count of indicators in each status
	TypeChanges    = "changes" // indicators whose status changed since the previous month
)

// MaxSeriesMonths bounds a series: a 20-year dashboard range is a mistake, not a request.
const MaxSeriesMonths = 240

// Query is the query JSON of the contract, mirrored by the frontend's query type.
//
// Territory holds one id, or several for a multi-value template variable, written "{a,b}" (Grafana's
// default interpolation of multi-value variables) or "a,b": each territory then gets its own frame(s),
// named after it. Empty means the datasource's scope, or the whole département.
type Query struct {
	RefID     string `json:"refId"`
	QueryType string `json:"queryType"`
	Indicator string `json:"indicator"`
	Territory string `json:"territory"`
	Axis      number `json:"axis"`
	Level     string `json:"level"` // "epci" | "commune" | ""
	// DueWithin (months, milestones only): keep the milestones not done that are late or planned
	// within that many months. 0 keeps them all.
	DueWithin number `json:"dueWithin"`
	// DefaultLevel "epci": an empty territory means the scope's EPCI, else the first EPCI of the
	// reference (a dashboard about one EPCI never shows the département silently).
	DefaultLevel string `json:"defaultLevel"`
}

var queryTypes = map[string]bool{TypeSeries: true, TypeScorecard: true, TypeBreakdown: true, TypeGaps: true, TypeMilestones: true, TypeFreshness: true,
	TypeAxes: true, TypeChanges: true}

const typeList = "series, scorecard, breakdown, gaps, milestones, freshness, axes ou changes"

// ParseQuery reads one Grafana query. The query type set by Grafana (DataQuery.QueryType) wins over the
// JSON's, which it normally equals.
func ParseQuery(dq backend.DataQuery) (Query, error) {
	var q Query
	if len(bytes.TrimSpace(dq.JSON)) > 0 {
		if err := json.Unmarshal(dq.JSON, &q); err != nil {
			return q, fmt.Errorf("%w : JSON illisible : %v", ErrQuery, err)
		}
	}
	q.RefID = dq.RefID
	if dq.QueryType != "" {
		q.QueryType = dq.QueryType
	}
	q.QueryType = strings.TrimSpace(q.QueryType)
	q.Indicator = strings.TrimSpace(q.Indicator)
	q.Territory = strings.TrimSpace(q.Territory)
	q.Level = strings.ToLower(strings.TrimSpace(q.Level))
	if q.QueryType == "" {
		return q, fmt.Errorf("%w : type de requête absent (%s)", ErrQuery, typeList)
	}
	if !queryTypes[q.QueryType] {
		return q, fmt.Errorf("%w : type de requête inconnu %q (%s)", ErrQuery, q.QueryType, typeList)
	}
	if q.DueWithin != number(int(q.DueWithin)) || q.DueWithin < 0 || q.DueWithin > 120 {
		return q, fmt.Errorf("%w : échéance de %v mois invalide (0 à 120)", ErrQuery, float64(q.DueWithin))
	}
	q.DefaultLevel = strings.ToLower(strings.TrimSpace(q.DefaultLevel))
	if q.DefaultLevel != "" && q.DefaultLevel != "epci" {
		return q, fmt.Errorf("%w : niveau par défaut %q inconnu (epci)", ErrQuery, q.DefaultLevel)
	}
	if q.Axis != number(int(q.Axis)) || q.Axis < 0 || q.Axis > 9 {
		return q, fmt.Errorf("%w : axe %v invalide (0 pour tous les axes, sinon 1, 2 ou 3)", ErrQuery, float64(q.Axis))
	}
	switch q.Level {
	case "", "epci", "commune":
	default:
		return q, fmt.Errorf("%w : niveau %q inconnu (epci ou commune)", ErrQuery, q.Level)
	}
	if (q.QueryType == TypeSeries || q.QueryType == TypeBreakdown) && q.Indicator == "" {
		return q, fmt.Errorf("%w : choisissez un indicateur pour une requête %s", ErrQuery, q.QueryType)
	}
	return q, nil
}

// SplitTerritories reads "{a,b}", "a,b" or "a" into ids (duplicates removed, order kept).
func SplitTerritories(s string) []string {
	s = strings.TrimSpace(s)
	s = strings.TrimSuffix(strings.TrimPrefix(s, "{"), "}")
	var out []string
	seen := map[string]bool{}
	for _, p := range strings.Split(s, ",") {
		p = strings.TrimSpace(p)
		if p == "" || seen[p] {
			continue
		}
		seen[p] = true
		out = append(out, p)
	}
	return out
}

// scoped is the reference seen through a datasource's scope.
type scoped struct {
	ref   *territory.Reference
	scope *territory.ID
}

// root is the territory an empty query means: the scope, or the département.
func (s scoped) root() territory.ID {
	if s.scope != nil {
		return *s.scope
	}
	return s.ref.Root()
}

// check refuses what is malformed, unknown or outside the scope.
func (s scoped) check(id territory.ID) (territory.Territory, error) {
	if s.scope != nil {
		if _, err := s.ref.Resolve(*s.scope); err != nil {
			return territory.Territory{}, fmt.Errorf("%w : le périmètre %s n'est pas dans le référentiel chargé", ErrSettings, s.scope)
		}
	}
	t, err := s.ref.Resolve(id)
	if err != nil {
		return t, fmt.Errorf("%w : %v", ErrTerritory, err)
	}
	if s.scope != nil && !s.ref.Within(id, *s.scope) {
		return territory.Territory{}, fmt.Errorf("%w : %s n'appartient pas au périmètre %s", ErrOutOfScope, id, s.scope)
	}
	return t, nil
}

// territories resolves a query's territory field.
func (s scoped) territories(field string) ([]territory.Territory, error) {
	parts := SplitTerritories(field)
	if len(parts) == 0 {
		t, err := s.check(s.root())
		if err != nil {
			return nil, err
		}
		return []territory.Territory{t}, nil
	}
	out := make([]territory.Territory, 0, len(parts))
	for _, p := range parts {
		if strings.HasPrefix(p, "$") {
			return nil, fmt.Errorf("%w : variable %s non remplacée (variable de tableau de bord absente ?)", ErrTerritory, p)
		}
		id, err := territory.Parse(p)
		if err != nil {
			return nil, fmt.Errorf("%w : %v", ErrTerritory, err)
		}
		t, err := s.check(id)
		if err != nil {
			return nil, err
		}
		out = append(out, t)
	}
	return out, nil
}

// MonthRange is the months a time range covers. Grafana sends UTC instants; a dashboard in a zone east
// of UTC starts a month a few hours before the UTC month does (Paris: 30 Sept 22:00 UTC for October), so
// the first month is the one containing From + 14 h (the largest zone offset). The last month is the
// one containing To.
func MonthRange(tr backend.TimeRange, now time.Time) (from, to engine.Month) {
	end := tr.To
	if end.IsZero() {
		end = now
	}
	to = engine.MonthOf(end.UTC())
	from = to
	if !tr.From.IsZero() {
		from = engine.MonthOf(tr.From.UTC().Add(14 * time.Hour))
	}
	if to.Before(from) {
		from = to
	}
	return from, to
}

func monthsBetween(from, to engine.Month) int {
	return (to.Year-from.Year)*12 + int(to.Month) - int(from.Month) + 1
}

// QueryData answers every query of the request; one failing query never hides the others' data.
func (d *Datasource) QueryData(ctx context.Context, req *backend.QueryDataRequest) (*backend.QueryDataResponse, error) {
	resp := backend.NewQueryDataResponse()
	sess, err := d.connect(ctx)
	var sc scoped
	if err == nil {
		var ref *territory.Reference
		ref, err = sess.Engine.Reference(ctx)
		if err != nil {
			err = fmt.Errorf("%w : référentiel des territoires illisible : %v", ErrUnavailable, err)
		} else if ref == nil || len(ref.Communes) == 0 {
			err = fmt.Errorf("%w : aucun référentiel de territoires chargé (lancez « fne reference »)", ErrUnavailable)
		}
		sc = scoped{ref: ref, scope: d.settings.ScopeID()}
	}
	for _, dq := range req.Queries {
		if err != nil {
			resp.Responses[dq.RefID] = errorResponse(err)
			continue
		}
		frames, qerr := d.query(ctx, sess.Engine, sc, dq)
		if qerr != nil {
			if errors.Is(qerr, ErrUnavailable) {
				log.DefaultLogger.FromContext(ctx).Warn("requête en échec", "refId", dq.RefID, "error", qerr)
			}
			resp.Responses[dq.RefID] = errorResponse(qerr)
			continue
		}
		resp.Responses[dq.RefID] = backend.DataResponse{Frames: frames}
	}
	return resp, nil
}

func errorResponse(err error) backend.DataResponse {
	st, src := status(err)
	return backend.ErrDataResponseWithSource(st, src, err.Error())
}

// query runs one query; its errors are French and wrap a sentinel of errors.go.
func (d *Datasource) query(ctx context.Context, eng Engine, sc scoped, dq backend.DataQuery) (data.Frames, error) {
	q, err := ParseQuery(dq)
	if err != nil {
		return nil, err
	}
	var ind Indicator
	if q.Indicator != "" {
		var ok bool
		if ind, ok = findIndicator(eng.Indicators(), q.Indicator); !ok {
			return nil, fmt.Errorf("%w : indicateur inconnu %q (voir le catalogue dans l'éditeur de requête)", ErrQuery, q.Indicator)
		}
	}
	ctx, cancel := d.withTimeout(ctx)
	defer cancel()
	from, to := MonthRange(dq.TimeRange, d.now())

	switch q.QueryType {
	case TypeAlertLate, TypeAlertStale:
		return d.alert(ctx, eng, sc, q, dq) // alerting.go
	case TypeMilestones:
		ms, err := eng.Milestones(ctx)
		if err != nil {
			return nil, engineErr(err)
		}
		if q.Axis > 0 {
			ms = filterMilestones(ms, int(q.Axis))
		}
		if q.DueWithin > 0 {
			ms = dueMilestones(ms, int(q.DueWithin), d.now())
		}
		return data.Frames{MilestonesFrame("jalons", ms, d.now(), "milestones")}, nil
	case TypeFreshness:
		now := d.now()
		fs, err := eng.Freshness(ctx, now)
		if err != nil {
			return nil, engineErr(err)
		}
		if err := pastFreshness(ctx, eng, fs, now); err != nil {
			return nil, engineErr(err)
		}
		return data.Frames{FreshnessFrame("fraicheur", fs, now, "freshness")}, nil
	}

	var ts []territory.Territory
	if q.DefaultLevel == "epci" && len(SplitTerritories(q.Territory)) == 0 {
		t, err := fallbackTerritory(sc)
		if err != nil {
			return nil, err
		}
		ts = []territory.Territory{t}
	} else if ts, err = sc.territories(q.Territory); err != nil {
		return nil, err
	}
	multi := len(ts) > 1
	var frames data.Frames
	for _, t := range ts {
		name := q.QueryType
		if multi {
			name = t.Name
		}
		var f *data.Frame
		switch q.QueryType {
		case TypeSeries:
			if n := monthsBetween(from, to); n > MaxSeriesMonths {
				return nil, fmt.Errorf("%w : période de %d mois trop longue (au plus %d)", ErrQuery, n, MaxSeriesMonths)
			}
			pts, err := eng.Series(ctx, ind.ID, t.ID, from, to)
			if err != nil {
				return nil, engineErr(err)
			}
			valueName := ind.Label
			if multi {
				valueName = t.Name
			}
			f = SeriesFrame(name, ind, t.ID.Level, valueName, pts, fmt.Sprintf("series %s %s %s..%s", ind.ID, t.ID, from, to))
		case TypeScorecard:
			rs, err := eng.Evaluate(ctx, t.ID, to)
			if err != nil {
				return nil, engineErr(err)
			}
			f = ScorecardFrame(name, filterResults(rs, int(q.Axis), q.Indicator), fmt.Sprintf("scorecard %s %s", t.ID, to))
		case TypeBreakdown:
			level, err := breakdownLevel(t.ID, q.Level)
			if err != nil {
				return nil, err
			}
			cs, err := eng.Breakdown(ctx, ind.ID, t.ID, level, to)
			if err != nil {
				return nil, engineErr(err)
			}
			f = BreakdownFrame(name, ind, level, cs, fmt.Sprintf("breakdown %s %s %s", ind.ID, t.ID, to))
		case TypeGaps:
			gs, err := eng.Gaps(ctx, t.ID, to)
			if err != nil {
				return nil, engineErr(err)
			}
			gs = filterGaps(gs, eng.Indicators(), int(q.Axis), q.Indicator)
			if q.Level != "" {
				gs = gapsAtLevel(gs, q.Level)
			}
			f = GapsFrame(name, gs, eng.Indicators(), fmt.Sprintf("gaps %s %s %s", t.ID, to, q.Level))
		case TypeAxes:
			rs, err := eng.Evaluate(ctx, t.ID, to)
			if err != nil {
				return nil, engineErr(err)
			}
			axes := axesOf(eng.Indicators())
			if q.Axis > 0 {
				axes = []int{int(q.Axis)}
			}
			f = AxesFrame(name, t, to, rs, axes, fmt.Sprintf("axes %s %s", t.ID, to))
		case TypeChanges:
			cur, err := eng.Evaluate(ctx, t.ID, to)
			if err != nil {
				return nil, engineErr(err)
			}
			prev, err := eng.Evaluate(ctx, t.ID, to.Add(-1))
			if err != nil {
				return nil, engineErr(err)
			}
			cur, prev = filterResults(cur, int(q.Axis), q.Indicator), filterResults(prev, int(q.Axis), q.Indicator)
			f = ChangesFrame(name, prev, cur, fmt.Sprintf("changes %s %s..%s", t.ID, to.Add(-1), to))
		}
		if multi {
			f.Meta.Custom = map[string]string{"territory": t.ID.String()}
		}
		addCentroidNotice(f, sc.ref, t.ID, q.QueryType, q.Indicator)
		frames = append(frames, f)
	}
	return frames, nil
}

// breakdownLevel: the EPCI of the département by default, its communes with level "commune"; the
// communes of an EPCI; a commune has no children.
func breakdownLevel(parent territory.ID, level string) (territory.Level, error) {
	switch parent.Level {
	case territory.LevelCommune:
		return "", fmt.Errorf("%w : une commune n'a pas de sous-territoires ; choisissez un EPCI ou le département", ErrQuery)
	case territory.LevelEPCI:
		if level == "epci" {
			return "", fmt.Errorf("%w : le niveau epci n'existe pas sous un EPCI ; choisissez commune", ErrQuery)
		}
		return territory.LevelCommune, nil
	}
	if level == "commune" {
		return territory.LevelCommune, nil
	}
	return territory.LevelEPCI, nil
}

func engineErr(err error) error {
	if errors.Is(err, context.DeadlineExceeded) {
		return fmt.Errorf("%w : délai de requête dépassé (réglable dans la source de données, « délai des requêtes ») : %w", ErrUnavailable, err)
	}
	return fmt.Errorf("%w : %w", ErrUnavailable, err)
}

func findIndicator(inds []Indicator, id string) (Indicator, bool) {
	for _, i := range inds {
		if i.ID == id {
			return i, true
		}
	}
	return Indicator{}, false
}

func filterResults(rs []engine.Result, axis int, id string) []engine.Result {
	out := rs[:0:0]
	for _, r := range rs {
		if (axis == 0 || r.Axis == axis) && (id == "" || r.ID == id) {
			out = append(out, r)
		}
	}
	return out
}

func filterGaps(gs []engine.Gap, inds []Indicator, axis int, id string) []engine.Gap {
	axisOf := map[string]int{}
	for _, i := range inds {
		axisOf[i.ID] = i.Axis
	}
	out := gs[:0:0]
	for _, g := range gs {
		if (axis == 0 || axisOf[g.Indicator] == axis) && (id == "" || g.Indicator == id) {
			out = append(out, g)
		}
	}
	return out
}

// gapsAtLevel keeps the gaps of one territory level ("epci" or "commune").
func gapsAtLevel(gs []engine.Gap, level string) []engine.Gap {
	want := territory.LevelEPCI
	if level == "commune" {
		want = territory.LevelCommune
	}
	out := gs[:0:0]
	for _, g := range gs {
		if g.Territory.Level == want {
			out = append(out, g)
		}
	}
	return out
}

// filterMilestones keeps the actions of one axis ("2.1" is axis 2).
func filterMilestones(ms []engine.Milestone, axis int) []engine.Milestone {
	prefix := strconv.Itoa(axis) + "."
	out := ms[:0:0]
	for _, m := range ms {
		if strings.HasPrefix(m.Action, prefix) || m.Action == strconv.Itoa(axis) {
			out = append(out, m)
		}
	}
	return out
}

// axesOf lists the catalogue's axes (context indicators, axis 0, excluded), ascending.
func axesOf(inds []Indicator) []int {
	seen := map[int]bool{}
	var out []int
	for _, i := range inds {
		if i.Axis > 0 && !seen[i.Axis] {
			seen[i.Axis] = true
			out = append(out, i.Axis)
		}
	}
	sort.Ints(out)
	return out
}
