package plugin

import (
	"context"
	"fmt"
	"sort"
	"time"

	"github.com/grafana/grafana-plugin-sdk-go/data"

	"github.com/sdaasp-rhone/fne/internal/engine"
	"github.com/sdaasp-rhone/fne/internal/territory"
)

// The steering queries answer the committees' first questions in one frame each, from the same
// Evaluate calls as the scorecard: how many indicators of each axis are in each status (`axes`), and
// which indicators changed status since the previous month (`changes`).

// AxesFrame is one row per axis: its label and roadmap title, the territory and the month evaluated
// (period_label, « octobre 2026 »), then the count of indicators in each
// status, worst first (fields en_retard, a_surveiller, en_bonne_voie, atteint, sans_donnees). Context
// indicators (axis 0) have no status to steer and are left out; sans_cible counts as sans_donnees.
func AxesFrame(name string, t territory.Territory, m engine.Month, rs []engine.Result, axes []int, executed string) *data.Frame {
	counts := map[int]map[string]int64{}
	for _, a := range axes {
		counts[a] = map[string]int64{}
	}
	for _, r := range rs {
		c, ok := counts[r.Axis]
		if !ok {
			continue
		}
		st := r.Status
		if st == engine.StatusSansCible {
			st = engine.StatusSansDonnees
		}
		c[st]++
	}
	n := len(axes)
	label, title, terr, period := make([]string, n), make([]string, n), make([]string, n), make([]string, n)
	cols := map[string][]int64{}
	for _, st := range axisStatuses {
		cols[st] = make([]int64, n)
	}
	for i, a := range axes {
		label[i], title[i], terr[i], period[i] = AxisLabel(a), AxisTitles[a], t.Name, MonthLabel(m)
		for _, st := range axisStatuses {
			cols[st][i] = counts[a][st]
		}
	}
	// data.NewField copies the values: every slice is filled before.
	fields := []*data.Field{
		named(data.NewField("axis", nil, label), "Axe"),
		named(data.NewField("title", nil, title), "Intitulé"),
		named(data.NewField("territory_name", nil, terr), "Territoire"),
		named(data.NewField("period_label", nil, period), "Mois évalué"),
	}
	for _, st := range axisStatuses {
		f := decimals(named(data.NewField(st, nil, cols[st]), StatusLabels[st]), 0)
		f.Config.Color = map[string]any{"mode": "fixed", "fixedColor": StatusColors[st]}
		fields = append(fields, f)
	}
	f := data.NewFrame(name, fields...)
	f.Meta = tableMeta(executed)
	return f
}

// axisStatuses are the count columns of AxesFrame, worst first.
var axisStatuses = []string{engine.StatusEnRetard, engine.StatusASurveiller, engine.StatusBonneVoie, engine.StatusAtteint, engine.StatusSansDonnees}

// Direction of a status change.
const (
	ChangeBetter = "amelioration"
	ChangeWorse  = "degradation"
)

var directionMappings = data.ValueMappings{data.ValueMapper{
	ChangeWorse:  {Text: "▼ se dégrade", Color: "red", Index: 0},
	ChangeBetter: {Text: "▲ s'améliore", Color: "green", Index: 1},
}}

// ChangesFrame lists the indicators whose status differs between the previous month (prev) and the
// month (cur), degradations first, then by axis and action. A status that appears or disappears
// (sans_donnees on one side) counts as a change too: the committee must see data that stopped.
func ChangesFrame(name string, prev, cur []engine.Result, executed string) *data.Frame {
	before := map[string]engine.Result{}
	for _, r := range prev {
		before[r.ID] = r
	}
	type row struct {
		cur, prev engine.Result
		dir       string
	}
	var rows []row
	for _, r := range cur {
		p, ok := before[r.ID]
		if !ok || p.Status == r.Status || r.Axis == 0 {
			continue
		}
		dir := ChangeBetter
		if statusRank(r.Status) < statusRank(p.Status) {
			dir = ChangeWorse
		}
		rows = append(rows, row{cur: r, prev: p, dir: dir})
	}
	sort.SliceStable(rows, func(i, j int) bool {
		if rows[i].dir != rows[j].dir {
			return rows[i].dir == ChangeWorse
		}
		if rows[i].cur.Axis != rows[j].cur.Axis {
			return rows[i].cur.Axis < rows[j].cur.Axis
		}
		return rows[i].cur.Action < rows[j].cur.Action
	})
	n := len(rows)
	axis, action, id, label, ps, cs, dir, pv, cv := make([]string, n), make([]string, n), make([]string, n), make([]string, n),
		make([]string, n), make([]string, n), make([]string, n), make([]string, n), make([]string, n)
	for i, r := range rows {
		axis[i], action[i], id[i], label[i] = AxisLabel(r.cur.Axis), r.cur.Action, r.cur.ID, r.cur.Label
		ps[i], cs[i], dir[i] = r.prev.Status, r.cur.Status, r.dir
		pv[i], cv[i] = FormatValue(r.prev.Value, r.prev.Unit), FormatValue(r.cur.Value, r.cur.Unit)
	}
	psF := named(data.NewField("previous_status", nil, ps), "Statut du mois précédent")
	psF.Config.Mappings = statusMappings
	csF := named(data.NewField("status", nil, cs), "Statut du mois")
	csF.Config.Mappings = statusMappings
	dirF := named(data.NewField("direction", nil, dir), "Sens")
	dirF.Config.Mappings = directionMappings
	f := data.NewFrame(name,
		named(data.NewField("axis", nil, axis), "Axe"),
		named(data.NewField("action", nil, action), "Action"),
		named(data.NewField("id", nil, id), "Identifiant"),
		named(data.NewField("label", nil, label), "Indicateur"),
		dirF, psF, csF,
		named(data.NewField("previous_value_text", nil, pv), "Valeur du mois précédent"),
		named(data.NewField("value_text", nil, cv), "Valeur du mois"),
	)
	f.Meta = tableMeta(executed)
	return f
}

// dueMilestones keeps the milestones not done whose planned date is past or within months of now.
func dueMilestones(ms []engine.Milestone, months int, now time.Time) []engine.Milestone {
	out := ms[:0:0]
	for _, m := range ms {
		e := echeance(m, now)
		if e == EcheanceRetard || (e == EcheanceProche && months >= DueSoonMonths) ||
			(e == EcheanceAVenir && m.DatePrevue != nil && !m.DatePrevue.After(now.AddDate(0, months, 0))) {
			out = append(out, m)
		}
	}
	return out
}

// pastFreshness replaces a newest-data date ahead of now (a planned meeting) by the newest record that
// really happened, when the engine can tell it.
func pastFreshness(ctx context.Context, eng Engine, fs []engine.Freshness, now time.Time) error {
	np, ok := eng.(interface {
		NewestPast(ctx context.Context, source string, now time.Time) (*time.Time, error)
	})
	for i, f := range fs {
		if f.LastData == nil || !f.LastData.After(now) {
			continue
		}
		if !ok {
			fs[i].LastData = nil
			continue
		}
		d, err := np.NewestPast(ctx, f.Source, now)
		if err != nil {
			return err
		}
		fs[i].LastData = d
	}
	return nil
}

// fallbackTerritory is what an empty territory means for a query that must show one EPCI
// (defaultLevel "epci"): the scope when it is an EPCI (or inside one: its EPCI), else the first EPCI of
// the scope, never the whole département.
func fallbackTerritory(sc scoped) (territory.Territory, error) {
	root, err := sc.check(sc.root())
	if err != nil {
		return root, err
	}
	switch root.ID.Level {
	case territory.LevelEPCI:
		return root, nil
	case territory.LevelCommune:
		return root, nil
	}
	cs, err := sc.ref.Children(root.ID, territory.LevelEPCI)
	if err != nil {
		return root, fmt.Errorf("%w : %v", ErrTerritory, err)
	}
	if len(cs) == 0 {
		return root, fmt.Errorf("%w : aucun EPCI dans le référentiel chargé", ErrTerritory)
	}
	return cs[0], nil
}
