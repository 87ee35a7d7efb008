//go:build integration

package plugin

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"reflect"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/grafana/grafana-plugin-sdk-go/backend"
	"github.com/grafana/grafana-plugin-sdk-go/data"
	"gopkg.in/yaml.v3"

	"github.com/sdaasp-rhone/fne/collector/daemon"
	"github.com/sdaasp-rhone/fne/internal/chtest"
)

// alertRulesDir holds the provisioned alert rules.
const alertRulesDir = "../../../deploy/grafana/provisioning/alerting"

// alertFile is the part of Grafana's alert rule provisioning format the test reads.
type alertFile struct {
	APIVersion int `yaml:"apiVersion"`
	Groups     []struct {
		OrgID    int    `yaml:"orgId"`
		Name     string `yaml:"name"`
		Folder   string `yaml:"folder"`
		Interval string `yaml:"interval"`
		Rules    []alertRule
	} `yaml:"groups"`
}

type alertRule struct {
	UID         string            `yaml:"uid"`
	Title       string            `yaml:"title"`
	Condition   string            `yaml:"condition"`
	For         string            `yaml:"for"`
	Annotations map[string]string `yaml:"annotations"`
	Data        []struct {
		RefID             string `yaml:"refId"`
		DatasourceUID     string `yaml:"datasourceUid"`
		RelativeTimeRange struct {
			From int64 `yaml:"from"`
			To   int64 `yaml:"to"`
		} `yaml:"relativeTimeRange"`
		Model map[string]any `yaml:"model"`
	} `yaml:"data"`
}

func loadAlertRules(t *testing.T) map[string]alertRule {
	t.Helper()
	files, _ := filepath.Glob(filepath.Join(alertRulesDir, "*.yaml"))
	if len(files) == 0 {
		t.Fatalf("aucune règle d'alerte dans %s", alertRulesDir)
	}
	rules := map[string]alertRule{}
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		var af alertFile
		dec := yaml.NewDecoder(strings.NewReader(string(b)))
		if err := dec.Decode(&af); err != nil {
			t.Fatalf("%s : %v", f, err)
		}
		if af.APIVersion != 1 {
			t.Errorf("%s : apiVersion %d", f, af.APIVersion)
		}
		for _, g := range af.Groups {
			if g.OrgID != 1 || g.Folder == "" || g.Interval == "" {
				t.Errorf("%s : groupe %q incomplet (orgId, folder, interval)", f, g.Name)
			}
			for _, r := range g.Rules {
				rules[r.UID] = r
			}
		}
	}
	return rules
}

// ruleQuery turns the rule's plugin query into the DataQuery Grafana sends at now.
func ruleQuery(t *testing.T, r alertRule, now time.Time) (backend.DataQuery, float64) {
	t.Helper()
	var q backend.DataQuery
	found := false
	threshold := -1.0
	for _, d := range r.Data {
		switch d.DatasourceUID {
		case "fne-indicateurs": // the datasource provisioned in ../datasources/fne.yaml
			js, err := json.Marshal(d.Model)
			if err != nil {
				t.Fatal(err)
			}
			qt, _ := d.Model["queryType"].(string)
			q = backend.DataQuery{RefID: d.RefID, QueryType: qt, JSON: js, TimeRange: backend.TimeRange{
				From: now.Add(-time.Duration(d.RelativeTimeRange.From) * time.Second), To: now.Add(-time.Duration(d.RelativeTimeRange.To) * time.Second)}}
			found = true
		case "__expr__":
			// The condition: a threshold "A > x" on the plugin's query.
			if d.RefID != r.Condition || d.Model["type"] != "threshold" {
				t.Fatalf("%s : la condition %s doit être une expression threshold, obtenu %v", r.UID, r.Condition, d.Model)
			}
			cond := d.Model["conditions"].([]any)[0].(map[string]any)["evaluator"].(map[string]any)
			if cond["type"] != "gt" {
				t.Fatalf("%s : évaluateur %v", r.UID, cond)
			}
			threshold = float64(cond["params"].([]any)[0].(int))
		}
	}
	if !found || threshold < 0 {
		t.Fatalf("%s : requête du plugin ou condition absente", r.UID)
	}
	if !strings.Contains(r.Annotations["summary"], "{{ $labels.") || r.Annotations["description"] == "" || r.Title == "" {
		t.Errorf("%s : titre et annotations (français, avec les étiquettes) attendus : %v", r.UID, r.Annotations)
	}
	return q, threshold
}

// alertSeries checks that fr is numeric data Grafana alerting reads without a Reduce expression (one
// frame, no time field, string fields = labels, exactly one non-null float64 field = value, one series
// per row, every row a distinct label set) and returns value per label set ("a|b|…").
func alertSeries(t *testing.T, frames data.Frames) map[string]float64 {
	t.Helper()
	if len(frames) != 1 {
		t.Fatalf("%d trames, attendu 1", len(frames))
	}
	fr := frames[0]
	if fr.Meta == nil || fr.Meta.Type != data.FrameTypeNumericLong || fr.Meta.TypeVersion == (data.FrameTypeVersion{}) {
		t.Fatalf("type de trame %+v, attendu numeric-long versionné", fr.Meta)
	}
	if fr.TimeSeriesSchema().Type != data.TimeSeriesTypeNot {
		t.Fatalf("une trame numérique n'a pas de champ temps")
	}
	var value *data.Field
	var labels []*data.Field
	for _, f := range fr.Fields {
		switch f.Type() {
		case data.FieldTypeFloat64:
			if value != nil {
				t.Fatalf("deux champs numériques (%s, %s) : Grafana n'en accepte qu'un", value.Name, f.Name)
			}
			value = f
		case data.FieldTypeString:
			labels = append(labels, f)
		default:
			t.Fatalf("champ %s de type %s : ni étiquette (texte) ni valeur (float64)", f.Name, f.Type())
		}
	}
	if value == nil || len(labels) == 0 {
		t.Fatalf("une valeur numérique et des étiquettes attendues : %v", fr.Fields)
	}
	out := map[string]float64{}
	for i := 0; i < fr.Rows(); i++ {
		var key []string
		for _, l := range labels {
			s := l.At(i).(string)
			if s == "" {
				t.Fatalf("ligne %d : étiquette %s vide", i, l.Name)
			}
			key = append(key, s)
		}
		k := strings.Join(key, "|")
		if _, dup := out[k]; dup {
			t.Fatalf("série %s en double", k)
		}
		out[k] = value.At(i).(float64)
	}
	return out
}

func firing(series map[string]float64, threshold float64) []string {
	var out []string
	for k, v := range series {
		if v > threshold {
			out = append(out, k)
		}
		if v != 0 && v != 1 {
			out = append(out, "valeur non binaire "+k)
		}
	}
	sort.Strings(out)
	return out
}

func TestAlertRules(t *testing.T) {
	env := newFixtureEnv(t)
	ctx := context.Background()
	rules := loadAlertRules(t)
	if len(rules) != 2 {
		t.Fatalf("%d règles, attendu 2 (indicateur en retard, source périmée)", len(rules))
	}
	now := time.Date(2026, 11, 2, 12, 0, 0, 0, time.UTC)
	ref, _ := env.eng.Reference(ctx)
	e2, err := ref.Resolve(mustID(fxE2))
	if err != nil {
		t.Fatal(err)
	}
	// Every commune of E2 has a wifi hotspot since June 2026; no other commune has one.
	var eq [][]any
	for _, c := range e2.Communes {
		eq = append(eq, []any{chtest.Day("2026-06-01"), "com:" + c, "hotspots_wifi_actifs", uint64(1), uint8(0), 1.0})
	}
	chtest.Insert(t, env.db.Conn, "INSERT INTO equipements (periode, territoire, indicateur, version, deleted, valeur)", eq...)
	run := func(id, src, status string, ago time.Duration) []any {
		end := now.Add(-ago)
		return []any{id, uint64(2), src, "essai", end.Add(-time.Minute), end, uint64(1), uint64(1), uint64(0), status, ""}
	}
	chtest.Insert(t, env.db.Conn, "INSERT INTO ingestion_runs (run_id, version, source, input, started_at, ended_at, rows_read, rows_written, rows_rejected, status, error)",
		run("r-jal", "jalons", "succes", 24*time.Hour),
		run("r-equ", "equipements", "succes", 80*time.Hour),
		run("r-con", "consultations", "partiel", 10*time.Hour),
		run("r-ren1", "rencontres", "succes", 5*time.Hour),
		run("r-ren2", "rencontres", "echec", time.Hour),
		run("r-par", "participations", "succes", 2*time.Hour),
		run("r-lie", "lieux", "succes", 17*time.Hour),
	)
	d := env.datasource(t, "")
	d.now = func() time.Time { return now }

	t.Run("indicateur en retard", func(t *testing.T) {
		r, ok := rules["fne-indicateur-en-retard"]
		if !ok {
			t.Fatal("règle fne-indicateur-en-retard absente")
		}
		q, thr := ruleQuery(t, r, now)
		resp, err := d.QueryData(ctx, &backend.QueryDataRequest{Queries: []backend.DataQuery{q}})
		if err != nil || resp.Responses[q.RefID].Error != nil {
			t.Fatalf("%v %v", err, resp.Responses[q.RefID].Error)
		}
		series := alertSeries(t, resp.Responses[q.RefID].Frames)
		// One series per (territory, indicator): dep:69 × the 17 roadmap indicators, and each of the 12
		// EPCI × the 15 that apply to an EPCI (a1.rencontre_annuelle and a2.jalons_diagnostic are
		// département-only) = 17 + 180 = 197.
		if len(series) != 197 {
			t.Errorf("%d séries, attendu 197", len(series))
		}
		// Evaluated month: the newest with activities, October 2026 (November, the month of now, has
		// none). En retard:
		//   a1.conseillers_actifs dep:69: 3 counsellors (m1 m2 m3); no activity at the baseline month
		//     2025-01 and no declared baseline → the target 14 itself, 3 < 80 % × 14 = 11.2.
		//   a2.communes_hotspot: trajectory from 0 (2025-01, no stock yet) to 100 % in 2027-12:
		//     100 × 21/35 = 60, 80 % = 48. dep:69 5/208 = 2.4 % and the 11 EPCI other than E2 (0 %) are
		//     late; E2 (5/5 = 100 %) is atteint.
		// Everything else is sans_donnees (no meeting, place, flow), sans_cible (the counsellor target is
		// départemental; no hausse reference in October 2025) or atteint (milestone J1 of 2.1: 100 %).
		dep, _ := ref.Resolve(mustID(fxDep))
		hot := "a2.communes_hotspot|Communes avec au moins un point wifi libre d'accès"
		want := []string{"dep:69|" + dep.Name + "|a1.conseillers_actifs|Conseillers numériques en activité", "dep:69|" + dep.Name + "|" + hot}
		for _, e := range ref.EPCIs {
			if "epci:"+e.Siren != fxE2 {
				want = append(want, "epci:"+e.Siren+"|"+e.Nom+"|"+hot)
			}
		}
		sort.Strings(want)
		if got := firing(series, thr); !reflect.DeepEqual(got, want) {
			t.Errorf("séries en alerte :\n%s\nattendu :\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
		}
		if v, ok := series[fxE2+"|"+e2.Name+"|"+hot]; !ok || v != 0 {
			t.Errorf("E2 atteint : %v %v", v, ok)
		}
	})

	t.Run("source périmée", func(t *testing.T) {
		r, ok := rules["fne-source-perimee"]
		if !ok {
			t.Fatal("règle fne-source-perimee absente")
		}
		q, thr := ruleQuery(t, r, now)
		// The rule's delays are the collector's: stale_after of deploy/collector/fne.yaml, or three
		// scheduling periods.
		cfg, err := daemon.LoadConfig("../../../deploy/collector/fne.yaml", []string{"activites", "structures", "lieux", "consultations", "rencontres", "participations", "equipements", "jalons"})
		if err != nil {
			t.Fatal(err)
		}
		var model struct {
			StaleAfter map[string]string `json:"staleAfter"`
		}
		_ = json.Unmarshal(q.JSON, &model)
		if len(model.StaleAfter) != len(cfg.Sources) {
			t.Errorf("%d sources dans la règle, %d dans fne.yaml", len(model.StaleAfter), len(cfg.Sources))
		}
		for _, s := range cfg.Sources {
			got, err := time.ParseDuration(model.StaleAfter[s.Source])
			if want := s.EffectiveStaleAfter(now, cfg.Location); err != nil || got != want {
				t.Errorf("%s : délai %q dans la règle, %s dans fne.yaml", s.Source, model.StaleAfter[s.Source], want)
			}
		}
		resp, err := d.QueryData(ctx, &backend.QueryDataRequest{Queries: []backend.DataQuery{q}})
		if err != nil || resp.Responses[q.RefID].Error != nil {
			t.Fatalf("%v %v", err, resp.Responses[q.RefID].Error)
		}
		series := alertSeries(t, resp.Responses[q.RefID].Frames)
		if len(series) != 8 {
			t.Errorf("%d séries, attendu une par source (8)", len(series))
		}
		// now = 2026-11-02 12:00. activites: last success 2026-10-31 06:00, 54 h > 90m; equipements
		// 80 h > 72h; rencontres: the newest run (1 h ago) failed, last success 5 h > 3h; structures:
		// never collected. Fresh: jalons 24 h ≤ 96h, consultations partial 10 h ≤ 72h, participations
		// 2 h ≤ 3h, lieux 17 h ≤ 18h.
		want := []string{"activites|90m", "equipements|72h", "rencontres|3h", "structures|3h"}
		if got := firing(series, thr); !reflect.DeepEqual(got, want) {
			t.Errorf("sources en alerte %v, attendu %v", got, want)
		}
	})

	t.Run("erreurs", func(t *testing.T) {
		for js, msg := range map[string]string{
			`{"queryType":"alert_stale"}`:                                       "staleAfter manquant",
			`{"queryType":"alert_stale","staleAfter":{"inconnue":"1h"}}`:        "source inconnue",
			`{"queryType":"alert_stale","staleAfter":{"activites":"-1h"}}`:      "délai \"-1h\" de la source activites invalide",
			`{"queryType":"alert_late","territory":"com:69264","level":"epci"}`: "", // a commune: itself only
		} {
			resp, _ := d.QueryData(ctx, &backend.QueryDataRequest{Queries: []backend.DataQuery{{RefID: "A", JSON: []byte(js), TimeRange: backend.TimeRange{From: now.Add(-time.Hour), To: now}}}})
			e := resp.Responses["A"].Error
			if msg == "" {
				if e != nil {
					t.Errorf("%s : %v", js, e)
				} else if s := alertSeries(t, resp.Responses["A"].Frames); len(s) != 13 {
					// the 13 roadmap indicators that apply to a commune (17 − 2 département-only − 2 EPCI
					// percentages)
					t.Errorf("%s : %d séries, attendu 13", js, len(s))
				}
				continue
			}
			if e == nil || !strings.Contains(e.Error(), msg) {
				t.Errorf("%s : erreur %v, attendu %q", js, e, msg)
			}
		}
	})
}
