package main

import (
	"fmt"
	"strings"

	"github.com/grafana/grafana-foundation-sdk/go/common"
	"github.com/grafana/grafana-foundation-sdk/go/dashboard"
	"github.com/grafana/grafana-foundation-sdk/go/geomap"
	"github.com/grafana/grafana-foundation-sdk/go/stat"
	"github.com/grafana/grafana-foundation-sdk/go/table"
	"github.com/grafana/grafana-foundation-sdk/go/text"
	"github.com/grafana/grafana-foundation-sdk/go/timeseries"

	"github.com/sdaasp-rhone/fne/plugin/pkg/plugin"
)

// The panels every dashboard shares. Each follows the display contract (dashboards/README.md): the
// numbers a table shows are the plugin's French texts (value_text…), raw numbers are hidden; counts
// have 0 decimals, percentages 0–100, rates a short unit; dates are day-first; statuses have their one
// colour.

func tablePanel(title, desc string) *table.PanelBuilder {
	return table.NewPanelBuilder().Title(title).Description(desc).Datasource(dsFNE).
		CellHeight(common.TableCellHeightSm).ShowHeader(true).Align(common.FieldTextAlignmentAuto)
}

func textPanel(title, content string) *text.PanelBuilder {
	return text.NewPanelBuilder().Title(title).Mode(text.TextModeMarkdown).Content(content)
}

// trafficLights is the grid of indicators: label, value, target or reference, status colour and the
// direction of change since the previous month. Raw numbers stay in the frame for sorting, hidden.
func trafficLights(title, desc string, query fneQuery, withAction bool) *table.PanelBuilder {
	keep := []string{"axis", "label", "value_text", "target_text", "target_origin", "status", "change"}
	drop := []string{"id", "value", "unit", "target", "progress", "trend", "last_data"}
	if withAction {
		keep = []string{"action", "label", "value_text", "target_text", "target_origin", "progress", "status", "change", "last_data"}
		drop = []string{"axis", "id", "value", "unit", "target", "trend"}
	} else {
		drop = append(drop, "action")
	}
	return tablePanel(title, desc).Targets(query.targets()).
		WithTransformation(organize(keep, drop...)).
		OverrideByName("axis", rename("Axe", width(70))).
		OverrideByName("action", rename("Action", width(70))).
		OverrideByName("label", rename("Indicateur", minWidth(260))).
		OverrideByName("value_text", rename("Valeur", width(130), prop("custom.align", "right"))).
		OverrideByName("target_text", rename("Cible ou réf.", width(130), prop("custom.align", "right"))).
		OverrideByName("target_origin", rename("Fixée par", width(130), mappings(originMap()))).
		OverrideByName("progress", rename("Avancement", unit("percent"), decimals(0), prop("min", 0), prop("max", 100), width(140), cell("gauge"),
			prop("thresholds", map[string]any{"mode": "absolute", "steps": []map[string]any{
				{"color": "red", "value": nil}, {"color": "orange", "value": 80}, {"color": "green", "value": 100}}}))).
		OverrideByName("status", rename("Statut", width(130), mappings(statusMap()), cell("color-background"))).
		OverrideByName("change", rename("Sur un mois", width(110), mappings(changeMap()))).
		OverrideByName("last_data", rename("Dernière donnée", unit("time:DD/MM/YYYY"), width(130)))
}

// seriesPanel is one indicator's monthly values against its trajectory (dashed).
func (c *catalogueView) seriesPanel(id string, query fneQuery, extra string) *timeseries.PanelBuilder {
	i := c.get(id)
	d := display(i)
	b := timeseries.NewPanelBuilder().Title(i.Label).Description(c.method(id, extra)).Datasource(dsFNE).
		Targets(query.ind(id).targets()).
		Unit(d.Unit).Decimals(float64(d.Decimals)).Min(0).
		ColorScheme(dashboard.NewFieldColorBuilder().Mode(dashboard.FieldColorModeIdPaletteClassic)).
		DrawStyle(common.GraphDrawStyleLine).LineWidth(2).FillOpacity(10).PointSize(5).
		ShowPoints(common.VisibilityModeAlways).LineInterpolation(common.LineInterpolationLinear).
		Legend(common.NewVizLegendOptionsBuilder().ShowLegend(true).DisplayMode(common.LegendDisplayModeList).Placement(common.LegendPlacementBottom)).
		Tooltip(common.NewVizTooltipOptionsBuilder().Mode(common.TooltipDisplayModeMulti).Sort(common.SortOrderNone)).
		OverrideByName("value", rename(i.Label, fixedColor("green"))).
		OverrideByName("target", rename("Trajectoire ou référence",
			prop("custom.lineStyle", map[string]any{"fill": "dash", "dash": []int{10, 10}}),
			fixedColor("orange"), prop("custom.fillOpacity", 0)))
	if d.Max != nil {
		b = b.Max(*d.Max)
	}
	if d.AxisLabel != "" {
		b = b.AxisLabel(d.AxisLabel)
	}
	return b
}

// statPanel is one figure of the last month of the range, the value alone (its target, when there is
// one, is in the description and in the indicator tables).
func (c *catalogueView) statPanel(id, title string, query fneQuery, extra string) *stat.PanelBuilder {
	i := c.get(id)
	d := display(i)
	if title == "" {
		title = i.Label
	}
	b := stat.NewPanelBuilder().Title(title).Description(c.method(id, extra)).Datasource(dsFNE).
		Targets(query.ind(id).targets()).
		WithTransformation(organize([]string{"time", "value"}, "target")).
		Unit(d.Unit).Decimals(float64(d.Decimals)).Min(0).NoValue("Aucune donnée").
		ColorScheme(dashboard.NewFieldColorBuilder().Mode(dashboard.FieldColorModeIdFixed).FixedColor("blue")).
		ReduceOptions(common.NewReduceDataOptionsBuilder().Calcs([]string{"lastNotNull"}).Values(false)).
		TextMode(common.BigValueTextModeValue).ColorMode(common.BigValueColorModeValue).
		GraphMode(common.BigValueGraphModeArea).JustifyMode(common.BigValueJustifyModeAuto).
		Orientation(common.VizOrientationAuto).WideLayout(true).ShowPercentChange(false)
	if d.Max != nil {
		b = b.Max(*d.Max)
	}
	return b
}

// axisTile counts one axis's indicators per status, worst first, each in its status colour.
func axisTile(axis int, query fneQuery) *stat.PanelBuilder {
	b := stat.NewPanelBuilder().
		Title(fmt.Sprintf("%s — %s", plugin.AxisLabel(axis), plugin.AxisTitles[axis])).
		Description(fmt.Sprintf("Nombre d'indicateurs de l'axe %d (« %s ») dans chaque statut pour le dernier mois de la période, du plus préoccupant au meilleur. "+
			"Atteint : la cible est atteinte ; en bonne voie : au moins la trajectoire vers la cible ; à surveiller : au moins 80 %% de la trajectoire ; en retard : en dessous.",
			axis, plugin.AxisTitles[axis])).
		Datasource(dsFNE).Targets(query.axis(axis).targets()).
		WithTransformation(organize(statusesWorstFirst, "axis", "title", "territory_name", "period_label")).
		Decimals(0).Min(0).NoValue("Aucune donnée").
		ReduceOptions(common.NewReduceDataOptionsBuilder().Calcs([]string{"lastNotNull"}).Values(false)).
		TextMode(common.BigValueTextModeValueAndName).ColorMode(common.BigValueColorModeBackground).
		GraphMode(common.BigValueGraphModeNone).JustifyMode(common.BigValueJustifyModeCenter).
		Orientation(common.VizOrientationAuto).WideLayout(true).ShowPercentChange(false)
	for _, st := range statusesWorstFirst {
		b = b.OverrideByName(st, rename(plugin.StatusLabels[st], fixedColor(plugin.StatusColors[st]), decimals(0)))
	}
	return b
}

// textStat shows one text field of the axes frame (territory_name, period_label) as a big value.
func textStat(title, desc, field string, query fneQuery, noValue string) *stat.PanelBuilder {
	drop := append([]string{"axis", "title", "territory_name", "period_label"}, statusesWorstFirst...)
	keep := []string{field}
	var others []string
	for _, d := range drop {
		if d != field {
			others = append(others, d)
		}
	}
	return stat.NewPanelBuilder().Title(title).Description(desc).Datasource(dsFNE).Targets(query.targets()).
		WithTransformation(organize(keep, others...)).
		ReduceOptions(common.NewReduceDataOptionsBuilder().Calcs([]string{"lastNotNull"}).Values(false).Fields("/.*/")).
		TextMode(common.BigValueTextModeValue).ColorMode(common.BigValueColorModeNone).
		GraphMode(common.BigValueGraphModeNone).JustifyMode(common.BigValueJustifyModeAuto).
		Orientation(common.VizOrientationAuto).WideLayout(true).ShowPercentChange(false).NoValue(noValue)
}

// monthStat names the month every status of the page is evaluated for (« octobre 2026 »).
func monthStat(title string, query fneQuery) *stat.PanelBuilder {
	return textStat(title, "Le mois pour lequel les statuts sont évalués : celui qui contient la fin de la période choisie (par défaut le dernier mois complet).",
		"period_label", query.axis(1), "Aucun mois")
}

// milestonesPanel lists milestones; due > 0 keeps only the late ones and those due within due months.
func milestonesPanel(title, desc string, query fneQuery, compact bool) *table.PanelBuilder {
	keep := []string{"action", "jalon", "libelle", "statut", "date_prevue", "date_realisee", "echeance"}
	drop := []string{"en_retard"}
	if compact {
		keep = []string{"action", "libelle", "date_prevue", "echeance"}
		drop = append(drop, "jalon", "statut", "date_realisee")
	}
	return tablePanel(title, desc).Targets(query.targets()).
		WithTransformation(organize(keep, drop...)).
		NoValue("Aucun jalon en retard ni à échéance").
		OverrideByName("action", rename("Action", width(70))).
		OverrideByName("jalon", rename("Jalon", width(110))).
		OverrideByName("libelle", rename("Libellé", minWidth(220))).
		OverrideByName("statut", rename("Statut", width(110), mappings(milestoneMap()), cell("color-text"))).
		OverrideByName("date_prevue", rename("Date prévue", unit("time:DD/MM/YYYY"), width(110))).
		OverrideByName("date_realisee", rename("Réalisé le", unit("time:DD/MM/YYYY"), width(110))).
		OverrideByName("echeance", rename("Échéance", width(170), mappings(echeanceMap()), cell("color-background"))).
		SortBy([]sortBuilder{sortState("Date prévue", false)})
}

// freshnessPanel is one row per source: last run, last success (French relative times), newest data,
// rejects of the last run, freshness.
func freshnessPanel(title, desc string) *table.PanelBuilder {
	keep := []string{"source", "last_status", "last_run_ago", "last_success_ago", "last_data", "rows_rejected", "stale"}
	return tablePanel(title, desc).Targets(q("A", "freshness").targets()).
		WithTransformation(organize(keep, "last_run", "last_success")).
		OverrideByName("source", rename("Source", minWidth(200), mappings(valueMap(sources, sourceLabels, nil)))).
		OverrideByName("last_status", rename("Dernière exécution", mappings(runMap()), cell("color-text"))).
		OverrideByName("last_run_ago", rename("Dernier passage")).
		OverrideByName("last_success_ago", rename("Dernier succès")).
		OverrideByName("last_data", rename("Donnée la plus récente", unit("time:DD/MM/YYYY"))).
		OverrideByName("rows_rejected", rename("Rejets (dernier passage)", decimals(0), cell("color-text"),
			prop("thresholds", map[string]any{"mode": "absolute", "steps": []map[string]any{{"color": "green", "value": nil}, {"color": "orange", "value": 1}}}))).
		OverrideByName("stale", rename("Fraîcheur", mappings(valueMap([]string{"true", "false"},
			map[string]string{"true": "Données anciennes", "false": "À jour"}, map[string]string{"true": "red", "false": "green"})), cell("color-background")))
}

// sources are every source the engine reports on (engine.Freshness), in its order.
var sources = []string{"activites", "structures", "lieux", "consultations", "rencontres", "participations", "equipements", "jalons"}

var sourceLabels = map[string]string{
	"activites": "Activités (Coop)", "structures": "Structures (Coop)", "lieux": "Lieux (cartographie)",
	"consultations": "Consultations (cartographie)", "rencontres": "Rencontres", "participations": "Participations aux rencontres",
	"equipements": "Équipements et connexion", "jalons": "Jalons de la feuille de route",
}

func runMap() []dashboard.ValueMapping {
	return valueMap([]string{"succes", "partiel", "echec", "en_cours"},
		map[string]string{"succes": "Succès", "partiel": "Partiel (rejets)", "echec": "Échec", "en_cours": "En cours"},
		map[string]string{"succes": "green", "partiel": "orange", "echec": "red", "en_cours": "blue"})
}

// gapsPanel lists territories of one level under a target, the most populated first.
func gapsPanel(title, desc, nameLabel string, query fneQuery) *table.PanelBuilder {
	keep := []string{"name", "indicator_label", "label", "value_text", "target_text", "population"}
	return tablePanel(title, desc).Targets(query.targets()).
		WithTransformation(organize(keep, "territory", "indicator", "value", "target", "level")).
		NoValue("Aucun territoire sous sa cible").
		OverrideByName("name", rename(nameLabel, minWidth(160))).
		OverrideByName("indicator_label", rename("Indicateur", minWidth(200))).
		OverrideByName("label", rename("Manque constaté", minWidth(200))).
		OverrideByName("value_text", rename("Valeur", width(110), prop("custom.align", "right"))).
		OverrideByName("target_text", rename("Cible", width(110), prop("custom.align", "right"))).
		OverrideByName("population", rename("Population", decimals(0), width(110))).
		SortBy([]sortBuilder{sortState("Population", true)})
}

// markerMap is a geomap with one markers layer: one point per territory of the breakdown, sized by
// population and coloured by status. The legend is off: the status colours are those of every table,
// and a legend box would cover markers.
func markerMap(title, desc string, query fneQuery, sizeMax int) *geomap.PanelBuilder {
	style := map[string]any{
		"color":       map[string]any{"field": "status", "fixed": "#8e8e8e"},
		"size":        map[string]any{"field": "population", "fixed": 8, "min": 6, "max": sizeMax},
		"opacity":     0.8,
		"symbol":      map[string]any{"fixed": "img/icons/marker/circle.svg", "mode": "fixed"},
		"symbolAlign": map[string]any{"horizontal": "center", "vertical": "center"},
		"textConfig":  map[string]any{"fontSize": 12, "offsetX": 0, "offsetY": 0, "textAlign": "center", "textBaseline": "middle"},
		"rotation":    map[string]any{"fixed": 0, "max": 360, "min": -360, "mode": "mod"},
	}
	layer := common.MapLayerOptions{
		Type: "markers", Name: "Statut par territoire",
		Config:   map[string]any{"showLegend": false, "style": style},
		Location: &common.FrameGeometrySource{Mode: common.FrameGeometrySourceModeCoords, Latitude: ptr("latitude"), Longitude: ptr("longitude")},
		Tooltip:  ptr(true),
	}
	return geomap.NewPanelBuilder().Title(title).Description(desc).Datasource(dsFNE).Targets(query.targets()).
		View(geomap.NewMapViewConfigBuilder().Id("fit").Padding(10).AllLayers(true).Zoom(9)).
		Controls(geomap.NewControlsOptionsBuilder().ShowZoom(true).MouseWheelZoom(false).ShowAttribution(true).ShowScale(true)).
		Basemap(common.NewMapLayerOptionsBuilder().Type("default").Name("Fond de carte")).
		Layers([]cogMapLayer{mapLayer(layer)}).
		Tooltip(geomap.NewTooltipOptionsBuilder().Mode(geomap.TooltipModeDetails)).
		OverrideByName("status", rename("Statut", mappings(statusMap()))).
		OverrideByName("name", rename("Territoire")).
		OverrideByName("population", rename("Population", decimals(0))).
		OverrideByName("value_text", rename("Valeur"))
}

// markdownList joins lines into a Markdown list.
func markdownList(lines ...string) string { return "- " + strings.Join(lines, "\n- ") }
