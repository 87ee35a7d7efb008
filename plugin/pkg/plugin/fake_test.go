package plugin

import (
	"context"
	"fmt"
	"sync"
	"time"

	"github.com/sdaasp-rhone/fne/internal/engine"
	"github.com/sdaasp-rhone/fne/internal/territory"
)

// A small reference for unit tests: département 99, two EPCI, three communes.
//
//	epci:200000001 "CC Alpha": com:99001 Alpha-Ville (1000 hab.), com:99002 Bourg (3000 hab.)
//	epci:200000002 "CC Beta":  com:99003 Cité (500 hab.)
func testReference() *territory.Reference {
	return territory.NewReference("99", "Testland", []territory.Commune{
		{Code: "99001", Nom: "Alpha-Ville", EPCI: "200000001", Population: 1000, Latitude: 45, Longitude: 4},
		{Code: "99002", Nom: "Bourg", EPCI: "200000001", Population: 3000, Latitude: 46, Longitude: 5},
		{Code: "99003", Nom: "Cité", EPCI: "200000002", Population: 500, Latitude: 44, Longitude: 3},
	}, []territory.EPCIInfo{
		{Siren: "200000001", Nom: "CC Alpha"},
		{Siren: "200000002", Nom: "CC Beta"},
	})
}

func f(v float64) *float64 { return &v }

// fakeEngine answers from canned data and records its calls; it stands for internal/engine in pure
// unit tests (the integration tests use the real engine on ClickHouse).
type fakeEngine struct {
	mu    sync.Mutex
	ref   *territory.Reference
	calls []string
	fresh []engine.Freshness
}

func (e *fakeEngine) record(format string, a ...any) {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.calls = append(e.calls, fmt.Sprintf(format, a...))
}

func (e *fakeEngine) Indicators() []Indicator {
	return []Indicator{
		{ID: "a1.conseillers_actifs", Axis: 1, Action: "1.1", Label: "Conseillers numériques en activité", Unit: "nombre", Target: f(14), Direction: "au_moins", Levels: []string{"dep", "epci", "com"}, targetLevels: []territory.Level{territory.LevelDep}},
		{ID: "a2.communes_hotspot", Axis: 2, Action: "2.2", Label: "Communes avec au moins un point wifi libre d'accès", Unit: "%", Target: f(100), Direction: "au_moins", Levels: []string{"dep", "epci"}},
		{ID: "a2.population_zone_blanche", Axis: 2, Action: "2.2", Label: "Population éloignée", Unit: "%", Target: f(0), Direction: "au_plus"},
		{ID: "ctx.lieux_10000_hab", Axis: 0, Label: "Lieux pour 10 000 habitants", Unit: "pour 10 000 hab."},
	}
}

func (e *fakeEngine) Reference(context.Context) (*territory.Reference, error) { return e.ref, nil }

func (e *fakeEngine) Evaluate(_ context.Context, t territory.ID, m engine.Month, ids ...string) ([]engine.Result, error) {
	e.record("Evaluate %s %s %v", t, m, ids)
	last := time.Date(2026, 10, 28, 0, 0, 0, 0, time.UTC)
	return []engine.Result{
		{ID: "a1.conseillers_actifs", Axis: 1, Action: "1.1", Label: "Conseillers numériques en activité", Unit: "nombre", Territory: t.String(), Period: m.String(), Value: f(12), Target: f(14), Progress: f(12.0 / 14 * 100), Status: engine.StatusASurveiller, Trend: f(-1), LastData: &last},
		{ID: "a2.communes_hotspot", Axis: 2, Action: "2.2", Label: "Communes avec au moins un point wifi libre d'accès", Unit: "%", Territory: t.String(), Period: m.String(), Value: f(50), Target: f(100), Progress: f(50), Status: engine.StatusEnRetard},
		{ID: "ctx.lieux_10000_hab", Axis: 0, Label: "Lieux pour 10 000 habitants", Unit: "pour 10 000 hab.", Territory: t.String(), Period: m.String(), Status: engine.StatusSansDonnees},
	}, nil
}

func (e *fakeEngine) Series(_ context.Context, id string, t territory.ID, from, to engine.Month) ([]engine.Point, error) {
	e.record("Series %s %s %s %s", id, t, from, to)
	var out []engine.Point
	for m, i := from, 0; !to.Before(m); m, i = m.Add(1), i+1 {
		out = append(out, engine.Point{Month: m, Value: f(float64(10 + i)), Target: f(14), Status: engine.StatusASurveiller})
	}
	out[0].Value = nil // a month without data
	return out, nil
}

func (e *fakeEngine) Breakdown(_ context.Context, id string, parent territory.ID, level territory.Level, m engine.Month) ([]engine.Child, error) {
	e.record("Breakdown %s %s %s %s", id, parent, level, m)
	cs, err := e.ref.Children(parent, level)
	if err != nil {
		return nil, err
	}
	var out []engine.Child
	for i, c := range cs {
		out = append(out, engine.Child{Territory: c.ID, Name: c.Name, Latitude: c.Latitude, Longitude: c.Longitude, Population: c.Population, Value: f(float64(i)), Status: engine.StatusEnRetard})
	}
	return out, nil
}

func (e *fakeEngine) Gaps(_ context.Context, t territory.ID, m engine.Month) ([]engine.Gap, error) {
	e.record("Gaps %s %s", t, m)
	return []engine.Gap{
		{Territory: territory.MustParse("com:99003"), Name: "Cité", Indicator: "a2.communes_hotspot", Label: "Aucun point wifi libre d'accès", Value: f(0), Target: f(1), Population: 500},
		{Territory: territory.MustParse("epci:200000002"), Name: "CC Beta", Indicator: "a1.conseillers_actifs", Label: "Aucun conseiller actif", Value: f(0), Population: 500},
	}, nil
}

func (e *fakeEngine) Milestones(context.Context) ([]engine.Milestone, error) {
	e.record("Milestones")
	d := time.Date(2026, 3, 31, 0, 0, 0, 0, time.UTC)
	return []engine.Milestone{
		{Action: "2.1", Jalon: "J1", Libelle: "Diagnostic lancé", Statut: "realise", DatePrevue: &d, DateRealisee: &d},
		{Action: "3.2", Jalon: "J2", Libelle: "Guide des relais", Statut: "en_cours", DatePrevue: &d, EnRetard: true},
	}, nil
}

func (e *fakeEngine) Freshness(_ context.Context, now time.Time) ([]engine.Freshness, error) {
	e.record("Freshness")
	return e.fresh, nil
}

func (e *fakeEngine) LatestMonth(context.Context) (engine.Month, error) {
	return engine.Month{Year: 2026, Month: 10}, nil
}

// newTestDatasource is a datasource on the fake engine with the given scope.
func newTestDatasource(scope string) (*Datasource, *fakeEngine, error) {
	eng := &fakeEngine{ref: testReference()}
	js := fmt.Sprintf(`{"host":"ch","scope":%q}`, scope)
	s, err := LoadSettings(settingsJSON(js, nil))
	if err != nil {
		return nil, nil, err
	}
	d := New(s, func(context.Context, Settings) (*Session, error) {
		return &Session{Engine: eng, Schema: func(context.Context) (int, int, error) { return 3, 3, nil }}, nil
	})
	d.now = func() time.Time { return time.Date(2026, 11, 15, 12, 0, 0, 0, time.UTC) }
	return d, eng, nil
}

// ParseIDForTest parses a territory id in tests.
func ParseIDForTest(s string) (territory.ID, error) { return territory.Parse(s) }
