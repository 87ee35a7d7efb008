package dashboards

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/sdaasp-rhone/fne/internal/catalogue"
	"github.com/sdaasp-rhone/fne/plugin/pkg/plugin"
)

// The display contract (README.md, « Contrat d'affichage ») checked over every panel of every
// dashboard. The checker works on the raw JSON so that TestContractCatchesBrokenPanels can break a
// panel and see it refused.

// contractPanel is one panel read loosely.
type contractPanel struct {
	file  string
	raw   map[string]any
	title string
	typ   string
	width float64
}

func (p contractPanel) where() string { return fmt.Sprintf("%s, panneau %q", p.file, p.title) }

// fieldConf merges the panel's defaults with the byName overrides of field (what Grafana applies
// over the plugin's own field config).
func (p contractPanel) fieldConf(field string) map[string]any {
	fc, _ := p.raw["fieldConfig"].(map[string]any)
	out := map[string]any{}
	if d, ok := fc["defaults"].(map[string]any); ok {
		for k, v := range d {
			out[k] = v
		}
	}
	if field == "" {
		return out
	}
	ovs, _ := fc["overrides"].([]any)
	for _, o := range ovs {
		om, _ := o.(map[string]any)
		m, _ := om["matcher"].(map[string]any)
		if m["id"] != "byName" || m["options"] != field {
			continue
		}
		props, _ := om["properties"].([]any)
		for _, pr := range props {
			pm, _ := pr.(map[string]any)
			id, _ := pm["id"].(string)
			out[id] = pm["value"]
		}
	}
	return out
}

// overriddenFields lists the fields a panel names in byName overrides.
func (p contractPanel) overriddenFields() []string {
	fc, _ := p.raw["fieldConfig"].(map[string]any)
	ovs, _ := fc["overrides"].([]any)
	var out []string
	for _, o := range ovs {
		om, _ := o.(map[string]any)
		m, _ := om["matcher"].(map[string]any)
		if s, ok := m["options"].(string); ok && m["id"] == "byName" {
			out = append(out, s)
		}
	}
	return out
}

// excluded tells whether an organize transformation drops field.
func (p contractPanel) excluded(field string) bool {
	ts, _ := p.raw["transformations"].([]any)
	for _, t := range ts {
		tm, _ := t.(map[string]any)
		if tm["id"] != "organize" {
			continue
		}
		opts, _ := tm["options"].(map[string]any)
		ex, _ := opts["excludeByName"].(map[string]any)
		if ex[field] == true {
			return true
		}
	}
	return false
}

func (p contractPanel) targets() []map[string]any {
	ts, _ := p.raw["targets"].([]any)
	var out []map[string]any
	for _, t := range ts {
		if m, ok := t.(map[string]any); ok {
			out = append(out, m)
		}
	}
	return out
}

// pluginQueryType is the query type of the panel's plugin queries ("" for other datasources).
func (p contractPanel) pluginQueryType() string {
	for _, t := range p.targets() {
		if ds, _ := t["datasource"].(map[string]any); ds["type"] == PluginType {
			s, _ := t["queryType"].(string)
			return s
		}
	}
	return ""
}

func contractPanels(file string, d map[string]any) []contractPanel {
	var out []contractPanel
	var walk func([]any)
	walk = func(ps []any) {
		for _, x := range ps {
			m, _ := x.(map[string]any)
			if m == nil {
				continue
			}
			title, _ := m["title"].(string)
			typ, _ := m["type"].(string)
			gp, _ := m["gridPos"].(map[string]any)
			w, _ := gp["w"].(float64)
			out = append(out, contractPanel{file: file, raw: m, title: title, typ: typ, width: w})
			if sub, ok := m["panels"].([]any); ok {
				walk(sub)
			}
		}
	}
	ps, _ := d["panels"].([]any)
	walk(ps)
	return out
}

// Field families of the plugin's frames.
var (
	countFields       = map[string]bool{"population": true, "rows_rejected": true, "en_retard": true, "a_surveiller": true, "en_bonne_voie": true, "atteint": true, "sans_donnees": true}
	dateFields        = map[string]bool{"last_data": true, "date_prevue": true, "date_realisee": true, "last_run": true, "last_success": true}
	categoricalFields = map[string]bool{"status": true, "previous_status": true, "statut": true, "echeance": true, "last_status": true, "stale": true, "direction": true, "change": true, "source": true}
	// rawMixed are the numbers of one table column that mixes units (scorecard, gaps, changes): only
	// their French text (value_text, target_text) may be shown.
	rawMixed       = map[string][]string{"scorecard": {"value", "target", "trend"}, "gaps": {"value", "target"}}
	dayFirstUnits  = map[string]bool{"time:DD/MM/YYYY": true, "time:DD/MM/YYYY HH:mm": true}
	frenchOnlyBans = map[string]string{"dateTimeFromNow": "temps relatif en anglais", "dateTimeAsUS": "date à l'américaine",
		"dateTimeAsIso": "date ISO", "dateTimeAsLocal": "format de la langue du navigateur", "dateTimeAsLocalNoDateIfToday": "format de la langue du navigateur"}
)

// contract is what the checker needs besides the panel: the catalogue and the provisioned datasources.
type contract struct {
	units       map[string]string // indicator id → catalogue unit
	longest     int               // longest indicator label (titles with ${indicateur:text})
	provisioned map[string]map[string]bool
}

func loadContract(t *testing.T) contract {
	t.Helper()
	c, err := catalogue.Load()
	if err != nil {
		t.Fatal(err)
	}
	k := contract{units: map[string]string{}, provisioned: provisionedTypes(t)}
	for _, i := range c.Indicators {
		k.units[i.ID] = i.Unit
		k.longest = max(k.longest, utf8.RuneCountInString(i.Label))
	}
	return k
}

// provisionedTypes are the datasource types each dashboard can find: the département's organisation
// gets deploy/grafana/provisioning/datasources/*.yaml; epci.json is also provisioned in every EPCI
// organisation, which only gets the scoped datasource of grafana/epci/datasource.yaml.tmpl.
func provisionedTypes(t *testing.T) map[string]map[string]bool {
	t.Helper()
	org := map[string]bool{"grafana": true} // built-in annotations
	files, _ := filepath.Glob(deployDir + "/grafana/provisioning/datasources/*.y*ml")
	for _, f := range files {
		for _, d := range readYAMLDocs(t, f) {
			list, _ := d["datasources"].([]any)
			for _, x := range list {
				if m, ok := x.(map[string]any); ok {
					org[toString(m["type"])] = true
				}
			}
		}
	}
	epciOrg := map[string]bool{"grafana": true}
	b, err := os.ReadFile(deployDir + "/grafana/epci/datasource.yaml.tmpl")
	if err != nil {
		t.Fatal(err)
	}
	filled := strings.NewReplacer("@NOM@", "x", "@TERRITOIRE@", "epci:1", "@IDENTIFIANT@", "x", "@ORG_ID@", "2").Replace(string(b))
	for _, d := range parseYAMLDocs(t, "datasource.yaml.tmpl", []byte(filled)) {
		list, _ := d["datasources"].([]any)
		for _, x := range list {
			if m, ok := x.(map[string]any); ok && org[toString(m["type"])] {
				epciOrg[toString(m["type"])] = true
			}
		}
	}
	return map[string]map[string]bool{"copil.json": org, "cotech.json": org, "collecte.json": org, "epci.json": epciOrg}
}

// titleFits estimates a panel title's width at 1600 px (the width of the reference screenshots): about
// 7.3 px a character at Grafana's 14 px title font, plus 60 px of padding, info icon and menu.
func titleFits(title string, w float64, longest int) bool {
	n := utf8.RuneCountInString(title)
	for _, v := range []string{"${indicateur:text}", "${couche:text}"} {
		if strings.Contains(title, v) {
			n += longest - utf8.RuneCountInString(v)
		}
	}
	return float64(n)*7.3+60 <= w*1600/24
}

func asNum(v any) (float64, bool) { f, ok := v.(float64); return f, ok }

// checkDashboard returns every breach of the contract in one dashboard.
func (k contract) checkDashboard(file string, d map[string]any) []string {
	var out []string
	bad := func(p contractPanel, format string, a ...any) {
		out = append(out, p.where()+" : "+fmt.Sprintf(format, a...))
	}
	// Template variables: a datasource variable's plugin type, a query variable's datasource.
	tmpl, _ := d["templating"].(map[string]any)
	vars, _ := tmpl["list"].([]any)
	for _, v := range vars {
		vm, _ := v.(map[string]any)
		typ := ""
		switch vm["type"] {
		case "datasource":
			typ = toString(vm["query"])
		case "query":
			ds, _ := vm["datasource"].(map[string]any)
			typ = toString(ds["type"])
		}
		if typ != "" && !k.provisioned[file][typ] {
			out = append(out, fmt.Sprintf("%s, variable %v : source de données %q que le déploiement ne provisionne pas pour ce tableau", file, vm["name"], typ))
		}
	}
	for _, p := range contractPanels(file, d) {
		if p.typ == "row" {
			continue
		}
		// No panel on a datasource the deployment does not provision.
		refs := []any{p.raw["datasource"]}
		for _, t := range p.targets() {
			refs = append(refs, t["datasource"])
		}
		for _, r := range refs {
			if m, ok := r.(map[string]any); ok && !k.provisioned[file][toString(m["type"])] {
				bad(p, "source de données %q que le déploiement ne provisionne pas pour ce tableau", m["type"])
			}
		}
		if p.title != "" && !titleFits(p.title, p.width, k.longest) {
			bad(p, "titre trop long pour %v colonnes (coupé à l'écran)", p.width)
		}
		fields := append([]string{""}, p.overriddenFields()...)
		for _, f := range fields {
			c := p.fieldConf(f)
			u, _ := c["unit"].(string)
			if strings.HasPrefix(u, "suffix:") {
				bad(p, "champ %q : unité %q répétée à chaque graduation (unité short et libellé d'axe)", f, u)
			}
			if why, ok := frenchOnlyBans[u]; ok {
				bad(p, "champ %q : unité %q (%s), attendu une date jour/mois/année", f, u, why)
			}
			if strings.HasPrefix(u, "time:") && !dayFirstUnits[u] {
				bad(p, "champ %q : format de date %q, attendu DD/MM/YYYY", f, u)
			}
			if u == "percent" {
				if lo, ok := asNum(c["min"]); !ok || lo != 0 {
					bad(p, "champ %q : pourcentage sans minimum 0", f)
				}
				if hi, ok := asNum(c["max"]); !ok || hi != 100 {
					bad(p, "champ %q : pourcentage sans maximum 100 (la barre dépasserait son échelle)", f)
				}
			}
			if f == "progress" || (isGauge(c) && u == "percent") {
				if hi, ok := asNum(c["max"]); !ok || hi != 100 {
					bad(p, "champ %q : barre d'avancement sans maximum 100 (au-delà elle doit être pleine)", f)
				}
			}
			if countFields[f] && !p.excluded(f) {
				if dec, ok := asNum(c["decimals"]); !ok || dec != 0 {
					bad(p, "champ %q : un effectif s'affiche sans décimale", f)
				}
			}
			if dateFields[f] && !p.excluded(f) && !dayFirstUnits[u] {
				bad(p, "champ %q : date sans format jour/mois/année", f)
			}
			if categoricalFields[f] && !p.excluded(f) && c["mappings"] == nil {
				bad(p, "champ %q : catégorie sans libellés français", f)
			}
			out = append(out, checkStatusMappings(p.where()+fmt.Sprintf(", champ %q", f), c["mappings"])...)
		}
		qt := p.pluginQueryType()
		if p.typ == "table" {
			for _, f := range rawMixed[qt] {
				if !p.excluded(f) {
					bad(p, "le nombre brut %q d'une colonne qui mêle les unités est affiché (montrer value_text / target_text)", f)
				}
			}
			if !p.excluded("axis") && contains(fields, "axis") {
				if c := p.fieldConf("axis"); c["decimals"] != nil {
					bad(p, "axe affiché comme un nombre")
				}
			}
		}
		if qt == "series" {
			ind, _ := p.targets()[0]["indicator"].(string)
			if unitOf, ok := k.units[ind]; ok {
				want := plugin.DisplayOf(unitOf)
				c := p.fieldConf("")
				if c["unit"] != want.Unit {
					bad(p, "unité %v, attendu %q pour « %s »", c["unit"], want.Unit, unitOf)
				}
				if dec, ok := asNum(c["decimals"]); !ok || dec != float64(want.Decimals) {
					bad(p, "%v décimales, attendu %d pour « %s »", c["decimals"], want.Decimals, unitOf)
				}
				if want.AxisLabel != "" && p.typ == "timeseries" {
					custom, _ := c["custom"].(map[string]any)
					if custom["axisLabel"] != want.AxisLabel {
						bad(p, "libellé d'axe %v, attendu %q (l'unité d'un taux va sur l'axe, pas sur chaque graduation)", custom["axisLabel"], want.AxisLabel)
					}
				}
			}
		}
	}
	return out
}

func isGauge(c map[string]any) bool {
	co, _ := c["custom.cellOptions"].(map[string]any)
	return co["type"] == "gauge"
}

// checkStatusMappings: a mapping that names an indicator status gives it its one French label and
// colour (plugin.StatusLabels, plugin.StatusColors), and names all the statuses.
func checkStatusMappings(where string, v any) []string {
	b, _ := json.Marshal(v)
	var ms []struct {
		Type    string `json:"type"`
		Options map[string]struct {
			Text  string `json:"text"`
			Color string `json:"color"`
		} `json:"options"`
	}
	if json.Unmarshal(b, &ms) != nil {
		return nil
	}
	var out []string
	for _, m := range ms {
		named := 0
		for k := range m.Options {
			if _, ok := plugin.StatusColors[k]; !ok {
				named = -1 // another vocabulary (milestone deadlines share "en_retard")
				break
			}
		}
		if named < 0 {
			continue
		}
		for k, o := range m.Options {
			if col, ok := plugin.StatusColors[k]; ok {
				named++
				if o.Color != col || o.Text != plugin.StatusLabels[k] {
					out = append(out, fmt.Sprintf("%s : statut %s affiché « %s » en %q, attendu « %s » en %q (une couleur par statut partout)", where, k, o.Text, o.Color, plugin.StatusLabels[k], col))
				}
			}
		}
		if named > 0 && named < len(plugin.StatusColors) {
			out = append(out, fmt.Sprintf("%s : %d statuts sur %d ont un libellé", where, named, len(plugin.StatusColors)))
		}
	}
	return out
}

func rawDashboard(t *testing.T, file string) map[string]any {
	t.Helper()
	b, err := FS.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	var d map[string]any
	if err := json.Unmarshal(b, &d); err != nil {
		t.Fatal(err)
	}
	return d
}

func TestDisplayContract(t *testing.T) {
	k := loadContract(t)
	for _, file := range Files() {
		for _, v := range k.checkDashboard(file, rawDashboard(t, file)) {
			t.Error(v)
		}
	}
}

// Each rule refuses a panel broken on purpose.
func TestContractCatchesBrokenPanels(t *testing.T) {
	k := loadContract(t)
	find := func(d map[string]any, title string) map[string]any {
		for _, p := range contractPanels("", d) {
			if p.title == title {
				return p.raw
			}
		}
		t.Fatalf("panneau %q absent", title)
		return nil
	}
	override := func(p map[string]any, field, id string, v any) {
		fc := p["fieldConfig"].(map[string]any)
		ovs, _ := fc["overrides"].([]any)
		fc["overrides"] = append(ovs, map[string]any{"matcher": map[string]any{"id": "byName", "options": field},
			"properties": []any{map[string]any{"id": id, "value": v}}})
	}
	cases := []struct {
		name, file, want string
		breakIt          func(d map[string]any)
	}{
		{"effectif avec une décimale", "cotech.json", "décimales", func(d map[string]any) {
			find(d, "Conseillers numériques en activité")["fieldConfig"].(map[string]any)["defaults"].(map[string]any)["decimals"] = 1.0
		}},
		{"population avec décimales", "cotech.json", "effectif", func(d map[string]any) {
			override(find(d, "EPCI sous leur cible"), "population", "decimals", 1.0)
		}},
		{"pourcentage sans maximum", "cotech.json", "maximum 100", func(d map[string]any) {
			delete(find(d, "Communes avec au moins un point wifi libre d'accès")["fieldConfig"].(map[string]any)["defaults"].(map[string]any), "max")
		}},
		{"taux en suffixe", "cotech.json", "graduation", func(d map[string]any) {
			find(d, "Accompagnements pour 1 000 habitants")["fieldConfig"].(map[string]any)["defaults"].(map[string]any)["unit"] = "suffix: pour 1 000 hab."
		}},
		{"avancement sans échelle", "cotech.json", "barre d'avancement", func(d map[string]any) {
			override(find(d, "Tous les indicateurs du mois examiné"), "progress", "max", nil)
		}},
		{"date à l'américaine", "cotech.json", "date", func(d map[string]any) {
			override(find(d, "Jalons des actions"), "date_prevue", "unit", "dateTimeAsUS")
		}},
		{"temps relatif en anglais", "collecte.json", "anglais", func(d map[string]any) {
			override(find(d, "Fraîcheur et rejets par source"), "last_run", "unit", "dateTimeFromNow")
		}},
		{"statut sans libellé", "copil.json", "catégorie", func(d map[string]any) {
			override(find(d, "Les 19 indicateurs du dernier mois"), "status", "mappings", nil)
		}},
		{"autre couleur pour un statut", "copil.json", "une couleur par statut", func(d map[string]any) {
			m := statusMappingOf(t, find(d, "Les 19 indicateurs du dernier mois"))
			m["en_bonne_voie"].(map[string]any)["color"] = "green"
		}},
		{"valeur brute d'une colonne mixte", "copil.json", "nombre brut", func(d map[string]any) {
			p := find(d, "Les 19 indicateurs du dernier mois")
			for _, tr := range p["transformations"].([]any) {
				delete(tr.(map[string]any)["options"].(map[string]any)["excludeByName"].(map[string]any), "value")
			}
		}},
		{"titre trop long", "epci.json", "titre trop long", func(d map[string]any) {
			find(d, "Lieux pour 10 000 hab.")["title"] = "Lieux d'accompagnement au numérique pour 10 000 habitants"
		}},
		{"source non provisionnée", "epci.json", "ne provisionne pas", func(d map[string]any) {
			find(d, "EPCI affiché")["datasource"] = map[string]any{"type": "prometheus", "uid": "${prom}"}
		}},
		{"variable sur une source non provisionnée", "cotech.json", "variable ds", func(d map[string]any) {
			for _, v := range d["templating"].(map[string]any)["list"].([]any) {
				if vm := v.(map[string]any); vm["name"] == "ds" {
					vm["query"] = "grafana-clickhouse-datasource"
				}
			}
		}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			d := rawDashboard(t, c.file)
			if v := k.checkDashboard(c.file, d); len(v) != 0 {
				t.Fatalf("tableau intact déjà refusé : %v", v)
			}
			c.breakIt(d)
			v := k.checkDashboard(c.file, d)
			if len(v) == 0 || !strings.Contains(strings.Join(v, "\n"), c.want) {
				t.Errorf("panneau cassé (%s) accepté ou motif absent (%q) : %v", c.name, c.want, v)
			}
		})
	}
}

// statusMappingOf returns the options of a panel's status mapping, to break it.
func statusMappingOf(t *testing.T, p map[string]any) map[string]any {
	for _, o := range p["fieldConfig"].(map[string]any)["overrides"].([]any) {
		om := o.(map[string]any)
		if om["matcher"].(map[string]any)["options"] != "status" {
			continue
		}
		for _, pr := range om["properties"].([]any) {
			pm := pr.(map[string]any)
			if pm["id"] == "mappings" {
				return pm["value"].([]any)[0].(map[string]any)["options"].(map[string]any)
			}
		}
	}
	t.Fatal("pas de libellés de statut")
	return nil
}

// Where Grafana lets the deployment choose (language, date formats), both deployments choose French.
func TestGrafanaLocaleIsFrench(t *testing.T) {
	want := map[string]string{
		"GF_USERS_DEFAULT_LANGUAGE": "fr-FR", "GF_DATE_FORMATS_USE_BROWSER_LOCALE": "false",
		"GF_DATE_FORMATS_FULL_DATE": "DD/MM/YYYY HH:mm:ss", "GF_DATE_FORMATS_INTERVAL_DAY": "DD/MM",
		"GF_DATE_FORMATS_INTERVAL_HOUR": "DD/MM HH:mm", "GF_DATE_FORMATS_INTERVAL_MONTH": "MM/YYYY",
		"GF_DATE_FORMATS_DEFAULT_TIMEZONE": "Europe/Paris", "GF_DATE_FORMATS_DEFAULT_WEEK_START": "monday",
	}
	compose := envOf(t, composeServices(t)["grafana"])
	k8s := map[string]string{}
	for _, d := range readYAMLDocs(t, deployDir+"/k8s/grafana.yaml") {
		walk(d, func(key string, v any) {
			if key != "containers" {
				return
			}
			for _, c := range v.([]any) {
				cm := c.(map[string]any)
				if cm["name"] != "grafana" {
					continue
				}
				for _, e := range cm["env"].([]any) {
					em := e.(map[string]any)
					k8s[toString(em["name"])] = toString(em["value"])
				}
			}
		})
	}
	for k, v := range want {
		if compose[k] != v {
			t.Errorf("docker-compose.yml, grafana : %s=%q, attendu %q", k, compose[k], v)
		}
		if k8s[k] != v {
			t.Errorf("k8s/grafana.yaml : %s=%q, attendu %q", k, k8s[k], v)
		}
	}
}
