package dashboards

import (
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/grafana/grafana-plugin-sdk-go/data"

	"github.com/sdaasp-rhone/fne/internal/catalogue"
	"github.com/sdaasp-rhone/fne/internal/engine"
	"github.com/sdaasp-rhone/fne/internal/territory"
	"github.com/sdaasp-rhone/fne/plugin/pkg/plugin"
)

// The same contract over the field config the plugin backend sends (plugin/pkg/plugin/frames.go):
// Grafana applies it first, so a panel that forgets an override still reads right.

func checkFrame(f *data.Frame) []string {
	var out []string
	for _, fl := range f.Fields {
		where := fmt.Sprintf("trame %s, champ %s", f.Name, fl.Name)
		c := fl.Config
		if c == nil {
			c = &data.FieldConfig{}
		}
		u := c.Unit
		ft := fl.Type()
		if strings.HasPrefix(u, "suffix:") {
			out = append(out, where+" : unité en suffixe "+u)
		}
		if _, banned := frenchOnlyBans[u]; banned {
			out = append(out, where+" : unité "+u)
		}
		if u == "percent" && (c.Min == nil || *c.Min != 0 || c.Max == nil || *c.Max != 100) {
			out = append(out, where+" : pourcentage sans échelle 0–100")
		}
		if u == "none" && (c.Decimals == nil || *c.Decimals != 0) {
			out = append(out, where+" : effectif sans « 0 décimale »")
		}
		if u == "short" && c.Decimals == nil {
			out = append(out, where+" : taux sans nombre de décimales fixé")
		}
		if countFields[fl.Name] && fl.Type().Numeric() && (c.Decimals == nil || *c.Decimals != 0) {
			out = append(out, where+" : effectif sans « 0 décimale »")
		}
		if (ft == data.FieldTypeTime || ft == data.FieldTypeNullableTime) && fl.Name != "time" && !dayFirstUnits[u] {
			out = append(out, where+" : date sans format jour/mois/année")
		}
		if categoricalFields[fl.Name] || fl.Name == "axis" || fl.Name == "action" {
			if ft != data.FieldTypeString && ft != data.FieldTypeBool {
				out = append(out, fmt.Sprintf("%s : catégorie de type %s, attendu du texte", where, ft))
			}
		}
		if categoricalFields[fl.Name] && len(c.Mappings) == 0 {
			out = append(out, where+" : catégorie sans libellés français")
		}
		if len(c.Mappings) > 0 {
			b, _ := json.Marshal(c.Mappings)
			var v any
			_ = json.Unmarshal(b, &v)
			out = append(out, checkStatusMappings(where, v)...)
		}
	}
	return out
}

// sampleFrames builds one frame of every query type, and a series for every catalogue indicator.
func sampleFrames(t *testing.T) []*data.Frame {
	t.Helper()
	cat, err := catalogue.Load()
	if err != nil {
		t.Fatal(err)
	}
	inds := plugin.Indicators(cat)
	v, tg := 12.5, 14.0
	day := time.Date(2026, 10, 28, 0, 0, 0, 0, time.UTC)
	var frames []*data.Frame
	var results []engine.Result
	for _, i := range inds {
		pts := []engine.Point{{Month: engine.Month{Year: 2026, Month: 10}, Value: &v, Target: &tg, Status: engine.StatusAtteint}}
		frames = append(frames, plugin.SeriesFrame("series", i, territory.LevelDep, i.Label, pts, ""))
		frames = append(frames, plugin.BreakdownFrame("breakdown", i, territory.LevelEPCI, []engine.Child{{
			Territory: territory.MustParse("epci:200040590"), Name: "E", Population: 1000, Value: &v, Status: engine.StatusEnRetard}}, ""))
		results = append(results, engine.Result{ID: i.ID, Axis: i.Axis, Action: i.Action, Label: i.Label, Unit: i.Unit, Value: &v, Target: &tg,
			Progress: &v, Status: engine.StatusASurveiller, Trend: &v, LastData: &day})
	}
	now := time.Date(2026, 11, 15, 12, 0, 0, 0, time.UTC)
	frames = append(frames,
		plugin.ScorecardFrame("scorecard", results, ""),
		plugin.AxesFrame("axes", territory.Territory{Name: "Rhône"}, engine.Month{Year: 2026, Month: 10}, results, []int{1, 2, 3}, ""),
		plugin.ChangesFrame("changes", results, results, ""),
		plugin.GapsFrame("gaps", []engine.Gap{{Territory: territory.MustParse("com:69264"), Name: "C", Indicator: inds[0].ID, Label: "manque", Value: &v, Target: &tg, Population: 10}}, inds, ""),
		plugin.MilestonesFrame("milestones", []engine.Milestone{{Action: "1.1", Jalon: "J", Libelle: "L", Statut: "en_cours", DatePrevue: &day}}, now, ""),
		plugin.FreshnessFrame("freshness", []engine.Freshness{{Source: "activites", LastRun: &day, LastSuccess: &day, LastStatus: "succes", LastData: &day, RowsRejected: 2}}, now, ""),
	)
	return frames
}

func TestPluginFramesFollowTheContract(t *testing.T) {
	for _, f := range sampleFrames(t) {
		for _, v := range checkFrame(f) {
			t.Error(v)
		}
	}
}

// The frame checker refuses a field config broken on purpose.
func TestFrameContractCatchesBrokenConfig(t *testing.T) {
	breaks := []struct {
		name, frame, field, want string
		breakIt                  func(*data.Field)
	}{
		{"effectif décimal", "series", "value", "effectif", func(f *data.Field) { f.Config.Unit = "none"; d := uint16(1); f.Config.Decimals = &d }},
		{"taux en suffixe", "series", "value", "suffixe", func(f *data.Field) { f.Config.Unit = "suffix: pour 1 000 hab." }},
		{"pourcentage sans maximum", "scorecard", "progress", "0–100", func(f *data.Field) { f.Config.Max = nil }},
		{"date sans format", "milestones", "date_prevue", "jour/mois/année", func(f *data.Field) { f.Config.Unit = "" }},
		{"statut d'une autre couleur", "scorecard", "status", "une couleur par statut", func(f *data.Field) {
			f.Config.Mappings = data.ValueMappings{data.ValueMapper{"atteint": {Text: "Atteint", Color: "blue"}, "en_bonne_voie": {Text: "En bonne voie", Color: "green"},
				"a_surveiller": {Text: "À surveiller", Color: "orange"}, "en_retard": {Text: "En retard", Color: "red"},
				"sans_donnees": {Text: "Sans données", Color: "#8e8e8e"}, "sans_cible": {Text: "Sans cible", Color: "#c7d0d9"}}}
		}},
	}
	for _, b := range breaks {
		t.Run(b.name, func(t *testing.T) {
			for _, f := range sampleFrames(t) {
				if f.Name != b.frame {
					continue
				}
				fl, _ := f.FieldByName(b.field)
				if fl == nil {
					t.Fatalf("champ %s absent de %s", b.field, b.frame)
				}
				b.breakIt(fl)
				if v := checkFrame(f); !strings.Contains(strings.Join(v, "\n"), b.want) {
					t.Errorf("configuration cassée acceptée : %v", v)
				}
				return
			}
			t.Fatalf("trame %s absente", b.frame)
		})
	}
}
