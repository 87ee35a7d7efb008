package engine

import (
	"context"
	"fmt"
	"sort"
	"strings"
	"sync"
)

// readCache keeps what an engine has read from the source tables other than activities (whose figures
// are persisted aggregates), for as long as those tables are unchanged: each entry is kept with the
// signature of its tables' parts and mutations (as for activities: see sourceState) and served only
// while that signature holds. Kept: equipment series, consultations per commune, meetings and their
// participations, places (with the communes far from any place). A national reference reports 35 000
// communes × 13 figures × 36 months of equipment, whose deduplication costs about a second per figure
// on 2 cores, and the other reads 50 to 150 ms each: for every scorecard of a long-lived process (the
// Grafana plugin) otherwise.
type readCache struct {
	mu      sync.Mutex
	entries map[string]cacheEntry // by source and what was read (indicators, periods)
}

type cacheEntry struct {
	sig string
	v   any
}

// readCacheSize bounds the entries kept (a scorecard reads 3 equipment sets, the consultations, the
// meetings and the places; a series as many more; entries differ by month).
const readCacheSize = 64

func (c *readCache) get(sig, key string) (any, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	e, ok := c.entries[key]
	if !ok || e.sig != sig {
		return nil, false
	}
	return e.v, true
}

// put stores what was read under signature sig; callers never modify it.
func (c *readCache) put(sig, key string, v any) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.entries == nil || len(c.entries) >= readCacheSize {
		c.entries = map[string]cacheEntry{}
	}
	c.entries[key] = cacheEntry{sig, v}
}

// tablesSignature is the state of tables (parts and mutations), read once per request and table set.
func (r *request) tablesSignature(ctx context.Context, tables ...string) (string, error) {
	k := strings.Join(tables, ",")
	r.sigMu.Lock()
	defer r.sigMu.Unlock()
	if s, ok := r.sigs[k]; ok {
		return s, nil
	}
	sums, mutations, err := r.e.partState(ctx, tables)
	if err != nil {
		return "", err
	}
	parts := make([]string, 0, len(sums))
	for k, v := range sums {
		parts = append(parts, k[0]+"/"+k[1]+":"+v)
	}
	sort.Strings(parts)
	s := fmt.Sprintf("mut=%d;%s", mutations, strings.Join(parts, ","))
	if r.sigs == nil {
		r.sigs = map[string]string{}
	}
	r.sigs[k] = s
	return s, nil
}
