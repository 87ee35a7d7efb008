package plugin

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/grafana/grafana-plugin-sdk-go/backend"
	"github.com/grafana/grafana-plugin-sdk-go/data"

	"github.com/sdaasp-rhone/fne/internal/engine"
	"github.com/sdaasp-rhone/fne/internal/territory"
)

// october2026 is a dashboard range ending in October 2026 and starting in August.
var october2026 = backend.TimeRange{From: time.Date(2026, 8, 1, 0, 0, 0, 0, time.UTC), To: time.Date(2026, 10, 31, 23, 0, 0, 0, time.UTC)}

func dq(refID, js string) backend.DataQuery {
	return backend.DataQuery{RefID: refID, JSON: []byte(js), TimeRange: october2026}
}

func fieldNames(fr *data.Frame) []string {
	var out []string
	for _, f := range fr.Fields {
		out = append(out, f.Name)
	}
	return out
}

// column returns a field's values, pointers dereferenced (nil kept).
func column(t *testing.T, fr *data.Frame, name string) []any {
	t.Helper()
	f, i := fr.FieldByName(name)
	if i < 0 {
		t.Fatalf("champ %q absent de %v", name, fieldNames(fr))
	}
	out := make([]any, f.Len())
	for j := range out {
		v := f.At(j)
		switch p := v.(type) {
		case *float64:
			if p == nil {
				v = nil
			} else {
				v = *p
			}
		case *time.Time:
			if p == nil {
				v = nil
			} else {
				v = *p
			}
		}
		out[j] = v
	}
	return out
}

func run(t *testing.T, d *Datasource, qs ...backend.DataQuery) *backend.QueryDataResponse {
	t.Helper()
	resp, err := d.QueryData(context.Background(), &backend.QueryDataRequest{Queries: qs})
	if err != nil {
		t.Fatal(err)
	}
	return resp
}

func TestQueryDataFrames(t *testing.T) {
	d, eng, err := newTestDatasource("")
	if err != nil {
		t.Fatal(err)
	}
	resp := run(t, d,
		dq("S", `{"queryType":"series","indicator":"a1.conseillers_actifs","territory":"epci:200000001"}`),
		dq("C", `{"queryType":"scorecard","axis":1}`),
		dq("B", `{"queryType":"breakdown","indicator":"a2.communes_hotspot","territory":"dep:99","level":"commune"}`),
		dq("G", `{"queryType":"gaps","axis":2}`),
		dq("M", `{"queryType":"milestones","axis":3}`),
		dq("F", `{"queryType":"freshness"}`),
	)
	for ref, r := range resp.Responses {
		if r.Error != nil {
			t.Fatalf("%s : %v", ref, r.Error)
		}
		if len(r.Frames) != 1 {
			t.Fatalf("%s : %d trames", ref, len(r.Frames))
		}
	}
	// The engine got the months of the range: Aug..Oct for the series, Oct for the others.
	wantCalls := []string{
		"Series a1.conseillers_actifs epci:200000001 2026-08 2026-10",
		"Evaluate dep:99 2026-10 []",
		"Breakdown a2.communes_hotspot dep:99 com 2026-10",
		"Gaps dep:99 2026-10",
		"Milestones",
		"Freshness",
	}
	if !reflect.DeepEqual(eng.calls, wantCalls) {
		t.Fatalf("appels = %q", eng.calls)
	}

	s := resp.Responses["S"].Frames[0]
	if got := fieldNames(s); !reflect.DeepEqual(got, []string{"time", "value", "target"}) {
		t.Fatalf("series : %v", got)
	}
	if got := column(t, s, "time"); !reflect.DeepEqual(got, []any{
		time.Date(2026, 8, 1, 0, 0, 0, 0, time.UTC), time.Date(2026, 9, 1, 0, 0, 0, 0, time.UTC), time.Date(2026, 10, 1, 0, 0, 0, 0, time.UTC)}) {
		t.Fatalf("time = %v", got)
	}
	if got := column(t, s, "value"); !reflect.DeepEqual(got, []any{nil, 11.0, 12.0}) {
		t.Fatalf("value = %v", got)
	}
	v, _ := s.FieldByName("value")
	if v.Config.DisplayNameFromDS != "Conseillers numériques en activité" || v.Config.Unit != "none" {
		t.Fatalf("config value = %+v", v.Config)
	}
	// the 14-counsellor target is a département target: no thresholds for an EPCI
	if v.Config.Thresholds != nil {
		t.Fatalf("seuils inattendus pour un EPCI : %+v", v.Config.Thresholds)
	}
	if s.Meta.Type != data.FrameTypeTimeSeriesWide {
		t.Fatalf("meta = %+v", s.Meta)
	}

	c := resp.Responses["C"].Frames[0]
	if got := fieldNames(c); !reflect.DeepEqual(got, []string{"axis", "action", "id", "label", "value", "unit", "target", "target_origin", "progress", "status", "trend", "last_data", "value_text", "target_text", "change"}) {
		t.Fatalf("scorecard : %v", got)
	}
	// axis 1 keeps only the counsellors (12 of 14 → 85.71 %)
	if got := column(t, c, "id"); !reflect.DeepEqual(got, []any{"a1.conseillers_actifs"}) {
		t.Fatalf("id = %v", got)
	}
	if got := column(t, c, "progress")[0].(float64); got < 85.71 || got > 85.72 {
		t.Fatalf("progress = %v", got)
	}
	if got := column(t, c, "axis"); !reflect.DeepEqual(got, []any{"Axe 1"}) {
		t.Fatalf("axis = %v", got)
	}
	if got := column(t, c, "last_data"); !reflect.DeepEqual(got, []any{time.Date(2026, 10, 28, 0, 0, 0, 0, time.UTC)}) {
		t.Fatalf("last_data = %v", got)
	}
	st, _ := c.FieldByName("status")
	if st.Config.DisplayNameFromDS != "Statut" || len(st.Config.Mappings) != 1 {
		t.Fatalf("status config = %+v", st.Config)
	}
	p, _ := c.FieldByName("progress")
	if p.Config.Unit != "percent" {
		t.Fatalf("progress unit = %q", p.Config.Unit)
	}

	b := resp.Responses["B"].Frames[0]
	if got := fieldNames(b); !reflect.DeepEqual(got, []string{"territory", "name", "latitude", "longitude", "population", "value", "status", "value_text"}) {
		t.Fatalf("breakdown : %v", got)
	}
	if got := column(t, b, "territory"); !reflect.DeepEqual(got, []any{"com:99001", "com:99002", "com:99003"}) {
		t.Fatalf("territory = %v", got)
	}
	if got := column(t, b, "population"); !reflect.DeepEqual(got, []any{int64(1000), int64(3000), int64(500)}) {
		t.Fatalf("population = %v", got)
	}
	bv, _ := b.FieldByName("value")
	if bv.Config.Unit != "percent" || bv.Config.Thresholds == nil || len(bv.Config.Thresholds.Steps) != 3 ||
		bv.Config.Thresholds.Steps[1].Value != 80 || bv.Config.Thresholds.Steps[2].Value != 100 {
		t.Fatalf("breakdown value config = %+v", bv.Config)
	}

	g := resp.Responses["G"].Frames[0]
	if got := fieldNames(g); !reflect.DeepEqual(got, []string{"territory", "name", "indicator", "label", "value", "target", "population", "level", "indicator_label", "value_text", "target_text"}) {
		t.Fatalf("gaps : %v", got)
	}
	// axis 2 drops the counsellors' gap
	if got := column(t, g, "indicator"); !reflect.DeepEqual(got, []any{"a2.communes_hotspot"}) {
		t.Fatalf("gaps indicator = %v", got)
	}

	m := resp.Responses["M"].Frames[0]
	if got := fieldNames(m); !reflect.DeepEqual(got, []string{"action", "jalon", "libelle", "statut", "date_prevue", "date_realisee", "en_retard", "echeance"}) {
		t.Fatalf("milestones : %v", got)
	}
	if got := column(t, m, "jalon"); !reflect.DeepEqual(got, []any{"J2"}) {
		t.Fatalf("axis 3 milestones = %v", got)
	}
	if got := column(t, m, "date_realisee"); !reflect.DeepEqual(got, []any{nil}) {
		t.Fatalf("date_realisee = %v", got)
	}

	fr := resp.Responses["F"].Frames[0]
	if got := fieldNames(fr); !reflect.DeepEqual(got, []string{"source", "last_run", "last_success", "last_status", "last_data", "rows_rejected", "stale", "last_run_ago", "last_success_ago"}) {
		t.Fatalf("freshness : %v", got)
	}
}

func TestQueryErrorsDoNotHideOtherQueries(t *testing.T) {
	d, _, err := newTestDatasource("")
	if err != nil {
		t.Fatal(err)
	}
	resp := run(t, d,
		dq("OK", `{"queryType":"scorecard"}`),
		dq("T", `{"queryType":"sql"}`),
		dq("I", `{"queryType":"series","indicator":"a9.inconnu"}`),
		dq("U", `{"queryType":"scorecard","territory":"epci:999999999"}`),
		dq("P", `{"queryType":"scorecard","territory":"dep:"}`),
		dq("V", `{"queryType":"scorecard","territory":"$epci"}`),
	)
	if r := resp.Responses["OK"]; r.Error != nil || len(r.Frames) != 1 || r.Frames[0].Rows() != 3 {
		t.Fatalf("OK : %+v", r)
	}
	for ref, want := range map[string]string{
		"T": `type de requête inconnu "sql"`,
		"I": `indicateur inconnu "a9.inconnu"`,
		"U": "epci:999999999 n'est pas un EPCI du référentiel",
		"P": "territoire invalide",
		"V": "variable $epci non remplacée",
	} {
		r := resp.Responses[ref]
		if r.Error == nil || !strings.Contains(r.Error.Error(), want) || r.Status != backend.StatusBadRequest || len(r.Frames) != 0 {
			t.Errorf("%s : erreur %v (statut %d), attendu %q", ref, r.Error, r.Status, want)
		}
	}
}

func TestMultiValueTerritory(t *testing.T) {
	d, _, err := newTestDatasource("")
	if err != nil {
		t.Fatal(err)
	}
	resp := run(t, d, dq("A", `{"queryType":"series","indicator":"a1.conseillers_actifs","territory":"{epci:200000001,epci:200000002}"}`))
	r := resp.Responses["A"]
	if r.Error != nil || len(r.Frames) != 2 {
		t.Fatalf("%+v", r)
	}
	for i, name := range []string{"CC Alpha", "CC Beta"} {
		v, _ := r.Frames[i].FieldByName("value")
		if r.Frames[i].Name != name || v.Config.DisplayNameFromDS != name {
			t.Errorf("trame %d : %q / %q", i, r.Frames[i].Name, v.Config.DisplayNameFromDS)
		}
	}
}

// Scope: a datasource scoped to CC Alpha answers for it and its communes, refuses everything else.
func TestScope(t *testing.T) {
	d, eng, err := newTestDatasource("epci:200000001")
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		territory string
		ok        bool
	}{
		{"", true}, // empty = the scope itself
		{"epci:200000001", true},
		{"com:99001", true},
		{"com:99002", true},
		{"dep:99", false},
		{"epci:200000002", false},
		{"com:99003", false}, // a commune of the other EPCI
		{"{com:99001,com:99003}", false},
	} {
		for _, qt := range []string{"series", "scorecard", "breakdown", "gaps"} {
			eng.calls = nil
			js, _ := json.Marshal(map[string]any{"queryType": qt, "indicator": "a2.communes_hotspot", "territory": tc.territory})
			r := run(t, d, dq("A", string(js))).Responses["A"]
			if qt == "breakdown" && strings.HasPrefix(tc.territory, "com:") {
				continue // a commune has no breakdown, in or out of scope
			}
			if tc.ok {
				if r.Error != nil || len(r.Frames) == 0 {
					t.Errorf("%s %q : %v", qt, tc.territory, r.Error)
				}
				continue
			}
			if r.Error == nil || !strings.Contains(r.Error.Error(), "hors du périmètre") || r.Status != backend.StatusForbidden || len(r.Frames) != 0 {
				t.Errorf("%s %q : attendu un refus, obtenu %v (%d trames)", qt, tc.territory, r.Error, len(r.Frames))
			}
			if len(eng.calls) != 0 {
				t.Errorf("%s %q : le moteur a été interrogé : %v", qt, tc.territory, eng.calls)
			}
		}
	}
	// the default territory of a scoped datasource is its scope
	eng.calls = nil
	run(t, d, dq("A", `{"queryType":"breakdown","indicator":"a2.communes_hotspot"}`))
	if !reflect.DeepEqual(eng.calls, []string{"Breakdown a2.communes_hotspot epci:200000001 com 2026-10"}) {
		t.Fatalf("appels = %v", eng.calls)
	}
}

func TestScopeOutsideReference(t *testing.T) {
	d, _, err := newTestDatasource("epci:123456789")
	if err != nil {
		t.Fatal(err)
	}
	r := run(t, d, dq("A", `{"queryType":"scorecard"}`)).Responses["A"]
	if r.Error == nil || !strings.Contains(r.Error.Error(), "le périmètre epci:123456789 n'est pas dans le référentiel") {
		t.Fatalf("%v", r.Error)
	}
}

func TestConnectionFailureIsPerQueryAndRetried(t *testing.T) {
	s, _ := LoadSettings(settingsJSON(`{"host":"h"}`, nil))
	attempts := 0
	d := New(s, func(context.Context, Settings) (*Session, error) {
		attempts++
		if attempts == 1 {
			return nil, errors.New("connexion refusée")
		}
		return &Session{Engine: &fakeEngine{ref: testReference()}}, nil
	})
	r := run(t, d, dq("A", `{"queryType":"scorecard"}`), dq("B", `{"queryType":"freshness"}`))
	for _, ref := range []string{"A", "B"} {
		if e := r.Responses[ref].Error; e == nil || !strings.Contains(e.Error(), "données indisponibles : connexion refusée") {
			t.Fatalf("%s : %v", ref, e)
		}
	}
	if r := run(t, d, dq("A", `{"queryType":"scorecard"}`)).Responses["A"]; r.Error != nil {
		t.Fatalf("deuxième essai : %v", r.Error)
	}
	if attempts != 2 {
		t.Fatalf("%d tentatives", attempts)
	}
}

type captured struct{ resp *backend.CallResourceResponse }

func (c *captured) Send(r *backend.CallResourceResponse) error { c.resp = r; return nil }

func callResource(t *testing.T, d *Datasource, method, path string) (int, []byte) {
	t.Helper()
	var c captured
	p, rawq, _ := strings.Cut(path, "?")
	u := "/api/datasources/uid/x/resources/" + path
	if err := d.CallResource(context.Background(), &backend.CallResourceRequest{Method: method, Path: p, URL: u}, &c); err != nil {
		t.Fatal(err)
	}
	_ = rawq
	return c.resp.Status, c.resp.Body
}

func TestResources(t *testing.T) {
	d, _, err := newTestDatasource("")
	if err != nil {
		t.Fatal(err)
	}
	scoped, _, err := newTestDatasource("epci:200000001")
	if err != nil {
		t.Fatal(err)
	}
	type opt struct {
		Text  string `json:"text"`
		Value any    `json:"value"`
	}
	for _, tc := range []struct {
		name   string
		ds     *Datasource
		path   string
		status int
		want   []opt
	}{
		{"axes", d, "axes", 200, []opt{{"Axe 1", 1.0}, {"Axe 2", 2.0}}},
		{"epci", d, "territories?level=epci", 200, []opt{{"CC Alpha", "epci:200000001"}, {"CC Beta", "epci:200000002"}}},
		{"communes of an epci", d, "territories?level=commune&parent=epci:200000002", 200, []opt{{"Cité", "com:99003"}}},
		{"communes of several epci", d, "territories?level=commune&parent=%7Bepci:200000002,epci:200000001%7D", 200, []opt{{"Cité", "com:99003"}, {"Alpha-Ville", "com:99001"}, {"Bourg", "com:99002"}}},
		{"all communes", d, "territories?level=commune", 200, []opt{{"Alpha-Ville", "com:99001"}, {"Bourg", "com:99002"}, {"Cité", "com:99003"}}},
		{"default level", d, "territories", 200, []opt{{"Testland", "dep:99"}, {"CC Alpha", "epci:200000001"}, {"CC Beta", "epci:200000002"}}},
		{"scoped epci", scoped, "territories?level=epci", 200, []opt{{"CC Alpha", "epci:200000001"}}},
		{"scoped communes", scoped, "territories?level=commune", 200, []opt{{"Alpha-Ville", "com:99001"}, {"Bourg", "com:99002"}}},
		{"scoped default", scoped, "territories", 200, []opt{{"CC Alpha", "epci:200000001"}, {"Alpha-Ville", "com:99001"}, {"Bourg", "com:99002"}}},
		{"scoped foreign parent", scoped, "territories?level=commune&parent=epci:200000002", 403, nil},
		{"bad level", d, "territories?level=region", 400, nil},
		{"unknown", d, "sql", 404, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			st, body := callResource(t, tc.ds, "GET", tc.path)
			if st != tc.status {
				t.Fatalf("statut %d : %s", st, body)
			}
			if tc.want == nil {
				var e map[string]string
				if json.Unmarshal(body, &e) != nil || e["error"] == "" {
					t.Fatalf("corps d'erreur %s", body)
				}
				return
			}
			var got []opt
			if err := json.Unmarshal(body, &got); err != nil || !reflect.DeepEqual(got, tc.want) {
				t.Fatalf("%s : %v", body, err)
			}
		})
	}
	if st, _ := callResource(t, d, "POST", "catalogue"); st != http.StatusMethodNotAllowed {
		t.Fatalf("POST : %d", st)
	}
	st, body := callResource(t, d, "GET", "catalogue")
	var cat []map[string]any
	if err := json.Unmarshal(body, &cat); st != 200 || err != nil || len(cat) != 4 {
		t.Fatalf("%d %s", st, body)
	}
	keys := []string{}
	for k := range cat[0] {
		keys = append(keys, k)
	}
	for _, k := range []string{"id", "axis", "action", "label", "definition", "unit", "levels", "target", "direction"} {
		if _, ok := cat[0][k]; !ok {
			t.Errorf("catalogue : clé %q absente (%v)", k, keys)
		}
	}
	if cat[0]["target"] != 14.0 || cat[3]["target"] != nil {
		t.Errorf("cibles %v %v", cat[0]["target"], cat[3]["target"])
	}
}

func TestCheckHealth(t *testing.T) {
	old := time.Date(2026, 9, 1, 0, 0, 0, 0, time.UTC)
	for _, tc := range []struct {
		name    string
		scope   string
		schema  [2]int
		fresh   []engine.Freshness
		status  backend.HealthStatus
		message []string
	}{
		{"ok", "", [2]int{3, 3}, []engine.Freshness{{Source: "activites", LastRun: &old, LastSuccess: &old, LastStatus: "succes"}}, backend.HealthStatusOk,
			[]string{"Connexion à ClickHouse ch:9000 réussie", "schéma en version 3", "référentiel Testland de 3 communes et 2 EPCI", "périmètre : tout le département"}},
		{"stale and failed", "epci:200000001", [2]int{3, 3}, []engine.Freshness{
			{Source: "activites", LastRun: &old, LastSuccess: &old, LastStatus: "succes", Stale: true},
			{Source: "lieux", LastRun: &old, LastStatus: "echec", Stale: true},
			{Source: "jalons"},
			{Source: "rencontres"},
		}, backend.HealthStatusOk, []string{"périmètre : CC Alpha (epci:200000001)",
			"Attention : la source « activites » n'est plus à jour (pas de succès depuis le 01/09/2026 à 00:00 UTC) : vérifiez que « fne run » tourne",
			"la dernière collecte de « lieux » a échoué le 01/09/2026",
			"les sources jalons, rencontres n'ont jamais été collectées : importez-les (« fne ingest <source> <fichier> »)"}},
		{"schema behind", "", [2]int{2, 3}, nil, backend.HealthStatusError, []string{"version 2, ce plugin attend la version 3. Lancez « fne migrate »"}},
		{"no schema", "", [2]int{0, 3}, nil, backend.HealthStatusError, []string{"n'a pas de schéma FNE"}},
		{"scope outside", "com:12345", [2]int{3, 3}, nil, backend.HealthStatusError, []string{`Périmètre "com:12345" inutilisable`}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			d, eng, err := newTestDatasource(tc.scope)
			if err != nil {
				t.Fatal(err)
			}
			eng.fresh = tc.fresh
			open := d.open
			d.open = func(ctx context.Context, s Settings) (*Session, error) {
				sess, err := open(ctx, s)
				sess.Schema = func(context.Context) (int, int, error) { return tc.schema[0], tc.schema[1], nil }
				return sess, err
			}
			res, err := d.CheckHealth(context.Background(), &backend.CheckHealthRequest{})
			if err != nil {
				t.Fatal(err)
			}
			if res.Status != tc.status {
				t.Fatalf("statut %v : %s", res.Status, res.Message)
			}
			for _, m := range tc.message {
				if !strings.Contains(res.Message, m) {
					t.Errorf("message sans %q :\n%s", m, res.Message)
				}
			}
			var det healthDetails
			if err := json.Unmarshal(res.JSONDetails, &det); err != nil {
				t.Fatal(err)
			}
			if wantVerbose := tc.name == "stale and failed"; wantVerbose != strings.HasPrefix(det.VerboseMessage, "Points à vérifier :\n- la source « activites »") || (wantVerbose && len(det.Warnings) != 3) {
				t.Errorf("détails : %+v", det)
			}
		})
	}
}

func TestCheckHealthUnreachable(t *testing.T) {
	s, _ := LoadSettings(settingsJSON(`{"host":"h","port":9999}`, nil))
	d := New(s, func(context.Context, Settings) (*Session, error) {
		return nil, errors.New("dial tcp: connection refused")
	})
	res, _ := d.CheckHealth(context.Background(), &backend.CheckHealthRequest{})
	if res.Status != backend.HealthStatusError || !strings.Contains(res.Message, "Connexion impossible à ClickHouse h:9999 (base fne)") {
		t.Fatalf("%v %s", res.Status, res.Message)
	}
}

// slowEngine blocks every evaluation until its context ends.
type slowEngine struct{ fakeEngine }

func (e *slowEngine) Evaluate(ctx context.Context, _ territory.ID, _ engine.Month, _ ...string) ([]engine.Result, error) {
	<-ctx.Done()
	return nil, ctx.Err()
}

func TestQueryTimeoutFromSettings(t *testing.T) {
	s, err := LoadSettings(settingsJSON(`{"host":"h","queryTimeout":0.05}`, nil))
	if err != nil {
		t.Fatal(err)
	}
	eng := &slowEngine{fakeEngine{ref: testReference()}}
	d := New(s, func(context.Context, Settings) (*Session, error) { return &Session{Engine: eng}, nil })
	start := time.Now()
	r := run(t, d, dq("A", `{"queryType":"scorecard"}`), dq("B", `{"queryType":"milestones"}`))
	// 50 ms from the settings, not the 60 s default
	if el := time.Since(start); el > 5*time.Second {
		t.Fatalf("%v", el)
	}
	a := r.Responses["A"]
	if a.Error == nil || !strings.Contains(a.Error.Error(), "délai de requête dépassé") || a.Status != backend.StatusTimeout {
		t.Fatalf("A : %v (%d)", a.Error, a.Status)
	}
	if b := r.Responses["B"]; b.Error != nil || b.Frames[0].Rows() != 2 {
		t.Fatalf("B : %v", b.Error)
	}
}

func TestSeriesTooLong(t *testing.T) {
	d, eng, err := newTestDatasource("")
	if err != nil {
		t.Fatal(err)
	}
	q := dq("A", `{"queryType":"series","indicator":"a1.conseillers_actifs"}`)
	// 1990-01 .. 2026-10 = 442 months > 240
	q.TimeRange.From = time.Date(1990, 1, 1, 0, 0, 0, 0, time.UTC)
	r := run(t, d, q).Responses["A"]
	if r.Error == nil || !strings.Contains(r.Error.Error(), "période de 442 mois trop longue") || len(eng.calls) != 0 {
		t.Fatalf("%v %v", r.Error, eng.calls)
	}
}
