package plugin

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"sort"
	"strings"
	"time"

	"github.com/grafana/grafana-plugin-sdk-go/backend"
	"github.com/grafana/grafana-plugin-sdk-go/data"

	"github.com/sdaasp-rhone/fne/internal/engine"
	"github.com/sdaasp-rhone/fne/internal/territory"
)

// Query types of the provisioned alert rules (deploy/grafana/provisioning/alerting/). Grafana alerting
// evaluates them in this backend and reads their answer as numeric data: one table, one row per
// series, string columns become the series' labels and the single number column its value. That shape
// ("numeric long" of the data plane contract) is the one every Grafana from 10 on accepts without a
// Reduce expression, with or without its data plane reader.
const (
	// TypeAlertLate: 1 for each (territory, indicator) whose status is en_retard, else 0. The
	// territory of the query (the scope, else the département) and its children at `level` (EPCI by
	// default; the communes of an EPCI).
	TypeAlertLate = "alert_late"
	// TypeAlertStale: 1 for each source of `staleAfter` whose newest successful collection is older
	// than its stale_after (or missing), else 0.
	TypeAlertStale = "alert_stale"
)

func init() {
	queryTypes[TypeAlertLate] = true
	queryTypes[TypeAlertStale] = true
}

// alertQuery holds the fields only alert queries carry.
type alertQuery struct {
	// StaleAfter maps a source to its stale_after (Go duration: "90m", "72h"), the values of the
	// collector's configuration (deploy/collector/fne.yaml).
	StaleAfter map[string]string `json:"staleAfter"`
}

// alert answers the two alert query types.
func (d *Datasource) alert(ctx context.Context, eng Engine, sc scoped, q Query, dq backend.DataQuery) (data.Frames, error) {
	if q.QueryType == TypeAlertStale {
		var aq alertQuery
		if len(bytes.TrimSpace(dq.JSON)) > 0 {
			if err := json.Unmarshal(dq.JSON, &aq); err != nil {
				return nil, fmt.Errorf("%w : JSON illisible : %v", ErrQuery, err)
			}
		}
		return d.alertStale(ctx, eng, aq)
	}
	return d.alertLate(ctx, eng, sc, q, dq)
}

// alertMonth is the month an alert evaluates: the newest month with collected activities, never after
// the month of the range's end. The current month, still being collected, would turn every monthly
// count "en retard" on its first days.
func (d *Datasource) alertMonth(ctx context.Context, eng Engine, tr backend.TimeRange) (engine.Month, error) {
	_, to := MonthRange(tr, d.now())
	latest, err := eng.LatestMonth(ctx)
	if err != nil {
		return engine.Month{}, engineErr(err)
	}
	if to.Before(latest) {
		return to, nil
	}
	return latest, nil
}

func (d *Datasource) alertLate(ctx context.Context, eng Engine, sc scoped, q Query, dq backend.DataQuery) (data.Frames, error) {
	parents, err := sc.territories(q.Territory)
	if err != nil {
		return nil, err
	}
	var inds []Indicator
	for _, i := range eng.Indicators() {
		if i.Axis > 0 && (q.Axis == 0 || i.Axis == int(q.Axis)) && (q.Indicator == "" || i.ID == q.Indicator) {
			inds = append(inds, i)
		}
	}
	if len(inds) == 0 {
		return nil, fmt.Errorf("%w : aucun indicateur de la feuille de route ne correspond (indicateur %q, axe %d)", ErrQuery, q.Indicator, int(q.Axis))
	}
	m, err := d.alertMonth(ctx, eng, dq.TimeRange)
	if err != nil {
		return nil, err
	}
	t := alertTable{columns: [][2]string{{"territoire", "Territoire"}, {"territoire_nom", "Nom du territoire"}, {"indicateur", "Indicateur"}, {"indicateur_libelle", "Libellé"}}}
	for _, p := range parents {
		rs, err := eng.Evaluate(ctx, p.ID, m, ids(inds)...)
		if err != nil {
			return nil, engineErr(err)
		}
		status := map[string]string{}
		for _, r := range rs {
			status[r.ID] = r.Status
		}
		for _, ind := range inds {
			if st, ok := status[ind.ID]; ok && applies(ind, p.ID.Level) {
				t.late(p.ID, p.Name, ind, st)
			}
		}
		if p.ID.Level == territory.LevelCommune {
			continue
		}
		level, err := breakdownLevel(p.ID, q.Level)
		if err != nil {
			return nil, err
		}
		for _, ind := range inds {
			if !applies(ind, level) {
				continue
			}
			cs, err := eng.Breakdown(ctx, ind.ID, p.ID, level, m)
			if err != nil {
				return nil, engineErr(err)
			}
			for _, c := range cs {
				t.late(c.Territory, c.Name, ind, c.Status)
			}
		}
	}
	terr := make([]string, len(parents))
	for k, p := range parents {
		terr[k] = p.ID.String()
	}
	return data.Frames{t.frame("en_retard", "En retard (1 = oui)", fmt.Sprintf("alert_late %s %s", strings.Join(terr, ","), m))}, nil
}

func (d *Datasource) alertStale(ctx context.Context, eng Engine, aq alertQuery) (data.Frames, error) {
	if len(aq.StaleAfter) == 0 {
		return nil, fmt.Errorf("%w : staleAfter manquant : indiquez pour chaque source surveillée son délai stale_after (ex. {\"activites\": \"90m\"})", ErrQuery)
	}
	now := d.now()
	fs, err := eng.Freshness(ctx, now)
	if err != nil {
		return nil, engineErr(err)
	}
	known := map[string]engine.Freshness{}
	var names []string
	for _, f := range fs {
		known[f.Source] = f
		names = append(names, f.Source)
	}
	srcs := make([]string, 0, len(aq.StaleAfter))
	for s := range aq.StaleAfter {
		srcs = append(srcs, s)
	}
	sort.Strings(srcs)
	t := alertTable{columns: [][2]string{{"source", "Source"}, {"perime_apres", "Délai (stale_after)"}}}
	for _, s := range srcs {
		f, ok := known[s]
		if !ok {
			return nil, fmt.Errorf("%w : source inconnue %q dans staleAfter (sources : %s)", ErrQuery, s, strings.Join(names, ", "))
		}
		dur, err := time.ParseDuration(aq.StaleAfter[s])
		if err != nil || dur <= 0 {
			return nil, fmt.Errorf("%w : délai %q de la source %s invalide (durée positive : 90m, 72h)", ErrQuery, aq.StaleAfter[s], s)
		}
		stale := f.LastSuccess == nil || now.Sub(*f.LastSuccess) > dur
		t.labels = append(t.labels, []string{s, aq.StaleAfter[s]})
		t.values = append(t.values, b2f(stale))
	}
	return data.Frames{t.frame("perimee", "Périmée (1 = oui)", "alert_stale "+strings.Join(srcs, ","))}, nil
}

// alertTable accumulates the rows of a numeric-long frame.
type alertTable struct {
	columns [][2]string // label column: machine name, French display name
	labels  [][]string
	values  []float64
}

func (t *alertTable) late(id territory.ID, name string, ind Indicator, status string) {
	t.labels = append(t.labels, []string{id.String(), name, ind.ID, ind.Label})
	t.values = append(t.values, b2f(status == engine.StatusEnRetard))
}

func (t *alertTable) frame(valueName, valueDisplay, executed string) *data.Frame {
	f := data.NewFrame(valueName)
	for c, col := range t.columns {
		vs := make([]string, len(t.labels))
		for r := range t.labels {
			vs[r] = t.labels[r][c]
		}
		f.Fields = append(f.Fields, named(data.NewField(col[0], nil, vs), col[1]))
	}
	vals := t.values
	if vals == nil {
		vals = []float64{}
	}
	v := named(data.NewField(valueName, nil, vals), valueDisplay)
	v.Config.Unit = "none"
	dec := uint16(0)
	v.Config.Decimals = &dec
	f.Fields = append(f.Fields, v)
	f.Meta = &data.FrameMeta{Type: data.FrameTypeNumericLong, TypeVersion: data.FrameTypeVersion{0, 1}, ExecutedQueryString: executed}
	return f
}

func applies(i Indicator, l territory.Level) bool {
	for _, x := range i.Levels {
		if x == string(l) {
			return true
		}
	}
	return false
}

func ids(inds []Indicator) []string {
	out := make([]string, len(inds))
	for k, i := range inds {
		out[k] = i.ID
	}
	return out
}

func b2f(b bool) float64 {
	if b {
		return 1
	}
	return 0
}
