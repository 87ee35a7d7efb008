//go:build integration

package dashboards

import (
	"context"
	"encoding/json"
	"fmt"
	"math"
	"net"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/ClickHouse/clickhouse-go/v2/lib/driver"
	"github.com/grafana/grafana-plugin-sdk-go/backend"
	"github.com/grafana/grafana-plugin-sdk-go/data"

	"github.com/sdaasp-rhone/fne/internal/chtest"
	"github.com/sdaasp-rhone/fne/internal/territory"
	"github.com/sdaasp-rhone/fne/plugin/pkg/plugin"
)

// Every query of every provisioned dashboard goes through the plugin backend's QueryData, as Grafana
// sends it, against a small hand-made fixture in a throw-away database: a dashboard that refers to a
// field, an indicator or a query shape the backend does not serve fails here.

// Fixture territories (real reference):
//
//	E1 = epci:200040590 CA Villefranche Beaujolais Saône: C1 = 69264 Villefranche-sur-Saône, C2 = 69092 Gleizé
//	E2 = epci:246900757 CC de la Vallée du Garon: C3 = 69027 Brignais
const (
	fxE1, fxE2      = "epci:200040590", "epci:246900757"
	fxC1, fxC2, fx3 = "69264", "69092", "69027"
)

// The dashboards' range: August to October 2026 (the scorecards evaluate October).
var fxRange = backend.TimeRange{From: time.Date(2026, 8, 1, 0, 0, 0, 0, time.UTC), To: time.Date(2026, 10, 31, 23, 0, 0, 0, time.UTC)}

// loadFixture writes straight into the source tables:
//
//	activities, October 2026: P1 m1 3 acc. in C1; P2 m2 2 acc. in C2; P3 m3 in C3, modified from 10 to 4
//	acc.; P4 m4 7 acc. in C1, then deleted. September 2026: P5 m1 4 acc. in C1. Nothing in August.
//	places: L1 in C1 at C1's centroid, L2 in C1 without coordinates, L3 in C2 at C2's centroid.
//	milestones: 2.1/J1 realise (planned 31/03/2026, done 20/03/2026); 3.2/J2 en_cours planned 30/06/2026.
//	one successful run of the activites source, 7 rows read, 7 written, none rejected.
func loadFixture(t *testing.T, conn driver.Conn, ref *territory.Reference) {
	a := func(id string, ver uint64, del uint8, date, med string, acc uint32, code string) []any {
		return []any{id, ver, del, chtest.Day(date), med, acc, "domicile", "", code}
	}
	chtest.Insert(t, conn, "INSERT INTO activites (id, version, deleted, date, mediateur_id, accompagnements, type_lieu, structure_id, lieu_code_insee)",
		a("P1", 1, 0, "2026-10-05", "m1", 3, fxC1),
		a("P2", 1, 0, "2026-10-06", "m2", 2, fxC2),
		a("P3", 1, 0, "2026-10-07", "m3", 10, fx3),
		a("P3", 2, 0, "2026-10-07", "m3", 4, fx3),
		a("P4", 1, 0, "2026-10-08", "m4", 7, fxC1),
		a("P4", 2, 1, "2026-10-08", "m4", 7, fxC1),
		a("P5", 1, 0, "2026-09-10", "m1", 4, fxC1),
	)
	c1, _ := ref.Commune(fxC1)
	c2, _ := ref.Commune(fxC2)
	l := func(id, code string, lat, lon *float64) []any {
		return []any{id, uint64(1), uint8(0), "Lieu " + id, "", "", code, lat, lon, chtest.Day("2026-06-01")}
	}
	chtest.Insert(t, conn, "INSERT INTO lieux (id, version, deleted, nom, commune, code_postal, code_insee, latitude, longitude, date_maj)",
		l("L1", fxC1, &c1.Latitude, &c1.Longitude),
		l("L2", fxC1, nil, nil),
		l("L3", fxC2, &c2.Latitude, &c2.Longitude),
	)
	d1, d2, d3 := chtest.Day("2026-03-31"), chtest.Day("2026-03-20"), chtest.Day("2026-06-30")
	chtest.Insert(t, conn, "INSERT INTO jalons (action, jalon, version, deleted, libelle, statut, date_prevue, date_realisee)",
		[]any{"2.1", "J1", uint64(1), uint8(0), "Diagnostic des besoins lancé", "realise", &d1, &d2},
		[]any{"3.2", "J2", uint64(1), uint8(0), "Guide des structures relais", "en_cours", &d3, (*time.Time)(nil)},
	)
	end := time.Date(2026, 10, 31, 6, 0, 0, 0, time.UTC)
	chtest.Insert(t, conn, "INSERT INTO ingestion_runs (run_id, version, source, input, started_at, ended_at, rows_read, rows_written, rows_rejected, status, error)",
		[]any{"run-1", uint64(2), "activites", "activites.json", end.Add(-time.Minute), end, uint64(7), uint64(7), uint64(0), "succes", ""},
	)
}

func newDatasource(t *testing.T, db *chtest.DB, scope string) *plugin.Datasource {
	t.Helper()
	host, port, err := net.SplitHostPort(db.Config.Addr)
	if err != nil {
		t.Fatal(err)
	}
	js := fmt.Sprintf(`{"host":%q,"port":%s,"database":%q,"username":%q,"queryTimeout":30,"scope":%q}`,
		host, port, db.Config.Database, db.Config.Username, scope)
	inst, err := plugin.NewFactory(plugin.Open)(context.Background(), backend.DataSourceInstanceSettings{
		JSONData: []byte(js), DecryptedSecureJSONData: map[string]string{"password": db.Config.Password},
	})
	if err != nil {
		t.Fatal(err)
	}
	d := inst.(*plugin.Datasource)
	t.Cleanup(d.Dispose)
	return d
}

// contractFields are the frame fields of each query type (the plugin contract, plugin/README.md).
var contractFields = map[string][]string{
	"series":     {"time", "value", "target"},
	"scorecard":  {"axis", "action", "id", "label", "value", "unit", "target", "progress", "status", "trend", "last_data", "value_text", "target_text", "change"},
	"breakdown":  {"territory", "name", "latitude", "longitude", "population", "value", "status", "value_text"},
	"gaps":       {"territory", "name", "indicator", "label", "value", "target", "population"},
	"milestones": {"action", "jalon", "libelle", "statut", "date_prevue", "date_realisee", "en_retard", "echeance"},
	"freshness":  {"source", "last_run", "last_success", "last_status", "last_data", "rows_rejected", "stale", "last_run_ago", "last_success_ago"},
	"axes":       {"axis", "title", "territory_name", "period_label", "en_retard", "a_surveiller", "en_bonne_voie", "atteint", "sans_donnees"},
	"changes":    {"axis", "action", "id", "label", "direction", "previous_status", "status", "previous_value_text", "value_text"},
}

// defaultVars are the values of the indicator variables when a test does not choose them.
var defaultVars = map[string]string{"indicateur": "a2.accompagnements", "couche": "a2.communes_hotspot"}

var templateVar = regexp.MustCompile(`\$\{([A-Za-z0-9_]+)\}|\$([A-Za-z_][A-Za-z0-9_]*)`)

// pluginQueries returns the plugin targets of a dashboard as Grafana would send them, with the template
// variables replaced by vars.
func pluginQueries(t *testing.T, file string, vars map[string]string) (qs []backend.DataQuery, types map[string]string) {
	t.Helper()
	d := load(t, file)
	types = map[string]string{}
	for _, p := range allPanels(d.Panels) {
		for _, tg := range p.Targets {
			r := targetDS(tg)
			if r == nil {
				r = p.Datasource
			}
			if r == nil || r.Type != PluginType {
				continue
			}
			q := map[string]any{}
			for k, v := range tg {
				if k == "datasource" {
					continue
				}
				if s, ok := v.(string); ok {
					v = templateVar.ReplaceAllStringFunc(s, func(m string) string {
						name := strings.Trim(m, "${}")
						val, ok := vars[name]
						if !ok {
							val, ok = defaultVars[name]
						}
						if !ok {
							t.Fatalf("%s : variable %s sans valeur de test", file, name)
						}
						return val
					})
				}
				q[k] = v
			}
			// Panel ids make refIds unique across the dashboard, as Grafana's per-panel requests are.
			ref := fmt.Sprintf("p%d-%s", p.ID, tg["refId"])
			q["refId"] = ref
			js, _ := json.Marshal(q)
			qs = append(qs, backend.DataQuery{RefID: ref, QueryType: toString(q["queryType"]), JSON: js, TimeRange: fxRange, MaxDataPoints: 1000, Interval: time.Hour})
			types[ref] = toString(q["queryType"])
		}
	}
	return qs, types
}

func fieldNames(fr *data.Frame) map[string]bool {
	m := map[string]bool{}
	for _, f := range fr.Fields {
		m[f.Name] = true
	}
	return m
}

func TestEveryDashboardQueryRunsThroughThePlugin(t *testing.T) {
	db, ref := chtest.WithReference(t)
	loadFixture(t, db.Conn, ref)
	ds := newDatasource(t, db, "")
	ctx := context.Background()
	for _, e := range expected {
		t.Run(e.file, func(t *testing.T) {
			qs, types := pluginQueries(t, e.file, map[string]string{"epci": fxE1})
			if len(qs) == 0 {
				t.Skip("aucune requête vers le plugin")
			}
			resp, err := ds.QueryData(ctx, &backend.QueryDataRequest{Queries: qs})
			if err != nil {
				t.Fatal(err)
			}
			for _, q := range qs {
				r, ok := resp.Responses[q.RefID]
				if !ok {
					t.Errorf("%s : pas de réponse", q.RefID)
					continue
				}
				if r.Error != nil {
					t.Errorf("%s %s : %v", q.RefID, q.JSON, r.Error)
					continue
				}
				if len(r.Frames) == 0 {
					t.Errorf("%s %s : aucune trame", q.RefID, q.JSON)
					continue
				}
				got := fieldNames(r.Frames[0])
				for _, f := range contractFields[types[q.RefID]] {
					if !got[f] {
						t.Errorf("%s (%s) : champ %s absent de la trame (champs : %v)", q.RefID, types[q.RefID], f, got)
					}
				}
			}
		})
	}
}

// run sends one dashboard's queries and returns the first frame of each, by the target's description.
func framesOf(t *testing.T, ds *plugin.Datasource, file string, vars map[string]string) map[string]*data.Frame {
	t.Helper()
	qs, _ := pluginQueries(t, file, vars)
	resp, err := ds.QueryData(context.Background(), &backend.QueryDataRequest{Queries: qs})
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]*data.Frame{}
	for _, q := range qs {
		var m map[string]any
		_ = json.Unmarshal(q.JSON, &m)
		key := fmt.Sprintf("%v/%v/%v/%v/%v", m["queryType"], m["indicator"], m["territory"], m["level"], m["axis"])
		r := resp.Responses[q.RefID]
		if r.Error != nil || len(r.Frames) == 0 {
			t.Fatalf("%s %s : %v", q.RefID, q.JSON, r.Error)
		}
		out[key] = r.Frames[0]
	}
	return out
}

func rowWhere(t *testing.T, fr *data.Frame, field, want string) int {
	t.Helper()
	f, i := fr.FieldByName(field)
	if i < 0 {
		t.Fatalf("champ %s absent", field)
	}
	for r := 0; r < f.Len(); r++ {
		if v, ok := f.ConcreteAt(r); ok && fmt.Sprint(v) == want {
			return r
		}
	}
	t.Fatalf("aucune ligne %s = %s", field, want)
	return -1
}

func num(t *testing.T, fr *data.Frame, field string, row int) *float64 {
	t.Helper()
	f, i := fr.FieldByName(field)
	if i < 0 {
		t.Fatalf("champ %s absent", field)
	}
	v, ok := f.ConcreteAt(row)
	if !ok {
		return nil
	}
	switch x := v.(type) {
	case float64:
		return &x
	case int64:
		y := float64(x)
		return &y
	case uint64:
		y := float64(x)
		return &y
	}
	t.Fatalf("champ %s : type %T", field, v)
	return nil
}

func eq(p *float64, want float64) bool { return p != nil && math.Abs(*p-want) < 1e-9 }

func show(p *float64) string {
	if p == nil {
		return "null"
	}
	return fmt.Sprint(*p)
}

func TestDashboardValuesOnFixture(t *testing.T) {
	db, ref := chtest.WithReference(t)
	loadFixture(t, db.Conn, ref)
	ds := newDatasource(t, db, "")

	t.Run("cotech : tableau du mois", func(t *testing.T) {
		fr := framesOf(t, ds, "cotech.json", nil)["scorecard/<nil>/<nil>/<nil>/0"]
		// October 2026, département: conseillers = |{m1,m2,m3}| = 3 (P4 deleted), September |{m1}| = 1,
		// trend 3 − 1 = 2; accompagnements = 3 + 2 + 4 = 9 (P3's latest version), September 4, trend 5;
		// places = L1, L2, L3 = 3.
		for _, c := range []struct {
			id           string
			value, trend float64
		}{{"a1.conseillers_actifs", 3, 2}, {"a2.accompagnements", 9, 5}} {
			r := rowWhere(t, fr, "id", c.id)
			if v, tr := num(t, fr, "value", r), num(t, fr, "trend", r); !eq(v, c.value) || !eq(tr, c.trend) {
				t.Errorf("%s : valeur %s évolution %s, attendu %v et %v", c.id, show(v), show(tr), c.value, c.trend)
			}
		}
		if v := num(t, fr, "value", rowWhere(t, fr, "id", "ctx.lieux")); !eq(v, 3) {
			t.Errorf("ctx.lieux : %s, attendu 3", show(v))
		}
	})

	t.Run("epci : conseillers actifs par mois", func(t *testing.T) {
		fr := framesOf(t, ds, "epci.json", map[string]string{"epci": fxE1})["series/a1.conseillers_actifs/"+fxE1+"/<nil>/<nil>"]
		// E1, August: no activity anywhere → null; September: m1 (C1) → 1; October: m1 (C1), m2 (C2) → 2.
		want := []*float64{nil, ptr(1), ptr(2)}
		f, _ := fr.FieldByName("value")
		if f == nil || f.Len() != 3 {
			t.Fatalf("série : %v", fr)
		}
		for i, w := range want {
			got := num(t, fr, "value", i)
			if (w == nil) != (got == nil) || (w != nil && !eq(got, *w)) {
				t.Errorf("mois %d : %s, attendu %s", i, show(got), show(w))
			}
		}
	})

	t.Run("epci : carte des communes", func(t *testing.T) {
		frames := framesOf(t, ds, "epci.json", map[string]string{"epci": fxE1})
		e1, err := ref.Resolve(territory.MustParse(fxE1))
		if err != nil {
			t.Fatal(err)
		}
		places := frames["breakdown/ctx.lieux/"+fxE1+"/commune/<nil>"]
		f, _ := places.FieldByName("territory")
		if f == nil || f.Len() != len(e1.Communes) {
			t.Fatalf("lieux par commune : %d lignes, attendu une par commune de l'EPCI (%d)", f.Len(), len(e1.Communes))
		}
		// L1 and L2 in Villefranche, L3 in Gleizé, none elsewhere.
		for code, n := range map[string]float64{fxC1: 2, fxC2: 1} {
			if v := num(t, places, "value", rowWhere(t, places, "territory", "com:"+code)); !eq(v, n) {
				t.Errorf("lieux de com:%s : %s, attendu %v", code, show(v), n)
			}
		}
		// Far communes: centroid strictly farther than 10 km from both located places (L1 at C1's
		// centroid, L3 at C2's), great-circle distance with R = 6371 km; each row is 100 or 0 %.
		// The map shows the indicator chosen in « Carte »: here the population far from any place.
		far := framesOf(t, ds, "epci.json", map[string]string{"epci": fxE1, "couche": "a2.population_zone_blanche"})["breakdown/a2.population_zone_blanche/"+fxE1+"/commune/<nil>"]
		c1, _ := ref.Commune(fxC1)
		c2, _ := ref.Commune(fxC2)
		nFar := 0
		for _, code := range e1.Communes {
			c, _ := ref.Commune(code)
			want := 0.0
			if haversine(c, c1) > 10 && haversine(c, c2) > 10 {
				want = 100
				nFar++
			}
			if v := num(t, far, "value", rowWhere(t, far, "territory", "com:"+code)); !eq(v, want) {
				t.Errorf("population éloignée de com:%s (%s) : %s, attendu %v", code, c.Nom, show(v), want)
			}
		}
		if nFar == 0 || nFar == len(e1.Communes) {
			t.Errorf("fixture peu probante : %d communes éloignées sur %d", nFar, len(e1.Communes))
		}
		for _, name := range []string{"latitude", "longitude"} {
			if v := num(t, places, name, rowWhere(t, places, "territory", "com:"+fxC1)); v == nil {
				t.Errorf("%s de com:%s absente (la carte ne peut pas placer la commune)", name, fxC1)
			}
		}
	})

	t.Run("cotech : jalons", func(t *testing.T) {
		fr := framesOf(t, ds, "cotech.json", nil)["milestones/<nil>/<nil>/<nil>/0"]
		// J2 en_cours, planned 30/06/2026, not done → late; J1 done → not late.
		for jalon, late := range map[string]bool{"J1": false, "J2": true} {
			r := rowWhere(t, fr, "jalon", jalon)
			f, _ := fr.FieldByName("en_retard")
			v, _ := f.ConcreteAt(r)
			if v != late {
				t.Errorf("jalon %s : en_retard %v, attendu %v", jalon, v, late)
			}
		}
	})

	t.Run("collecte : fraîcheur", func(t *testing.T) {
		fr := framesOf(t, ds, "collecte.json", nil)["freshness/<nil>/<nil>/<nil>/<nil>"]
		r := rowWhere(t, fr, "source", "activites")
		f, _ := fr.FieldByName("last_status")
		if v, _ := f.ConcreteAt(r); v != "succes" {
			t.Errorf("activites : dernier statut %v, attendu succes", v)
		}
		if v := num(t, fr, "rows_rejected", r); !eq(v, 0) {
			t.Errorf("activites : %s lignes rejetées, attendu 0", show(v))
		}
	})
}

// An EPCI organisation's datasource serves the « Couverture locale » dashboard for its EPCI, offers only
// that EPCI in the variable, and refuses every query about another one.
func TestEPCIDashboardWithScopedDatasource(t *testing.T) {
	db, ref := chtest.WithReference(t)
	loadFixture(t, db.Conn, ref)
	ds := newDatasource(t, db, fxE1)
	ctx := context.Background()

	var body []byte
	err := ds.CallResource(ctx, &backend.CallResourceRequest{Method: "GET", Path: "territories", URL: "territories?level=epci"},
		backend.CallResourceResponseSenderFunc(func(r *backend.CallResourceResponse) error { body = r.Body; return nil }))
	if err != nil {
		t.Fatal(err)
	}
	var opts []struct {
		Text  string `json:"text"`
		Value string `json:"value"`
	}
	if err := json.Unmarshal(body, &opts); err != nil {
		t.Fatalf("variable epci : %s : %v", body, err)
	}
	if len(opts) != 1 || opts[0].Value != fxE1 {
		t.Errorf("variable epci de l'organisation : %+v, attendu seulement %s", opts, fxE1)
	}

	for epci, allowed := range map[string]bool{fxE1: true, fxE2: false} {
		qs, _ := pluginQueries(t, "epci.json", map[string]string{"epci": epci})
		resp, err := ds.QueryData(ctx, &backend.QueryDataRequest{Queries: qs})
		if err != nil {
			t.Fatal(err)
		}
		for _, q := range qs {
			r := resp.Responses[q.RefID]
			if allowed && r.Error != nil {
				t.Errorf("%s sur son propre EPCI : %v", q.JSON, r.Error)
			}
			if !allowed && r.Error == nil {
				t.Errorf("%s hors du périmètre %s : accepté, attendu un refus", q.JSON, fxE1)
			}
		}
	}
}

func ptr(f float64) *float64 { return &f }

func haversine(a, b territory.Commune) float64 {
	rad := math.Pi / 180
	dlat, dlon := (b.Latitude-a.Latitude)*rad, (b.Longitude-a.Longitude)*rad
	h := math.Sin(dlat/2)*math.Sin(dlat/2) + math.Cos(a.Latitude*rad)*math.Cos(b.Latitude*rad)*math.Sin(dlon/2)*math.Sin(dlon/2)
	return 2 * 6371 * math.Asin(math.Min(1, math.Sqrt(h)))
}
