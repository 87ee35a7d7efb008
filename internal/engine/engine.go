package engine

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"sync"
	"sync/atomic"
	"time"

	"github.com/ClickHouse/clickhouse-go/v2/lib/driver"

	"github.com/sdaasp-rhone/fne/internal/catalogue"
	"github.com/sdaasp-rhone/fne/internal/reference"
	"github.com/sdaasp-rhone/fne/internal/territory"
)

// ErrUnknownIndicator is returned for an id that is not in the catalogue.
var ErrUnknownIndicator = errors.New("indicateur inconnu")

// refTTL bounds how long a reference stays cached: a reload (`fne migrate --reference`) is seen within it.
const refTTL = 30 * time.Second

// Engine evaluates the catalogue against one ClickHouse database. It is safe for concurrent use.
type Engine struct {
	conn driver.Conn
	cat  *catalogue.Catalogue

	mu      sync.Mutex
	ref     *territory.Reference
	refTime time.Time

	acts      activityCache
	reads     readCache
	noWarm    bool         // tests: no background cache filling, so that each path is exercised on purpose
	noPersist bool         // tests: neither read nor write activites_agregats (the window pass is then exercised)
	passes    atomic.Int64 // deduplicating passes run (tests: a persisted set must spare them)
}

// New returns an engine over conn for the catalogue cat.
func New(conn driver.Conn, cat *catalogue.Catalogue) *Engine { return &Engine{conn: conn, cat: cat} }

// OneShot turns off the background cache filling, for short-lived processes (the `fne indicators`
// command): warming would start a full deduplicating pass on the server that nobody waits for.
func (e *Engine) OneShot() *Engine {
	e.noWarm = true
	return e
}

// Catalogue is the catalogue the engine evaluates.
func (e *Engine) Catalogue() *catalogue.Catalogue { return e.cat }

// Reference is the territory reference in force, cached for refTTL.
func (e *Engine) Reference(ctx context.Context) (*territory.Reference, error) {
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.ref != nil && time.Since(e.refTime) < refTTL {
		return e.ref, nil
	}
	ref, err := reference.Current(ctx, e.conn)
	if err != nil {
		return nil, err
	}
	e.ref, e.refTime = ref, time.Now()
	return ref, nil
}

func (e *Engine) indicators(ids []string) ([]catalogue.Indicator, error) {
	if len(ids) == 0 {
		return e.cat.Indicators, nil
	}
	out := make([]catalogue.Indicator, 0, len(ids))
	for _, id := range ids {
		ind, ok := e.cat.Get(id)
		if !ok {
			return nil, fmt.Errorf("%w : « %s » (voir le catalogue : %v)", ErrUnknownIndicator, id, e.cat.IDs())
		}
		out = append(out, ind)
	}
	return out, nil
}

// group is one territory being evaluated: the communes its figures add up, and the territory ids
// (meetings, equipment rows) that belong to it.
type group struct {
	id       territory.ID
	key      string
	name     string
	communes []string
	pop      uint64
	lat, lon float64
	noCentre bool // lat/lon mean nothing (a reference without centroids)
	terr     map[string]bool
	epcis    []string // the EPCI a "% of EPCI" figure counts: all for dep:, itself for epci:, none for com:
}

func newGroup(ref *territory.Reference, t territory.Territory) group {
	g := group{id: t.ID, key: t.ID.String(), name: t.Name, communes: t.Communes, pop: t.Population,
		lat: t.Latitude, lon: t.Longitude, noCentre: t.NoCentroid, terr: map[string]bool{t.ID.String(): true}}
	for _, c := range t.Communes {
		g.terr["com:"+c] = true
		g.terr[c] = true // a bare INSEE code is a commune (equipment files)
	}
	switch t.ID.Level {
	case territory.LevelDep:
		for _, e := range ref.EPCIs {
			g.terr["epci:"+e.Siren] = true
			g.epcis = append(g.epcis, e.Siren)
		}
	case territory.LevelEPCI:
		g.epcis = []string{t.ID.Code}
	}
	return g
}

// cell is one evaluated figure: value (nil = sans_donnees) and the newest input date behind it.
type cell struct {
	v    *float64
	last time.Time
}

// values: group key → month → cell.
type values map[string]map[Month]cell

func (vs values) get(g string, m Month) cell { return vs[g][m] }

func (vs values) set(g string, m Month, c cell) {
	if vs[g] == nil {
		vs[g] = map[Month]cell{}
	}
	vs[g][m] = c
}

// monthSet is a set of months, listed sorted.
type monthSet map[Month]bool

func (s monthSet) add(ms ...Month) {
	for _, m := range ms {
		s[m] = true
	}
}

func (s monthSet) sorted() []Month {
	out := make([]Month, 0, len(s))
	for m := range s {
		out = append(out, m)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Before(out[j]) })
	return out
}

// request is one evaluation: indicators × months × groups. Inputs shared by several indicators
// (activities, meetings, places) are read once per request.
type request struct {
	e      *Engine
	ref    *territory.Reference
	groups []group
	need   map[string]monthSet // indicator id → months to compute
	done   map[string]values

	actNeed monthSet // months of every activity indicator of the request
	acts    map[Month]*actMonth

	meetings *meetingData
	places   []place
	pst      *placeState // the places' grids and far communes, shared while lieux is unchanged
	sigMu    sync.Mutex
	sigs     map[string]string // source tables' states, read once per request (readCache)
}

func (e *Engine) newRequest(ref *territory.Reference, groups []group) *request {
	return &request{e: e, ref: ref, groups: groups, need: map[string]monthSet{}, done: map[string]values{}, actNeed: monthSet{}}
}

// want records that ind is needed at months, with its dependencies.
func (r *request) want(ind catalogue.Indicator, ms ...Month) {
	if r.need[ind.ID] == nil {
		r.need[ind.ID] = monthSet{}
	}
	r.need[ind.ID].add(ms...)
	if ind.Compute == "accompagnements" || ind.Compute == "conseillers_actifs" {
		r.actNeed.add(ms...)
	}
	for _, dep := range []string{ind.Of, ind.TargetOf} {
		if d, ok := r.e.cat.Get(dep); ok && dep != "" {
			r.want(d, ms...)
		}
	}
}

// prefetch reads concurrently the inputs shared by several indicators (activities, meetings, places):
// each is one query, and ClickHouse answers them in parallel where a sequence would wait on each round
// trip.
func (r *request) prefetch(ctx context.Context) error {
	var acts, meets, places bool
	for id := range r.need {
		ind, _ := r.e.cat.Get(id)
		switch ind.Compute {
		case "accompagnements", "conseillers_actifs":
			acts = true
		case "rencontres_nombre", "rencontre_tenue", "epci_rencontres", "diversite_structures", "relais_informes", "relais_connaissent_offre":
			meets = true
		case "lieux", "fiches_a_jour", "zone_blanche":
			places = true
		}
	}
	var wg sync.WaitGroup
	errs := make([]error, 3)
	run := func(i int, ok bool, f func() error) {
		if !ok {
			return
		}
		wg.Add(1)
		go func() { defer wg.Done(); errs[i] = f() }()
	}
	run(0, acts, func() error { _, err := r.activities(ctx); return err })
	run(1, meets, func() error { return r.loadMeetings(ctx) })
	run(2, places, func() error { return r.loadPlaces(ctx) })
	wg.Wait()
	return errors.Join(errs...)
}

// value returns the computed figures of ind (computing them on first use).
func (r *request) value(ctx context.Context, ind catalogue.Indicator) (values, error) {
	if v, ok := r.done[ind.ID]; ok {
		return v, nil
	}
	ms := r.need[ind.ID].sorted()
	v, err := r.compute(ctx, ind, ms)
	if err != nil {
		return nil, fmt.Errorf("calcul de %s : %w", ind.ID, err)
	}
	r.done[ind.ID] = v
	return v, nil
}

// baselineOf is the trajectory start for a group (rule in status.go): the measured value at the
// baseline period when the data covers it, else the declared baseline. The baseline month must have
// been planned.
func (r *request) baselineOf(ind catalogue.Indicator, vs values, g string) *float64 {
	if measuredBaseline(ind) {
		if p0, err := ParseMonth(ind.BaselinePeriod); err == nil {
			if v := vs.get(g, p0).v; v != nil {
				return v
			}
		}
	}
	return ind.Baseline
}

// plan adds the months every status needs: the previous month (trend), the month a year before
// (hausse), the baseline period (measured baseline).
func (r *request) plan(ind catalogue.Indicator, ms []Month, trend bool) {
	for _, m := range ms {
		r.want(ind, m)
		if trend {
			r.want(ind, m.Add(-1))
		}
		if ind.Direction == catalogue.Hausse {
			r.want(ind, m.Add(-12))
		}
	}
	if measuredBaseline(ind) {
		if p0, err := ParseMonth(ind.BaselinePeriod); err == nil {
			r.want(ind, p0)
		}
	}
}

// assess turns the computed cell of (ind, group, month) into value, target, status, progress.
func (r *request) assess(ctx context.Context, ind catalogue.Indicator, g group, m Month) (cell, *float64, string, *float64, error) {
	vs, err := r.value(ctx, ind)
	if err != nil {
		return cell{}, nil, "", nil, err
	}
	c := vs.get(g.key, m)
	if ind.IsContext() {
		if c.v == nil {
			return c, nil, StatusSansDonnees, nil, nil
		}
		return c, nil, StatusSansCible, nil, nil
	}
	var target, ref *float64
	switch {
	case !ind.HasLevel(g.id.Level):
		// Not applicable to this level (a département-only figure, an EPCI percentage for a commune).
	case ind.Direction == catalogue.Hausse:
		ref = vs.get(g.key, m.Add(-12)).v
		if ref == nil {
			ref = ind.Baseline
		}
		target = ref
	case ind.TargetOf != "":
		if t := ind.TargetAt(g.id.Level); t != nil {
			of, _ := r.e.cat.Get(ind.TargetOf)
			ovs, err := r.value(ctx, of)
			if err != nil {
				return c, nil, "", nil, err
			}
			if base := ovs.get(g.key, m).v; base != nil {
				target = ptr(*t * *base / 100)
			}
		}
	default:
		target = ind.TargetAt(g.id.Level)
	}
	st, prog := status(ind, c.v, target, ref, r.baselineOf(ind, vs, g.key), m)
	return c, target, st, prog, nil
}

// Evaluate computes indicators (all of the catalogue, in its order, when ids is empty) for territory t
// and month m.
func (e *Engine) Evaluate(ctx context.Context, t territory.ID, m Month, ids ...string) ([]Result, error) {
	inds, err := e.indicators(ids)
	if err != nil {
		return nil, err
	}
	r, gs, err := e.requestFor(ctx, []territory.ID{t})
	if err != nil {
		return nil, err
	}
	for _, ind := range inds {
		r.plan(ind, []Month{m}, true)
	}
	if err := r.prefetch(ctx); err != nil {
		return nil, err
	}
	return r.results(ctx, inds, gs[0], m)
}

// requestFor resolves the territories ts and returns one request evaluating all of them, with their
// groups in the order of ts. Territories may overlap (a département and its EPCI): every figure is
// computed per commune and summed per group.
func (e *Engine) requestFor(ctx context.Context, ts []territory.ID) (*request, []group, error) {
	ref, err := e.Reference(ctx)
	if err != nil {
		return nil, nil, err
	}
	gs := make([]group, len(ts))
	for i, t := range ts {
		tr, err := ref.Resolve(t)
		if err != nil {
			return nil, nil, err
		}
		gs[i] = newGroup(ref, tr)
	}
	return e.newRequest(ref, gs), gs, nil
}

// results assesses inds for group g at month m (planned with trend).
func (r *request) results(ctx context.Context, inds []catalogue.Indicator, g group, m Month) ([]Result, error) {
	out := make([]Result, 0, len(inds))
	for _, ind := range inds {
		c, target, st, prog, err := r.assess(ctx, ind, g, m)
		if err != nil {
			return nil, err
		}
		res := Result{ID: ind.ID, Axis: ind.Axis, Action: ind.Action, Label: ind.Label, Definition: ind.Definition,
			Unit: ind.Unit, Territory: g.key, Period: m.String(), Value: c.v, Target: target,
			Direction: ind.Direction, Deadline: ind.Deadline, Progress: prog, Status: st}
		if ind.Direction == catalogue.Hausse {
			res.Deadline = ""
		}
		if target != nil {
			res.TargetOrigin = ind.TargetOrigin
		}
		if prev := r.done[ind.ID].get(g.key, m.Add(-1)).v; prev != nil && c.v != nil {
			res.Trend = ptr(*c.v - *prev)
		}
		if !c.last.IsZero() {
			l := c.last
			res.LastData = &l
		}
		out = append(out, res)
	}
	return out, nil
}

// Series evaluates one indicator for every month from..to (inclusive). Point.Target is the trajectory
// point of that month (au_moins/au_plus) or the value a year before (hausse).
func (e *Engine) Series(ctx context.Context, id string, t territory.ID, from, to Month) ([]Point, error) {
	pts, err := e.SeriesMany(ctx, t, from, to, id)
	if err != nil {
		return nil, err
	}
	return pts[id], nil
}

// Breakdown evaluates one indicator for the children of parent at level (the EPCI of the département,
// the communes of an EPCI or of the département), sorted as the reference lists them.
func (e *Engine) Breakdown(ctx context.Context, id string, parent territory.ID, level territory.Level, m Month) ([]Child, error) {
	inds, err := e.indicators([]string{id})
	if err != nil {
		return nil, err
	}
	ind := inds[0]
	ref, err := e.Reference(ctx)
	if err != nil {
		return nil, err
	}
	kids, err := ref.Children(parent, level)
	if err != nil {
		return nil, err
	}
	groups := make([]group, len(kids))
	for i, k := range kids {
		groups[i] = newGroup(ref, k)
	}
	r := e.newRequest(ref, groups)
	r.plan(ind, []Month{m}, false)
	out := make([]Child, 0, len(groups))
	for _, g := range groups {
		c, _, st, _, err := r.assess(ctx, ind, g, m)
		if err != nil {
			return nil, err
		}
		out = append(out, Child{Territory: g.id, Name: g.name, Latitude: g.lat, Longitude: g.lon, NoCentroid: g.noCentre, Population: g.pop, Value: c.v, Status: st})
	}
	return out, nil
}
