package plugin

import (
	"math"
	"strings"
	"time"

	"github.com/grafana/grafana-plugin-sdk-go/data"

	"github.com/sdaasp-rhone/fne/internal/catalogue"
	"github.com/sdaasp-rhone/fne/internal/engine"
	"github.com/sdaasp-rhone/fne/internal/territory"
)

// Field names are the machine names of the query contract (DESIGN §5); the French names users read are
// set as DisplayNameFromDS so that transformations and overrides keep working on stable names.

// statusMappings turn the engine's statuses into French words with the dashboards' colours.
var statusMappings = data.ValueMappings{data.ValueMapper{
	engine.StatusAtteint:     {Text: "Atteint", Color: "green", Index: 0},
	engine.StatusBonneVoie:   {Text: "En bonne voie", Color: "green", Index: 1},
	engine.StatusASurveiller: {Text: "À surveiller", Color: "orange", Index: 2},
	engine.StatusEnRetard:    {Text: "En retard", Color: "red", Index: 3},
	engine.StatusSansDonnees: {Text: "Sans données", Color: "text", Index: 4},
	engine.StatusSansCible:   {Text: "Sans cible", Color: "text", Index: 5},
}}

var milestoneMappings = data.ValueMappings{data.ValueMapper{
	"a_lancer":  {Text: "À lancer", Color: "text", Index: 0},
	"en_cours":  {Text: "En cours", Color: "blue", Index: 1},
	"realise":   {Text: "Réalisé", Color: "green", Index: 2},
	"abandonne": {Text: "Abandonné", Color: "text", Index: 3},
}}

var runMappings = data.ValueMappings{data.ValueMapper{
	"succes":   {Text: "Succès", Color: "green", Index: 0},
	"partiel":  {Text: "Partiel (rejets)", Color: "orange", Index: 1},
	"echec":    {Text: "Échec", Color: "red", Index: 2},
	"en_cours": {Text: "En cours", Color: "blue", Index: 3},
}}

var yesNoLate = data.ValueMappings{data.ValueMapper{
	"true":  {Text: "Oui", Color: "red", Index: 0},
	"false": {Text: "Non", Color: "green", Index: 1},
}}

// GrafanaUnit maps a catalogue unit to a Grafana unit id: percentages are "percent" (values are 0–100),
// counts are plain numbers shown exactly, rates keep their French wording as a suffix.
func GrafanaUnit(unit string) string {
	switch strings.ToLower(strings.TrimSpace(unit)) {
	case "%", "percent", "pourcent", "pourcentage", "pct":
		return "percent"
	case "", "nombre", "count":
		return "none"
	}
	return "suffix: " + strings.TrimSpace(unit) // "pour 1 000 hab."
}

// thresholds colour a value against its target the way statuses do: red below 80 % of the target,
// orange up to the target, green from it (the reverse for "au_plus" targets such as 0 %).
func thresholds(target *float64, direction string) *data.ThresholdsConfig {
	if target == nil {
		return nil
	}
	t := *target
	base := data.ConfFloat64(math.Inf(-1))
	if direction == "au_plus" {
		return &data.ThresholdsConfig{Mode: data.ThresholdsModeAbsolute, Steps: []data.Threshold{
			{Value: base, Color: "green"},
			{Value: data.ConfFloat64(nextAfter(t)), Color: "red"},
		}}
	}
	return &data.ThresholdsConfig{Mode: data.ThresholdsModeAbsolute, Steps: []data.Threshold{
		{Value: base, Color: "red"},
		{Value: data.ConfFloat64(0.8 * t), Color: "orange"},
		{Value: data.ConfFloat64(t), Color: "green"},
	}}
}

// nextAfter: Grafana steps apply from their value included; "above the target" starts just after it.
func nextAfter(v float64) float64 { return math.Nextafter(v, math.Inf(1)) }

func percentThresholds() *data.ThresholdsConfig {
	return &data.ThresholdsConfig{Mode: data.ThresholdsModeAbsolute, Steps: []data.Threshold{
		{Value: data.ConfFloat64(math.Inf(-1)), Color: "red"},
		{Value: 80, Color: "orange"},
		{Value: 100, Color: "green"},
	}}
}

func named(f *data.Field, display string) *data.Field {
	if f.Config == nil {
		f.Config = &data.FieldConfig{}
	}
	f.Config.DisplayNameFromDS = display
	return f
}

func tableMeta(executed string) *data.FrameMeta {
	return &data.FrameMeta{PreferredVisualization: data.VisTypeTable, ExecutedQueryString: executed}
}

// SeriesFrame is one indicator over months: fields time, value, target.
func SeriesFrame(name string, ind Indicator, level territory.Level, valueName string, pts []engine.Point, executed string) *data.Frame {
	times := make([]time.Time, len(pts))
	values := make([]*float64, len(pts))
	targets := make([]*float64, len(pts))
	for i, p := range pts {
		times[i] = p.Month.Start()
		values[i] = p.Value
		targets[i] = p.Target
	}
	value := named(data.NewField("value", nil, values), valueName)
	value.Config.Unit = GrafanaUnit(ind.Unit)
	value.Config.Description = ind.Definition
	value.Config.Thresholds = thresholds(ind.TargetAt(level), ind.Direction)
	target := named(data.NewField("target", nil, targets), "Cible")
	target.Config.Unit = value.Config.Unit
	target.Config.Description = targetOriginText[ind.TargetOrigin]
	f := data.NewFrame(name, named(data.NewField("time", nil, times), "Mois"), value, target)
	f.Meta = &data.FrameMeta{
		Type:                   data.FrameTypeTimeSeriesWide,
		TypeVersion:            data.FrameTypeVersion{0, 1},
		PreferredVisualization: data.VisTypeGraph,
		ExecutedQueryString:    executed,
	}
	return f
}

// ScorecardFrame is one row per indicator.
func ScorecardFrame(name string, rs []engine.Result, executed string) *data.Frame {
	n := len(rs)
	axis := make([]int64, n)
	action, id, label, unit, st := make([]string, n), make([]string, n), make([]string, n), make([]string, n), make([]string, n)
	value, target, progress, trend := make([]*float64, n), make([]*float64, n), make([]*float64, n), make([]*float64, n)
	last := make([]*time.Time, n)
	origin := make([]string, n)
	for i, r := range rs {
		axis[i], action[i], id[i], label[i], unit[i], st[i] = int64(r.Axis), r.Action, r.ID, r.Label, r.Unit, r.Status
		origin[i] = r.TargetOrigin
		value[i], target[i], progress[i], trend[i], last[i] = r.Value, r.Target, r.Progress, r.Trend, r.LastData
	}
	progressF := named(data.NewField("progress", nil, progress), "Avancement")
	progressF.Config.Unit = "percent"
	progressF.Config.Thresholds = percentThresholds()
	statusF := named(data.NewField("status", nil, st), "Statut")
	statusF.Config.Mappings = statusMappings
	f := data.NewFrame(name,
		named(data.NewField("axis", nil, axis), "Axe"),
		named(data.NewField("action", nil, action), "Action"),
		named(data.NewField("id", nil, id), "Indicateur"),
		named(data.NewField("label", nil, label), "Libellé"),
		named(data.NewField("value", nil, value), "Valeur"),
		named(data.NewField("unit", nil, unit), "Unité"),
		named(data.NewField("target", nil, target), "Cible"),
		targetOriginField(origin),
		progressF,
		statusF,
		named(data.NewField("trend", nil, trend), "Évolution sur un mois"),
		named(data.NewField("last_data", nil, last), "Dernière donnée"),
	)
	f.Meta = tableMeta(executed)
	return f
}

// BreakdownFrame is one row per sub-territory, with coordinates for the Geomap panel.
func BreakdownFrame(name string, ind Indicator, level territory.Level, cs []engine.Child, executed string) *data.Frame {
	n := len(cs)
	ter, nom, st := make([]string, n), make([]string, n), make([]string, n)
	lat, lon := make([]float64, n), make([]float64, n)
	pop := make([]int64, n)
	value := make([]*float64, n)
	for i, c := range cs {
		ter[i], nom[i], st[i] = c.Territory.String(), c.Name, c.Status
		lat[i], lon[i], pop[i], value[i] = c.Latitude, c.Longitude, int64(c.Population), c.Value
	}
	valueF := named(data.NewField("value", nil, value), ind.Label)
	valueF.Config.Unit = GrafanaUnit(ind.Unit)
	valueF.Config.Description = ind.Definition
	valueF.Config.Thresholds = thresholds(ind.TargetAt(level), ind.Direction)
	statusF := named(data.NewField("status", nil, st), "Statut")
	statusF.Config.Mappings = statusMappings
	f := data.NewFrame(name,
		named(data.NewField("territory", nil, ter), "Code"),
		named(data.NewField("name", nil, nom), "Territoire"),
		named(data.NewField("latitude", nil, lat), "Latitude"),
		named(data.NewField("longitude", nil, lon), "Longitude"),
		named(data.NewField("population", nil, pop), "Population"),
		valueF,
		statusF,
	)
	f.Meta = tableMeta(executed)
	return f
}

// GapsFrame lists territories failing a target.
func GapsFrame(name string, gs []engine.Gap, executed string) *data.Frame {
	n := len(gs)
	ter, nom, ind, label := make([]string, n), make([]string, n), make([]string, n), make([]string, n)
	value, target := make([]*float64, n), make([]*float64, n)
	pop := make([]int64, n)
	for i, g := range gs {
		ter[i], nom[i], ind[i], label[i] = g.Territory.String(), g.Name, g.Indicator, g.Label
		value[i], target[i], pop[i] = g.Value, g.Target, int64(g.Population)
	}
	f := data.NewFrame(name,
		named(data.NewField("territory", nil, ter), "Code"),
		named(data.NewField("name", nil, nom), "Territoire"),
		named(data.NewField("indicator", nil, ind), "Indicateur"),
		named(data.NewField("label", nil, label), "Manque constaté"),
		named(data.NewField("value", nil, value), "Valeur"),
		named(data.NewField("target", nil, target), "Cible"),
		named(data.NewField("population", nil, pop), "Population concernée"),
	)
	f.Meta = tableMeta(executed)
	return f
}

// MilestonesFrame lists the roadmap milestones in their current state.
func MilestonesFrame(name string, ms []engine.Milestone, executed string) *data.Frame {
	n := len(ms)
	action, jalon, libelle, statut := make([]string, n), make([]string, n), make([]string, n), make([]string, n)
	prevue, realisee := make([]*time.Time, n), make([]*time.Time, n)
	late := make([]bool, n)
	for i, m := range ms {
		action[i], jalon[i], libelle[i], statut[i] = m.Action, m.Jalon, m.Libelle, m.Statut
		prevue[i], realisee[i], late[i] = m.DatePrevue, m.DateRealisee, m.EnRetard
	}
	statutF := named(data.NewField("statut", nil, statut), "Statut")
	statutF.Config.Mappings = milestoneMappings
	lateF := named(data.NewField("en_retard", nil, late), "En retard")
	lateF.Config.Mappings = yesNoLate
	f := data.NewFrame(name,
		named(data.NewField("action", nil, action), "Action"),
		named(data.NewField("jalon", nil, jalon), "Jalon"),
		named(data.NewField("libelle", nil, libelle), "Libellé"),
		statutF,
		named(data.NewField("date_prevue", nil, prevue), "Date prévue"),
		named(data.NewField("date_realisee", nil, realisee), "Date réalisée"),
		lateF,
	)
	f.Meta = tableMeta(executed)
	return f
}

// FreshnessFrame is one row per source.
func FreshnessFrame(name string, fs []engine.Freshness, executed string) *data.Frame {
	n := len(fs)
	src, st := make([]string, n), make([]string, n)
	run, ok, last := make([]*time.Time, n), make([]*time.Time, n), make([]*time.Time, n)
	rej := make([]int64, n)
	stale := make([]bool, n)
	for i, x := range fs {
		src[i], st[i] = x.Source, x.LastStatus
		run[i], ok[i], last[i], rej[i], stale[i] = x.LastRun, x.LastSuccess, x.LastData, int64(x.RowsRejected), x.Stale
	}
	stF := named(data.NewField("last_status", nil, st), "Dernier statut")
	stF.Config.Mappings = runMappings
	staleF := named(data.NewField("stale", nil, stale), "En retard")
	staleF.Config.Mappings = yesNoLate
	f := data.NewFrame(name,
		named(data.NewField("source", nil, src), "Source"),
		named(data.NewField("last_run", nil, run), "Dernière collecte"),
		named(data.NewField("last_success", nil, ok), "Dernier succès"),
		stF,
		named(data.NewField("last_data", nil, last), "Dernière donnée"),
		named(data.NewField("rows_rejected", nil, rej), "Lignes rejetées (dernière collecte)"),
		staleF,
	)
	f.Meta = tableMeta(executed)
	return f
}

// targetOriginText is how users read who set a target.
var targetOriginText = map[string]string{
	catalogue.TargetFeuilleDeRoute: "Engagement de la feuille de route",
	catalogue.TargetCopil:          "Valeur par défaut (COPIL)",
}

// targetOriginField says beside each target whether the roadmap commits to it or the COPIL chose it.
func targetOriginField(origin []string) *data.Field {
	f := named(data.NewField("target_origin", nil, origin), "Origine de la cible")
	f.Config.Mappings = data.ValueMappings{data.ValueMapper{
		catalogue.TargetFeuilleDeRoute: {Text: targetOriginText[catalogue.TargetFeuilleDeRoute], Index: 0},
		catalogue.TargetCopil:          {Text: targetOriginText[catalogue.TargetCopil], Index: 1},
	}}
	return f
}
