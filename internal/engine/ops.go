package engine

import (
	"context"
	"fmt"
	"time"

	"github.com/sdaasp-rhone/fne/internal/territory"
)

// Gaps lists the communes and EPCI of t that fail a coverage target at month m: communes without any
// wifi hotspot, communes farther than the distance rule from every place, EPCI without a local meeting
// or with fewer than two information meetings in the year, communes with outdated place sheets.
func (e *Engine) Gaps(ctx context.Context, t territory.ID, m Month) ([]Gap, error) {
	all, err := e.GapsMany(ctx, []territory.ID{t}, m)
	return all[t], err
}

// GapsMany is Gaps for several territories, each check evaluated once over all their communes and EPCI
// (a commune's or an EPCI's gap does not depend on the territory it is listed for): the monthly review
// packs of a département and its EPCI read each input once.
func (e *Engine) GapsMany(ctx context.Context, ts []territory.ID, m Month) (map[territory.ID][]Gap, error) {
	ref, err := e.Reference(ctx)
	if err != nil {
		return nil, err
	}
	// The communes and EPCI listed for each territory, in the reference's order, and their union.
	type lists struct{ communes, epcis []group }
	per := make([]lists, len(ts))
	var communes, epcis []group
	seen := map[string]bool{}
	union := func(dst *[]group, gs []group) {
		for _, g := range gs {
			if !seen[g.key] {
				seen[g.key] = true
				*dst = append(*dst, g)
			}
		}
	}
	for i, t := range ts {
		tr, err := ref.Resolve(t)
		if err != nil {
			return nil, err
		}
		var l lists
		if t.Level == territory.LevelCommune {
			l.communes = []group{newGroup(ref, tr)}
		} else {
			kids, err := ref.Children(t, territory.LevelCommune)
			if err != nil {
				return nil, err
			}
			for _, k := range kids {
				l.communes = append(l.communes, newGroup(ref, k))
			}
		}
		switch t.Level {
		case territory.LevelDep:
			kids, err := ref.Children(t, territory.LevelEPCI)
			if err != nil {
				return nil, err
			}
			for _, k := range kids {
				l.epcis = append(l.epcis, newGroup(ref, k))
			}
		case territory.LevelEPCI:
			l.epcis = []group{newGroup(ref, tr)}
		}
		per[i] = l
		union(&communes, l.communes)
		union(&epcis, l.epcis)
	}
	type check struct {
		id, targetFrom string
		epci           bool // the check is made on the EPCI, else on the communes
		fails          func(v, target float64) bool
		label          func(v, target float64) string
	}
	below := func(v, t float64) bool { return v < t }
	above := func(v, t float64) bool { return v > t }
	checks := []check{
		{"a2.communes_hotspot", "", false, below, func(float64, float64) string { return "Aucun point wifi libre d'accès déclaré" }},
		{"a2.population_zone_blanche", "", false, above, func(float64, float64) string {
			return "Commune à plus de 10 km de tout lieu d'accompagnement"
		}},
		{"a1.epci_rencontre_locale", "", true, below, func(float64, float64) string { return "Aucune rencontre locale dans l'année" }},
		{"a3.epci_deux_rencontres", "", true, below, func(float64, float64) string {
			return "Moins de deux rencontres d'information dans l'année"
		}},
		{"a3.fiches_a_jour", "ctx.lieux", false, below, func(v, t float64) string {
			return fmt.Sprintf("%.0f fiche(s) de lieu non mise(s) à jour depuis un an", t-v)
		}},
	}
	// found[check][group key]: the gap of that commune or EPCI, if it fails.
	found := make([]map[string]Gap, len(checks))
	for k, c := range checks {
		found[k] = map[string]Gap{}
		groups := communes
		if c.epci {
			groups = epcis
		}
		ind, ok := e.cat.Get(c.id)
		if !ok || len(groups) == 0 {
			continue
		}
		r := e.newRequest(ref, groups)
		r.want(ind, m)
		vs, err := r.value(ctx, ind)
		if err != nil {
			return nil, err
		}
		var base values
		if c.targetFrom != "" {
			of, _ := e.cat.Get(c.targetFrom)
			r.want(of, m)
			if base, err = r.value(ctx, of); err != nil {
				return nil, err
			}
		}
		for _, g := range groups {
			v := vs.get(g.key, m).v
			if v == nil {
				continue
			}
			var target float64
			if c.targetFrom != "" {
				b := base.get(g.key, m).v
				if b == nil {
					continue
				}
				target = *b
			} else if ind.Target != nil {
				target = *ind.Target
			}
			if c.fails(*v, target) {
				found[k][g.key] = Gap{Territory: g.id, Name: g.name, Indicator: c.id, Label: c.label(*v, target),
					Value: ptr(*v), Target: ptr(target), Population: g.pop}
			}
		}
	}
	out := make(map[territory.ID][]Gap, len(ts))
	for i, t := range ts {
		var gaps []Gap
		for k, c := range checks {
			groups := per[i].communes
			if c.epci {
				groups = per[i].epcis
			}
			for _, g := range groups {
				if gap, ok := found[k][g.key]; ok {
					gaps = append(gaps, gap)
				}
			}
		}
		out[t] = gaps
	}
	return out, nil
}

// Milestones returns every roadmap milestone in its current state, by action then planned date.
func (e *Engine) Milestones(ctx context.Context) ([]Milestone, error) {
	rows, err := e.conn.Query(ctx, `SELECT action, jalon, lib, st, dp, dr FROM (
    SELECT action, jalon, argMax(libelle, version) AS lib, argMax(toString(statut), version) AS st,
           argMax(date_prevue, version) AS dp, argMax(date_realisee, version) AS dr, argMax(deleted, version) AS del
    FROM jalons GROUP BY action, jalon)
WHERE del = 0
ORDER BY action, ifNull(dp, toDate('2105-12-31')), jalon`)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	today := time.Now().UTC().Truncate(24 * time.Hour)
	var out []Milestone
	for rows.Next() {
		var m Milestone
		if err := rows.Scan(&m.Action, &m.Jalon, &m.Libelle, &m.Statut, &m.DatePrevue, &m.DateRealisee); err != nil {
			return nil, err
		}
		m.EnRetard = m.Statut != "realise" && m.Statut != "abandonne" && m.DatePrevue != nil && m.DatePrevue.Before(today)
		out = append(out, m)
	}
	return out, rows.Err()
}

// sources and the newest record date of each table; the expected interval bounds staleness (the API
// sources are collected daily, the coordinators' spreadsheets monthly).
var sources = []struct {
	name, lastSQL string
	every         time.Duration
}{
	{"activites", "SELECT toDateTime(max(date)) FROM activites WHERE deleted = 0", 48 * time.Hour},
	{"structures", "SELECT max(modification) FROM structures", 48 * time.Hour},
	{"lieux", "SELECT toDateTime(max(date_maj)) FROM lieux", 8 * 24 * time.Hour},
	{"consultations", "SELECT toDateTime(max(date)) FROM consultations", 48 * time.Hour},
	{"rencontres", "SELECT toDateTime(max(date)) FROM rencontres WHERE deleted = 0", 45 * 24 * time.Hour},
	{"participations", "SELECT max(ingested_at) FROM participations", 45 * 24 * time.Hour},
	{"equipements", "SELECT toDateTime(max(periode)) FROM equipements", 45 * 24 * time.Hour},
	{"jalons", "SELECT max(ingested_at) FROM jalons", 45 * 24 * time.Hour},
}

// Freshness reports, per source, its newest run, newest successful run, the rejects of the newest run,
// its newest record date, and whether it is stale at now. For activites, OutOfScope counts the
// activities of the newest collected month that no commune of the reference locates.
func (e *Engine) Freshness(ctx context.Context, now time.Time) ([]Freshness, error) {
	type run struct {
		ended    time.Time
		status   string
		rejected uint64
	}
	last := map[string]run{}
	success := map[string]time.Time{}
	rows, err := e.conn.Query(ctx, `SELECT src, en, st, rej FROM (
    SELECT run_id, argMax(toString(source), version) AS src, argMax(ended_at, version) AS en,
           argMax(toString(status), version) AS st, argMax(rows_rejected, version) AS rej
    FROM ingestion_runs GROUP BY run_id)
ORDER BY en`)
	if err != nil {
		return nil, err
	}
	for rows.Next() {
		var src string
		var r run
		if err := rows.Scan(&src, &r.ended, &r.status, &r.rejected); err != nil {
			rows.Close()
			return nil, err
		}
		last[src] = r
		if r.status == "succes" || r.status == "partiel" {
			success[src] = r.ended
		}
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, err
	}
	var out []Freshness
	for _, s := range sources {
		f := Freshness{Source: s.name}
		if r, ok := last[s.name]; ok {
			t := r.ended
			f.LastRun, f.LastStatus, f.RowsRejected = &t, r.status, r.rejected
		}
		if t, ok := success[s.name]; ok {
			f.LastSuccess = &t
		}
		var d time.Time
		if err := e.conn.QueryRow(ctx, s.lastSQL).Scan(&d); err != nil {
			return nil, err
		}
		if d.Year() > 1970 {
			f.LastData = &d
		}
		f.Stale = f.LastSuccess == nil || now.Sub(*f.LastSuccess) > s.every
		if s.name == "activites" && f.LastData != nil {
			o, err := e.OutOfScope(ctx, MonthOf(*f.LastData), MonthOf(*f.LastData))
			if err != nil {
				return nil, err
			}
			if len(o) == 1 {
				f.OutOfScope = o[0].Activites
			}
		}
		out = append(out, f)
	}
	return out, nil
}

// OutOfScope is the "hors périmètre / non localisée" bucket of one month: activities whose commune is
// unresolved (unknown structure, no code) or outside the reference. They are in no territory's figures.
type OutOfScope struct {
	Month     Month
	Activites uint64 // activities of the month not located in the département
	Total     uint64 // every non-deleted activity of the month
}

// OutOfScope counts, per month from..to, the activities that no commune of the reference locates.
func (e *Engine) OutOfScope(ctx context.Context, from, to Month) ([]OutOfScope, error) {
	ref, err := e.Reference(ctx)
	if err != nil {
		return nil, err
	}
	var ms []Month
	for m := from; !to.Before(m); m = m.Add(1) {
		ms = append(ms, m)
	}
	acts, err := e.activities(ctx, ms)
	if err != nil {
		return nil, err
	}
	var out []OutOfScope
	for m := from; !to.Before(m); m = m.Add(1) {
		o := OutOfScope{Month: m}
		if a := acts[m]; a != nil {
			o.Total = a.total
			for code, ca := range a.communes {
				if _, ok := ref.Commune(code); !ok {
					o.Activites += ca.n
				}
			}
		}
		out = append(out, o)
	}
	return out, nil
}

// LatestMonth is the newest month holding activity data after deduplication (a month whose only
// activities were deleted or moved does not count), never after the current month (an activity dated
// ahead, stored before such dates were rejected, must not move the default period); the current month
// when there is none yet.
func (e *Engine) LatestMonth(ctx context.Context) (Month, error) {
	// Candidates from a cheap scan of two small columns, confirmed by deduplication.
	now := time.Now().UTC()
	nextMonth := time.Date(now.Year(), now.Month()+1, 1, 0, 0, 0, 0, time.UTC).Format("2006-01-02")
	rows, err := e.conn.Query(ctx, "SELECT toYYYYMM(date) AS ym FROM activites WHERE deleted = 0 AND date < toDate(?) GROUP BY ym ORDER BY ym DESC LIMIT 4", nextMonth)
	if err != nil {
		return Month{}, err
	}
	var cands []Month
	for rows.Next() {
		var ym uint32
		if err := rows.Scan(&ym); err != nil {
			rows.Close()
			return Month{}, err
		}
		cands = append(cands, Month{int(ym / 100), time.Month(ym % 100)})
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return Month{}, err
	}
	if len(cands) > 0 {
		acts, err := e.activities(ctx, cands)
		if err != nil {
			return Month{}, err
		}
		for _, m := range cands {
			if a := acts[m]; a != nil && a.total > 0 {
				return m, nil
			}
		}
	}
	return MonthOf(time.Now().UTC()), nil
}
