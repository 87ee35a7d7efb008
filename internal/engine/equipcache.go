package engine

import (
	"context"
	"fmt"
	"sort"
	"strings"
	"sync"
)

// equipCache keeps the equipment series an engine has read, for as long as the equipements table is
// unchanged (same signature of its parts and mutations, as for activities: see sourceState): a national
// reference reports 35 000 communes × 13 figures × 36 months, and deduplicating one figure costs about
// a second on 2 cores, for every scorecard of a long-lived process (the Grafana plugin) otherwise.
type equipCache struct {
	mu      sync.Mutex
	sig     string
	entries map[string][]equipSeries // by indicators and period range
}

// equipCacheSize bounds the entries kept (a scorecard reads 3, a series 3 more; entries differ by month).
const equipCacheSize = 32

func (c *equipCache) get(sig, key string) ([]equipSeries, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.sig != sig {
		return nil, false
	}
	s, ok := c.entries[key]
	return s, ok
}

// put stores series read under signature sig; callers never modify them.
func (c *equipCache) put(sig, key string, s []equipSeries) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.sig != sig || len(c.entries) >= equipCacheSize {
		c.sig, c.entries = sig, map[string][]equipSeries{}
	}
	c.entries[key] = s
}

// equipSignature is the state of the equipements table, read once per request.
func (r *request) equipSignature(ctx context.Context) (string, error) {
	if r.equipSig != "" {
		return r.equipSig, nil
	}
	sums, mutations, err := r.e.partState(ctx, []string{"equipements"})
	if err != nil {
		return "", err
	}
	parts := make([]string, 0, len(sums))
	for k, v := range sums {
		parts = append(parts, k[1]+":"+v)
	}
	sort.Strings(parts)
	r.equipSig = fmt.Sprintf("mut=%d;%s", mutations, strings.Join(parts, ","))
	return r.equipSig, nil
}
