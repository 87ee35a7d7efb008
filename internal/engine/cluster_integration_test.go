//go:build integration && cluster

package engine

import (
	"context"
	"encoding/json"
	"fmt"
	"testing"
	"time"

	"github.com/ClickHouse/clickhouse-go/v2/lib/driver"

	"github.com/sdaasp-rhone/fne/internal/catalogue"
	"github.com/sdaasp-rhone/fne/internal/chtest"
	"github.com/sdaasp-rhone/fne/internal/clustertest"
	"github.com/sdaasp-rhone/fne/internal/reference"
	"github.com/sdaasp-rhone/fne/internal/territory"
)

// clusterFixture is the fixture of fixture_integration_test.go loaded into a fresh cluster database, each
// batch through the next node (round robin over n1..n4), replicas then synchronised.
func clusterFixture(t *testing.T) *clustertest.DB {
	t.Helper()
	db := clustertest.Migrated(t)
	rr := clustertest.NewRoundRobin(t, db)
	p, err := reference.ParseDir("")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := reference.Load(context.Background(), rr, p); err != nil {
		t.Fatal(err)
	}
	loadFixture(t, rr)
	loadLateArrivals(t, rr)
	if rr.Batches() < clustertest.Nodes {
		t.Fatalf("%d batches only: every node should have received some", rr.Batches())
	}
	db.Sync(t)
	return db
}

// singleFixture is the same fixture on the single server (chtest database on 127.0.0.1:9000).
func singleFixture(t *testing.T) driver.Conn {
	t.Helper()
	db, _ := chtest.WithReference(t)
	loadFixture(t, db.Conn)
	loadLateArrivals(t, db.Conn)
	return db.Conn
}

func asJSON(t *testing.T, v any) string {
	t.Helper()
	b, err := json.MarshalIndent(v, "", " ")
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// Every indicator of the catalogue, for the département, an EPCI and a commune, and a 12-month series
// and breakdown, are the same on the cluster as on the single server, whichever node answers: the
// cluster only changes where rows live (the figures themselves are checked by hand in the single-server
// tests of this package, e.g. TestFixtureIndicators).
func TestClusterIndicatorsMatchSingleServer(t *testing.T) {
	ctx := context.Background()
	cat, err := catalogue.Load()
	if err != nil {
		t.Fatal(err)
	}
	single := New(singleFixture(t), cat)
	single.noWarm = true
	db := clusterFixture(t)
	oct := Month{2026, 10}
	for n := 1; n <= clustertest.Nodes; n++ {
		for _, persist := range []bool{false, true} {
			cl := New(db.Conn(t, n), cat)
			cl.noWarm, cl.noPersist = true, !persist
			for _, terr := range []string{dep, e1, c1} {
				id := territory.MustParse(terr)
				want, err := single.Evaluate(ctx, id, oct)
				if err != nil {
					t.Fatal(err)
				}
				got, err := cl.Evaluate(ctx, id, oct)
				if err != nil {
					t.Fatalf("n%d %s : %v", n, terr, err)
				}
				if len(got) != len(cat.Indicators) {
					t.Fatalf("n%d %s : %d indicators, want %d", n, terr, len(got), len(cat.Indicators))
				}
				if g, w := asJSON(t, got), asJSON(t, want); g != w {
					t.Errorf("n%d (persist %v) %s : cluster\n%s\nsingle server\n%s", n, persist, terr, g, w)
				}
			}
			want, err := single.Series(ctx, "a2.accompagnements", territory.MustParse(dep), Month{2025, 11}, oct)
			if err != nil {
				t.Fatal(err)
			}
			got, err := cl.Series(ctx, "a2.accompagnements", territory.MustParse(dep), Month{2025, 11}, oct)
			if err != nil {
				t.Fatal(err)
			}
			if g, w := asJSON(t, got), asJSON(t, want); g != w {
				t.Errorf("n%d (persist %v) series : cluster\n%s\nsingle server\n%s", n, persist, g, w)
			}
		}
	}
}

// The persisted aggregates work on a cluster, where system tables (parts, mutations) are per server:
// every node computes the same fingerprint for the same data (a Refresh through another node finds the
// aggregates already there and writes none), and an activity ingested through any node, on either
// shard, changes it (no stale aggregates served).
func TestClusterAggregatesFingerprint(t *testing.T) {
	ctx := context.Background()
	cat, err := catalogue.Load()
	if err != nil {
		t.Fatal(err)
	}
	db := clusterFixture(t)
	markers := func() uint64 {
		var n uint64
		if err := db.Conn(t, 1).QueryRow(ctx, "SELECT count() FROM activites_agregats WHERE kind = 0").Scan(&n); err != nil {
			t.Fatal(err)
		}
		return n
	}
	engineOn := func(n int) *Engine {
		e := New(db.Conn(t, n), cat)
		e.noWarm = true
		return e
	}
	if err := engineOn(1).Refresh(ctx); err != nil {
		t.Fatal(err)
	}
	db.Sync(t)
	if m := markers(); m != 1 {
		t.Fatalf("after the first Refresh: %d complete sets of aggregates, want 1", m)
	}
	for n := 2; n <= clustertest.Nodes; n++ {
		if err := engineOn(n).Refresh(ctx); err != nil {
			t.Fatal(err)
		}
	}
	db.Sync(t)
	if m := markers(); m != 1 {
		t.Errorf("Refresh through n2..n4: %d sets, want 1 (the nodes disagree on the fingerprint)", m)
	}
	oct := Month{2026, 10}
	accC1 := func(e *Engine) float64 {
		rs, err := e.Evaluate(ctx, territory.MustParse(c1), oct, "a2.accompagnements")
		if err != nil {
			t.Fatal(err)
		}
		if rs[0].Value == nil {
			t.Fatal("a2.accompagnements sans valeur")
		}
		return *rs[0].Value
	}
	series := func(e *Engine) float64 {
		ps, err := e.Series(ctx, "a2.accompagnements", territory.MustParse(c1), Month{2025, 11}, oct)
		if err != nil {
			t.Fatal(err)
		}
		return *ps[len(ps)-1].Value
	}
	// Villefranche (C1) in October 2026: A1 (3) + A2 at S1 (2) = 5 accompaniments (A5 deleted, A7 moved
	// to August; see TestFixtureIndicators).
	if got := series(engineOn(2)); got != 5 {
		t.Fatalf("C1 2026-10 from the persisted aggregates: %v, want 5", got)
	}
	// Two new activities in Villefranche, each inserted through another node: ids chosen so that one
	// lands on each shard (sharding key cityHash64(id)): 5 + 4 + 6 = 15.
	created := chtest.Day("2026-10-25")
	byShard := map[uint64]string{}
	for i := 1; len(byShard) < 2; i++ {
		id := fmt.Sprintf("N%d", i)
		var shard uint64
		if err := db.Conn(t, 1).QueryRow(ctx, "SELECT toUInt64(cityHash64(?) % 2)", id).Scan(&shard); err != nil {
			t.Fatal(err)
		}
		if _, ok := byShard[shard]; !ok {
			byShard[shard] = id
		}
	}
	for shard, id := range byShard {
		acc := uint32(4 + 2*shard)                             // 4 on shard 01, 6 on shard 02
		chtest.Insert(t, db.Conn(t, 3-2*int(shard)+1), insAct, // shard 01 through n4, shard 02 through n2
			[]any{id, uint64(1), uint8(0), created, "m1", acc, "domicile", "", "69264", created, created})
	}
	db.Sync(t)
	for n := 1; n <= clustertest.Nodes; n++ {
		if got := series(engineOn(n)); got != 15 {
			t.Errorf("n%d: C1 2026-10 after two new activities: %v, want 15 (stale aggregates)", n, got)
		}
		if got := accC1(engineOn(n)); got != 15 {
			t.Errorf("n%d: Evaluate C1 2026-10: %v, want 15", n, got)
		}
	}
	if err := engineOn(4).Refresh(ctx); err != nil {
		t.Fatal(err)
	}
	db.Sync(t)
	if m := markers(); m != 2 {
		t.Errorf("after the new activities and a Refresh: %d sets, want 2", m)
	}
}

// Old fingerprints are pruned on a cluster too (mutations exist only on the replicated local tables, not
// on a Distributed one): five collections, each followed by a Refresh through another node, with
// pruneAge 0 so that only the keptFingerprints newest sets stay; the figures stay right all along.
func TestClusterAggregatesPrune(t *testing.T) {
	ctx := context.Background()
	cat, err := catalogue.Load()
	if err != nil {
		t.Fatal(err)
	}
	db := clusterFixture(t)
	oldAge, oldNow := pruneAge, nowFunc
	t.Cleanup(func() { pruneAge, nowFunc = oldAge, oldNow })
	pruneAge = 0
	t0 := chtest.Day("2026-11-01")
	step := 0
	octC1 := func(e *Engine) float64 {
		ps, err := e.Series(ctx, "a2.accompagnements", territory.MustParse(c1), Month{2025, 10}, Month{2026, 10})
		if err != nil {
			t.Fatal(err)
		}
		return *ps[0].Value
	}
	nowFunc = func() time.Time { step++; return t0.Add(time.Duration(step) * time.Minute) }
	created := chtest.Day("2025-10-26")
	// C1 in October 2025: A13 = 2 (fixture), then +1 per collection: 3, 4, 5, 6, 7. October 2025 has no
	// edited activity, so an incremental refresh recomputes that month alone.
	for i := 1; i <= 5; i++ {
		chtest.Insert(t, db.Conn(t, (i%clustertest.Nodes)+1), insAct,
			[]any{fmt.Sprintf("P%d", i), uint64(1), uint8(0), created, "m1", uint32(1), "domicile", "", "69264", created, created})
		db.Sync(t)
		e := New(db.Conn(t, ((i+1)%clustertest.Nodes)+1), cat)
		e.noWarm = true
		info, err := e.RefreshReport(ctx)
		if err != nil {
			t.Fatalf("Refresh after collection %d: %v", i, err)
		}
		// The first Refresh has no previous set: full pass; the next ones recompute October 2026 only.
		if i > 1 && (info.Full || len(info.Months) != 1 || info.Months[0] != (Month{2025, 10})) {
			t.Errorf("Refresh after collection %d: full %v, months %v; want the incremental refresh of 2025-10", i, info.Full, info.Months)
		}
		if got, want := octC1(e), float64(2+i); got != want {
			t.Errorf("collection %d: C1 2025-10 = %v, want %v", i, got, want)
		}
	}
	// A replica down (n4): a sixth collection and its Refresh through n1 still succeed; the prune's wait for
	// n4 is abandoned after pruneDDLTimeout, and n4 runs it when it is back. C1: 5 + 6 = 11.
	clustertest.Kill(t, 4)
	chtest.Insert(t, db.Conn(t, 1), insAct,
		[]any{"P6", uint64(1), uint8(0), created, "m1", uint32(1), "domicile", "", "69264", created, created})
	e := New(db.Conn(t, 1), cat)
	e.noWarm = true
	start := time.Now()
	err = e.Refresh(ctx)
	took := time.Since(start)
	clustertest.Start(t, 4)
	if err != nil {
		t.Fatalf("Refresh with n4 down: %v", err)
	}
	t.Logf("Refresh with n4 down: %v", took)
	if got := octC1(e); got != 8 {
		t.Errorf("with n4 down: C1 2025-10 = %v, want 8", got)
	}
	// Mutations are asynchronous: wait for them, then count the sets left.
	var sets uint64
	for try := 0; try < 300; try++ {
		db.Sync(t)
		if err := db.Conn(t, 1).QueryRow(ctx, "SELECT uniqExact(fingerprint) FROM activites_agregats").Scan(&sets); err != nil {
			t.Fatal(err)
		}
		if sets <= keptFingerprints {
			break
		}
		time.Sleep(100 * time.Millisecond)
	}
	if sets != keptFingerprints {
		t.Errorf("%d fingerprints left after pruning, want %d", sets, keptFingerprints)
	}
}
