package engine

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"strings"
	"sync"
	"time"

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

// keptFingerprints is how many complete fingerprints stay in activites_agregats; an older one is
// deleted only once pruneAge has passed since it was written, so that a reader that has just found its
// marker is not left reading a set being deleted (and the marker's row count catches that case anyway).
const keptFingerprints = 3

var (
	pruneAge = time.Hour
	nowFunc  = time.Now // tests: distinct write times
)

const (
	aggMarker  = 0
	aggCommune = 1
	aggMed     = 2
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

// persist writes the full pass months under fingerprint fp (data first, then the marker that makes it
// readable), then removes the oldest fingerprints.
func (e *Engine) persist(ctx context.Context, fp string, months map[Month]*actMonth) error {
	var id [8]byte
	if _, err := rand.Read(id[:]); err != nil {
		return err
	}
	writer := hex.EncodeToString(id[:])
	now := nowFunc().UTC().Truncate(time.Second)
	const ins = "INSERT INTO activites_agregats (fingerprint, writer, kind, ym, commune, acc, n, last, medh, communes, computed_at)"
	b, err := e.conn.PrepareBatch(ctx, ins)
	if err != nil {
		return err
	}
	var count uint64
	for m, am := range months {
		ym := uint32(m.Year*100 + int(m.Month))
		count += uint64(len(am.communes) + len(am.meds))
		for code, ca := range am.communes {
			if err := b.Append(fp, writer, uint8(aggCommune), ym, code, ca.acc, ca.n, ca.last, uint64(0), []string{}, now); err != nil {
				return err
			}
		}
		for med, cs := range am.meds {
			if err := b.Append(fp, writer, uint8(aggMed), ym, "", uint64(0), uint64(0), time.Unix(0, 0).UTC(), med, cs, now); err != nil {
				return err
			}
		}
	}
	if err := b.Send(); err != nil {
		return err
	}
	mk, err := e.conn.PrepareBatch(ctx, ins)
	if err != nil {
		return err
	}
	if err := mk.Append(fp, writer, uint8(aggMarker), uint32(0), "", uint64(0), count, time.Unix(0, 0).UTC(), uint64(0), []string{}, now); err != nil {
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
	// Rows of a write that never completed (no marker) go with them, once no fingerprint is kept.
	return e.conn.Exec(ctx, "ALTER TABLE activites_agregats DELETE WHERE NOT has(?, fingerprint)", keep)
}

// computeAndPersist runs the full pass, caches it in memory under fp and persists it if the fingerprint
// did not move during the pass (an ingestion meanwhile: the result may mix both states).
func (e *Engine) computeAndPersist(ctx context.Context, ref *territory.Reference, fp string) (map[Month]*actMonth, error) {
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
	after, err := e.fingerprint(ctx, ref)
	if err != nil || after != fp {
		return months, err
	}
	return months, e.persist(ctx, fp, months)
}

// Refresh makes sure the aggregates of the current activities and structures are persisted, computing
// them if no process did: the daemon calls it after ingesting activities or structures, so that the
// next `fne indicators` or dashboard reads them instead of deduplicating every activity.
func (e *Engine) Refresh(ctx context.Context) error {
	ref, err := e.Reference(ctx)
	if err != nil {
		return err
	}
	fp, err := e.fingerprint(ctx, ref)
	if err != nil {
		return err
	}
	w, _, err := e.persistedWriter(ctx, fp)
	if err != nil {
		return fmt.Errorf("lecture des agrégats d'activités : %w", err)
	}
	if w != "" {
		return nil
	}
	if _, err := e.computeAndPersist(ctx, ref, fp); err != nil {
		return fmt.Errorf("calcul des agrégats d'activités : %w", err)
	}
	return nil
}

// fingerprintTables are the tables the activity aggregates are computed from.
var fingerprintTables = []string{"activites", "structures"}
