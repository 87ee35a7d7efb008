package main

import (
	"fmt"
	"strings"

	"github.com/grafana/grafana-foundation-sdk/go/cog"
	"github.com/grafana/grafana-foundation-sdk/go/dashboard"

	"github.com/sdaasp-rhone/fne/plugin/pkg/plugin"
)

// schemaVersion is the dashboard schema of Grafana 10.4 and later.
const schemaVersion = 39

// newDashboard sets what the four dashboards share: French week, browser time zone, shared crosshair,
// the built-in annotations and a menu of the FNE dashboards.
func newDashboard(uid, title, desc, tag, from, to, refresh string, vars ...cog.Builder[dashboard.VariableModel]) (*layout, error) {
	b := dashboard.NewDashboardBuilder(title).Uid(uid).Description(desc).Tags([]string{"fne", tag}).
		Timezone("browser").WeekStart("monday").Tooltip(dashboard.DashboardCursorSyncCrosshair).
		Editable().Time(from, to).FiscalYearStartMonth(0).LiveNow(false).Refresh(refresh).Version(1).
		Annotation(dashboard.NewAnnotationQueryBuilder().Name("Annotations et alertes").BuiltIn(1).Enable(true).Hide(true).
			IconColor("rgba(0, 211, 255, 1)").Type("dashboard").
			Datasource(dashboard.DataSourceRef{Type: ptr("grafana"), Uid: ptr("-- Grafana --")})).
		Link(dashboard.NewDashboardLinkBuilder("Tableaux de bord FNE").Type(dashboard.DashboardLinkTypeDashboards).
			Tags([]string{"fne"}).AsDropdown(true).KeepTime(true).IncludeVars(false).TargetBlank(false).Icon("external link").Tooltip("").Url(""))
	for _, v := range vars {
		b = b.WithVariable(v)
	}
	d, err := b.Build()
	if err != nil {
		return nil, err
	}
	d.SchemaVersion = schemaVersion
	return &layout{d: &d}, nil
}

func dsVar() cog.Builder[dashboard.VariableModel] {
	return dashboard.NewDatasourceVariableBuilder("ds").Label("Source des indicateurs").Type(plugin.PluginID).
		Description("Source de données FNE (une par organisation ; celle d'un EPCI ne voit que son territoire).")
}

func promVar() cog.Builder[dashboard.VariableModel] {
	return dashboard.NewDatasourceVariableBuilder("prom").Label("Prometheus").Type("prometheus").
		Description("Prometheus qui relève les métriques du collecteur (/metrics).")
}

// pluginVar is a template variable served by the plugin (kind epci, communes, axes, indicators).
func pluginVar(name, label, kind, desc string, current *dashboard.VariableOption) cog.Builder[dashboard.VariableModel] {
	b := dashboard.NewQueryVariableBuilder(name).Label(label).Description(desc).Datasource(dsFNE).
		Query(dashboard.StringOrMap{Map: map[string]any{"refId": "VariableQuery", "kind": kind}}).
		Definition(label).Refresh(dashboard.VariableRefreshOnDashboardLoad).Sort(dashboard.VariableSortDisabled).
		IncludeAll(false).Multi(false)
	if current != nil {
		b = b.Current(*current)
	}
	return b
}

func option(text, value string) *dashboard.VariableOption {
	return &dashboard.VariableOption{Selected: ptr(true), Text: dashboard.StringOrArrayOfString{String: ptr(text)}, Value: dashboard.StringOrArrayOfString{String: ptr(value)}}
}

// customVar is a fixed list of choices "texte : valeur".
func customVar(name, label, desc string, choices [][2]string) cog.Builder[dashboard.VariableModel] {
	parts := make([]string, len(choices))
	opts := make([]dashboard.VariableOption, len(choices))
	for i, c := range choices {
		parts[i] = c[0] + " : " + c[1]
		o := option(c[0], c[1])
		o.Selected = ptr(i == 0)
		opts[i] = *o
	}
	return dashboard.NewCustomVariableBuilder(name).Label(label).Description(desc).
		Values(dashboard.StringOrMap{String: ptr(strings.Join(parts, ", "))}).
		Current(*option(choices[0][0], choices[0][1])).Options(opts).IncludeAll(false).Multi(false)
}

// indicatorVar chooses one indicator (maps and comparisons), def by default.
func (c *catalogueView) indicatorVar(def, desc string) cog.Builder[dashboard.VariableModel] {
	return pluginVar("indicateur", "Indicateur", "indicators", desc, option(c.get(def).Label, def))
}

func axisDesc(c *catalogueView, axis int) string {
	var ms []string
	for _, i := range c.ofAxis(axis) {
		ms = append(ms, fmt.Sprintf("%s : %s", i.Label, strings.Join(strings.Fields(i.Definition), " ")))
	}
	return "Méthodes — " + strings.Join(ms, " ")
}

const statusRule = "Statut : atteint (la cible est atteinte) ; en bonne voie (au moins la trajectoire linéaire de la valeur de départ à la cible) ; " +
	"à surveiller (au moins 80 % de la trajectoire) ; en retard ; sans données."

type cogVar = cog.Builder[dashboard.VariableModel]
