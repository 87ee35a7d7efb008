package dashboards

import (
	"encoding/json"
	"fmt"
	"regexp"
	"strings"
	"testing"

	"github.com/sdaasp-rhone/fne/internal/catalogue"
)

// The dashboards are checked against the plugin's query model (plugin/README.md) and the indicator catalogue,
// so that a renamed indicator, a typo in a query type or a variable that no longer exists fails here and
// not as an empty panel in front of a comité.

// Territory is optional everywhere: empty means the datasource's scope (an EPCI organisation) or the
// whole département, which keeps the département's code out of the dashboards.
var queryTypes = map[string]struct {
	needsIndicator bool
}{
	"series":     {true},
	"scorecard":  {false},
	"breakdown":  {true},
	"gaps":       {false},
	"milestones": {false},
	"freshness":  {false},
	"axes":       {false},
	"changes":    {false},
}

var variableKinds = map[string]bool{"epci": true, "communes": true, "axes": true, "indicators": true}

// Metrics the collector exports (collector daemon, /metrics on :9464), plus Prometheus' own `up`.
var promMetrics = map[string]bool{
	"fne_ingest_rows_read_total":                true,
	"fne_ingest_rows_written_total":             true,
	"fne_ingest_rows_rejected_total":            true,
	"fne_ingest_run_duration_seconds_bucket":    true,
	"fne_ingest_run_duration_seconds_sum":       true,
	"fne_ingest_run_duration_seconds_count":     true,
	"fne_ingest_last_success_timestamp_seconds": true,
	"fne_ingest_runs_total":                     true,
	"up":                                        true,
}

// Grafana's built-in variables that panels may use without defining them.
var builtinVars = map[string]bool{
	"__interval": true, "__interval_ms": true, "__range": true, "__range_s": true, "__range_ms": true,
	"__rate_interval": true, "__from": true, "__to": true, "__all": true, "__dashboard": true,
	"__org": true, "__user": true, "__timezone": true,
}

type dashboard struct {
	UID           string     `json:"uid"`
	Title         string     `json:"title"`
	Description   string     `json:"description"`
	Tags          []string   `json:"tags"`
	SchemaVersion int        `json:"schemaVersion"`
	Panels        []panel    `json:"panels"`
	Templating    templating `json:"templating"`
	Time          struct {
		From string `json:"from"`
		To   string `json:"to"`
	} `json:"time"`
}

type templating struct {
	List []variable `json:"list"`
}

type variable struct {
	Type       string          `json:"type"`
	Name       string          `json:"name"`
	Label      string          `json:"label"`
	Query      json.RawMessage `json:"query"`
	Datasource *dsRef          `json:"datasource"`
}

type dsRef struct {
	Type string `json:"type"`
	UID  string `json:"uid"`
}

type gridPos struct{ H, W, X, Y int }

type panel struct {
	ID              int                        `json:"id"`
	Type            string                     `json:"type"`
	Title           string                     `json:"title"`
	Description     string                     `json:"description"`
	Datasource      *dsRef                     `json:"datasource"`
	Targets         []map[string]any           `json:"targets"`
	GridPos         gridPos                    `json:"gridPos"`
	TimeShift       string                     `json:"timeShift"`
	Options         map[string]json.RawMessage `json:"options"`
	FieldConfig     json.RawMessage            `json:"fieldConfig"`
	Transformations json.RawMessage            `json:"transformations"`
	Panels          []panel                    `json:"panels"`
}

// catalogueIDs reads the indicator ids and labels from the catalogue the engine evaluates.
func catalogueIDs(t *testing.T) map[string]string {
	t.Helper()
	c, err := catalogue.Load()
	if err != nil {
		t.Fatal(err)
	}
	ids := map[string]string{}
	for _, i := range c.Indicators {
		ids[i.ID] = i.Label
	}
	// The roadmap has 19 indicators; fewer means the catalogue was not read as expected.
	if len(ids) != 19 {
		t.Fatalf("catalogue : %d indicateurs lus, 19 attendus", len(ids))
	}
	return ids
}

func load(t *testing.T, name string) dashboard {
	t.Helper()
	b, err := FS.ReadFile(name)
	if err != nil {
		t.Fatal(err)
	}
	var d dashboard
	dec := json.NewDecoder(strings.NewReader(string(b)))
	if err := dec.Decode(&d); err != nil {
		t.Fatalf("%s : JSON invalide : %v", name, err)
	}
	return d
}

// allPanels flattens rows (collapsed rows keep their panels inside).
func allPanels(ps []panel) []panel {
	var out []panel
	for _, p := range ps {
		out = append(out, p)
		out = append(out, allPanels(p.Panels)...)
	}
	return out
}

var expected = []struct {
	file, uid, title, tag string
	minPanels             int
}{
	{"collecte.json", "fne-collecte", "Collecte des données", "collecte", 8},
	{"copil.json", "fne-copil", "Feuille de route — vue d'ensemble", "copil", 6},
	{"cotech.json", "fne-cotech", "Revue mensuelle", "cotech", 15},
	{"epci.json", "fne-epci", "Couverture locale", "epci", 15},
}

func TestDashboardFilesAreTheFourAudiences(t *testing.T) {
	var want []string
	for _, e := range expected {
		want = append(want, e.file)
	}
	if got := Files(); strings.Join(got, ",") != strings.Join(want, ",") {
		t.Fatalf("fichiers de tableaux de bord : %v, attendu %v", got, want)
	}
}

func TestDashboardHeaders(t *testing.T) {
	uids := map[string]string{}
	for _, e := range expected {
		t.Run(e.file, func(t *testing.T) {
			d := load(t, e.file)
			if d.UID != e.uid {
				t.Errorf("uid %q, attendu %q (les uid sont fixes : liens et favoris en dépendent)", d.UID, e.uid)
			}
			if prev, dup := uids[d.UID]; dup {
				t.Errorf("uid %q déjà utilisé par %s", d.UID, prev)
			}
			uids[d.UID] = e.file
			if d.Title != e.title {
				t.Errorf("titre %q, attendu %q", d.Title, e.title)
			}
			if d.SchemaVersion < 39 {
				t.Errorf("schemaVersion %d : attendu >= 39 (Grafana 11/12)", d.SchemaVersion)
			}
			if !contains(d.Tags, "fne") || !contains(d.Tags, e.tag) {
				t.Errorf("étiquettes %v : attendu fne et %s (liens entre tableaux de bord)", d.Tags, e.tag)
			}
			if strings.TrimSpace(d.Description) == "" {
				t.Error("description du tableau de bord vide")
			}
			if n := len(allPanels(d.Panels)); n < e.minPanels {
				t.Errorf("%d panneaux, au moins %d attendus", n, e.minPanels)
			}
		})
	}
}

var englishWord = regexp.MustCompile(`(?i)\b(the|of|and|with|per|rows|target|status|value|rejected|last|overview|dashboard)\b`)

func TestTextsAreFrench(t *testing.T) {
	for _, e := range expected {
		t.Run(e.file, func(t *testing.T) {
			d := load(t, e.file)
			texts := []string{d.Title, d.Description}
			for _, v := range d.Templating.List {
				texts = append(texts, v.Label)
			}
			for _, p := range allPanels(d.Panels) {
				texts = append(texts, p.Title, p.Description)
				texts = append(texts, displayNames(t, p.FieldConfig)...)
			}
			for _, s := range texts {
				if w := englishWord.FindString(s); w != "" {
					t.Errorf("texte affiché en anglais (« %s ») : %q", w, s)
				}
			}
		})
	}
}

// displayNames returns the displayName overrides of a panel (the French names of the machine fields).
func displayNames(t *testing.T, fc json.RawMessage) []string {
	if len(fc) == 0 {
		return nil
	}
	var c struct {
		Overrides []struct {
			Properties []struct {
				ID    string `json:"id"`
				Value any    `json:"value"`
			} `json:"properties"`
		} `json:"overrides"`
	}
	if err := json.Unmarshal(fc, &c); err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, o := range c.Overrides {
		for _, p := range o.Properties {
			if s, ok := p.Value.(string); ok && p.ID == "displayName" {
				out = append(out, s)
			}
		}
	}
	return out
}

func TestLayout(t *testing.T) {
	for _, e := range expected {
		t.Run(e.file, func(t *testing.T) {
			d := load(t, e.file)
			ids := map[int]bool{}
			ps := allPanels(d.Panels)
			for i, p := range ps {
				if p.ID == 0 || ids[p.ID] {
					t.Errorf("panneau %q : id %d absent ou en double", p.Title, p.ID)
				}
				ids[p.ID] = true
				g := p.GridPos
				if g.W <= 0 || g.H <= 0 || g.X < 0 || g.X+g.W > 24 {
					t.Errorf("panneau %q : position %+v hors de la grille de 24 colonnes", p.Title, g)
				}
				for _, q := range ps[:i] {
					h := q.GridPos
					if g.X < h.X+h.W && h.X < g.X+g.W && g.Y < h.Y+h.H && h.Y < g.Y+g.H {
						t.Errorf("panneaux %q et %q se chevauchent (%+v, %+v)", q.Title, p.Title, h, g)
					}
				}
			}
		})
	}
}

func TestDatasourcesAreVariables(t *testing.T) {
	for _, e := range expected {
		t.Run(e.file, func(t *testing.T) {
			d := load(t, e.file)
			vars := varsByName(d)
			ds, ok := vars["ds"]
			if !ok || ds.Type != "datasource" || unquote(ds.Query) != PluginType {
				t.Fatalf("variable ds : %+v, attendu une variable de type datasource sur %s", ds, PluginType)
			}
			usesProm := false
			check := func(where string, r *dsRef) {
				if r == nil {
					return
				}
				switch r.Type {
				case PluginType:
					if r.UID != "${ds}" {
						t.Errorf("%s : source %q, attendu ${ds}", where, r.UID)
					}
				case "prometheus":
					usesProm = true
					if r.UID != "${prom}" {
						t.Errorf("%s : source Prometheus %q, attendu ${prom}", where, r.UID)
					}
				default:
					t.Errorf("%s : type de source inattendu %q (seuls notre plugin et Prometheus sont installés)", where, r.Type)
				}
			}
			for _, v := range d.Templating.List {
				check("variable "+v.Name, v.Datasource)
			}
			for _, p := range allPanels(d.Panels) {
				check("panneau "+p.Title, p.Datasource)
				for _, tg := range p.Targets {
					r := targetDS(tg)
					if r == nil && p.Datasource == nil {
						t.Errorf("panneau %q, requête %v : aucune source de données", p.Title, tg["refId"])
					}
					check(fmt.Sprintf("panneau %q requête %v", p.Title, tg["refId"]), r)
				}
			}
			if usesProm {
				if pv, ok := vars["prom"]; !ok || pv.Type != "datasource" || unquote(pv.Query) != "prometheus" {
					t.Errorf("panneaux Prometheus sans variable prom de type datasource/prometheus")
				}
			}
		})
	}
}

func TestPluginTargets(t *testing.T) {
	ids := catalogueIDs(t)
	for _, e := range expected {
		t.Run(e.file, func(t *testing.T) {
			d := load(t, e.file)
			vars := varsByName(d)
			n := 0
			for _, p := range allPanels(d.Panels) {
				refIDs := map[string]bool{}
				for _, tg := range p.Targets {
					r := targetDS(tg)
					if r == nil {
						r = p.Datasource
					}
					ref, _ := tg["refId"].(string)
					if ref == "" || refIDs[ref] {
						t.Errorf("panneau %q : refId %q vide ou en double", p.Title, ref)
					}
					refIDs[ref] = true
					if r == nil || r.Type != PluginType {
						continue
					}
					n++
					where := fmt.Sprintf("panneau %q requête %s", p.Title, ref)
					if err := checkPluginTarget(tg, ids, vars); err != nil {
						t.Errorf("%s : %v", where, err)
					}
				}
				if ind := singleIndicator(p); ind != "" {
					if !strings.Contains(p.Description, ids[ind]) {
						t.Errorf("panneau %q : la description (méthode) doit nommer l'indicateur « %s »", p.Title, ids[ind])
					}
				}
				if p.Type != "row" && p.Type != "text" && strings.TrimSpace(p.Description) == "" {
					t.Errorf("panneau %q : description (méthode) vide", p.Title)
				}
			}
			if n == 0 {
				t.Error("aucune requête vers le plugin d'indicateurs")
			}
		})
	}
}

// checkPluginTarget validates one query against the plugin's query model.
func checkPluginTarget(tg map[string]any, ids map[string]string, vars map[string]variable) error {
	known := map[string]bool{"refId": true, "datasource": true, "queryType": true, "indicator": true, "territory": true,
		"axis": true, "level": true, "hide": true, "dueWithin": true, "defaultLevel": true}
	for k := range tg {
		if !known[k] {
			return fmt.Errorf("champ inconnu du modèle de requête : %q", k)
		}
	}
	qt, _ := tg["queryType"].(string)
	spec, ok := queryTypes[qt]
	if !ok {
		return fmt.Errorf("queryType inconnu %q", qt)
	}
	ind, hasInd := tg["indicator"].(string)
	if spec.needsIndicator && !hasInd {
		return fmt.Errorf("%s sans indicateur", qt)
	}
	if hasInd {
		if names := varRefs(ind); len(names) == 1 {
			// An indicator chosen by a variable: every choice it offers must be in the catalogue.
			if err := checkIndicatorVariable(vars[names[0]], ids); err != nil {
				return err
			}
		} else if _, ok := ids[ind]; !ok {
			return fmt.Errorf("indicateur inconnu du catalogue %q", ind)
		}
	}
	if dl, ok := tg["defaultLevel"]; ok && dl != "epci" {
		return fmt.Errorf("defaultLevel %v : attendu epci", dl)
	}
	if dw, ok := tg["dueWithin"]; ok {
		f, isNum := dw.(float64)
		if !isNum || qt != "milestones" || f != float64(int(f)) || f < 1 {
			return fmt.Errorf("dueWithin %v : un nombre de mois, pour les jalons seulement", dw)
		}
	}
	terr, hasTerr := tg["territory"].(string)
	if hasTerr && !territoryLiteral.MatchString(terr) {
		names := varRefs(terr)
		if len(names) != 1 || strings.TrimSpace(varRef.ReplaceAllString(terr, "")) != "" {
			return fmt.Errorf("territoire %q : ni un identifiant (dep:, epci:, com:) ni une variable", terr)
		}
	}
	if lvl, ok := tg["level"]; ok && lvl != "epci" && lvl != "commune" {
		return fmt.Errorf("level %v : attendu epci ou commune", lvl)
	}
	if qt == "breakdown" {
		if _, ok := tg["level"]; !ok {
			return fmt.Errorf("breakdown sans level")
		}
	}
	if ax, ok := tg["axis"]; ok {
		f, isNum := ax.(float64)
		if !isNum || f != float64(int(f)) || f < 0 || f > 3 {
			return fmt.Errorf("axis %v : attendu 0 (tous) à 3", ax)
		}
	}
	for _, v := range tg {
		s, ok := v.(string)
		if !ok {
			continue
		}
		for _, name := range varRefs(s) {
			if _, ok := vars[name]; !ok && !builtinVars[name] {
				return fmt.Errorf("variable non définie $%s", name)
			}
		}
	}
	return nil
}

var (
	territoryLiteral = regexp.MustCompile(`^(dep|epci|com):[0-9A-Za-z]+$`)
	varRef           = regexp.MustCompile(`\$\{([A-Za-z0-9_]+)(?::[^}]*)?\}|\$([A-Za-z_][A-Za-z0-9_]*)|\[\[([A-Za-z0-9_]+)\]\]`)
	promMetricRef    = regexp.MustCompile(`\b([a-z_][a-z0-9_]*)\s*[{\[]`)
)

func varRefs(s string) []string {
	var out []string
	for _, m := range varRef.FindAllStringSubmatch(s, -1) {
		for _, g := range m[1:] {
			if g != "" {
				out = append(out, g)
			}
		}
	}
	return out
}

func TestVariableReferencesAreDefined(t *testing.T) {
	for _, e := range expected {
		t.Run(e.file, func(t *testing.T) {
			d := load(t, e.file)
			vars := varsByName(d)
			checkStr := func(where, s string) {
				for _, name := range varRefs(s) {
					if _, ok := vars[name]; !ok && !builtinVars[name] {
						t.Errorf("%s : variable non définie $%s dans %q", where, name, s)
					}
				}
			}
			for _, p := range allPanels(d.Panels) {
				checkStr("panneau "+p.Title, p.TimeShift)
				for _, tg := range p.Targets {
					for _, v := range tg {
						if s, ok := v.(string); ok {
							checkStr("panneau "+p.Title, s)
						}
					}
				}
			}
			for _, v := range d.Templating.List {
				if v.Type != "query" || v.Datasource == nil || v.Datasource.Type != PluginType {
					continue
				}
				var q struct {
					Kind   string `json:"kind"`
					Parent string `json:"parent"`
				}
				if err := json.Unmarshal(v.Query, &q); err != nil {
					t.Errorf("variable %s : requête illisible : %v", v.Name, err)
					continue
				}
				if !variableKinds[q.Kind] {
					t.Errorf("variable %s : kind %q inconnu (epci, communes, axes, indicators)", v.Name, q.Kind)
				}
				if q.Kind == "communes" && q.Parent == "" {
					t.Errorf("variable %s : communes sans parent", v.Name)
				}
				checkStr("variable "+v.Name, q.Parent)
			}
		})
	}
}

func TestPrometheusQueriesUseCollectorMetrics(t *testing.T) {
	seen := map[string]bool{}
	for _, e := range expected {
		d := load(t, e.file)
		for _, p := range allPanels(d.Panels) {
			for _, tg := range p.Targets {
				r := targetDS(tg)
				if r == nil {
					r = p.Datasource
				}
				if r == nil || r.Type != "prometheus" {
					continue
				}
				expr, _ := tg["expr"].(string)
				ms := promMetricRef.FindAllStringSubmatch(expr, -1)
				if len(ms) == 0 {
					t.Errorf("%s, panneau %q : expression sans métrique : %q", e.file, p.Title, expr)
				}
				for _, m := range ms {
					if isPromFunc(m[1]) {
						continue
					}
					if !promMetrics[m[1]] {
						t.Errorf("%s, panneau %q : métrique inconnue %q", e.file, p.Title, m[1])
					}
					seen[strings.TrimSuffix(m[1], "_bucket")] = true
				}
			}
		}
	}
	// The collection dashboard must show every series the collector exports.
	for _, m := range []string{"fne_ingest_rows_read_total", "fne_ingest_rows_written_total", "fne_ingest_rows_rejected_total",
		"fne_ingest_run_duration_seconds", "fne_ingest_last_success_timestamp_seconds", "fne_ingest_runs_total"} {
		if !seen[m] {
			t.Errorf("aucun panneau ne montre %s", m)
		}
	}
}

func isPromFunc(s string) bool {
	switch s {
	case "sum", "max", "min", "avg", "by", "without", "rate", "increase", "histogram_quantile", "clamp_min", "time", "count":
		return true
	}
	return false
}

// Each audience gets what the issue asks for; these pin the panels a comité relies on.
func TestAudienceContent(t *testing.T) {
	type want struct {
		queryType string
		indicator string
		territory string
		level     string
		axis      float64
		panelType string
	}
	cases := map[string][]want{
		"copil.json": {
			{queryType: "axes", axis: 1, panelType: "stat"},
			{queryType: "axes", axis: 2, panelType: "stat"},
			{queryType: "axes", axis: 3, panelType: "stat"},
			{queryType: "scorecard", axis: 0, panelType: "table"},
			{queryType: "breakdown", indicator: "$indicateur", level: "epci", axis: -1, panelType: "geomap"},
			{queryType: "milestones", axis: 0, panelType: "table"},
		},
		"cotech.json": {
			{queryType: "changes", axis: 0, panelType: "table"},
			{queryType: "axes", axis: 0, panelType: "table"},
			{queryType: "scorecard", axis: 0, panelType: "table"},
			{queryType: "series", indicator: "a2.accompagnements", axis: -1, panelType: "timeseries"},
			{queryType: "breakdown", indicator: "$indicateur", level: "epci", axis: -1, panelType: "table"},
			{queryType: "milestones", axis: 0, panelType: "table"},
			{queryType: "freshness", axis: -1, panelType: "table"},
			{queryType: "gaps", level: "epci", axis: -1, panelType: "table"},
			{queryType: "gaps", level: "commune", axis: -1, panelType: "table"},
		},
		"epci.json": {
			{queryType: "breakdown", indicator: "$couche", territory: "$epci", level: "commune", axis: -1, panelType: "geomap"},
			{queryType: "breakdown", indicator: "ctx.lieux", territory: "$epci", level: "commune", axis: -1, panelType: "table"},
			{queryType: "series", indicator: "a1.conseillers_actifs", territory: "$epci", axis: -1, panelType: "timeseries"},
			{queryType: "series", indicator: "a3.epci_deux_rencontres", territory: "$epci", axis: -1, panelType: "stat"},
			{queryType: "series", indicator: "a1.epci_rencontre_locale", territory: "$epci", axis: -1, panelType: "stat"},
			{queryType: "gaps", territory: "$epci", level: "commune", axis: -1, panelType: "table"},
		},
		"collecte.json": {
			{queryType: "freshness", axis: -1, panelType: "table"},
		},
	}
	for file, wants := range cases {
		t.Run(file, func(t *testing.T) {
			d := load(t, file)
			for _, w := range wants {
				found := false
				for _, p := range allPanels(d.Panels) {
					for _, tg := range p.Targets {
						if p.Type != w.panelType || tg["queryType"] != w.queryType {
							continue
						}
						if w.indicator != "" && tg["indicator"] != w.indicator {
							continue
						}
						if terr, _ := tg["territory"].(string); terr != w.territory {
							continue
						}
						if w.level != "" && tg["level"] != w.level {
							continue
						}
						if w.axis >= 0 && tg["axis"] != w.axis {
							continue
						}
						found = true
					}
				}
				if !found {
					t.Errorf("aucun panneau %s avec la requête %+v", w.panelType, w)
				}
			}
		})
	}
}

func TestCOTECHMonthPicker(t *testing.T) {
	d := load(t, "cotech.json")
	v, ok := varsByName(d)["mois"]
	if !ok || v.Type != "custom" {
		t.Fatal("variable « mois » (mois examiné) absente")
	}
	// 13 choices: the last complete month and the 12 before it.
	if n := strings.Count(unquote(v.Query), ":"); n != 13 {
		t.Errorf("mois examiné : %d choix, 13 attendus", n)
	}
	if d.Time.To != "now-1M/M" {
		t.Errorf("fin de période %q : attendu now-1M/M (dernier mois complet)", d.Time.To)
	}
	for _, p := range allPanels(d.Panels) {
		if len(p.Targets) > 0 && !isFreshnessOrMilestones(p) && p.TimeShift != "$mois" {
			t.Errorf("panneau %q : timeShift %q, attendu $mois (toute la revue suit le mois examiné)", p.Title, p.TimeShift)
		}
	}
}

func isFreshnessOrMilestones(p panel) bool {
	for _, tg := range p.Targets {
		if tg["queryType"] != "freshness" && tg["queryType"] != "milestones" {
			return false
		}
	}
	return true
}

// Each map shows one indicator at a time: one markers layer on the breakdown's coordinates, sized by
// population, coloured by status, without a legend box over the markers.
func TestGeomapsShowOneLayer(t *testing.T) {
	n := 0
	for _, e := range expected {
		d := load(t, e.file)
		for _, p := range allPanels(d.Panels) {
			if p.Type != "geomap" {
				continue
			}
			n++
			var layers []struct {
				Type   string `json:"type"`
				Name   string `json:"name"`
				Config struct {
					ShowLegend bool `json:"showLegend"`
					Style      struct {
						Color struct {
							Field string `json:"field"`
						} `json:"color"`
						Size struct {
							Field string `json:"field"`
						} `json:"size"`
					} `json:"style"`
				} `json:"config"`
				Location struct {
					Mode      string `json:"mode"`
					Latitude  string `json:"latitude"`
					Longitude string `json:"longitude"`
				} `json:"location"`
			}
			if err := json.Unmarshal(p.Options["layers"], &layers); err != nil {
				t.Fatal(err)
			}
			if len(p.Targets) != 1 || len(layers) != 1 {
				t.Errorf("%s, carte %q : %d requêtes et %d couches, attendu une seule de chaque (un indicateur à la fois)", e.file, p.Title, len(p.Targets), len(layers))
				continue
			}
			l := layers[0]
			if l.Type != "markers" || l.Location.Mode != "coords" || l.Location.Latitude != "latitude" || l.Location.Longitude != "longitude" {
				t.Errorf("%s, carte %q : couche %+v, attendu des marqueurs placés par latitude/longitude du breakdown", e.file, p.Title, l)
			}
			if l.Config.Style.Color.Field != "status" || l.Config.Style.Size.Field != "population" {
				t.Errorf("%s, carte %q : couleur %q taille %q, attendu le statut et la population", e.file, p.Title, l.Config.Style.Color.Field, l.Config.Style.Size.Field)
			}
			if l.Config.ShowLegend {
				t.Errorf("%s, carte %q : la légende recouvre la carte", e.file, p.Title)
			}
			if p.Targets[0]["queryType"] != "breakdown" {
				t.Errorf("%s, carte %q : requête %v, attendu breakdown", e.file, p.Title, p.Targets[0]["queryType"])
			}
		}
	}
	if n < 2 {
		t.Errorf("%d cartes, attendu celle des EPCI (COPIL) et celle des communes (Couverture locale)", n)
	}
}

// Status values the plugin returns must all be shown in French.
func TestStatusMappingsCoverEveryStatus(t *testing.T) {
	for _, e := range expected {
		b, _ := FS.ReadFile(e.file)
		if !strings.Contains(string(b), `"status"`) {
			continue
		}
		for _, s := range []string{"atteint", "en_bonne_voie", "a_surveiller", "en_retard", "sans_donnees"} {
			if !strings.Contains(string(b), `"`+s+`": {`) {
				t.Errorf("%s : le statut %s n'a pas de libellé français", e.file, s)
			}
		}
	}
}

// checkIndicatorVariable accepts the plugin's indicator variable, or a custom list of catalogue ids.
func checkIndicatorVariable(v variable, ids map[string]string) error {
	switch v.Type {
	case "query":
		var q struct {
			Kind string `json:"kind"`
		}
		if err := json.Unmarshal(v.Query, &q); err != nil || q.Kind != "indicators" {
			return fmt.Errorf("variable %s : une variable d'indicateurs du plugin (kind indicators) est attendue", v.Name)
		}
	case "custom":
		for _, choice := range strings.Split(unquote(v.Query), ",") {
			_, id, ok := strings.Cut(choice, " : ")
			if _, known := ids[strings.TrimSpace(id)]; !ok || !known {
				return fmt.Errorf("variable %s : choix %q hors du catalogue", v.Name, choice)
			}
		}
	default:
		return fmt.Errorf("variable d'indicateur %q absente ou de type %q", v.Name, v.Type)
	}
	return nil
}

func varsByName(d dashboard) map[string]variable {
	m := map[string]variable{}
	for _, v := range d.Templating.List {
		m[v.Name] = v
	}
	return m
}

func targetDS(tg map[string]any) *dsRef {
	m, ok := tg["datasource"].(map[string]any)
	if !ok {
		return nil
	}
	r := &dsRef{}
	r.Type, _ = m["type"].(string)
	r.UID, _ = m["uid"].(string)
	return r
}

func singleIndicator(p panel) string {
	ind := ""
	for _, tg := range p.Targets {
		s, _ := tg["indicator"].(string)
		if s == "" || (ind != "" && s != ind) {
			return ""
		}
		ind = s
	}
	return ind
}

func unquote(raw json.RawMessage) string {
	var s string
	if json.Unmarshal(raw, &s) == nil {
		return s
	}
	return string(raw)
}

func contains(xs []string, s string) bool {
	for _, x := range xs {
		if x == s {
			return true
		}
	}
	return false
}

// Regexp field selectors match display names, which the plugin sets in French (DisplayNameFromDS):
// a regexp written on machine names selects nothing and the panel says "No data". Field selection in
// our panels goes by machine name (byName overrides, organize) or takes every numeric field.
func TestNoRegexpFieldSelectors(t *testing.T) {
	for _, e := range expected {
		d := load(t, e.file)
		for _, p := range allPanels(d.Panels) {
			var ro struct {
				Fields string `json:"fields"`
			}
			if raw, ok := p.Options["reduceOptions"]; ok {
				if err := json.Unmarshal(raw, &ro); err != nil {
					t.Fatal(err)
				}
				// "/.*/" (every field) is the one regexp that cannot miss.
				if strings.HasPrefix(ro.Fields, "/") && ro.Fields != "/.*/" {
					t.Errorf("%s, panneau %q : sélection de champs par expression régulière %q", e.file, p.Title, ro.Fields)
				}
			}
			if strings.Contains(string(p.FieldConfig), `"byRegexp"`) {
				t.Errorf("%s, panneau %q : surcharge byRegexp", e.file, p.Title)
			}
		}
	}
}

// The COPIL view is one 1920×1080 screen: no section to unfold, at most 25 grid rows (25 × 30 px + 24 ×
// 8 px margins = 942 px, under 1 080 px less Grafana's header), and the grid of the 19 indicators tall
// enough for its 19 rows (36 px each, plus header row and panel title) without a scroll bar.
func TestCOPILFitsOneScreen(t *testing.T) {
	d := load(t, "copil.json")
	bottom := 0
	for _, p := range allPanels(d.Panels) {
		if p.Type == "row" {
			t.Errorf("section %q : le COPIL tient sur un écran, sans section à déplier", p.Title)
		}
		bottom = max(bottom, p.GridPos.Y+p.GridPos.H)
		if p.Type == "table" && len(p.Targets) == 1 && p.Targets[0]["queryType"] == "scorecard" {
			px := p.GridPos.H*30 + (p.GridPos.H-1)*8
			if need := 32 + 36 + 19*36; px < need {
				t.Errorf("grille des indicateurs : %d px pour %d px de lignes", px, need)
			}
		}
	}
	if bottom > 25 {
		t.Errorf("le COPIL descend à la ligne %d de la grille, au plus 25 pour un écran 1080 px", bottom)
	}
}
