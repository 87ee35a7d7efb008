package plugin

import (
	"context"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/sdaasp-rhone/fne/internal/engine"
)

func TestAxesQueryCountsStatusesPerAxis(t *testing.T) {
	d, _, err := newTestDatasource("")
	if err != nil {
		t.Fatal(err)
	}
	resp := run(t, d, dq("A", `{"queryType":"axes"}`), dq("B", `{"queryType":"axes","axis":2}`))
	a := resp.Responses["A"].Frames[0]
	// fake Evaluate: a1.conseillers_actifs (axis 1) à surveiller, a2.communes_hotspot (axis 2) en
	// retard, ctx.lieux_10000_hab (axis 0) left out. The fake catalogue has axes 1 and 2.
	if got := column(t, a, "axis"); !reflect.DeepEqual(got, []any{"Axe 1", "Axe 2"}) {
		t.Fatalf("axes = %v", got)
	}
	for field, want := range map[string][]any{
		"a_surveiller": {int64(1), int64(0)}, "en_retard": {int64(0), int64(1)},
		"atteint": {int64(0), int64(0)}, "en_bonne_voie": {int64(0), int64(0)}, "sans_donnees": {int64(0), int64(0)},
	} {
		if got := column(t, a, field); !reflect.DeepEqual(got, want) {
			t.Errorf("%s = %v, attendu %v", field, got, want)
		}
	}
	if got := column(t, a, "territory_name"); got[0] != "Testland" {
		t.Errorf("territoire = %v", got)
	}
	// The range ends in October 2026: the month evaluated, in words.
	if got := column(t, a, "period_label"); got[0] != "octobre 2026" {
		t.Errorf("mois = %v", got)
	}
	if got := column(t, resp.Responses["B"].Frames[0], "title"); !reflect.DeepEqual(got, []any{AxisTitles[2]}) {
		t.Errorf("axe 2 seul : %v", got)
	}
}

func TestChangesFrameWorseFirst(t *testing.T) {
	r := func(id string, axis int, st string, v float64) engine.Result {
		return engine.Result{ID: id, Axis: axis, Action: "1.1", Label: id, Unit: "%", Status: st, Value: &v}
	}
	prev := []engine.Result{r("a", 1, engine.StatusEnRetard, 10), r("b", 2, engine.StatusAtteint, 100), r("c", 1, engine.StatusASurveiller, 50), r("x", 0, engine.StatusSansCible, 1)}
	cur := []engine.Result{r("a", 1, engine.StatusBonneVoie, 40), r("b", 2, engine.StatusEnRetard, 20.5), r("c", 1, engine.StatusASurveiller, 52), r("x", 0, engine.StatusSansDonnees, 1)}
	f := ChangesFrame("changes", prev, cur, "")
	// a: en_retard → en_bonne_voie, better; b: atteint → en_retard, worse (first); c unchanged; x context.
	if got := column(t, f, "id"); !reflect.DeepEqual(got, []any{"b", "a"}) {
		t.Fatalf("ids = %v", got)
	}
	if got := column(t, f, "direction"); !reflect.DeepEqual(got, []any{ChangeWorse, ChangeBetter}) {
		t.Errorf("sens = %v", got)
	}
	if got := column(t, f, "value_text"); !reflect.DeepEqual(got, []any{"20,5\u202f%", "40,0\u202f%"}) {
		t.Errorf("valeurs = %q", got)
	}
	if got := column(t, f, "previous_status"); !reflect.DeepEqual(got, []any{engine.StatusAtteint, engine.StatusEnRetard}) {
		t.Errorf("statuts précédents = %v", got)
	}
}

func TestChangesQueryEvaluatesTwoMonths(t *testing.T) {
	d, eng, err := newTestDatasource("")
	if err != nil {
		t.Fatal(err)
	}
	resp := run(t, d, dq("A", `{"queryType":"changes"}`))
	if r := resp.Responses["A"]; r.Error != nil || len(r.Frames) != 1 {
		t.Fatalf("%+v", r)
	}
	if !reflect.DeepEqual(eng.calls, []string{"Evaluate dep:99 2026-10 []", "Evaluate dep:99 2026-09 []"}) {
		t.Errorf("appels = %v", eng.calls)
	}
}

func TestDueMilestonesAndEcheance(t *testing.T) {
	now := time.Date(2026, 11, 15, 12, 0, 0, 0, time.UTC)
	day := func(s string) *time.Time { d, _ := time.Parse("2006-01-02", s); return &d }
	ms := []engine.Milestone{
		{Jalon: "late", Statut: "en_cours", DatePrevue: day("2026-10-01")},
		{Jalon: "soon", Statut: "a_lancer", DatePrevue: day("2027-02-15")}, // 15/11 + 3 months = 15/02: included
		{Jalon: "later", Statut: "a_lancer", DatePrevue: day("2027-02-16")},
		{Jalon: "done", Statut: "realise", DatePrevue: day("2026-01-01")},
		{Jalon: "dropped", Statut: "abandonne", DatePrevue: day("2026-01-01")},
		{Jalon: "undated", Statut: "en_cours"},
	}
	var got []string
	for _, m := range dueMilestones(ms, 3, now) {
		got = append(got, m.Jalon)
	}
	if strings.Join(got, ",") != "late,soon" {
		t.Errorf("jalons dus : %v", got)
	}
	want := []string{EcheanceRetard, EcheanceProche, EcheanceAVenir, EcheanceRealise, EcheanceAbandon, EcheanceAVenir}
	for i, m := range ms {
		if e := echeance(m, now); e != want[i] {
			t.Errorf("%s : échéance %s, attendu %s", m.Jalon, e, want[i])
		}
	}
}

func TestGapsByLevel(t *testing.T) {
	d, _, err := newTestDatasource("")
	if err != nil {
		t.Fatal(err)
	}
	resp := run(t, d, dq("E", `{"queryType":"gaps","level":"epci"}`), dq("C", `{"queryType":"gaps","level":"commune"}`))
	// fake Gaps: com:99003 (wifi) and epci:200000002 (counsellors).
	if got := column(t, resp.Responses["E"].Frames[0], "territory"); !reflect.DeepEqual(got, []any{"epci:200000002"}) {
		t.Errorf("EPCI = %v", got)
	}
	c := resp.Responses["C"].Frames[0]
	if got := column(t, c, "territory"); !reflect.DeepEqual(got, []any{"com:99003"}) {
		t.Errorf("communes = %v", got)
	}
	// The wifi target 1 of a % indicator, written in its unit.
	if got := column(t, c, "target_text"); !reflect.DeepEqual(got, []any{"1,0\u202f%"}) {
		t.Errorf("cible = %q", got)
	}
}

func TestDefaultLevelEPCI(t *testing.T) {
	for scope, want := range map[string]string{"": "epci:200000001", "epci:200000002": "epci:200000002", "com:99002": "com:99002"} {
		d, eng, err := newTestDatasource(scope)
		if err != nil {
			t.Fatal(err)
		}
		resp := run(t, d, dq("A", `{"queryType":"series","indicator":"a1.conseillers_actifs","territory":"","defaultLevel":"epci"}`))
		if r := resp.Responses["A"]; r.Error != nil {
			t.Fatalf("%s : %v", scope, r.Error)
		}
		if len(eng.calls) != 1 || !strings.Contains(eng.calls[0], " "+want+" ") {
			t.Errorf("périmètre %q : %v, attendu %s", scope, eng.calls, want)
		}
	}
	// An explicit territory wins.
	d, eng, _ := newTestDatasource("")
	run(t, d, dq("A", `{"queryType":"series","indicator":"a1.conseillers_actifs","territory":"epci:200000002","defaultLevel":"epci"}`))
	if !strings.Contains(eng.calls[0], "epci:200000002") {
		t.Errorf("territoire explicite ignoré : %v", eng.calls)
	}
}

func TestNewQueryFieldsValidated(t *testing.T) {
	for js, want := range map[string]string{
		`{"queryType":"milestones","dueWithin":-1}`:                                           "échéance",
		`{"queryType":"milestones","dueWithin":1.5}`:                                          "échéance",
		`{"queryType":"series","indicator":"a1.conseillers_actifs","defaultLevel":"commune"}`: "niveau par défaut",
	} {
		_, err := ParseQuery(dq("A", js))
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("%s : %v, attendu « %s »", js, err, want)
		}
	}
}

// pastEngine answers NewestPast like the engine: the newest record dated up to now.
type pastEngine struct {
	*fakeEngine
	past map[string]*time.Time
}

func (p pastEngine) NewestPast(_ context.Context, source string, _ time.Time) (*time.Time, error) {
	return p.past[source], nil
}

func TestFreshnessNeverInTheFuture(t *testing.T) {
	now := time.Date(2026, 11, 15, 12, 0, 0, 0, time.UTC)
	future, past := now.AddDate(0, 1, 0), now.AddDate(0, -1, 0)
	run1 := now.Add(-3 * time.Hour)
	fs := []engine.Freshness{{Source: "rencontres", LastData: &future, LastRun: &run1}, {Source: "activites", LastData: &past}}
	if err := pastFreshness(context.Background(), pastEngine{&fakeEngine{ref: testReference()}, map[string]*time.Time{"rencontres": &past}}, fs, now); err != nil {
		t.Fatal(err)
	}
	if !fs[0].LastData.Equal(past) || !fs[1].LastData.Equal(past) {
		t.Errorf("données les plus récentes : %v, %v", fs[0].LastData, fs[1].LastData)
	}
	// Without the engine's help a future date is dropped, never shown.
	fs = []engine.Freshness{{Source: "rencontres", LastData: &future}}
	_ = pastFreshness(context.Background(), &fakeEngine{ref: testReference()}, fs, now)
	if fs[0].LastData != nil {
		t.Errorf("date future gardée : %v", fs[0].LastData)
	}
	f := FreshnessFrame("f", []engine.Freshness{{Source: "rencontres", LastRun: &run1}}, now, "")
	if got := column(t, f, "last_run_ago"); !reflect.DeepEqual(got, []any{"il y a 3 h"}) {
		t.Errorf("dernier passage = %v", got)
	}
	if got := column(t, f, "last_success_ago"); !reflect.DeepEqual(got, []any{"jamais"}) {
		t.Errorf("dernier succès = %v", got)
	}
}

func TestFrenchFormatting(t *testing.T) {
	v := func(x float64) *float64 { return &x }
	for _, c := range []struct {
		v    *float64
		unit string
		want string
	}{
		{v(2042), "nombre", "2\u202f042"},
		{v(14), "nombre", "14"},
		{v(47.64), "%", "47,6\u202f%"},
		{v(4.25), "pour 1 000 hab.", "4,3 pour 1 000 hab."},
		{v(-3), "nombre", "−3"},
		{v(1234567.5), "nombre", "1\u202f234\u202f568"},
		{nil, "%", "—"},
	} {
		if got := FormatValue(c.v, c.unit); got != c.want {
			t.Errorf("%v %s : %q, attendu %q", c.v, c.unit, got, c.want)
		}
	}
	now := time.Date(2026, 11, 15, 12, 0, 0, 0, time.UTC)
	for d, want := range map[time.Duration]string{30 * time.Second: "à l'instant", 5 * time.Minute: "il y a 5 min",
		26 * time.Hour: "il y a 26 h", 72 * time.Hour: "il y a 3 j", 95 * 24 * time.Hour: "il y a 3 mois", -2 * time.Hour: "dans 2 h"} {
		t0 := now.Add(-d)
		if got := FormatAgo(&t0, now); got != want {
			t.Errorf("%v : %q, attendu %q", d, got, want)
		}
	}
}
