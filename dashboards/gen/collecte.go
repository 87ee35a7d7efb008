package main

import (
	"github.com/grafana/grafana-foundation-sdk/go/bargauge"
	"github.com/grafana/grafana-foundation-sdk/go/common"
	"github.com/grafana/grafana-foundation-sdk/go/dashboard"
	"github.com/grafana/grafana-foundation-sdk/go/stat"
	"github.com/grafana/grafana-foundation-sdk/go/timeseries"
)

// collecte is « Collecte des données »: every source with its last run, last success, newest data,
// rejects and freshness (from the database, through the plugin), then the collector's metrics
// (Prometheus).
func collecte(c *catalogueView) (dashboard.Dashboard, error) {
	srcVar := dashboard.NewQueryVariableBuilder("source").Label("Source").Datasource(dsProm).
		Description("Sources du collecteur (filtre les panneaux Prometheus).").
		Query(dashboard.StringOrMap{Map: map[string]any{"qryType": 1, "query": "label_values(fne_ingest_runs_total, source)", "refId": "PrometheusVariableQueryEditor-VariableQuery"}}).
		Definition("label_values(fne_ingest_runs_total, source)").Refresh(dashboard.VariableRefreshOnTimeRangeChanged).
		Sort(dashboard.VariableSortAlphabeticalAsc).IncludeAll(true).AllValue(".*").Multi(true).
		Current(dashboard.VariableOption{Selected: ptr(true), Text: dashboard.StringOrArrayOfString{ArrayOfString: []string{"Toutes"}},
			Value: dashboard.StringOrArrayOfString{ArrayOfString: []string{"$__all"}}})
	l, err := newDashboard("fne-collecte", "Collecte des données",
		"Santé de la collecte : pour chaque source, dernier passage, dernier succès, donnée la plus récente, rejets et fraîcheur (base ClickHouse) ; débit, rejets par motif, durée et échecs des passages du collecteur (Prometheus).",
		"collecte", "now-7d", "now", "5m", dsVar(), promVar(), srcVar)
	if err != nil {
		return dashboard.Dashboard{}, err
	}
	l.add(textPanel("Lire ce tableau de bord",
		"Le tableau du haut vient de la base (table des passages du collecteur) : une ligne par source, y compris équipements et jalons. "+
			"Les autres panneaux viennent des métriques du collecteur (`/metrics`, port 9464) relevées par Prometheus. "+
			"Le détail ligne à ligne des rejets s'obtient avec `fne rejects`."), 24, 3)
	l.row("Fraîcheur par source")
	l.add(freshnessPanel("Fraîcheur et rejets par source",
		"Par source, d'après la table des passages du collecteur : statut du dernier passage, dernier passage et dernier succès (temps écoulé), "+
			"date de la donnée la plus récente (jamais dans le futur : une rencontre prévue ne compte pas), lignes rejetées au dernier passage, "+
			"« Données anciennes » si la source n'a pas été mise à jour dans le délai attendu."), 24, 10)

	l.row("Collecteur (Prometheus)")
	l.add(stat.NewPanelBuilder().Title("Collecteur joignable").
		Description("1 si Prometheus a pu lire /metrics du collecteur lors du dernier relevé (métrique up du job fne-collecteur).").
		Datasource(dsProm).Targets(prom("A", `max(up{job="fne-collecteur"})`, "Collecteur", true).targets()).
		Mappings(valueMap([]string{"0", "1"}, map[string]string{"0": "Injoignable", "1": "Joignable"}, map[string]string{"0": "red", "1": "green"})).
		NoValue("Aucune mesure").Decimals(0).
		ColorScheme(dashboard.NewFieldColorBuilder().Mode(dashboard.FieldColorModeIdThresholds)).
		Thresholds(dashboard.NewThresholdsConfigBuilder().Mode(dashboard.ThresholdsModeAbsolute).Steps([]dashboard.Threshold{{Color: "red"}, {Color: "green", Value: ptr(1.0)}})).
		ReduceOptions(common.NewReduceDataOptionsBuilder().Calcs([]string{"lastNotNull"}).Values(false)).
		ColorMode(common.BigValueColorModeBackground).GraphMode(common.BigValueGraphModeNone).TextMode(common.BigValueTextModeValue).
		JustifyMode(common.BigValueJustifyModeAuto).Orientation(common.VizOrientationAuto).WideLayout(true).ShowPercentChange(false), 6, 6)
	l.add(bargauge.NewPanelBuilder().Title("Temps écoulé depuis le dernier succès").
		Description("Par source : maintenant moins fne_ingest_last_success_timestamp_seconds (horodatage du dernier passage réussi).").
		Datasource(dsProm).Targets(prom("A", `time() - max by (source) (fne_ingest_last_success_timestamp_seconds{source=~"$source"})`, "{{source}}", true).targets()).
		Unit("s").Min(0).Decimals(0).
		ColorScheme(dashboard.NewFieldColorBuilder().Mode(dashboard.FieldColorModeIdThresholds)).
		Thresholds(dashboard.NewThresholdsConfigBuilder().Mode(dashboard.ThresholdsModeAbsolute).Steps([]dashboard.Threshold{{Color: "green"}, {Color: "orange", Value: ptr(90000.0)}, {Color: "red", Value: ptr(259200.0)}})).
		ReduceOptions(common.NewReduceDataOptionsBuilder().Calcs([]string{"lastNotNull"}).Values(false)).
		Orientation(common.VizOrientationHorizontal).DisplayMode(common.BarGaugeDisplayModeBasic).ShowUnfilled(true).
		ValueMode(common.BarGaugeValueModeColor).NamePlacement(common.BarGaugeNamePlacementAuto).Sizing(common.BarGaugeSizingAuto).
		MinVizHeight(16).MinVizWidth(8).MaxVizHeight(300), 18, 6)
	l.add(promSeries("Lignes écrites par source", "Lignes écrites dans ClickHouse par intervalle, par source (augmentation de fne_ingest_rows_written_total).",
		prom("A", `sum by (source) (increase(fne_ingest_rows_written_total{source=~"$source"}[$__interval]))`, "{{source}}", false), "short", true), 12, 9)
	l.add(promSeries("Lignes rejetées par motif", "Lignes rejetées par intervalle, par source et motif (augmentation de fne_ingest_rows_rejected_total). Le détail est dans la table des rejets (fne rejects).",
		prom("A", `sum by (source, reason) (increase(fne_ingest_rows_rejected_total{source=~"$source"}[$__interval]))`, "{{source}} — {{reason}}", false), "short", true), 12, 9)
	l.add(bargauge.NewPanelBuilder().Title("Taux de rejet sur la période").
		Description("Par source : lignes rejetées / lignes lues sur la période affichée (fne_ingest_rows_rejected_total et fne_ingest_rows_read_total).").
		Datasource(dsProm).Targets(prom("A", `100 * sum by (source) (increase(fne_ingest_rows_rejected_total{source=~"$source"}[$__range])) / clamp_min(sum by (source) (increase(fne_ingest_rows_read_total{source=~"$source"}[$__range])), 1)`, "{{source}}", true).targets()).
		Unit("percent").Min(0).Max(100).Decimals(1).
		ColorScheme(dashboard.NewFieldColorBuilder().Mode(dashboard.FieldColorModeIdThresholds)).
		Thresholds(dashboard.NewThresholdsConfigBuilder().Mode(dashboard.ThresholdsModeAbsolute).Steps([]dashboard.Threshold{{Color: "green"}, {Color: "orange", Value: ptr(1.0)}, {Color: "red", Value: ptr(10.0)}})).
		ReduceOptions(common.NewReduceDataOptionsBuilder().Calcs([]string{"lastNotNull"}).Values(false)).
		Orientation(common.VizOrientationHorizontal).DisplayMode(common.BarGaugeDisplayModeGradient).ShowUnfilled(true).
		ValueMode(common.BarGaugeValueModeColor).NamePlacement(common.BarGaugeNamePlacementAuto).Sizing(common.BarGaugeSizingAuto).
		MinVizHeight(16).MinVizWidth(8).MaxVizHeight(300), 8, 9)
	l.add(promSeries("Passages par statut", "Passages du collecteur par intervalle, par source et statut (succes, partiel, echec) : augmentation de fne_ingest_runs_total.",
		prom("A", `sum by (source, status) (increase(fne_ingest_runs_total{source=~"$source"}[$__interval]))`, "{{source}} — {{status}}", false), "short", true), 8, 9)
	l.add(promSeries("Durée des passages (95e centile)", "95e centile de la durée d'un passage par source, d'après l'histogramme fne_ingest_run_duration_seconds.",
		prom("A", `histogram_quantile(0.95, sum by (source, le) (rate(fne_ingest_run_duration_seconds_bucket{source=~"$source"}[$__rate_interval])))`, "{{source}}", false), "s", false), 8, 9)
	l.add(promSeries("Lignes lues par source", "Lignes lues dans les fichiers ou les API par intervalle, par source (augmentation de fne_ingest_rows_read_total).",
		prom("A", `sum by (source) (increase(fne_ingest_rows_read_total{source=~"$source"}[$__interval]))`, "{{source}}", false), "short", true), 24, 8)
	return *l.d, nil
}

// promSeries is a collector metric over time; counts of rows and runs are integers.
func promSeries(title, desc string, query promQuery, u string, bars bool) *timeseries.PanelBuilder {
	b := timeseries.NewPanelBuilder().Title(title).Description(desc).Datasource(dsProm).Targets(query.targets()).
		Unit(u).Min(0).
		ColorScheme(dashboard.NewFieldColorBuilder().Mode(dashboard.FieldColorModeIdPaletteClassic)).
		LineWidth(1).ShowPoints(common.VisibilityModeNever).LineInterpolation(common.LineInterpolationLinear).PointSize(4).
		Legend(common.NewVizLegendOptionsBuilder().ShowLegend(true).DisplayMode(common.LegendDisplayModeTable).Placement(common.LegendPlacementRight).Calcs([]string{"sum"})).
		Tooltip(common.NewVizTooltipOptionsBuilder().Mode(common.TooltipDisplayModeMulti).Sort(common.SortOrderDescending))
	if bars {
		return b.DrawStyle(common.GraphDrawStyleBars).FillOpacity(30).Decimals(0).
			Stacking(common.NewStackingConfigBuilder().Mode(common.StackingModeNormal).Group("A"))
	}
	return b.DrawStyle(common.GraphDrawStyleLine).FillOpacity(10).Decimals(1)
}
