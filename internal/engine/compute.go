package engine

import (
	"context"
	"fmt"
	"math"
	"slices"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/ClickHouse/clickhouse-go/v2"

	"github.com/sdaasp-rhone/fne/internal/catalogue"
	"github.com/sdaasp-rhone/fne/internal/territory"
)

// This file holds every indicator SQL of the product. Rules kept by each query:
//   - every source table is a ReplacingMergeTree that may not be merged yet: rows are deduplicated with
//     argMax(column, version) GROUP BY the record key, never with FINAL (which costs ≈ 4× at scale);
//   - user values (communes, territory ids, dates, types) are bound with `?`, never pasted: only
//     constant column names and the number of date ranges shape the text;
//   - figures are read per commune and summed per evaluated group in Go (communeGroups): one query
//     serves one territory, all its children, or territories that overlap.

// window returns the first and last day covered by ind for month m (docs/regles.md « Indicateurs et statuts »).
func window(ind catalogue.Indicator, m Month) (time.Time, time.Time) {
	switch ind.Window {
	case catalogue.WindowAnnee:
		return Month{m.Year, time.January}.Start(), m.End()
	case catalogue.Window12Mois:
		return m.Add(-11).Start(), m.End()
	case catalogue.WindowTrimestre:
		return m.Add(-2).Start(), m.End()
	}
	return m.Start(), m.End()
}

func day(t time.Time) string { return t.Format("2006-01-02") }

// dateRanges renders "(col >= toDate(?) AND col <= toDate(?)) OR …" for the months, contiguous months
// merged, so that the partition key (toYYYYMM(date)) prunes every other month.
func dateRanges(col string, ms []Month) (string, []any) {
	var parts []string
	var args []any
	for i := 0; i < len(ms); {
		j := i
		for j+1 < len(ms) && ms[j+1] == ms[j].Add(1) {
			j++
		}
		parts = append(parts, fmt.Sprintf("(%s >= toDate(?) AND %s <= toDate(?))", col, col))
		args = append(args, day(ms[i].Start()), day(ms[j].End()))
		i = j + 1
	}
	if len(parts) == 0 {
		return "0", nil
	}
	return strings.Join(parts, " OR "), args
}

// communeGroups maps each commune to the keys of the groups that contain it: groups may overlap (the
// département and its EPCI evaluated in one request), so a commune's figure is added to each of them.
func communeGroups(gs []group) map[string][]string {
	out := map[string][]string{}
	for _, g := range gs {
		for _, c := range g.communes {
			out[c] = append(out[c], g.key)
		}
	}
	return out
}

func (r *request) compute(ctx context.Context, ind catalogue.Indicator, ms []Month) (values, error) {
	out := values{}
	var gs []group
	for _, g := range r.groups {
		if ind.HasLevel(g.id.Level) {
			gs = append(gs, g)
		}
	}
	if len(gs) == 0 || len(ms) == 0 {
		return out, nil // not applicable: every value stays nil (sans_donnees)
	}
	var err error
	switch ind.Compute {
	case "accompagnements", "conseillers_actifs":
		err = r.activityFigures(ctx, ind, ms, gs, out)
	case "par_habitant":
		of, _ := r.e.cat.Get(ind.Of)
		var base values
		if base, err = r.value(ctx, of); err == nil {
			for _, g := range gs {
				for _, m := range ms {
					c := base.get(g.key, m)
					if c.v != nil && g.pop > 0 {
						c.v = ptr(*c.v * ind.Per / float64(g.pop))
					} else {
						c.v = nil
					}
					out.set(g.key, m, c)
				}
			}
		}
	case "rencontres_nombre", "rencontre_tenue", "epci_rencontres", "diversite_structures", "relais_informes", "relais_connaissent_offre":
		err = r.meetingFigures(ctx, ind, ms, gs, out)
	case "jalons_realises":
		err = r.milestoneFigures(ctx, ind, ms, gs, out)
	case "equipement_flux":
		err = r.equipmentFlows(ctx, ind, ms, gs, out)
	case "communes_stock":
		err = r.equipmentStocks(ctx, ind, ms, gs, out)
	case "lieux", "fiches_a_jour", "zone_blanche":
		err = r.placeFigures(ctx, ind, ms, gs, out)
	case "consultations":
		err = r.consultationFigures(ctx, ms, gs, out)
	default:
		err = fmt.Errorf("calcul %q inconnu du moteur", ind.Compute)
	}
	return out, err
}

// ---- activities ---------------------------------------------------------------------------------------

// Activities are deduplicated by id (newest version wins, deleted ones dropped) and located; the result
// is aggregated per month × commune × counsellor. Two query shapes, same result:
//
//   - the full pass (activityBaseSQL with no window) deduplicates the whole table once and is kept in a
//     cache of the Engine until a part of activites or structures changes; every territory, month,
//     series and breakdown is then a sum over cached communes (milliseconds). It costs about one FINAL
//     over the table (the GROUP BY over every id dominates), so it is run for long ranges and, in the
//     background, to warm the cache.
//   - the window pass serves a cold request for a few months: it deduplicates only the rows dated in
//     those months plus every edited row (modification > creation) dated elsewhere. That is exact: a
//     version dated elsewhere than another version of the same activity exists only if the activity was
//     edited (a changed date is an edit), so it is among the edited rows, and argMax sees it.
//
// Shape of the window pass (measured on 10.5 M rows, 18.16, 2 cores; see BenchmarkScale):
//   - the two row sets are a UNION ALL, not one WHERE … OR modification > creation: the OR defeats the
//     partition pruning and made the server read every column of every row (600 MB) since edited rows
//     are in every granule. The window branch reads only its partitions; the edited branch reads only
//     id, version, date, modification and creation (PREWHERE);
//   - a row of the edited branch dated outside the window can only make its activity leave the window
//     (if it is the newest version, the activity's date is outside): so it carries its version and date
//     only, flagged deleted, and never needs its other columns;
//   - the GROUP BY per id dominates, and its cost grows with the number of argMax states per id: the
//     payload is packed into two numeric states instead of seven: p (date, commune, accompagnements)
//     and the counsellor hash. The commune of a lieu_activite activity is resolved per row, before the
//     deduplication (a join on 3000 structures costs less than one more state per id), so that both
//     kinds of place fit the same 16-bit commune index; a deleted version gets the commune 65535.
//     argMax over a tuple is twice slower than seven numeric argMax on 18.16 (generic state): not used.
//     Restricting the edited branch to the ids of the window with an IN set was slower than grouping
//     those rows (building a set of every id of the window costs more than it saves).
//
// FINAL is never used: it is slower and cannot deduplicate across partitions (date is in the key).
// The commune is the structure's for lieu_activite (a deleted structure still locates), else the
// declared one; an unresolved or out-of-reference commune is the "hors périmètre / non localisée"
// bucket (see OutOfScope).
//
// Memory: the GROUP BY holds one state per activity id, so every state is numeric (id and counsellor
// hashed with cityHash64 — a 64-bit collision among 10 M ids has a probability of about 3·10⁻⁶ —,
// communes as their 1-based index in the reference, 0 outside it), and the query may spill to disk
// (max_bytes_before_external_group_by) rather than fail on a server with a small max_memory_usage.
//
// The last GROUP BY (month × commune × counsellor) is over one UInt64, a hash of the three: 18.16
// groups a 14-byte composite key 2× slower (540 ms against 320 ms for the 2.2 M ids of 7 months), and
// the three come back with any(). Two groups share a hash with a probability of about G²/2⁶⁵ (10⁻⁸
// for the 500 000 groups of 36 months of a département), far below the id hashing's.
//
// Packing of p: date as days since 1970 (UInt16) × 2⁴⁸ + commune index (UInt16, 65535 = deleted) ×
// 2³² + accompagnements (UInt32): exactly 64 bits. No alias names the column it is computed from
// (argMax(p, v) AS p): current releases' analyzer may read that as a cyclic alias.
const activityBaseSQL = `SELECT toUInt32(intDiv(mk, 65536)) AS ym, toUInt16(mk %% 65536) AS ci, medh, accs, n, last
FROM (
  SELECT any(ymci) AS mk, any(mh1) AS medh, sum(acc) AS accs, count() AS n, max(d) AS last
  FROM (
    SELECT d, toUInt32(toYYYYMM(d)) * 65536 + ci AS ymci, acc, mh1
    FROM (
    SELECT toDate(toUInt16(intDiv(p, 281474976710656))) AS d, toUInt16(intDiv(p, 4294967296) %% 65536) AS ci,
           toUInt32(p %% 4294967296) AS acc, mh1
    FROM (
        SELECT argMax(pk, v) AS p, argMax(mh, v) AS mh1
        FROM (
            SELECT cityHash64(id) AS h, version AS v,
                   toUInt64(date) * 281474976710656 + toUInt64(accompagnements)
                       + toUInt64(if(deleted = 1, 65535, if(type_lieu = 'lieu_activite', s_ci, transform(lieu_code_insee, ?, ?, toUInt16(0))))) * 4294967296 AS pk,
                   cityHash64(mediateur_id) AS mh
            FROM (
                SELECT id, version, date, deleted, type_lieu, lieu_code_insee, accompagnements, mediateur_id, structure_id
                FROM activites
                %[1]s
            ) AS act
            ANY LEFT JOIN (
                SELECT id AS structure_id, transform(argMax(code_insee, version), ?, ?, toUInt16(0)) AS s_ci
                FROM structures GROUP BY id
            ) AS st USING (structure_id)
            %[2]s
        )
        GROUP BY h
    )
    WHERE ci != 65535 %[3]s
    )
  )
  GROUP BY cityHash64(mh1, ymci)
)`

// deletedCommune is the commune index that marks a deleted version in the packed state: the
// reference must have fewer communes.
const deletedCommune = 65535

// editedElsewhereSQL is the edited-rows branch of the window pass: rows dated outside the window (%s),
// reduced to what can make an activity leave it (version and date; marked deleted).
const editedElsewhereSQL = `UNION ALL
            SELECT cityHash64(id) AS h, version AS v, toUInt64(date) * 281474976710656 + 281470681743360 AS pk,
                   toUInt64(0) AS mh
            FROM activites PREWHERE modification > creation WHERE NOT (%s)`

// windowMax is the number of months up to which a cold request uses the window pass.
const windowMax = 6

type communeAgg struct {
	acc, n uint64
	last   time.Time
}

// actMonth is one month of deduplicated, located activities.
type actMonth struct {
	total    uint64                 // non-deleted activities of the month, located or not
	communes map[string]*communeAgg // by commune code ('' = outside the reference or not located)
	meds     map[uint64][]string    // counsellor (hashed id) → the communes of their activities
}

type activityCache struct {
	full    sync.Mutex // held by the full pass: one at a time per engine
	mu      sync.Mutex
	fp      string
	months  map[Month]*actMonth
	warming bool
	layout  *tableLayout // where the parts of the source tables are (persist.go)
}

// externalGroupBy lets the deduplicating pass spill to disk past this many bytes of GROUP BY state
// (spilling at 1 GB made the 10 M-row pass 1.6× slower).
const externalGroupBy = 3_000_000_000 // measured: 10.5 M ids fit without spilling under a 4 GB max_memory_usage

// activities returns the deduplicated activities of at least the months ms (all months when ms is
// empty): from the memory cache when it is current, else from the aggregates persisted under the
// current fingerprint (only the months ms when they are few), else by a window pass for a few months
// (and the cache is warmed in the background), else by a full pass that fills the cache and is
// persisted.
func (e *Engine) activities(ctx context.Context, ms []Month) (map[Month]*actMonth, error) {
	ref, err := e.Reference(ctx)
	if err != nil {
		return nil, err
	}
	fp, err := e.fingerprint(ctx, ref)
	if err != nil {
		return nil, err
	}
	c := &e.acts
	c.mu.Lock()
	if c.months != nil && c.fp == fp {
		defer c.mu.Unlock()
		return c.months, nil
	}
	c.mu.Unlock()
	few := len(ms) > 0 && len(ms) <= windowMax
	if !e.noPersist {
		var only []Month
		if few {
			only = ms
		}
		// An error (activites_agregats missing: schema not migrated yet) falls back to computing.
		if months, ok, err := e.loadPersisted(ctx, fp, only); err == nil && ok {
			if few {
				e.warm(fp)
			} else {
				c.mu.Lock()
				c.months, c.fp = months, fp
				c.mu.Unlock()
			}
			return months, nil
		}
	}
	if few {
		out, err := e.passActivities(ctx, ref, ms)
		if err == nil {
			e.warm(fp)
		}
		return out, err
	}
	// One full pass at a time per engine: concurrent long requests wait for it and reuse it.
	c.full.Lock()
	defer c.full.Unlock()
	c.mu.Lock()
	if c.months != nil && c.fp == fp {
		defer c.mu.Unlock()
		return c.months, nil
	}
	c.mu.Unlock()
	months, err := e.refreshOrCompute(ctx, ref, fp)
	if err != nil && months != nil {
		err = nil // the figures are right; persisting them is a best effort here (Refresh reports it)
	}
	return months, err
}

// warm fills the cache in the background (one at a time), so that the next requests of a long-lived
// process (the Grafana plugin) are served from memory.
func (e *Engine) warm(fp string) {
	if e.noWarm {
		return
	}
	c := &e.acts
	c.mu.Lock()
	if c.warming {
		c.mu.Unlock()
		return
	}
	c.warming = true
	c.mu.Unlock()
	go func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
		defer cancel()
		_ = e.fill(ctx, fp)
		c.mu.Lock()
		c.warming = false
		c.mu.Unlock()
	}()
}

// fill caches the full pass under fingerprint fp: loaded from the persisted aggregates when they
// exist, else computed (and persisted).
func (e *Engine) fill(ctx context.Context, fp string) error {
	ref, err := e.Reference(ctx)
	if err != nil {
		return err
	}
	c := &e.acts
	if !e.noPersist {
		if months, ok, err := e.loadPersisted(ctx, fp, nil); err == nil && ok {
			c.mu.Lock()
			c.months, c.fp = months, fp
			c.mu.Unlock()
			return nil
		}
	}
	c.full.Lock()
	defer c.full.Unlock()
	months, err := e.refreshOrCompute(ctx, ref, fp)
	if err != nil && months != nil {
		err = nil
	}
	return err
}

// fillNow runs the full pass and caches it under the current fingerprint (tests, benchmarks).
func (e *Engine) fillNow(ctx context.Context) error {
	ref, err := e.Reference(ctx)
	if err != nil {
		return err
	}
	fp, err := e.fingerprint(ctx, ref)
	if err != nil {
		return err
	}
	_, err = e.computeAndPersist(ctx, ref, fp)
	return err
}

// passActivities runs the deduplicating query over the months ms (the whole table when ms is nil).
func (e *Engine) passActivities(ctx context.Context, ref *territory.Reference, ms []Month) (map[Month]*actMonth, error) {
	e.passes.Add(1)
	if len(ref.Communes) >= deletedCommune {
		return nil, fmt.Errorf("référentiel de %d communes : le moteur en accepte au plus %d", len(ref.Communes), deletedCommune-1)
	}
	codes := make([]string, len(ref.Communes))
	idx := make([]uint16, len(ref.Communes))
	for i, c := range ref.Communes {
		codes[i], idx[i] = c.Code, uint16(i+1)
	}
	// Placeholders in text order: communes of lieu_code_insee, window, communes of structures, edited
	// branch, window of the deduplicated date.
	args := []any{codes, idx}
	var where, edited, having string
	if ms == nil {
		args = append(args, codes, idx)
	} else {
		w1, a1 := dateRanges("date", ms)
		w2, a2 := dateRanges("d", ms)
		where = "WHERE " + w1
		edited = fmt.Sprintf(editedElsewhereSQL, w1)
		having = "AND (" + w2 + ")"
		args = append(append(args, a1...), codes, idx)
		args = append(append(args, a1...), a2...)
	}
	qctx := clickhouse.Context(ctx, clickhouse.WithSettings(clickhouse.Settings{"max_bytes_before_external_group_by": externalGroupBy}))
	rows, err := e.conn.Query(qctx, fmt.Sprintf(activityBaseSQL, where, edited, having), args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	months := map[Month]*actMonth{}
	for _, m := range ms {
		months[m] = &actMonth{communes: map[string]*communeAgg{}, meds: map[uint64][]string{}}
	}
	for rows.Next() {
		var (
			ym      uint32
			ci      uint16
			med     uint64
			accs, n uint64
			last    time.Time
		)
		if err := rows.Scan(&ym, &ci, &med, &accs, &n, &last); err != nil {
			return nil, err
		}
		commune := ""
		if ci > 0 && int(ci) <= len(codes) {
			commune = codes[ci-1]
		}
		m := Month{int(ym / 100), time.Month(ym % 100)}
		am := months[m]
		if am == nil {
			am = &actMonth{communes: map[string]*communeAgg{}, meds: map[uint64][]string{}}
			months[m] = am
		}
		am.total += n
		ca := am.communes[commune]
		if ca == nil {
			ca = &communeAgg{}
			am.communes[commune] = ca
		}
		ca.acc += accs
		ca.n += n
		if last.After(ca.last) {
			ca.last = last
		}
		am.meds[med] = append(am.meds[med], commune)
	}
	return months, rows.Err()
}

// activities reads the activities once per request (a cold engine would otherwise repeat the window
// pass for each activity indicator).
func (r *request) activities(ctx context.Context) (map[Month]*actMonth, error) {
	if r.acts != nil {
		return r.acts, nil
	}
	acts, err := r.e.activities(ctx, r.actNeed.sorted())
	if err == nil {
		r.acts = acts
	}
	return acts, err
}

func (r *request) activityFigures(ctx context.Context, ind catalogue.Indicator, ms []Month, gs []group, out values) error {
	acts, err := r.activities(ctx)
	if err != nil {
		return err
	}
	groupsOf := communeGroups(gs)
	for _, m := range ms {
		am := acts[m]
		if am == nil || am.total == 0 {
			continue // the month is not collected: sans_donnees, not 0
		}
		sum := map[string]float64{}
		last := map[string]time.Time{}
		if ind.Compute == "conseillers_actifs" {
			for _, communes := range am.meds {
				seen := map[string]bool{}
				for _, c := range communes {
					for _, k := range groupsOf[c] {
						if !seen[k] {
							seen[k] = true
							sum[k]++
						}
					}
				}
			}
		}
		for code, ca := range am.communes {
			for _, k := range groupsOf[code] {
				if ind.Compute == "accompagnements" {
					sum[k] += float64(ca.acc)
				}
				if ca.last.After(last[k]) {
					last[k] = ca.last
				}
			}
		}
		for _, g := range gs {
			out.set(g.key, m, cell{v: ptr(sum[g.key]), last: last[g.key]})
		}
	}
	return nil
}

// ---- meetings -----------------------------------------------------------------------------------------

type meeting struct {
	id, typ, terr string
	date          time.Time
}

type participation struct {
	structureID, structureType string
	relais                     uint8
	connait                    *uint8
}

type meetingData struct {
	meetings []meeting
	parts    map[string][]participation // by meeting id
}

// loadMeetings reads, once per request, the meetings dated in the widest window any requested month
// needs (12 months before the earliest), and their participations.
func (r *request) loadMeetings(ctx context.Context) error {
	if r.meetings != nil {
		return nil
	}
	var from, to time.Time
	for id, set := range r.need {
		ind, _ := r.e.cat.Get(id)
		for m := range set {
			a, b := window(ind, m)
			if from.IsZero() || a.Before(from) {
				from = a
			}
			if b.After(to) {
				to = b
			}
		}
	}
	sig, err := r.tablesSignature(ctx, "rencontres", "participations")
	if err != nil {
		return err
	}
	key := "rencontres|" + day(from) + "|" + day(to)
	if v, ok := r.e.reads.get(sig, key); ok {
		r.meetings = v.(*meetingData)
		return nil
	}
	md := &meetingData{parts: map[string][]participation{}}
	if err := r.readMeetings(ctx, md, from, to); err != nil {
		return err
	}
	r.meetings = md
	r.e.reads.put(sig, key, md) // read only from now on
	return nil
}

// readMeetings reads into md the meetings dated in [from, to] and their participations.
func (r *request) readMeetings(ctx context.Context, md *meetingData, from, to time.Time) error {
	rows, err := r.e.conn.Query(ctx, `SELECT id, d, typ, terr FROM (
    SELECT id, argMax(date, version) AS d, argMax(toString(type), version) AS typ,
           argMax(territoire, version) AS terr, argMax(deleted, version) AS del
    FROM rencontres GROUP BY id)
WHERE del = 0 AND d >= toDate(?) AND d <= toDate(?)`, day(from), day(to))
	if err != nil {
		return err
	}
	var ids []string
	for rows.Next() {
		var mt meeting
		if err := rows.Scan(&mt.id, &mt.date, &mt.typ, &mt.terr); err != nil {
			rows.Close()
			return err
		}
		md.meetings = append(md.meetings, mt)
		ids = append(ids, mt.id)
	}
	rows.Close()
	if err := rows.Err(); err != nil || len(ids) == 0 {
		return err
	}
	// Participations of a meeting not ingested yet are kept in the table and join here once it arrives.
	// The subquery selects a superset (every version dated in the range); only the deduplicated
	// meetings above are used.
	rows, err = r.e.conn.Query(ctx, `SELECT rid, sid, st, rel, co FROM (
    SELECT rencontre_id AS rid, structure_id AS sid, argMax(toString(structure_type), version) AS st,
           argMax(relais, version) AS rel, argMax(connait_offre, version) AS co, argMax(deleted, version) AS del
    FROM participations
    WHERE rencontre_id IN (SELECT id FROM rencontres WHERE date >= toDate(?) AND date <= toDate(?))
    GROUP BY rencontre_id, structure_id)
WHERE del = 0`, day(from), day(to))
	if err != nil {
		return err
	}
	defer rows.Close()
	for rows.Next() {
		var rid string
		var p participation
		if err := rows.Scan(&rid, &p.structureID, &p.structureType, &p.relais, &p.connait); err != nil {
			return err
		}
		md.parts[rid] = append(md.parts[rid], p)
	}
	return rows.Err()
}

// epciOf is the EPCI a meeting territory belongs to ("" for the département or outside).
func (r *request) epciOf(terr string) string {
	if s, ok := strings.CutPrefix(terr, "epci:"); ok {
		return s
	}
	code := strings.TrimPrefix(terr, "com:")
	if c, ok := r.ref.Commune(code); ok {
		return c.EPCI
	}
	return ""
}

func (r *request) meetingFigures(ctx context.Context, ind catalogue.Indicator, ms []Month, gs []group, out values) error {
	if err := r.loadMeetings(ctx); err != nil {
		return err
	}
	types := map[string]bool{}
	for _, t := range ind.Inputs {
		types[t] = true
	}
	for _, m := range ms {
		from, to := window(ind, m)
		var in []meeting
		any := false
		for _, mt := range r.meetings.meetings {
			if mt.date.Before(from) || mt.date.After(to) {
				continue
			}
			any = true
			if types[mt.typ] {
				in = append(in, mt)
			}
		}
		if !any {
			continue // no meeting at all reported in the window: sans_donnees
		}
		for _, g := range gs {
			var last time.Time
			var mine []meeting
			for _, mt := range in {
				if g.terr[mt.terr] {
					mine = append(mine, mt)
					if mt.date.After(last) {
						last = mt.date
					}
				}
			}
			var v *float64
			switch ind.Compute {
			case "rencontres_nombre":
				v = ptr(float64(len(mine)))
			case "rencontre_tenue":
				v = ptr(0)
				if len(mine) > 0 {
					v = ptr(1)
				}
			case "epci_rencontres":
				if len(g.epcis) == 0 {
					break
				}
				n := map[string]int{}
				for _, mt := range mine {
					n[r.epciOf(mt.terr)]++
				}
				ok := 0
				for _, e := range g.epcis {
					if n[e] >= max(ind.MinCount, 1) {
						ok++
					}
				}
				v = ptr(float64(ok) * 100 / float64(len(g.epcis)))
			case "diversite_structures", "relais_informes", "relais_connaissent_offre":
				distinct := map[string]bool{}
				var answered, yes int
				for _, mt := range mine {
					for _, p := range r.meetings.parts[mt.id] {
						switch ind.Compute {
						case "diversite_structures":
							if p.structureType != "" {
								distinct[p.structureType] = true
							}
						case "relais_informes":
							if p.relais == 1 {
								distinct[p.structureID] = true
							}
						default:
							if p.relais == 1 && p.connait != nil {
								answered++
								if *p.connait == 1 {
									yes++
								}
							}
						}
					}
				}
				if ind.Compute == "relais_connaissent_offre" {
					if answered > 0 {
						v = ptr(float64(yes) * 100 / float64(answered))
					}
				} else {
					v = ptr(float64(len(distinct)))
				}
			}
			out.set(g.key, m, cell{v: v, last: last})
		}
	}
	return nil
}

// ---- milestones ---------------------------------------------------------------------------------------

func (r *request) milestoneFigures(ctx context.Context, ind catalogue.Indicator, ms []Month, gs []group, out values) error {
	if len(ind.Inputs) == 0 {
		return fmt.Errorf("%s : action des jalons manquante (inputs)", ind.ID)
	}
	var total, done uint64
	var last time.Time
	if err := r.e.conn.QueryRow(ctx, `SELECT count(), countIf(st = 'realise'), max(ifNull(dr, toDate('1970-01-01'))) FROM (
    SELECT jalon, argMax(toString(statut), version) AS st, argMax(deleted, version) AS del, argMax(date_realisee, version) AS dr
    FROM jalons WHERE action = ? GROUP BY jalon)
WHERE del = 0`, ind.Inputs[0]).Scan(&total, &done, &last); err != nil {
		return err
	}
	if total == 0 {
		return nil
	}
	if last.Year() <= 1970 {
		last = time.Time{}
	}
	// Milestones are read in their current state, whatever the month.
	for _, g := range gs {
		for _, m := range ms {
			out.set(g.key, m, cell{v: ptr(float64(done) * 100 / float64(total)), last: last})
		}
	}
	return nil
}

// ---- equipment ----------------------------------------------------------------------------------------

// equipSeries is what one territory reported for one figure: its periods (days since 1970) in
// increasing order and the value of each.
type equipSeries struct {
	terr string
	ps   []uint16
	vs   []float64
}

// loadEquipment reads the latest value of each (indicator, territory, period) for the indicators, with
// periods in [from, to], as one series per (indicator, territory): a national reference reports 35 000
// communes × 36 months per figure, and arrays decode ≈ 10× faster than as many rows. Bare INSEE codes
// are read as communes (com:); if a commune was reported under both spellings for the same period, the
// later report wins (after each spelling's own deletions, as two separate records).
//
// The query groups by hashes of the keys (one UInt64 instead of strings: 2–3× faster on 18.16 at 1.3 M
// rows; a collision is as unlikely as for activity ids) and `indicateur IN (…)` uses the table's
// primary key. Results are kept per engine while the equipements table is unchanged (readCache).
func (r *request) loadEquipment(ctx context.Context, inds []string, from, to time.Time) ([]equipSeries, error) {
	sig, err := r.tablesSignature(ctx, "equipements")
	if err != nil {
		return nil, err
	}
	key := "equipements|" + strings.Join(inds, ",") + "|" + day(from) + "|" + day(to)
	if s, ok := r.e.reads.get(sig, key); ok {
		return s.([]equipSeries), nil
	}
	in := strings.TrimSuffix(strings.Repeat("?, ", len(inds)), ", ")
	args := make([]any, 0, len(inds)+2)
	for _, i := range inds {
		args = append(args, i)
	}
	args = append(args, day(from), day(to))
	rows, err := r.e.conn.Query(ctx, `SELECT any(i1), any(t1), groupArray(toUInt16(p1)), groupArray(v1), groupArray(r1) FROM (
    SELECT any(indicateur) AS i1, any(territoire) AS t1, any(periode) AS p1, argMax(valeur, version) AS v1,
           argMax(deleted, version) AS d1, max(version) AS r1
    FROM equipements
    WHERE indicateur IN (`+in+`) AND periode >= toDate(?) AND periode <= toDate(?)
    GROUP BY cityHash64(indicateur, territoire, periode))
WHERE d1 = 0
GROUP BY cityHash64(i1, t1)`, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	type raw struct {
		ps  []uint16
		vs  []float64
		ver []uint64
	}
	byKey := map[[2]string][]raw{} // (indicator, com:-normalised territory) → its spellings
	for rows.Next() {
		var ind, terr string
		var x raw
		if err := rows.Scan(&ind, &terr, &x.ps, &x.vs, &x.ver); err != nil {
			return nil, err
		}
		if !strings.Contains(terr, ":") {
			terr = "com:" + terr
		}
		k := [2]string{ind, terr}
		byKey[k] = append(byKey[k], x)
	}
	if err := rows.Err(); err != nil {
		return nil, err
	}
	out := make([]equipSeries, 0, len(byKey))
	for k, xs := range byKey {
		e := equipSeries{terr: k[1], ps: xs[0].ps, vs: xs[0].vs}
		if len(xs) > 1 { // both spellings: per period, the later report
			best := map[uint16]int{}
			var ver []uint64
			e = equipSeries{terr: k[1]}
			for _, x := range xs {
				for j, p := range x.ps {
					if i, ok := best[p]; !ok || x.ver[j] > ver[i] {
						if !ok {
							best[p] = len(e.ps)
							e.ps, e.vs, ver = append(e.ps, p), append(e.vs, x.vs[j]), append(ver, x.ver[j])
						} else {
							e.vs[i], ver[i] = x.vs[j], x.ver[j]
						}
					}
				}
			}
		}
		// groupArray keeps the order rows reach it in, which is not the periods' order.
		sort.Sort(byPeriod(e))
		out = append(out, e)
	}
	r.e.reads.put(sig, key, out)
	return out, nil
}

type byPeriod equipSeries

func (s byPeriod) Len() int           { return len(s.ps) }
func (s byPeriod) Less(i, j int) bool { return s.ps[i] < s.ps[j] }
func (s byPeriod) Swap(i, j int) {
	s.ps[i], s.ps[j] = s.ps[j], s.ps[i]
	s.vs[i], s.vs[j] = s.vs[j], s.vs[i]
}

// dayNum is t as days since 1970 (a Date on the server).
func dayNum(t time.Time) uint16 { return uint16(t.Unix() / 86400) }

// dayTime is the inverse of dayNum.
func dayTime(d uint16) time.Time { return time.Unix(int64(d)*86400, 0).UTC() }

// equipmentFlows: sum of the values reported in the window of each month by every territory of the
// group (itself, its EPCI, its communes).
func (r *request) equipmentFlows(ctx context.Context, ind catalogue.Indicator, ms []Month, gs []group, out values) error {
	from, _ := window(ind, ms[0])
	_, to := window(ind, ms[len(ms)-1])
	series, err := r.loadEquipment(ctx, ind.Inputs, from, to)
	if err != nil {
		return err
	}
	of := map[string][]int{} // territory → the groups it counts in
	for i, g := range gs {
		for t := range g.terr {
			if !strings.Contains(t, ":") {
				continue // bare codes are already read as com:
			}
			of[t] = append(of[t], i)
		}
	}
	// Periods reported anywhere, indexed densely (periods are days since 1970 within [from, to]): a
	// national reference reports 35 000 communes × 36 periods per figure, and per-group maps of
	// periods made this loop a quarter of a warm scorecard.
	lo, hi := uint16(math.MaxUint16), uint16(0)
	for _, s := range series {
		for _, p := range s.ps {
			lo, hi = min(lo, p), max(hi, p)
		}
	}
	if lo > hi {
		return nil // nothing reported: no cell, as before
	}
	slot := make([]int32, int(hi-lo)+1)
	for i := range slot {
		slot[i] = -1
	}
	var periods []uint16
	for _, s := range series {
		for _, p := range s.ps {
			if slot[p-lo] < 0 {
				slot[p-lo] = int32(len(periods))
				periods = append(periods, p)
			}
		}
	}
	// Per group and period, the sum reported and whether anything was reported.
	np := len(periods)
	sums := make([]float64, len(gs)*np)
	seenAt := make([]bool, len(gs)*np)
	for _, s := range series {
		gi := of[s.terr]
		if len(gi) == 0 {
			continue
		}
		for j, p := range s.ps {
			k := int(slot[p-lo])
			for _, i := range gi {
				sums[i*np+k] += s.vs[j]
				seenAt[i*np+k] = true
			}
		}
	}
	for _, m := range ms {
		wa, wb := window(ind, m)
		a, b := dayNum(wa), dayNum(wb)
		var in []int // the period slots inside the window
		for k, p := range periods {
			if p >= a && p <= b {
				in = append(in, k)
			}
		}
		if len(in) == 0 {
			continue
		}
		for i, g := range gs {
			var sum float64
			var last uint16
			seen := false
			for _, k := range in {
				if !seenAt[i*np+k] {
					continue
				}
				sum += sums[i*np+k]
				if p := periods[k]; !seen || p > last {
					last, seen = p, true
				}
			}
			c := cell{v: ptr(sum)}
			if seen {
				c.last = dayTime(last)
			}
			out.set(g.key, m, c)
		}
	}
	return nil
}

// equipmentStocks: % of the group's communes whose last reported stock at or before M is ≥ MinCount.
// Stocks carry forward without expiry; a commune that never reported has 0.
func (r *request) equipmentStocks(ctx context.Context, ind catalogue.Indicator, ms []Month, gs []group, out values) error {
	series, err := r.loadEquipment(ctx, ind.Inputs, time.Date(1970, 1, 1, 0, 0, 0, 0, time.UTC), ms[len(ms)-1].End())
	if err != nil {
		return err
	}
	byTerr := make(map[string]*equipSeries, len(series))
	first, any := uint16(0), false // earliest period reported by any territory
	for i := range series {
		s := &series[i]
		byTerr[s.terr] = s
		if len(s.ps) > 0 && (!any || s.ps[0] < first) {
			first, any = s.ps[0], true
		}
	}
	threshold := float64(max(ind.MinCount, 1))
	for _, m := range ms {
		at := dayNum(m.Start())
		if !any || first > at {
			continue // nothing reported yet at M: no figure
		}
		for _, g := range gs {
			if len(g.communes) == 0 {
				continue
			}
			ok := 0
			var last uint16
			seen := false
			for _, c := range g.communes {
				s := byTerr["com:"+c]
				if s == nil {
					continue
				}
				// The last period at or before M.
				k := sort.Search(len(s.ps), func(i int) bool { return s.ps[i] > at }) - 1
				if k < 0 {
					continue
				}
				if s.vs[k] >= threshold {
					ok++
				}
				if !seen || s.ps[k] > last {
					last, seen = s.ps[k], true
				}
			}
			c := cell{v: ptr(float64(ok) * 100 / float64(len(g.communes)))}
			if seen {
				c.last = dayTime(last)
			}
			out.set(g.key, m, c)
		}
	}
	return nil
}

// ---- places -------------------------------------------------------------------------------------------

type place struct {
	code     string
	lat, lon *float64
	dateMaj  time.Time
}

func (r *request) loadPlaces(ctx context.Context) error {
	if r.pst != nil {
		return nil
	}
	sig, err := r.tablesSignature(ctx, "lieux")
	if err != nil {
		return err
	}
	// The far communes depend on the reference's centroids too: the key names the reference loaded.
	key := fmt.Sprintf("lieux|%p", r.ref)
	if v, ok := r.e.reads.get(sig, key); ok {
		r.pst = v.(*placeState)
		r.places = r.pst.places
		return nil
	}
	rows, err := r.e.conn.Query(ctx, `SELECT code, lat, lon, dm FROM (
    SELECT id, argMax(code_insee, version) AS code, argMax(latitude, version) AS lat, argMax(longitude, version) AS lon,
           argMax(date_maj, version) AS dm, argMax(deleted, version) AS del
    FROM lieux GROUP BY id)
WHERE del = 0`)
	if err != nil {
		return err
	}
	defer rows.Close()
	var places []place
	for rows.Next() {
		var p place
		if err := rows.Scan(&p.code, &p.lat, &p.lon, &p.dateMaj); err != nil {
			return err
		}
		places = append(places, p)
	}
	if err := rows.Err(); err != nil {
		return err
	}
	r.pst = &placeState{places: slices.Clip(places)} // clipped: an append by a reader copies
	r.places = r.pst.places
	r.e.reads.put(sig, key, r.pst)
	return nil
}

// placeState is what the places give every request while lieux (and the reference) are unchanged:
// the places and, filled as asked, the grids and the communes far from every place — 35 000 distance
// checks per scorecard for a national reference otherwise.
type placeState struct {
	places []place
	mu     sync.Mutex
	grids  map[float64]*placeGrid
	far    map[string]bool
}

// placeState returns the request's place state (built from r.places for a request made by hand).
func (r *request) placeState() *placeState {
	if r.pst == nil {
		r.pst = &placeState{places: r.places}
	}
	return r.pst
}

// earthRadiusKM is the sphere of the distance rule (docs/regles.md « Indicateurs et statuts »: great-circle, R = 6371 km).
const earthRadiusKM = 6371.0

func distanceKM(lat1, lon1, lat2, lon2 float64) float64 {
	rad := math.Pi / 180
	dlat, dlon := (lat2-lat1)*rad, (lon2-lon1)*rad
	a := math.Sin(dlat/2)*math.Sin(dlat/2) + math.Cos(lat1*rad)*math.Cos(lat2*rad)*math.Sin(dlon/2)*math.Sin(dlon/2)
	return 2 * earthRadiusKM * math.Asin(math.Min(1, math.Sqrt(a)))
}

// farCommune reports whether the commune's centroid is strictly farther than km from every place with
// coordinates (any place: outside the territory, with an old sheet, or outside the département).
func (r *request) farCommune(code string, km float64) bool {
	ps := r.placeState()
	key := fmt.Sprintf("%s@%g", code, km)
	ps.mu.Lock()
	f, ok := ps.far[key]
	ps.mu.Unlock()
	if ok {
		return f
	}
	f = r.farFrom(code, km)
	ps.mu.Lock()
	if ps.far == nil {
		ps.far = map[string]bool{}
	}
	ps.far[key] = f
	ps.mu.Unlock()
	return f
}

// allLocated reports whether every commune of the list has a centroid.
func (r *request) allLocated(codes []string) bool {
	for _, code := range codes {
		if c, ok := r.ref.Commune(code); ok && c.NoCentroid {
			return false
		}
	}
	return true
}

func (r *request) farFrom(code string, km float64) bool {
	c, ok := r.ref.Commune(code)
	if !ok {
		return false
	}
	g := r.grid(km)
	// Only the cells that can hold a place within km are read (a national reference has 35 000
	// communes and ten thousand places: comparing every pair took 80 s). Latitude: |Δφ| ≤ km/R. Longitude:
	// from the haversine, cos φ1 cos φ2 sin²(Δλ/2) ≤ sin²(km/2R), with |φ2| ≤ |φ1| + km/R.
	rad := math.Pi / 180
	dphi := km / earthRadiusKM / rad
	cosMin := math.Cos(math.Min(90, math.Abs(c.Latitude)+dphi) * rad)
	dlam := 360.0
	if s := math.Sin(km/(2*earthRadiusKM)) / math.Sqrt(math.Cos(c.Latitude*rad)*cosMin); cosMin > 1e-9 && s < 1 {
		dlam = 2 * math.Asin(s) / rad
	}
	la0, la1 := int(math.Floor((c.Latitude-dphi)/g.cell)), int(math.Floor((c.Latitude+dphi)/g.cell))
	lo0, lo1 := int(math.Floor((c.Longitude-dlam)/g.cell)), int(math.Floor((c.Longitude+dlam)/g.cell))
	if dlam >= 180 || lo1-lo0 > len(g.cells) {
		lo0, lo1 = math.MinInt32, math.MaxInt32 // near a pole: every longitude
	}
	near := func(p place) bool { return distanceKM(c.Latitude, c.Longitude, *p.lat, *p.lon) <= km }
	if lo0 == math.MinInt32 {
		for k, ps := range g.cells {
			if k[0] >= la0 && k[0] <= la1 {
				for _, p := range ps {
					if near(p) {
						return false
					}
				}
			}
		}
		return true
	}
	for la := la0; la <= la1; la++ {
		for lo := lo0; lo <= lo1; lo++ {
			// Longitudes wrap: a cell is also looked for one turn away.
			for _, w := range []int{0, -1, 1} {
				for _, p := range g.cells[[2]int{la, lo + w*g.turn}] {
					if near(p) {
						return false
					}
				}
			}
		}
	}
	return true
}

// placeGrid buckets the located places into square cells of cell degrees.
type placeGrid struct {
	cell  float64
	turn  int // cells in 360°
	cells map[[2]int][]place
}

func (r *request) grid(km float64) *placeGrid {
	ps := r.placeState()
	ps.mu.Lock()
	defer ps.mu.Unlock()
	if g := ps.grids[km]; g != nil {
		return g
	}
	cell := math.Max(km/111.0, 0.01)
	g := &placeGrid{cell: cell, turn: int(math.Round(360 / cell)), cells: map[[2]int][]place{}}
	for _, p := range ps.places {
		if p.lat != nil && p.lon != nil {
			k := [2]int{int(math.Floor(*p.lat / cell)), int(math.Floor(*p.lon / cell))}
			g.cells[k] = append(g.cells[k], p)
		}
	}
	if ps.grids == nil {
		ps.grids = map[float64]*placeGrid{}
	}
	ps.grids[km] = g
	return g
}

func (r *request) placeFigures(ctx context.Context, ind catalogue.Indicator, ms []Month, gs []group, out values) error {
	if err := r.loadPlaces(ctx); err != nil {
		return err
	}
	if len(r.places) == 0 {
		return nil
	}
	located := 0
	for _, p := range r.places {
		if p.lat != nil && p.lon != nil {
			located++
		}
	}
	for _, g := range gs {
		in := map[string]bool{}
		for _, c := range g.communes {
			in[c] = true
		}
		for _, m := range ms {
			var c cell
			switch ind.Compute {
			case "lieux", "fiches_a_jour":
				// Places are read in their current state. A sheet is up to date at M when its date_maj
				// is later than end(M) − days (a sheet updated after M counts: only its latest date is known).
				limit := m.End().AddDate(0, 0, -max(ind.Days, 1))
				n := 0
				for _, p := range r.places {
					if !in[p.code] {
						continue
					}
					if p.dateMaj.After(c.last) {
						c.last = p.dateMaj
					}
					if ind.Compute == "lieux" || p.dateMaj.After(limit) {
						n++
					}
				}
				c.v = ptr(float64(n))
			case "zone_blanche":
				if located == 0 || g.pop == 0 || !r.allLocated(g.communes) {
					// No place with coordinates, or a commune of the territory without a centroid (the
					// national reference has none): its distance is unknown, so the share is sans
					// données, never a 0 or 100 % made up from a 0,0 centroid (see
					// reference.NoCentroidReason for the reason shown).
					break
				}
				var far uint64
				for _, code := range g.communes {
					if r.farCommune(code, ind.DistanceKM) {
						cm, _ := r.ref.Commune(code)
						far += uint64(cm.Population)
					}
				}
				c.v = ptr(float64(far) * 100 / float64(g.pop))
			}
			out.set(g.key, m, c)
		}
	}
	return nil
}

// ---- consultations ------------------------------------------------------------------------------------

// Consultations are located by their place's commune at read time, so those of a place ingested later
// count as soon as it arrives (a deleted place keeps locating its past consultations).
const consultationSQL = `SELECT code, ym, sum(c) AS n, max(d) AS last
FROM (
    SELECT lieu_id, date AS d, toYYYYMM(date) AS ym, argMax(consultations, version) AS c
    FROM consultations WHERE %s GROUP BY date, lieu_id
) AS cons
ANY LEFT JOIN (SELECT id AS lieu_id, argMax(code_insee, version) AS code FROM lieux GROUP BY id) AS pl USING (lieu_id)
GROUP BY code, ym`

// consultationRow is the consultations of one commune (as its places locate them) in one month.
type consultationRow struct {
	code string
	m    Month
	n    float64
	last time.Time
}

// loadConsultations reads the consultations of the months ms per commune, kept by the engine while
// consultations and lieux are unchanged.
func (r *request) loadConsultations(ctx context.Context, ms []Month) ([]consultationRow, error) {
	sig, err := r.tablesSignature(ctx, "consultations", "lieux")
	if err != nil {
		return nil, err
	}
	w, a := dateRanges("date", ms)
	key := fmt.Sprint("consultations|", w, a)
	if v, ok := r.e.reads.get(sig, key); ok {
		return v.([]consultationRow), nil
	}
	rows, err := r.e.conn.Query(ctx, fmt.Sprintf(consultationSQL, w), a...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []consultationRow
	for rows.Next() {
		var code string
		var ym uint32
		var n uint64
		var last time.Time
		if err := rows.Scan(&code, &ym, &n, &last); err != nil {
			return nil, err
		}
		out = append(out, consultationRow{code, Month{int(ym / 100), time.Month(ym % 100)}, float64(n), last})
	}
	if err := rows.Err(); err != nil {
		return nil, err
	}
	r.e.reads.put(sig, key, out)
	return out, nil
}

func (r *request) consultationFigures(ctx context.Context, ms []Month, gs []group, out values) error {
	groupsOf := communeGroups(gs)
	cons, err := r.loadConsultations(ctx, ms)
	if err != nil {
		return err
	}
	type agg struct {
		n    float64
		last time.Time
	}
	// A month with consultations anywhere (even outside the territories) is collected: its groups
	// without any read 0, not sans_donnees.
	data := map[Month]map[string]agg{}
	for _, c := range cons {
		if data[c.m] == nil {
			data[c.m] = map[string]agg{}
		}
		for _, k := range groupsOf[c.code] {
			a := data[c.m][k]
			a.n += c.n
			if c.last.After(a.last) {
				a.last = c.last
			}
			data[c.m][k] = a
		}
	}
	for _, m := range ms {
		if data[m] == nil {
			continue
		}
		for _, g := range gs {
			a := data[m][g.key]
			out.set(g.key, m, cell{v: ptr(a.n), last: a.last})
		}
	}
	return nil
}
