//go:build integration

package plugin

import (
	"context"
	"encoding/json"
	"math"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/grafana/grafana-plugin-sdk-go/backend"
	"github.com/grafana/grafana-plugin-sdk-go/data"

	"github.com/sdaasp-rhone/fne/internal/catalogue"
	"github.com/sdaasp-rhone/fne/internal/chtest"
	"github.com/sdaasp-rhone/fne/internal/engine"
)

// fixtureEnv is a migrated database with the reference and the fixture, a datasource on it and the
// engine the datasource's numbers are compared with.
type fixtureEnv struct {
	db  *chtest.DB
	eng *engine.Engine
}

func newFixtureEnv(t testing.TB) fixtureEnv {
	db, _ := chtest.WithReference(t)
	loadFixture(t, db.Conn)
	cat, err := catalogue.Load()
	if err != nil {
		t.Fatal(err)
	}
	return fixtureEnv{db: db, eng: engine.New(db.Conn, cat)}
}

func (e fixtureEnv) datasource(t testing.TB, scope string) *Datasource {
	t.Helper()
	ds, err := NewFactory(Open)(context.Background(), backend.DataSourceInstanceSettings{
		JSONData: fxSettingsJSON(t, e.db, scope), DecryptedSecureJSONData: map[string]string{"password": e.db.Config.Password},
	})
	if err != nil {
		t.Fatal(err)
	}
	d := ds.(*Datasource)
	t.Cleanup(d.Dispose)
	return d
}

func fxQuery(refID, js string) backend.DataQuery {
	return backend.DataQuery{RefID: refID, JSON: []byte(js), TimeRange: backend.TimeRange{From: fxFrom, To: fxTo}}
}

func valueOf(t testing.TB, fr *data.Frame, field string, row int) *float64 {
	t.Helper()
	f, i := fr.FieldByName(field)
	if i < 0 {
		t.Fatalf("champ %s absent", field)
	}
	v, ok := f.ConcreteAt(row)
	if !ok {
		return nil
	}
	x := v.(float64)
	return &x
}

func eqPtr(a, b *float64) bool {
	if a == nil || b == nil {
		return a == nil && b == nil
	}
	return math.Abs(*a-*b) < 1e-9
}

func str(p *float64) string {
	if p == nil {
		return "null"
	}
	b, _ := json.Marshal(*p)
	return string(b)
}

// scorecardRows indexes a scorecard frame by indicator id.
func scorecardRows(t testing.TB, fr *data.Frame) map[string]int {
	ids, _ := fr.FieldByName("id")
	out := map[string]int{}
	for i := 0; i < ids.Len(); i++ {
		out[ids.At(i).(string)] = i
	}
	return out
}

// assertScorecard checks the frame row by row against engine.Evaluate.
func assertScorecard(t testing.TB, fr *data.Frame, want []engine.Result) {
	t.Helper()
	rows := scorecardRows(t, fr)
	if len(rows) != len(want) {
		t.Fatalf("%d lignes, le moteur en donne %d", len(rows), len(want))
	}
	for _, r := range want {
		i, ok := rows[r.ID]
		if !ok {
			t.Fatalf("indicateur %s absent", r.ID)
		}
		st, _ := fr.FieldByName("status")
		if o, _ := fr.FieldByName("target_origin"); o.At(i) != r.TargetOrigin {
			t.Errorf("%s : origine de la cible %v, moteur %q", r.ID, o.At(i), r.TargetOrigin)
		}
		if !eqPtr(valueOf(t, fr, "value", i), r.Value) || !eqPtr(valueOf(t, fr, "target", i), r.Target) ||
			!eqPtr(valueOf(t, fr, "progress", i), r.Progress) || !eqPtr(valueOf(t, fr, "trend", i), r.Trend) || st.At(i) != r.Status {
			t.Errorf("%s : plugin value=%s target=%s progress=%s trend=%s status=%v ; moteur %s %s %s %s %s", r.ID,
				str(valueOf(t, fr, "value", i)), str(valueOf(t, fr, "target", i)), str(valueOf(t, fr, "progress", i)), str(valueOf(t, fr, "trend", i)), st.At(i),
				str(r.Value), str(r.Target), str(r.Progress), str(r.Trend), r.Status)
		}
	}
}

func TestIntegrationQueries(t *testing.T) {
	env := newFixtureEnv(t)
	ctx := context.Background()
	d := env.datasource(t, "")
	resp, err := d.QueryData(ctx, &backend.QueryDataRequest{Queries: []backend.DataQuery{
		fxQuery("C", `{"queryType":"scorecard"}`),
		fxQuery("E1", `{"queryType":"scorecard","territory":"`+fxE1+`","axis":2}`),
		fxQuery("S", `{"queryType":"series","indicator":"a2.accompagnements"}`),
		fxQuery("B", `{"queryType":"breakdown","indicator":"a1.conseillers_actifs"}`),
		fxQuery("BC", `{"queryType":"breakdown","indicator":"a2.accompagnements","territory":"`+fxE1+`"}`),
		fxQuery("G", `{"queryType":"gaps"}`),
		fxQuery("M", `{"queryType":"milestones"}`),
		fxQuery("F", `{"queryType":"freshness"}`),
		fxQuery("X", `{"queryType":"scorecard","territory":"com:01194"}`), // Ain commune: not in the reference
	}})
	if err != nil {
		t.Fatal(err)
	}
	for ref, r := range resp.Responses {
		if ref != "X" && r.Error != nil {
			t.Fatalf("%s : %v", ref, r.Error)
		}
	}
	if e := resp.Responses["X"].Error; e == nil || !strings.Contains(e.Error(), "com:01194 n'est pas une commune du référentiel") {
		t.Fatalf("X : %v", e)
	}

	// scorecard dep:69, October 2026: hand values, then every row equal to engine.Evaluate
	c := resp.Responses["C"].Frames[0]
	rows := scorecardRows(t, c)
	for id, want := range map[string]float64{"a1.conseillers_actifs": 3, "a2.accompagnements": 9} {
		if v := valueOf(t, c, "value", rows[id]); v == nil || *v != want {
			t.Errorf("%s = %s, attendu %v", id, str(v), want)
		}
	}
	for id, want := range map[string]float64{"a1.conseillers_actifs": 2, "a2.accompagnements": 5} {
		if v := valueOf(t, c, "trend", rows[id]); v == nil || *v != want {
			t.Errorf("évolution de %s = %s, attendu %v", id, str(v), want)
		}
	}
	// a1.conseillers_actifs: 3 of a target of 14 → progress 3/14 = 21.43 %
	if v := valueOf(t, c, "progress", rows["a1.conseillers_actifs"]); v == nil || math.Abs(*v-300.0/14) > 1e-9 {
		t.Errorf("avancement = %s, attendu %v", str(v), 300.0/14)
	}
	// who set each target: the roadmap commits to one départemental meeting a year, it sets no number of
	// counsellors (a COPIL default); a context indicator has no target, hence no origin
	origin, _ := c.FieldByName("target_origin")
	for id, want := range map[string]string{"a1.conseillers_actifs": "copil", "a1.rencontre_annuelle": "feuille_de_route", "ctx.lieux": ""} {
		if got := origin.At(rows[id]); got != want {
			t.Errorf("origine de la cible de %s = %q, attendu %q", id, got, want)
		}
	}
	if m := origin.Config.Mappings[0].(data.ValueMapper); m["feuille_de_route"].Text != "Engagement de la feuille de route" || m["copil"].Text != "Valeur par défaut (COPIL)" {
		t.Errorf("libellés de l'origine de la cible : %+v", m)
	}
	want, err := env.eng.Evaluate(ctx, mustID(fxDep), october)
	if err != nil {
		t.Fatal(err)
	}
	assertScorecard(t, c, want)

	// E1, axis 2 only: accompagnements = 5, and a2.accompagnements_1000_hab = 5 × 1000 / population of E1
	e1 := resp.Responses["E1"].Frames[0]
	wantE1, err := env.eng.Evaluate(ctx, mustID(fxE1), october)
	if err != nil {
		t.Fatal(err)
	}
	var axis2 []engine.Result
	for _, r := range wantE1 {
		if r.Axis == 2 {
			axis2 = append(axis2, r)
		}
	}
	assertScorecard(t, e1, axis2)
	e1rows := scorecardRows(t, e1)
	if v := valueOf(t, e1, "value", e1rows["a2.accompagnements"]); v == nil || *v != 5 {
		t.Errorf("accompagnements E1 = %s, attendu 5", str(v))
	}
	ref, _ := env.eng.Reference(ctx)
	te1, _ := ref.Resolve(mustID(fxE1))
	if v := valueOf(t, e1, "value", e1rows["a2.accompagnements_1000_hab"]); v == nil || math.Abs(*v-5000/float64(te1.Population)) > 1e-9 {
		t.Errorf("accompagnements pour 1 000 hab. E1 = %s, attendu 5000/%d", str(v), te1.Population)
	}

	// series Aug..Oct
	s := resp.Responses["S"].Frames[0]
	// the roadmap sets no number of accompaniments: the reference is a COPIL default
	if tf, _ := s.FieldByName("target"); tf.Config.Description != "Valeur par défaut (COPIL)" {
		t.Errorf("description de la cible de la série : %q", tf.Config.Description)
	}
	var got []string
	for i := 0; i < s.Rows(); i++ {
		got = append(got, str(valueOf(t, s, "value", i)))
	}
	if !reflect.DeepEqual(got, []string{"null", "4", "9"}) {
		t.Errorf("série = %v, attendu [null 4 9]", got)
	}
	pts, err := env.eng.Series(ctx, "a2.accompagnements", mustID(fxDep), engine.Month{Year: 2026, Month: 8}, october)
	if err != nil {
		t.Fatal(err)
	}
	tf, _ := s.FieldByName("time")
	for i, p := range pts {
		if !eqPtr(valueOf(t, s, "value", i), p.Value) || !eqPtr(valueOf(t, s, "target", i), p.Target) || tf.At(i).(time.Time) != p.Month.Start() {
			t.Errorf("mois %s : plugin %s/%s, moteur %s/%s", p.Month, str(valueOf(t, s, "value", i)), str(valueOf(t, s, "target", i)), str(p.Value), str(p.Target))
		}
	}

	// breakdown by EPCI: E1 2, E2 1, the 10 others 0; equal to engine.Breakdown
	b := resp.Responses["B"].Frames[0]
	if b.Rows() != 12 {
		t.Fatalf("%d EPCI", b.Rows())
	}
	kids, err := env.eng.Breakdown(ctx, "a1.conseillers_actifs", mustID(fxDep), noLevel, october)
	if err != nil {
		t.Fatal(err)
	}
	terr, _ := b.FieldByName("territory")
	for i, k := range kids {
		v := valueOf(t, b, "value", i)
		wantV := 0.0
		switch k.Territory.String() {
		case fxE1:
			wantV = 2
		case fxE2:
			wantV = 1
		}
		if terr.At(i) != k.Territory.String() || !eqPtr(v, k.Value) || v == nil || *v != wantV {
			t.Errorf("%s : plugin %v=%s, moteur %s, à la main %v", k.Territory, terr.At(i), str(v), str(k.Value), wantV)
		}
	}
	// communes of E1: Villefranche 3, Gleizé 2, the others 0
	bc := resp.Responses["BC"].Frames[0]
	bcT, _ := bc.FieldByName("territory")
	for i := 0; i < bc.Rows(); i++ {
		wantV := map[string]float64{fxC1: 3, fxC2: 2}[bcT.At(i).(string)]
		if v := valueOf(t, bc, "value", i); v == nil || *v != wantV {
			t.Errorf("%s = %s, attendu %v", bcT.At(i), str(v), wantV)
		}
	}
	if bc.Rows() != len(te1.Communes) {
		t.Errorf("%d communes, E1 en a %d", bc.Rows(), len(te1.Communes))
	}

	// gaps, milestones and freshness equal to the engine's
	gaps, err := env.eng.Gaps(ctx, mustID(fxDep), october)
	if err != nil {
		t.Fatal(err)
	}
	if g := resp.Responses["G"].Frames[0]; g.Rows() != len(gaps) {
		t.Errorf("%d manques, le moteur en donne %d", g.Rows(), len(gaps))
	}
	m := resp.Responses["M"].Frames[0]
	jal, _ := m.FieldByName("jalon")
	late, _ := m.FieldByName("en_retard")
	if m.Rows() != 2 || jal.At(0) != "J1" || late.At(0) != false || jal.At(1) != "J2" || late.At(1) != true {
		t.Errorf("jalons : %v/%v %v/%v", jal.At(0), late.At(0), jal.At(1), late.At(1))
	}
	f := resp.Responses["F"].Frames[0]
	src, _ := f.FieldByName("source")
	lastRun, _ := f.FieldByName("last_run")
	found := false
	for i := 0; i < f.Rows(); i++ {
		if src.At(i) == "activites" {
			found = true
			if lr := lastRun.At(i).(*time.Time); lr == nil || !lr.Equal(time.Date(2026, 10, 31, 6, 0, 0, 0, time.UTC)) {
				t.Errorf("dernière collecte des activités = %v", lr)
			}
		}
	}
	if !found {
		t.Errorf("source activites absente de la fraîcheur")
	}
}

func TestIntegrationScope(t *testing.T) {
	env := newFixtureEnv(t)
	ctx := context.Background()
	d := env.datasource(t, fxE1)
	resp, err := d.QueryData(ctx, &backend.QueryDataRequest{Queries: []backend.DataQuery{
		fxQuery("OWN", `{"queryType":"scorecard"}`),
		fxQuery("COM", `{"queryType":"scorecard","territory":"`+fxC1+`"}`),
		fxQuery("DEP", `{"queryType":"scorecard","territory":"`+fxDep+`"}`),
		fxQuery("OTHER", `{"queryType":"series","indicator":"a2.accompagnements","territory":"`+fxE2+`"}`),
		fxQuery("FOREIGN", `{"queryType":"breakdown","indicator":"a2.accompagnements","territory":"`+fxDep+`","level":"commune"}`),
		fxQuery("C3", `{"queryType":"gaps","territory":"`+fxC3+`"}`),
	}})
	if err != nil {
		t.Fatal(err)
	}
	own := resp.Responses["OWN"]
	if own.Error != nil {
		t.Fatal(own.Error)
	}
	want, err := env.eng.Evaluate(ctx, mustID(fxE1), october)
	if err != nil {
		t.Fatal(err)
	}
	assertScorecard(t, own.Frames[0], want)
	com := resp.Responses["COM"]
	if com.Error != nil {
		t.Fatal(com.Error)
	}
	if v := valueOf(t, com.Frames[0], "value", scorecardRows(t, com.Frames[0])["a2.accompagnements"]); v == nil || *v != 3 {
		t.Errorf("accompagnements de Villefranche = %s, attendu 3", str(v))
	}
	for _, ref := range []string{"DEP", "OTHER", "FOREIGN", "C3"} {
		r := resp.Responses[ref]
		if r.Error == nil || !strings.Contains(r.Error.Error(), "hors du périmètre") || len(r.Frames) != 0 {
			t.Errorf("%s : %v, %d trames", ref, r.Error, len(r.Frames))
		}
	}
	// resources are scoped too
	var c captured
	if err := d.CallResource(ctx, &backend.CallResourceRequest{Method: "GET", Path: "territories", URL: "territories?level=epci"}, &c); err != nil {
		t.Fatal(err)
	}
	var opts []Option
	if err := json.Unmarshal(c.resp.Body, &opts); err != nil || len(opts) != 1 || opts[0].Value != fxE1 {
		t.Fatalf("EPCI du périmètre : %s", c.resp.Body)
	}
}

func TestIntegrationHealth(t *testing.T) {
	env := newFixtureEnv(t)
	d := env.datasource(t, "")
	res, err := d.CheckHealth(context.Background(), &backend.CheckHealthRequest{})
	if err != nil {
		t.Fatal(err)
	}
	// the fixture's only run ended on 31/10/2026; other sources were never collected: warnings, still OK
	if res.Status != backend.HealthStatusOk || !strings.Contains(res.Message, "de 208 communes et 12 EPCI") ||
		!strings.Contains(res.Message, "les sources structures, lieux, consultations, rencontres, participations, equipements, jalons n'ont jamais été collectées") {
		t.Fatalf("%v : %s", res.Status, res.Message)
	}
	// a wrong database is an error with the French cause
	s := d.Settings()
	s.Database = "fne_absente_" + strings.ReplaceAll(env.db.Config.Database, "fne_t_", "")
	bad := New(s, Open)
	defer bad.Dispose()
	res, _ = bad.CheckHealth(context.Background(), &backend.CheckHealthRequest{})
	if res.Status != backend.HealthStatusError || !strings.Contains(res.Message, "n'existe pas") {
		t.Fatalf("%v : %s", res.Status, res.Message)
	}
}
