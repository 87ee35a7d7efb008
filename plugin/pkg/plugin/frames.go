package plugin

import (
	"math"
	"time"

	"github.com/grafana/grafana-plugin-sdk-go/data"

	"github.com/sdaasp-rhone/fne/internal/catalogue"
	"github.com/sdaasp-rhone/fne/internal/engine"
	"github.com/sdaasp-rhone/fne/internal/territory"
)

// Field names are the machine names of the query contract (plugin/README.md); the French names users read are
// set as DisplayNameFromDS so that transformations and overrides keep working on stable names.

// statusMappings turn the engine's statuses into French words with their one colour (StatusColors).
var statusMappings = data.ValueMappings{statusMapper()}

var milestoneMappings = data.ValueMappings{data.ValueMapper{
	"a_lancer":  {Text: "À lancer", Color: "#8e8e8e", Index: 0},
	"en_cours":  {Text: "En cours", Color: "blue", Index: 1},
	"realise":   {Text: "Réalisé", Color: "green", Index: 2},
	"abandonne": {Text: "Abandonné", Color: "purple", Index: 3},
}}

// Echeance values of a milestone: where it stands against its planned date.
const (
	EcheanceRetard  = "en_retard"  // not done, planned date past
	EcheanceProche  = "a_echeance" // not done, planned within DueSoonMonths
	EcheanceAVenir  = "a_venir"    // not done, planned later (or no date)
	EcheanceRealise = "realise"    // done
	EcheanceAbandon = "abandonne"  // dropped
	DueSoonMonths   = 3
)

var echeanceMappings = data.ValueMappings{data.ValueMapper{
	EcheanceRetard:  {Text: "En retard", Color: "red", Index: 0},
	EcheanceProche:  {Text: "Échéance sous 3 mois", Color: "orange", Index: 1},
	EcheanceAVenir:  {Text: "À venir", Color: "blue", Index: 2},
	EcheanceRealise: {Text: "Réalisé", Color: "green", Index: 3},
	EcheanceAbandon: {Text: "Abandonné", Color: "purple", Index: 4},
}}

var runMappings = data.ValueMappings{data.ValueMapper{
	"succes":   {Text: "Succès", Color: "green", Index: 0},
	"partiel":  {Text: "Partiel (rejets)", Color: "orange", Index: 1},
	"echec":    {Text: "Échec", Color: "red", Index: 2},
	"en_cours": {Text: "En cours", Color: "blue", Index: 3},
	"":         {Text: "Jamais collectée", Color: "red", Index: 4},
}}

var staleMappings = data.ValueMappings{data.ValueMapper{
	"true":  {Text: "Données anciennes", Color: "red", Index: 0},
	"false": {Text: "À jour", Color: "green", Index: 1},
}}

// GrafanaUnit maps a catalogue unit to a Grafana unit id (DisplayOf gives the whole display).
func GrafanaUnit(unit string) string { return DisplayOf(unit).Unit }

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
	disp := DisplayOf(ind.Unit)
	value := named(data.NewField("value", nil, values), valueName)
	disp.apply(value.Config)
	value.Config.Description = ind.Definition
	value.Config.Thresholds = thresholds(ind.TargetAt(level), ind.Direction)
	target := named(data.NewField("target", nil, targets), "Cible")
	disp.apply(target.Config)
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

// ScorecardFrame is one row per indicator. A table column mixes counts, percentages and rates, so the
// numbers also come as French text in their unit (value_text, target_text): no column-wide decimals can
// be right for all rows.
func ScorecardFrame(name string, rs []engine.Result, executed string) *data.Frame {
	n := len(rs)
	axis, action, id, label, unit, st := make([]string, n), make([]string, n), make([]string, n), make([]string, n), make([]string, n), make([]string, n)
	vtext, ttext, change := make([]string, n), make([]string, n), make([]string, n)
	value, target, progress, trend := make([]*float64, n), make([]*float64, n), make([]*float64, n), make([]*float64, n)
	last := make([]*time.Time, n)
	origin := make([]string, n)
	for i, r := range rs {
		axis[i], action[i], id[i], label[i], unit[i], st[i] = AxisLabel(r.Axis), r.Action, r.ID, r.Label, r.Unit, r.Status
		origin[i] = r.TargetOrigin
		value[i], target[i], progress[i], trend[i], last[i] = r.Value, r.Target, r.Progress, r.Trend, r.LastData
		vtext[i], ttext[i], change[i] = FormatValue(r.Value, r.Unit), FormatValue(r.Target, r.Unit), Change(r.Trend)
	}
	progressF := named(data.NewField("progress", nil, progress), "Avancement")
	Display{Unit: "percent", Decimals: 0, Min: ptrF(0), Max: ptrF(100)}.apply(progressF.Config)
	progressF.Config.Thresholds = percentThresholds()
	statusF := named(data.NewField("status", nil, st), "Statut")
	statusF.Config.Mappings = statusMappings
	changeF := named(data.NewField("change", nil, change), "Sur un mois")
	changeF.Config.Mappings = changeMappings
	f := data.NewFrame(name,
		named(data.NewField("axis", nil, axis), "Axe"),
		named(data.NewField("action", nil, action), "Action"),
		named(data.NewField("id", nil, id), "Identifiant"),
		named(data.NewField("label", nil, label), "Indicateur"),
		named(data.NewField("value", nil, value), "Valeur (brute)"),
		named(data.NewField("unit", nil, unit), "Unité"),
		named(data.NewField("target", nil, target), "Cible (brute)"),
		targetOriginField(origin),
		progressF,
		statusF,
		named(data.NewField("trend", nil, trend), "Écart sur un mois (brut)"),
		dated(named(data.NewField("last_data", nil, last), "Dernière donnée")),
		named(data.NewField("value_text", nil, vtext), "Valeur"),
		named(data.NewField("target_text", nil, ttext), "Cible ou référence"),
		changeF,
	)
	f.Meta = tableMeta(executed)
	return f
}

func ptrF(v float64) *float64 { return &v }

// BreakdownFrame is one row per sub-territory, with coordinates for the Geomap panel.
func BreakdownFrame(name string, ind Indicator, level territory.Level, cs []engine.Child, executed string) *data.Frame {
	n := len(cs)
	ter, nom, st, vtext := make([]string, n), make([]string, n), make([]string, n), make([]string, n)
	// A territory without a centroid gets null coordinates: Geomap leaves it off the map instead of
	// drawing it at 0,0 in the Gulf of Guinea.
	lat, lon := make([]*float64, n), make([]*float64, n)
	pop := make([]int64, n)
	value := make([]*float64, n)
	for i, c := range cs {
		ter[i], nom[i], st[i] = c.Territory.String(), c.Name, c.Status
		if !c.NoCentroid {
			lat[i], lon[i] = ptrF(c.Latitude), ptrF(c.Longitude)
		}
		pop[i], value[i] = int64(c.Population), c.Value
		vtext[i] = FormatValue(c.Value, ind.Unit)
	}
	valueF := named(data.NewField("value", nil, value), ind.Label)
	DisplayOf(ind.Unit).apply(valueF.Config)
	valueF.Config.Description = ind.Definition
	valueF.Config.Thresholds = thresholds(ind.TargetAt(level), ind.Direction)
	statusF := named(data.NewField("status", nil, st), "Statut")
	statusF.Config.Mappings = statusMappings
	f := data.NewFrame(name,
		named(data.NewField("territory", nil, ter), "Code"),
		named(data.NewField("name", nil, nom), "Territoire"),
		named(data.NewField("latitude", nil, lat), "Latitude"),
		named(data.NewField("longitude", nil, lon), "Longitude"),
		decimals(named(data.NewField("population", nil, pop), "Population"), 0),
		valueF,
		statusF,
		named(data.NewField("value_text", nil, vtext), "Valeur"),
	)
	f.Meta = tableMeta(executed)
	return f
}

// GapsFrame lists territories failing a target; units come from the catalogue (inds).
func GapsFrame(name string, gs []engine.Gap, inds []Indicator, executed string) *data.Frame {
	unitOf := map[string]string{}
	labelOf := map[string]string{}
	for _, i := range inds {
		unitOf[i.ID], labelOf[i.ID] = i.Unit, i.Label
	}
	n := len(gs)
	ter, nom, ind, label, lvl := make([]string, n), make([]string, n), make([]string, n), make([]string, n), make([]string, n)
	ilabel, vtext, ttext := make([]string, n), make([]string, n), make([]string, n)
	value, target := make([]*float64, n), make([]*float64, n)
	pop := make([]int64, n)
	for i, g := range gs {
		ter[i], nom[i], ind[i], label[i], lvl[i] = g.Territory.String(), g.Name, g.Indicator, g.Label, string(g.Territory.Level)
		value[i], target[i], pop[i] = g.Value, g.Target, int64(g.Population)
		ilabel[i], vtext[i], ttext[i] = labelOf[g.Indicator], FormatValue(g.Value, unitOf[g.Indicator]), FormatValue(g.Target, unitOf[g.Indicator])
	}
	lvlF := named(data.NewField("level", nil, lvl), "Niveau")
	lvlF.Config.Mappings = levelMappings
	f := data.NewFrame(name,
		named(data.NewField("territory", nil, ter), "Code"),
		named(data.NewField("name", nil, nom), "Territoire"),
		named(data.NewField("indicator", nil, ind), "Identifiant"),
		named(data.NewField("label", nil, label), "Manque constaté"),
		named(data.NewField("value", nil, value), "Valeur (brute)"),
		named(data.NewField("target", nil, target), "Cible (brute)"),
		decimals(named(data.NewField("population", nil, pop), "Population concernée"), 0),
		lvlF,
		named(data.NewField("indicator_label", nil, ilabel), "Indicateur"),
		named(data.NewField("value_text", nil, vtext), "Valeur"),
		named(data.NewField("target_text", nil, ttext), "Cible"),
	)
	f.Meta = tableMeta(executed)
	return f
}

var levelMappings = data.ValueMappings{data.ValueMapper{
	string(territory.LevelDep):     {Text: "Département", Index: 0},
	string(territory.LevelEPCI):    {Text: "EPCI", Index: 1},
	string(territory.LevelCommune): {Text: "Commune", Index: 2},
}}

// echeance places a milestone against its planned date at now.
func echeance(m engine.Milestone, now time.Time) string {
	switch m.Statut {
	case "realise":
		return EcheanceRealise
	case "abandonne":
		return EcheanceAbandon
	}
	today := now.UTC().Truncate(24 * time.Hour)
	switch {
	case m.DatePrevue == nil:
		return EcheanceAVenir
	case m.DatePrevue.Before(today):
		return EcheanceRetard
	case !m.DatePrevue.After(today.AddDate(0, DueSoonMonths, 0)):
		return EcheanceProche
	}
	return EcheanceAVenir
}

// MilestonesFrame lists the roadmap milestones in their current state at now.
func MilestonesFrame(name string, ms []engine.Milestone, now time.Time, executed string) *data.Frame {
	n := len(ms)
	action, jalon, libelle, statut, ech := make([]string, n), make([]string, n), make([]string, n), make([]string, n), make([]string, n)
	prevue, realisee := make([]*time.Time, n), make([]*time.Time, n)
	late := make([]bool, n)
	for i, m := range ms {
		action[i], jalon[i], libelle[i], statut[i] = m.Action, m.Jalon, m.Libelle, m.Statut
		prevue[i], realisee[i], late[i] = m.DatePrevue, m.DateRealisee, m.EnRetard
		ech[i] = echeance(m, now)
	}
	statutF := named(data.NewField("statut", nil, statut), "Statut")
	statutF.Config.Mappings = milestoneMappings
	lateF := named(data.NewField("en_retard", nil, late), "En retard")
	lateF.Config.Mappings = data.ValueMappings{data.ValueMapper{
		"true":  {Text: "Oui", Color: "red", Index: 0},
		"false": {Text: "Non", Color: "green", Index: 1},
	}}
	echF := named(data.NewField("echeance", nil, ech), "Échéance")
	echF.Config.Mappings = echeanceMappings
	f := data.NewFrame(name,
		named(data.NewField("action", nil, action), "Action"),
		named(data.NewField("jalon", nil, jalon), "Jalon"),
		named(data.NewField("libelle", nil, libelle), "Libellé"),
		statutF,
		dated(named(data.NewField("date_prevue", nil, prevue), "Date prévue")),
		dated(named(data.NewField("date_realisee", nil, realisee), "Date réalisée")),
		lateF,
		echF,
	)
	f.Meta = tableMeta(executed)
	return f
}

// FreshnessFrame is one row per source at now; relative times are French text ("il y a 3 h"), since
// Grafana's own relative-time unit follows the browser's language.
func FreshnessFrame(name string, fs []engine.Freshness, now time.Time, executed string) *data.Frame {
	n := len(fs)
	src, st, runAgo, okAgo := make([]string, n), make([]string, n), make([]string, n), make([]string, n)
	run, ok, last := make([]*time.Time, n), make([]*time.Time, n), make([]*time.Time, n)
	rej := make([]int64, n)
	stale := make([]bool, n)
	for i, x := range fs {
		src[i], st[i] = x.Source, x.LastStatus
		run[i], ok[i], last[i], rej[i], stale[i] = x.LastRun, x.LastSuccess, x.LastData, int64(x.RowsRejected), x.Stale
		runAgo[i], okAgo[i] = FormatAgo(x.LastRun, now), FormatAgo(x.LastSuccess, now)
	}
	stF := named(data.NewField("last_status", nil, st), "Dernière exécution")
	stF.Config.Mappings = runMappings
	staleF := named(data.NewField("stale", nil, stale), "Fraîcheur")
	staleF.Config.Mappings = staleMappings
	srcF := named(data.NewField("source", nil, src), "Source")
	srcF.Config.Mappings = sourceMappings
	f := data.NewFrame(name,
		srcF,
		timeOfDay(named(data.NewField("last_run", nil, run), "Dernière collecte")),
		timeOfDay(named(data.NewField("last_success", nil, ok), "Dernier succès")),
		stF,
		dated(named(data.NewField("last_data", nil, last), "Donnée la plus récente")),
		decimals(named(data.NewField("rows_rejected", nil, rej), "Lignes rejetées (dernière collecte)"), 0),
		staleF,
		named(data.NewField("last_run_ago", nil, runAgo), "Dernière collecte"),
		named(data.NewField("last_success_ago", nil, okAgo), "Dernier succès"),
	)
	f.Meta = tableMeta(executed)
	return f
}

func timeOfDay(f *data.Field) *data.Field {
	f.Config.Unit = "time:DD/MM/YYYY HH:mm"
	return f
}

// sourceMappings name the sources as the coordinators know them.
var sourceMappings = data.ValueMappings{data.ValueMapper{
	"activites":      {Text: "Activités (Coop)", Index: 0},
	"structures":     {Text: "Structures (Coop)", Index: 1},
	"lieux":          {Text: "Lieux (cartographie)", Index: 2},
	"consultations":  {Text: "Consultations (cartographie)", Index: 3},
	"rencontres":     {Text: "Rencontres", Index: 4},
	"participations": {Text: "Participations aux rencontres", Index: 5},
	"equipements":    {Text: "Équipements et connexion", Index: 6},
	"jalons":         {Text: "Jalons de la feuille de route", Index: 7},
}}

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
