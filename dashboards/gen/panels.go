package main

import (
	"fmt"
	"reflect"
	"sort"
	"strings"

	"github.com/grafana/grafana-foundation-sdk/go/cog"
	"github.com/grafana/grafana-foundation-sdk/go/cog/variants"
	"github.com/grafana/grafana-foundation-sdk/go/common"
	"github.com/grafana/grafana-foundation-sdk/go/dashboard"

	"github.com/sdaasp-rhone/fne/internal/catalogue"
	"github.com/sdaasp-rhone/fne/internal/engine"
	"github.com/sdaasp-rhone/fne/plugin/pkg/plugin"
)

// Data sources are template variables (${ds}, ${prom}): the same file serves the département's
// organisation and every EPCI organisation, whose datasource is scoped to its EPCI.
var (
	dsFNE  = common.DataSourceRef{Type: ptr(plugin.PluginID), Uid: ptr("${ds}")}
	dsProm = common.DataSourceRef{Type: ptr("prometheus"), Uid: ptr("${prom}")}
)

func ptr[T any](v T) *T { return &v }

// catalogueView is the catalogue as the dashboards read it.
type catalogueView struct {
	byID map[string]catalogue.Indicator
	list []catalogue.Indicator
}

func loadCatalogue() (*catalogueView, error) {
	c, err := catalogue.Load()
	if err != nil {
		return nil, err
	}
	v := &catalogueView{byID: map[string]catalogue.Indicator{}, list: c.Indicators}
	for _, i := range c.Indicators {
		v.byID[i.ID] = i
	}
	return v, nil
}

func (c *catalogueView) get(id string) catalogue.Indicator {
	i, ok := c.byID[id]
	if !ok {
		panic("indicateur inconnu du catalogue : " + id)
	}
	return i
}

// ofAxis lists the indicators of an axis in catalogue order.
func (c *catalogueView) ofAxis(axis int) []catalogue.Indicator {
	var out []catalogue.Indicator
	for _, i := range c.list {
		if i.Axis == axis {
			out = append(out, i)
		}
	}
	return out
}

// method is a panel description: the indicator's label and how it is computed.
func (c *catalogueView) method(id, extra string) string {
	i := c.get(id)
	return fmt.Sprintf("%s — méthode : %s%s", i.Label, strings.Join(strings.Fields(i.Definition), " "), extra)
}

// fneQuery is a query of the FNE datasource plugin (its query model, plugin/pkg/plugin/query.go),
// a Foundation SDK data query variant.
type fneQuery struct {
	RefID        string                `json:"refId"`
	Datasource   *common.DataSourceRef `json:"datasource,omitempty"`
	QueryType    string                `json:"queryType"`
	Indicator    string                `json:"indicator,omitempty"`
	Territory    string                `json:"territory,omitempty"`
	Axis         *int                  `json:"axis,omitempty"`
	Level        string                `json:"level,omitempty"`
	DueWithin    int                   `json:"dueWithin,omitempty"`
	DefaultLevel string                `json:"defaultLevel,omitempty"`
}

func (fneQuery) ImplementsDataqueryVariant() {}
func (q fneQuery) Equals(o variants.Dataquery) bool {
	p, ok := o.(fneQuery)
	return ok && reflect.DeepEqual(q, p)
}
func (fneQuery) DataqueryType() string { return plugin.PluginID }
func (q fneQuery) Validate() error {
	if q.QueryType == "" {
		return fmt.Errorf("requête %s sans type", q.RefID)
	}
	return nil
}

// Build makes a query its own builder.
func (q fneQuery) Build() (variants.Dataquery, error) { return q, q.Validate() }

func q(ref, qtype string) fneQuery {
	return fneQuery{RefID: ref, Datasource: &dsFNE, QueryType: qtype}
}

func (q fneQuery) ind(id string) fneQuery  { q.Indicator = id; return q }
func (q fneQuery) terr(t string) fneQuery  { q.Territory = t; return q }
func (q fneQuery) axis(a int) fneQuery     { q.Axis = &a; return q }
func (q fneQuery) level(l string) fneQuery { q.Level = l; return q }
func (q fneQuery) due(months int) fneQuery { q.DueWithin = months; return q }
func (q fneQuery) oneEPCI() fneQuery       { q.DefaultLevel = "epci"; return q }
func (q fneQuery) epci() fneQuery          { return q.terr("$epci").oneEPCI() }
func (q fneQuery) targets() []cog.Builder[variants.Dataquery] {
	return []cog.Builder[variants.Dataquery]{q}
}

// queries lists several queries of one panel.
func queries(qs ...fneQuery) []cog.Builder[variants.Dataquery] {
	out := make([]cog.Builder[variants.Dataquery], len(qs))
	for i, q := range qs {
		out[i] = q
	}
	return out
}

// promQuery is a Prometheus query in code mode.
type promQuery struct {
	RefID        string                `json:"refId"`
	Datasource   *common.DataSourceRef `json:"datasource"`
	Expr         string                `json:"expr"`
	LegendFormat string                `json:"legendFormat"`
	Range        bool                  `json:"range"`
	Instant      bool                  `json:"instant"`
	EditorMode   string                `json:"editorMode"`
}

func (promQuery) ImplementsDataqueryVariant() {}
func (p promQuery) Equals(o variants.Dataquery) bool {
	x, ok := o.(promQuery)
	return ok && x == p
}
func (promQuery) DataqueryType() string { return "prometheus" }
func (promQuery) Validate() error       { return nil }

// Build makes a query its own builder.
func (p promQuery) Build() (variants.Dataquery, error) { return p, nil }

func (p promQuery) targets() []cog.Builder[variants.Dataquery] {
	return []cog.Builder[variants.Dataquery]{p}
}

func prom(ref, expr, legend string, instant bool) promQuery {
	return promQuery{RefID: ref, Datasource: &dsProm, Expr: expr, LegendFormat: legend, Range: !instant, Instant: instant, EditorMode: "code"}
}

// layout places panels on Grafana's 24-column grid, left to right, wrapping lines.
type layout struct {
	d          *dashboard.Dashboard
	id         uint32
	x, y, rowH uint32
}

// add places a built panel of w×h at the current position.
func (l *layout) add(b cog.Builder[dashboard.Panel], w, h uint32) {
	if l.x+w > 24 {
		l.newline()
	}
	l.put(b, l.x, l.y, w, h)
	l.x += w
	l.rowH = max(l.rowH, h)
}

// put places a panel at an explicit position (layouts with stacked columns).
func (l *layout) put(b cog.Builder[dashboard.Panel], x, y, w, h uint32) {
	p, err := b.Build()
	if err != nil {
		panic(err)
	}
	l.id++
	p.Id = ptr(l.id)
	p.GridPos = &dashboard.GridPos{X: x, Y: y, W: w, H: h}
	l.d.Panels = append(l.d.Panels, dashboard.PanelOrRowPanel{Panel: &p})
}

func (l *layout) newline() {
	l.y += l.rowH
	l.x, l.rowH = 0, 0
}

// row starts a section (an expanded row: its panels follow it at top level, as Grafana stores them).
func (l *layout) row(title string) {
	l.newline()
	l.id++
	l.d.Panels = append(l.d.Panels, dashboard.PanelOrRowPanel{RowPanel: &dashboard.RowPanel{
		Type: "row", Title: ptr(title), Id: l.id, Collapsed: false, Panels: []dashboard.Panel{},
		GridPos: &dashboard.GridPos{X: 0, Y: l.y, W: 24, H: 1},
	}})
	l.y++
}

// ---- field config helpers

func prop(id string, v any) dashboard.DynamicConfigValue {
	return dashboard.DynamicConfigValue{Id: id, Value: v}
}

func rename(display string, more ...dashboard.DynamicConfigValue) []dashboard.DynamicConfigValue {
	return append([]dashboard.DynamicConfigValue{prop("displayName", display)}, more...)
}

func width(px int) dashboard.DynamicConfigValue    { return prop("custom.width", px) }
func minWidth(px int) dashboard.DynamicConfigValue { return prop("custom.minWidth", px) }
func decimals(n int) dashboard.DynamicConfigValue  { return prop("decimals", n) }
func unit(u string) dashboard.DynamicConfigValue   { return prop("unit", u) }
func fixedColor(c string) dashboard.DynamicConfigValue {
	return prop("color", map[string]any{"mode": "fixed", "fixedColor": c})
}
func cell(kind string) dashboard.DynamicConfigValue {
	switch kind {
	case "color-background":
		return prop("custom.cellOptions", map[string]any{"type": kind, "mode": "basic"})
	case "gauge":
		return prop("custom.cellOptions", map[string]any{"type": kind, "mode": "basic", "valueDisplayMode": "text"})
	}
	return prop("custom.cellOptions", map[string]any{"type": kind})
}
func mappings(m []dashboard.ValueMapping) dashboard.DynamicConfigValue { return prop("mappings", m) }

// valueMap turns text/colour pairs into a Grafana value mapping, in the order given.
func valueMap(keys []string, text, color map[string]string) []dashboard.ValueMapping {
	opts := map[string]dashboard.ValueMappingResult{}
	for i, k := range keys {
		r := dashboard.ValueMappingResult{Text: ptr(text[k]), Index: ptr(int32(i))}
		if c := color[k]; c != "" {
			r.Color = ptr(c)
		}
		opts[k] = r
	}
	return []dashboard.ValueMapping{{ValueMap: &dashboard.ValueMap{Type: dashboard.MappingTypeValueToText, Options: opts}}}
}

// statusMap is the French label and the one colour of each status (plugin.StatusColors).
func statusMap() []dashboard.ValueMapping {
	return valueMap(plugin.StatusOrder, plugin.StatusLabels, plugin.StatusColors)
}

var milestoneStatuses = []string{"a_lancer", "en_cours", "realise", "abandonne"}

func milestoneMap() []dashboard.ValueMapping {
	return valueMap(milestoneStatuses,
		map[string]string{"a_lancer": "À lancer", "en_cours": "En cours", "realise": "Réalisé", "abandonne": "Abandonné"},
		map[string]string{"a_lancer": "#8e8e8e", "en_cours": "blue", "realise": "green", "abandonne": "purple"})
}

func echeanceMap() []dashboard.ValueMapping {
	keys := []string{plugin.EcheanceRetard, plugin.EcheanceProche, plugin.EcheanceAVenir, plugin.EcheanceRealise, plugin.EcheanceAbandon}
	return valueMap(keys,
		map[string]string{plugin.EcheanceRetard: "En retard", plugin.EcheanceProche: "Échéance sous 3 mois", plugin.EcheanceAVenir: "À venir",
			plugin.EcheanceRealise: "Réalisé", plugin.EcheanceAbandon: "Abandonné"},
		map[string]string{plugin.EcheanceRetard: "red", plugin.EcheanceProche: "orange", plugin.EcheanceAVenir: "blue",
			plugin.EcheanceRealise: "green", plugin.EcheanceAbandon: "purple"})
}

// originMap says in a narrow column who set a target: the roadmap's own commitment, or a default the
// COPIL chose (catalogue target_origin); the plugin's longer labels stay in the field's own mapping.
func originMap() []dashboard.ValueMapping {
	return valueMap([]string{catalogue.TargetFeuilleDeRoute, catalogue.TargetCopil},
		map[string]string{catalogue.TargetFeuilleDeRoute: "Feuille de route", catalogue.TargetCopil: "Défaut COPIL"},
		map[string]string{catalogue.TargetFeuilleDeRoute: "blue", catalogue.TargetCopil: "#8e8e8e"})
}

func changeMap() []dashboard.ValueMapping {
	return valueMap([]string{"hausse", "baisse", "stable"},
		map[string]string{"hausse": "▲ hausse", "baisse": "▼ baisse", "stable": "= stable"}, nil)
}

func directionMap() []dashboard.ValueMapping {
	return valueMap([]string{plugin.ChangeWorse, plugin.ChangeBetter},
		map[string]string{plugin.ChangeWorse: "▼ se dégrade", plugin.ChangeBetter: "▲ s'améliore"},
		map[string]string{plugin.ChangeWorse: "red", plugin.ChangeBetter: "green"})
}

// organize keeps the listed fields in that order and drops every other one named in drop.
func organize(keep []string, drop ...string) dashboard.DataTransformerConfig {
	index := map[string]int{}
	for i, k := range keep {
		index[k] = i
	}
	excl := map[string]bool{}
	for _, d := range drop {
		excl[d] = true
	}
	return dashboard.DataTransformerConfig{Id: "organize", Options: map[string]any{
		"excludeByName": excl, "indexByName": index, "renameByName": map[string]string{},
	}}
}

// display is a catalogue unit's display, as the plugin sends it.
func display(i catalogue.Indicator) plugin.Display { return plugin.DisplayOf(i.Unit) }

// sortedKeys is for deterministic output.
func sortedKeys[V any](m map[string]V) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

// statusesWorstFirst are the statuses a committee reads, worst first.
var statusesWorstFirst = []string{engine.StatusEnRetard, engine.StatusASurveiller, engine.StatusBonneVoie, engine.StatusAtteint, engine.StatusSansDonnees}

// built is an already built value as a builder (the SDK's list options take builders).
type built[T any] struct{ v T }

func (b built[T]) Build() (T, error) { return b.v, nil }

type sortBuilder = cog.Builder[common.TableSortByFieldState]
type cogMapLayer = cog.Builder[common.MapLayerOptions]

func sortState(display string, desc bool) sortBuilder {
	return built[common.TableSortByFieldState]{common.TableSortByFieldState{DisplayName: display, Desc: ptr(desc)}}
}

func mapLayer(l common.MapLayerOptions) cogMapLayer { return built[common.MapLayerOptions]{l} }
