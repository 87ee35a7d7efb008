package engine

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/ClickHouse/clickhouse-go/v2"
	"github.com/ClickHouse/clickhouse-go/v2/lib/driver"

	"github.com/sdaasp-rhone/fne/internal/territory"
)

// The full pass is persisted in activites_agregats (schemas/clickhouse/0004) under its fingerprint, so
// that a short-lived process (`fne indicators`), another plugin instance or the daemon reuses it: loading
// the aggregates costs a read of a few hundred thousand small rows instead of a deduplication of every
// activity.
//
// Correctness does not depend on deletes nor merges of that table: a reader takes only the rows of the
// current fingerprint, and of one writer whose marker row (kind 0, written after its data) exists. Two
// processes computing the same fingerprint at once both write; readers pick the earliest complete one.
// Old fingerprints are removed with ALTER DELETE (asynchronous on 18.16: harmless, they are never read).
//
// A set is computed in full (one deduplicating pass over every activity) or incrementally from the
// previous set (RefreshReport): the months a collection may have changed are recomputed by the window
// pass, the others copied server-side. The marker holds the source state the set was computed from
// (sourceState entries), which is what the next refresh compares with.

// keptFingerprints is how many complete fingerprints stay in activites_agregats; an older one is
// deleted only once pruneAge has passed since it was written, so that a reader that has just found its
// marker is not left reading a set being deleted (and the marker's row count catches that case anyway).
const keptFingerprints = 3

var (
	// incrementalShare is the share of the months above which a refresh runs the full pass: the window
	// pass over most months costs more (tests raise it to exercise the incremental path on few months).
	incrementalShare = 1.0 / 3
	pruneAge         = time.Hour
	nowFunc          = time.Now // tests: distinct write times
)

const (
	aggMarker  = 0
	aggCommune = 1
	aggMed     = 2
	// aggStructure rows (medh = cityHash64 of the structure id, commune = its latest declared commune)
	// let the next incremental refresh find the structures that moved.
	aggStructure = 3
)

// persistedWriter returns the writer whose complete set of aggregates holds fingerprint fp ("" if none)
// and its number of data rows (the marker's n).
func (e *Engine) persistedWriter(ctx context.Context, fp string) (string, uint64, error) {
	rows, err := e.conn.Query(ctx, `SELECT writer, n FROM activites_agregats
WHERE fingerprint = ? AND kind = 0 ORDER BY computed_at, writer LIMIT 1`, fp)
	if err != nil {
		return "", 0, err
	}
	defer rows.Close()
	var w string
	var n uint64
	if rows.Next() {
		if err := rows.Scan(&w, &n); err != nil {
			return "", 0, err
		}
	}
	return w, n, rows.Err()
}

// loadPersisted rebuilds the full pass of fingerprint fp, restricted to the months ms when ms is not
// empty (those months are then present, possibly empty, as the window pass returns them). ok is false
// when no complete set exists under fp.
func (e *Engine) loadPersisted(ctx context.Context, fp string, ms []Month) (map[Month]*actMonth, bool, error) {
	w, want, err := e.persistedWriter(ctx, fp)
	if err != nil || w == "" {
		return nil, false, err
	}
	where := "fingerprint = ? AND writer = ?"
	args := []any{fp, w}
	months := map[Month]*actMonth{}
	if len(ms) > 0 {
		yms := make([]uint32, len(ms))
		for i, m := range ms {
			yms[i] = uint32(m.Year*100 + int(m.Month))
			months[m] = newActMonth()
		}
		where += " AND has(?, ym)"
		args = append(args, yms)
	}
	// Two queries at once, each with only its columns: the decoding of ~150 000 rows (10 M activities)
	// dominates the load, and the counsellors' communes come as one string (an Array(String) per row
	// costs twice as much to decode).
	type communeRow struct {
		ym      uint32
		commune string
		agg     communeAgg
	}
	type medRow struct {
		ym       uint32
		medh     uint64
		communes string
	}
	var (
		crs  []communeRow
		mrs  []medRow
		errs [2]error
		wg   sync.WaitGroup
	)
	wg.Add(2)
	go func() {
		defer wg.Done()
		rows, err := e.conn.Query(ctx, "SELECT ym, commune, acc, n, last FROM activites_agregats WHERE kind = 1 AND "+where, args...)
		if err != nil {
			errs[0] = err
			return
		}
		defer rows.Close()
		for rows.Next() {
			var r communeRow
			if err := rows.Scan(&r.ym, &r.commune, &r.agg.acc, &r.agg.n, &r.agg.last); err != nil {
				errs[0] = err
				return
			}
			crs = append(crs, r)
		}
		errs[0] = rows.Err()
	}()
	go func() {
		defer wg.Done()
		rows, err := e.conn.Query(ctx, "SELECT ym, medh, arrayStringConcat(communes, ',') FROM activites_agregats WHERE kind = 2 AND "+where, args...)
		if err != nil {
			errs[1] = err
			return
		}
		defer rows.Close()
		for rows.Next() {
			var r medRow
			if err := rows.Scan(&r.ym, &r.medh, &r.communes); err != nil {
				errs[1] = err
				return
			}
			mrs = append(mrs, r)
		}
		errs[1] = rows.Err()
	}()
	wg.Wait()
	if err := errors.Join(errs[:]...); err != nil {
		return nil, false, err
	}
	if len(ms) == 0 && uint64(len(crs)+len(mrs)) != want {
		return nil, false, nil // rows deleted meanwhile by a prune: recompute rather than read a part
	}
	month := func(ym uint32) *actMonth {
		m := Month{int(ym / 100), time.Month(ym % 100)}
		am := months[m]
		if am == nil {
			am = newActMonth()
			months[m] = am
		}
		return am
	}
	for i := range crs {
		r := &crs[i]
		am := month(r.ym)
		am.total += r.agg.n
		am.communes[r.commune] = &r.agg
	}
	for _, r := range mrs {
		// Codes never hold a comma (INSEE codes; '' for outside the reference).
		month(r.ym).meds[r.medh] = strings.Split(r.communes, ",")
	}
	return months, true, nil
}

func newActMonth() *actMonth {
	return &actMonth{communes: map[string]*communeAgg{}, meds: map[uint64][]string{}}
}

// ---- change state --------------------------------------------------------------------------------------

// sourceState is what a set of aggregates was computed from, read from metadata only (a few ms at any
// size, no scan of the data): per partition (month) of activites and for structures, the sum over shards
// of the highest block number of the active parts. Every INSERT takes a new block number, so the sum
// grows with each insert into that partition, and a merge keeps it (a merged part spans the block
// numbers of its sources): background merges — which may collapse duplicates of the ReplacingMergeTree
// but never change figures — do not invalidate the aggregates. A dropped partition disappears from the
// state; mutations (ALTER DELETE/UPDATE, not used by the collectors) are counted apart and force a full
// pass. Blind spot, documented: a table dropped and recreated, or truncated before a server restart,
// then refilled with exactly as many inserts per partition.
//
// On a cluster (activites is a Distributed table), system.parts of every shard is read through the
// cluster() table function with distributed_group_by_no_merge, so that each shard reports its own
// maxima (block numbers are counted per shard: a max over shards would miss an insert into a shard whose
// counter is behind). One replica per shard answers; replicas of a shard share block numbers, so the
// state does not depend on which one (a lagging replica only makes the state look changed).
type sourceState struct {
	ref        uint64
	mutations  uint64
	structures string            // signature of structures (every partition)
	months     map[uint32]string // activites partition YYYYMM → signature
	other      bool              // activites has a partition that is not a month: no incremental refresh
}

// entries is the canonical text of the state, stored in the marker of the set computed from it.
func (s sourceState) entries() []string {
	out := []string{fmt.Sprintf("ref=%d", s.ref), fmt.Sprintf("mut=%d", s.mutations), "structures=" + s.structures}
	if s.other {
		out = append(out, "other=1")
	}
	yms := make([]uint32, 0, len(s.months))
	for ym := range s.months {
		yms = append(yms, ym)
	}
	sort.Slice(yms, func(i, j int) bool { return yms[i] < yms[j] })
	for _, ym := range yms {
		out = append(out, fmt.Sprintf("m%d=%s", ym, s.months[ym]))
	}
	return out
}

// key is the fingerprint of the state: a short hash, so that every aggregate row carries a small key.
func (s sourceState) key() string {
	h := sha256.Sum256([]byte(strings.Join(s.entries(), "\n")))
	return "v2:" + hex.EncodeToString(h[:12])
}

// parseState reads the entries of a marker; ok is false for a marker written before states existed.
func parseState(es []string) (sourceState, bool) {
	s := sourceState{months: map[uint32]string{}}
	seen := 0
	for _, e := range es {
		k, v, found := strings.Cut(e, "=")
		if !found {
			return s, false
		}
		var err error
		switch {
		case k == "ref":
			s.ref, err = strconv.ParseUint(v, 10, 64)
			seen++
		case k == "mut":
			s.mutations, err = strconv.ParseUint(v, 10, 64)
			seen++
		case k == "structures":
			s.structures = v
			seen++
		case k == "other":
			s.other = true
		case strings.HasPrefix(k, "m"):
			var ym uint64
			ym, err = strconv.ParseUint(k[1:], 10, 32)
			s.months[uint32(ym)] = v
		default:
			return s, false
		}
		if err != nil {
			return s, false
		}
	}
	return s, seen == 3
}

// tableLayout says where the parts of the source tables live: on this server, or on every shard of a
// cluster under local table names.
type tableLayout struct {
	cluster string            // "" on a single server
	db      string            // database of the tables holding the parts
	local   map[string]string // logical table → table holding the parts
}

var distributedArgs = regexp.MustCompile(`^Distributed\((.*)\)$`)

// layout discovers (once per engine) whether the source tables are Distributed.
func (e *Engine) layout(ctx context.Context) (*tableLayout, error) {
	c := &e.acts
	c.mu.Lock()
	l := c.layout
	c.mu.Unlock()
	if l != nil {
		return l, nil
	}
	l = &tableLayout{local: map[string]string{}}
	if err := e.conn.QueryRow(ctx, "SELECT currentDatabase()").Scan(&l.db); err != nil {
		return nil, err
	}
	rows, err := e.conn.Query(ctx, `SELECT name, engine, engine_full FROM system.tables WHERE database = currentDatabase() AND has(?, name)`,
		append(append([]string{"activites_agregats"}, cachedTables...), fingerprintTables...))
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	for rows.Next() {
		var name, engine, full string
		if err := rows.Scan(&name, &engine, &full); err != nil {
			return nil, err
		}
		l.local[name] = name
		if engine != "Distributed" {
			continue
		}
		// Distributed(cluster, database, table[, sharding key]): names quoted or not.
		m := distributedArgs.FindStringSubmatch(strings.TrimSpace(full))
		if m == nil {
			return nil, fmt.Errorf("table %s distribuée illisible : %s", name, full)
		}
		args := strings.SplitN(m[1], ",", 4)
		if len(args) < 3 {
			return nil, fmt.Errorf("table %s distribuée illisible : %s", name, full)
		}
		unq := func(s string) string { return strings.Trim(strings.TrimSpace(s), "'`\"") }
		l.cluster = unq(args[0])
		if d := unq(args[1]); d != "" && !strings.Contains(d, "(") {
			l.db = d
		}
		l.local[name] = unq(args[2])
	}
	if err := rows.Err(); err != nil {
		return nil, err
	}
	c.mu.Lock()
	c.layout = l
	c.mu.Unlock()
	return l, nil
}

// state reads the current source state.
func (e *Engine) state(ctx context.Context, ref *territory.Reference) (sourceState, error) {
	st := sourceState{ref: ref.LoadID, months: map[uint32]string{}}
	sums, mutations, err := e.partState(ctx, fingerprintTables)
	if err != nil {
		return st, err
	}
	st.mutations = mutations
	var structs []string
	for k, v := range sums {
		switch k[0] {
		case "activites":
			ym, err := strconv.ParseUint(k[1], 10, 32)
			if err != nil || ym < 190001 || ym > 999912 {
				st.other = true
				structs = append(structs, "a"+k[1]+":"+v) // still part of the key
				continue
			}
			st.months[uint32(ym)] = v
		default:
			structs = append(structs, k[1]+":"+v)
		}
	}
	sort.Strings(structs)
	st.structures = strings.Join(structs, ",")
	return st, nil
}

// partState reads, for the tables named, the signature "sum/shards" of each (table, partition) (see
// sourceState) and the number of their mutations.
func (e *Engine) partState(ctx context.Context, tables []string) (map[[2]string]string, uint64, error) {
	l, err := e.layout(ctx)
	if err != nil {
		return nil, 0, err
	}
	byLocal := map[string]string{}
	var locals []string
	for _, name := range tables {
		local := l.local[name]
		if local == "" {
			local = name
		}
		byLocal[local] = name
		locals = append(locals, local)
	}
	parts, mutations := "system.parts", "system.mutations"
	args := []any{l.db, locals}
	qctx := ctx
	if l.cluster != "" {
		parts, mutations = "cluster(?, system, parts)", "cluster(?, system, mutations)"
		args = append([]any{l.cluster}, args...)
		qctx = clickhouse.Context(ctx, clickhouse.WithSettings(clickhouse.Settings{"distributed_group_by_no_merge": 1}))
	}
	rows, err := e.conn.Query(qctx, `SELECT table, partition_id, max(max_block_number) FROM `+parts+`
WHERE database = ? AND active AND has(?, table) GROUP BY table, partition_id`, args...)
	if err != nil {
		return nil, 0, err
	}
	type sig struct{ sum, shards int64 }
	sums := map[[2]string]*sig{}
	for rows.Next() {
		var table, partition string
		var block int64
		if err := rows.Scan(&table, &partition, &block); err != nil {
			rows.Close()
			return nil, 0, err
		}
		k := [2]string{byLocal[table], partition}
		if sums[k] == nil {
			sums[k] = &sig{}
		}
		sums[k].sum += block
		sums[k].shards++
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, 0, err
	}
	out := make(map[[2]string]string, len(sums))
	for k, s := range sums {
		out[k] = fmt.Sprintf("%d/%d", s.sum, s.shards)
	}
	mrows, err := e.conn.Query(qctx, `SELECT count() FROM `+mutations+` WHERE database = ? AND has(?, table)`, args...)
	if err != nil {
		return nil, 0, err
	}
	defer mrows.Close()
	var n uint64
	for mrows.Next() { // one row per shard on a cluster
		var k uint64
		if err := mrows.Scan(&k); err != nil {
			return nil, 0, err
		}
		n += k
	}
	return out, n, mrows.Err()
}

// fingerprint is the key of the current source state (see sourceState).
func (e *Engine) fingerprint(ctx context.Context, ref *territory.Reference) (string, error) {
	st, err := e.state(ctx, ref)
	if err != nil {
		return "", err
	}
	return st.key(), nil
}

// fingerprintTables are the tables the activity aggregates are computed from.
var fingerprintTables = []string{"activites", "structures"}

// cachedTables are the sources whose reads the engine keeps (readCache), signed by their parts.
var cachedTables = []string{"equipements", "consultations", "lieux", "rencontres", "participations"}

// structureCommunes maps every structure (hashed id) to its latest declared commune, as the passes
// locate lieu_activite activities: persisted with a set, it tells the next refresh which structures moved.
func (e *Engine) structureCommunes(ctx context.Context) (map[uint64]string, error) {
	rows, err := e.conn.Query(ctx, `SELECT cityHash64(id), argMax(code_insee, version) FROM structures GROUP BY id`)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := map[uint64]string{}
	for rows.Next() {
		var h uint64
		var code string
		if err := rows.Scan(&h, &code); err != nil {
			return nil, err
		}
		out[h] = code
	}
	return out, rows.Err()
}

// ---- writing sets --------------------------------------------------------------------------------------

// aggInsert makes inserts into a Distributed activites_agregats synchronous: the marker must never
// reach a shard before the data it vouches for (no effect on a single server).
func aggInsert(ctx context.Context) context.Context {
	return clickhouse.Context(ctx, clickhouse.WithSettings(clickhouse.Settings{"insert_distributed_sync": 1}))
}

// baseSet is a complete persisted set that a new one copies its unchanged months from.
type baseSet struct {
	fp, writer string
	n          uint64
	state      sourceState
	stateOK    bool
}

// writeSet writes a set under fingerprint fp: the months of base other than replaced (copied server-side)
// when base is not nil, the months given, the structure communes, then the marker (holding the state
// entries and the number of month rows) that makes it readable; then removes the oldest fingerprints.
func (e *Engine) writeSet(ctx context.Context, fp string, entries []string, structs map[uint64]string,
	months map[Month]*actMonth, base *baseSet, replaced []uint32) error {
	var id [8]byte
	if _, err := rand.Read(id[:]); err != nil {
		return err
	}
	writer := hex.EncodeToString(id[:])
	now := nowFunc().UTC().Truncate(time.Second)
	ictx := aggInsert(ctx)
	var count uint64
	if base != nil {
		// The base set is immutable (never updated, only deleted whole by a prune long after): the rows
		// counted are the rows copied.
		if err := e.conn.QueryRow(ctx, `SELECT count() FROM activites_agregats
WHERE fingerprint = ? AND writer = ? AND kind IN (1, 2) AND NOT has(?, ym)`, base.fp, base.writer, replaced).Scan(&count); err != nil {
			return err
		}
		if err := e.conn.Exec(ictx, `INSERT INTO activites_agregats (fingerprint, writer, kind, ym, commune, acc, n, last, medh, communes, computed_at)
SELECT ?, ?, kind, ym, commune, acc, n, last, medh, communes, toDateTime(?) FROM activites_agregats
WHERE fingerprint = ? AND writer = ? AND kind IN (1, 2) AND NOT has(?, ym)`,
			fp, writer, now.Format("2006-01-02 15:04:05"), base.fp, base.writer, replaced); err != nil {
			return err
		}
	}
	const ins = "INSERT INTO activites_agregats (fingerprint, writer, kind, ym, commune, acc, n, last, medh, communes, computed_at)"
	b, err := e.conn.PrepareBatch(ictx, ins)
	if err != nil {
		return err
	}
	zero := time.Unix(0, 0).UTC()
	for m, am := range months {
		ym := uint32(m.Year*100 + int(m.Month))
		count += uint64(len(am.communes) + len(am.meds))
		for code, ca := range am.communes {
			if err := b.Append(fp, writer, uint8(aggCommune), ym, code, ca.acc, ca.n, ca.last, uint64(0), []string{}, now); err != nil {
				return err
			}
		}
		for med, cs := range am.meds {
			if err := b.Append(fp, writer, uint8(aggMed), ym, "", uint64(0), uint64(0), zero, med, cs, now); err != nil {
				return err
			}
		}
	}
	for h, code := range structs {
		if err := b.Append(fp, writer, uint8(aggStructure), uint32(0), code, uint64(0), uint64(0), zero, h, []string{}, now); err != nil {
			return err
		}
	}
	if err := b.Send(); err != nil {
		return err
	}
	mk, err := e.conn.PrepareBatch(ictx, ins)
	if err != nil {
		return err
	}
	if entries == nil {
		entries = []string{}
	}
	// acc of the marker: write time in ns, so that the next refresh finds the latest set (computed_at has
	// whole seconds).
	if err := mk.Append(fp, writer, uint8(aggMarker), uint32(0), "", uint64(nowFunc().UnixNano()), count, zero, uint64(0), entries, now); err != nil {
		return err
	}
	if err := mk.Send(); err != nil {
		return err
	}
	return e.prunePersisted(ctx)
}

// prunePersisted deletes every fingerprint but the keptFingerprints most recent complete ones (and the
// incomplete writes of the deleted ones).
func (e *Engine) prunePersisted(ctx context.Context) error {
	rows, err := e.conn.Query(ctx, `SELECT fingerprint, max(computed_at) AS t FROM activites_agregats WHERE kind = 0
GROUP BY fingerprint ORDER BY t DESC, fingerprint`)
	if err != nil {
		return err
	}
	var keep []string
	old := false
	limit := nowFunc().Add(-pruneAge)
	for rows.Next() {
		var fp string
		var t time.Time
		if err := rows.Scan(&fp, &t); err != nil {
			rows.Close()
			return err
		}
		if len(keep) < keptFingerprints || t.After(limit) {
			keep = append(keep, fp)
		} else {
			old = true
		}
	}
	rows.Close()
	if err := rows.Err(); err != nil || !old {
		return err
	}
	// Rows of a write that never completed (no marker) go with them, once no fingerprint is kept. A
	// Distributed table takes no mutation: on a cluster the local tables are altered on every node.
	l, err := e.layout(ctx)
	if err != nil {
		return err
	}
	if local := l.local["activites_agregats"]; l.cluster != "" && local != "" && local != "activites_agregats" {
		return pruneOnCluster(ctx, e.conn, l, local, keep)
	}
	return e.conn.Exec(ctx, "ALTER TABLE activites_agregats DELETE WHERE NOT has(?, fingerprint)", keep)
}

// pruneDDLTimeout bounds how long a prune waits for every server of a cluster.
const pruneDDLTimeout = 10

// pruneOnCluster deletes on a cluster: a Distributed table has no mutations, so the delete runs ON CLUSTER
// on the replicated local table (migrate.Rewrite's T_local), named with its database like every DDL of
// migrate --cluster (the servers need not share a default database). A server that is down does not
// block the refresh: past pruneDDLTimeout seconds the wait is abandoned (the task stays queued in
// ZooKeeper and runs when the server is back), since the set just written is already complete.
func pruneOnCluster(ctx context.Context, conn driver.Conn, l *tableLayout, local string, keep []string) error {
	q := fmt.Sprintf("ALTER TABLE %s.%s ON CLUSTER '%s' DELETE WHERE NOT has(?, fingerprint)",
		l.db, local, strings.ReplaceAll(l.cluster, "'", `\'`))
	err := conn.Exec(clickhouse.Context(ctx, clickhouse.WithSettings(clickhouse.Settings{"distributed_ddl_task_timeout": pruneDDLTimeout})), q, keep)
	var ex *clickhouse.Exception
	if errors.As(err, &ex) && ex.Code == 159 { // TIMEOUT_EXCEEDED: some server did not answer in time
		return nil
	}
	return err
}

// computeAndPersist runs the full pass, caches it in memory under fp and persists it if the state did
// not move during the pass (an ingestion meanwhile: the result may mix both states).
func (e *Engine) computeAndPersist(ctx context.Context, ref *territory.Reference, fp string) (map[Month]*actMonth, error) {
	var structs map[uint64]string
	if !e.noPersist {
		var err error
		if structs, err = e.structureCommunes(ctx); err != nil {
			return nil, err
		}
	}
	months, err := e.passActivities(ctx, ref, nil)
	if err != nil {
		return nil, err
	}
	c := &e.acts
	c.mu.Lock()
	c.months, c.fp = months, fp
	c.mu.Unlock()
	if e.noPersist {
		return months, nil
	}
	after, err := e.state(ctx, ref)
	if err != nil || after.key() != fp {
		return months, err
	}
	return months, e.writeSet(ctx, fp, after.entries(), structs, months, nil, nil)
}

// refreshOrCompute is the full-pass path of a reader whose fingerprint has no persisted set (rows
// ingested without a Refresh): an incremental refresh from the previous set when one fits, then its
// load; else the full pass.
func (e *Engine) refreshOrCompute(ctx context.Context, ref *territory.Reference, fp string) (map[Month]*actMonth, error) {
	if !e.noPersist {
		if st, err := e.state(ctx, ref); err == nil && st.key() == fp {
			var steps []Step
			if _, ok, err := e.refreshIncremental(ctx, ref, st, &steps); err == nil && ok {
				if months, ok, err := e.loadPersisted(ctx, fp, nil); err == nil && ok {
					c := &e.acts
					c.mu.Lock()
					c.months, c.fp = months, fp
					c.mu.Unlock()
					return months, nil
				}
			}
		}
	}
	return e.computeAndPersist(ctx, ref, fp)
}

// RefreshInfo tells what a Refresh did.
type RefreshInfo struct {
	UpToDate bool    // the aggregates of the current state were already persisted
	Full     bool    // full pass (no usable previous set, reference reloaded, mutation, many months)
	Months   []Month // months recomputed by an incremental refresh (the others were copied)
	Steps    []Step  // time of each step of an incremental refresh (benchmarks)
}

// Step is one timed step of a refresh.
type Step struct {
	Name string
	D    time.Duration
}

// Refresh makes sure the aggregates of the current activities and structures are persisted: the daemon
// calls it after ingesting activities or structures, so that the next `fne indicators` or dashboard reads
// them instead of deduplicating every activity.
func (e *Engine) Refresh(ctx context.Context) error {
	_, err := e.RefreshReport(ctx)
	return err
}

// RefreshReport is Refresh, telling what it did. A refresh after a collection is incremental: from the
// latest persisted set, it recomputes (window pass) only the months whose aggregates may have changed
// and copies the others. A month may change when
//   - its partition of activites received rows (its state signature moved, or it appeared or vanished);
//   - it holds another version of an activity edited in such a partition: the latest version may have
//     moved the activity out of it (or into it). A version dated elsewhere than another version of the
//     same activity exists only if the activity was edited (modification > creation: a changed date is
//     an edit), so the edited rows of the changed partitions are enough to find those months;
//   - it holds lieu_activite activities of a structure whose commune changed (compared with the
//     structure communes persisted with the previous set).
//
// The reference, a mutation, or more than a third of the months changed: full pass.
func (e *Engine) RefreshReport(ctx context.Context) (RefreshInfo, error) {
	ref, err := e.Reference(ctx)
	if err != nil {
		return RefreshInfo{}, err
	}
	st, err := e.state(ctx, ref)
	if err != nil {
		return RefreshInfo{}, err
	}
	fp := st.key()
	w, _, err := e.persistedWriter(ctx, fp)
	if err != nil {
		return RefreshInfo{}, fmt.Errorf("lecture des agrégats d'activités : %w", err)
	}
	if w != "" {
		return RefreshInfo{UpToDate: true}, nil
	}
	var steps []Step
	ms, ok, err := e.refreshIncremental(ctx, ref, st, &steps)
	if err != nil {
		return RefreshInfo{}, fmt.Errorf("calcul incrémental des agrégats d'activités : %w", err)
	}
	if ok {
		return RefreshInfo{Months: ms, Steps: steps}, nil
	}
	if _, err := e.computeAndPersist(ctx, ref, fp); err != nil {
		return RefreshInfo{}, fmt.Errorf("calcul des agrégats d'activités : %w", err)
	}
	return RefreshInfo{Full: true}, nil
}

// latestSet is the most recently written complete set (nil if none).
func (e *Engine) latestSet(ctx context.Context) (*baseSet, error) {
	rows, err := e.conn.Query(ctx, `SELECT fingerprint, writer, n, communes FROM activites_agregats
WHERE kind = 0 ORDER BY computed_at DESC, acc DESC, fingerprint, writer LIMIT 1`)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	if !rows.Next() {
		return nil, rows.Err()
	}
	var b baseSet
	var es []string
	if err := rows.Scan(&b.fp, &b.writer, &b.n, &es); err != nil {
		return nil, err
	}
	b.state, b.stateOK = parseState(es)
	return &b, rows.Err()
}

// refreshIncremental persists the set of state st from the latest set; ok is false when a full pass is
// needed. It returns the months recomputed.
func (e *Engine) refreshIncremental(ctx context.Context, ref *territory.Reference, st sourceState, steps *[]Step) ([]Month, bool, error) {
	t0 := time.Now()
	mark := func(name string) {
		*steps = append(*steps, Step{name, time.Since(t0)})
		t0 = time.Now()
	}
	base, err := e.latestSet(ctx)
	if err != nil || base == nil || !base.stateOK {
		return nil, false, err
	}
	prev := base.state
	if prev.ref != st.ref || prev.mutations != st.mutations || prev.other || st.other {
		return nil, false, nil
	}
	// The base must be whole (a prune may be deleting it).
	var have uint64
	if err := e.conn.QueryRow(ctx, `SELECT count() FROM activites_agregats WHERE fingerprint = ? AND writer = ? AND kind IN (1, 2)`,
		base.fp, base.writer).Scan(&have); err != nil || have != base.n {
		return nil, false, err
	}
	dirty := map[uint32]bool{}
	for ym, sig := range st.months {
		if prev.months[ym] != sig {
			dirty[ym] = true
		}
	}
	for ym := range prev.months {
		if _, ok := st.months[ym]; !ok {
			dirty[ym] = true
		}
	}
	mark("ensemble précédent")
	structs, err := e.structureCommunes(ctx)
	if err != nil {
		return nil, false, err
	}
	mark("communes des structures")
	if prev.structures != st.structures {
		old, err := e.persistedStructures(ctx, base)
		if err != nil {
			return nil, false, err
		}
		var moved []uint64
		for h, code := range structs {
			if c, ok := old[h]; !ok || c != code {
				moved = append(moved, h)
			}
		}
		for h := range old {
			if _, ok := structs[h]; !ok {
				moved = append(moved, h)
			}
		}
		if len(moved) > 0 {
			yms, err := e.distinctMonths(ctx, `SELECT DISTINCT toYYYYMM(date) FROM activites
PREWHERE has(?, cityHash64(structure_id)) WHERE type_lieu = 'lieu_activite'`, moved)
			if err != nil {
				return nil, false, err
			}
			for _, ym := range yms {
				dirty[ym] = true
			}
		}
	}
	if len(dirty) > 0 {
		yms, err := e.otherVersionMonths(ctx, dirty, prev, st)
		if err != nil {
			return nil, false, err
		}
		for _, ym := range yms {
			dirty[ym] = true
		}
		mark("mois des autres versions des activités modifiées")
	}
	if float64(len(dirty)) > incrementalShare*float64(len(st.months)) && len(dirty) > 1 {
		return nil, false, nil // the window pass over most months costs more than the full pass
	}
	ms := monthsOf(dirty)
	var months map[Month]*actMonth
	if len(ms) > 0 {
		if months, err = e.passActivities(ctx, ref, ms); err != nil {
			return nil, false, err
		}
		mark("passe fenêtrée des mois touchés")
	}
	after, err := e.state(ctx, ref)
	if err != nil {
		return nil, false, err
	}
	if after.key() != st.key() {
		return ms, true, nil // ingested meanwhile: the next Refresh starts from the base again
	}
	replaced := []uint32{0} // never a month: has() of an empty array literal is refused by 18.16
	for ym := range dirty {
		replaced = append(replaced, ym)
	}
	err = e.writeSet(ctx, st.key(), st.entries(), structs, months, base, replaced)
	mark("écriture (copie des autres mois, mois recalculés, marqueur)")
	return ms, true, err
}

// otherVersionMonths returns the months outside the changed partitions (dirty) whose aggregates an edit
// in those partitions may have changed: an activity leaves month M when its previous latest version was
// dated in M and a newer version arrived elsewhere. A version dated elsewhere than another version of
// the same activity exists only if the activity was edited (a changed date is an edit), so only edited
// rows of the changed partitions are followed.
//
// On one server the rows that arrived since the previous set are known: those of the parts whose
// highest block number is above the partition's block number in the previous state (a part merged
// since spans the new blocks, so it is counted as new, with its old rows: more months at worst, never
// fewer). Only their edited ids are followed, and a month is kept only if it held the latest version
// among the rows that were already there (the activity's previous latest version): an edit of an
// activity already edited in those partitions leaves the months of its older versions alone. On a
// cluster (block numbers per shard, summed in the state) every edited row of the changed partitions is
// followed and every month of their other versions kept.
func (e *Engine) otherVersionMonths(ctx context.Context, dirty map[uint32]bool, prev, st sourceState) ([]uint32, error) {
	w, a := dateRanges("date", monthsOf(dirty))
	var parts []string
	var before []uint64
	single := true
	for ym := range dirty {
		n, ok := singleShardBlock(prev.months[ym])
		if _, okNow := singleShardBlock(st.months[ym]); !okNow || (!ok && prev.months[ym] != "") {
			single = false
			break
		}
		parts, before = append(parts, strconv.FormatUint(uint64(ym), 10)), append(before, n) // n = 0: a new partition
	}
	if !single {
		// GLOBAL: on a cluster the set of edited ids is built once, whatever shard holds the versions.
		return e.distinctMonths(ctx, fmt.Sprintf(`SELECT DISTINCT toYYYYMM(date) FROM activites
WHERE NOT (%[1]s) AND id GLOBAL IN (SELECT id FROM activites PREWHERE modification > creation WHERE %[1]s)`, w),
			append(append([]any{}, a...), a...)...)
	}
	// isNew: the row is in a part holding blocks written since the previous state (part names are
	// partition_minblock_maxblock_level[_mutation] on every release).
	const isNew = `toUInt64(splitByChar('_', _part)[3]) > transform(splitByChar('_', _part)[1], ?, ?, toUInt64(0))`
	edited := fmt.Sprintf(`SELECT id FROM activites PREWHERE modification > creation WHERE (%s) AND %s`, w, isNew)
	q := fmt.Sprintf(`SELECT DISTINCT ym FROM (
    SELECT toYYYYMM(argMax(d, v)) AS ym, argMax(outside, v) AS o FROM (
        SELECT cityHash64(id) AS h, version AS v, date AS d, 1 AS outside FROM activites
        WHERE NOT (%[1]s) AND id IN (%[2]s)
        UNION ALL
        SELECT cityHash64(id) AS h, version AS v, date AS d, 0 AS outside FROM activites
        WHERE (%[1]s) AND NOT (%[3]s) AND id IN (%[2]s))
    GROUP BY h)
WHERE o = 1`, w, edited, isNew)
	// Placeholders in text order: outside branch (window, edited ids), inside branch (window, old
	// rows, edited ids).
	args := append(append([]any{}, a...), a...)
	args = append(args, parts, before)
	args = append(append(args, a...), parts, before)
	args = append(append(args, a...), parts, before)
	return e.distinctMonths(ctx, q, args...)
}

// singleShardBlock reads the highest block number of a partition signature written from one shard.
func singleShardBlock(sig string) (uint64, bool) {
	sum, shards, ok := strings.Cut(sig, "/")
	if !ok || shards != "1" {
		return 0, false
	}
	n, err := strconv.ParseUint(sum, 10, 64)
	return n, err == nil
}

func (e *Engine) persistedStructures(ctx context.Context, b *baseSet) (map[uint64]string, error) {
	rows, err := e.conn.Query(ctx, `SELECT medh, commune FROM activites_agregats WHERE fingerprint = ? AND writer = ? AND kind = 3`, b.fp, b.writer)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := map[uint64]string{}
	for rows.Next() {
		var h uint64
		var c string
		if err := rows.Scan(&h, &c); err != nil {
			return nil, err
		}
		out[h] = c
	}
	return out, rows.Err()
}

func (e *Engine) distinctMonths(ctx context.Context, q string, args ...any) ([]uint32, error) {
	rows, err := e.conn.Query(ctx, q, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []uint32
	for rows.Next() {
		var ym uint32
		if err := rows.Scan(&ym); err != nil {
			return nil, err
		}
		out = append(out, ym)
	}
	return out, rows.Err()
}

func monthsOf(yms map[uint32]bool) []Month {
	out := make([]Month, 0, len(yms))
	for ym := range yms {
		out = append(out, Month{int(ym / 100), time.Month(ym % 100)})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Before(out[j]) })
	return out
}
