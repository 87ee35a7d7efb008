//go:build integration

package plugin

import (
	"context"
	"fmt"
	"math/rand"
	"sort"
	"testing"
	"time"

	"github.com/sdaasp-rhone/fne/internal/chtest"
)

// loadBulk adds n activities spread over the 208 communes and the 24 months up to October 2026, and a
// hotspot stock per commune, so that the scorecard's queries read a realistic volume.
func loadBulk(b *testing.B, env fixtureEnv, n int) {
	ref, err := env.eng.Reference(context.Background())
	if err != nil {
		b.Fatal(err)
	}
	rng := rand.New(rand.NewSource(1))
	rows := make([][]any, 0, n)
	for i := 0; i < n; i++ {
		c := ref.Communes[rng.Intn(len(ref.Communes))]
		m := october.Add(-rng.Intn(24))
		date := m.Start().AddDate(0, 0, rng.Intn(28))
		rows = append(rows, []any{fmt.Sprintf("B%d", i), uint64(1), uint8(0), date, fmt.Sprintf("m%d", rng.Intn(60)), uint32(1 + rng.Intn(5)), "domicile", "", c.Code})
	}
	chtest.Insert(b, env.db.Conn, fxInsertActivities, rows...)
	eq := make([][]any, 0, len(ref.Communes))
	for i, c := range ref.Communes {
		eq = append(eq, []any{"2026-01-01", "com:" + c.Code, "hotspots_wifi_actifs", uint64(1), uint8(0), float64(i % 3)})
	}
	chtest.Insert(b, env.db.Conn, "INSERT INTO equipements (periode, territoire, indicateur, version, deleted, valeur)", eq...)
}

func median(ds []time.Duration) time.Duration {
	s := append([]time.Duration(nil), ds...)
	sort.Slice(s, func(i, j int) bool { return s[i] < s[j] })
	return s[len(s)/2]
}

// BenchmarkScorecard compares a full scorecard (every indicator, dep:69, October 2026) asked through the
// running plugin process over gRPC with engine.Evaluate called directly on the same data. Each run makes
// `rounds` interleaved pairs (so both sides see the same load on a shared machine) and reports medians.
func BenchmarkScorecard(b *testing.B) {
	const activities, rounds = 100_000, 31
	exe := buildPlugin(b)
	env := newFixtureEnv(b)
	loadBulk(b, env, activities)
	p := startPlugin(b, exe, fxSettingsJSON(b, env.db, ""), env.db.Config.Password)
	ctx := context.Background()
	q := fxQuery("A", `{"queryType":"scorecard"}`)
	viaPlugin := func() {
		resp, err := p.query(ctx, q)
		if err != nil {
			b.Fatal(err)
		}
		if r := resp.Responses["A"]; r.Error != nil || r.Frames[0].Rows() != len(env.eng.Catalogue().Indicators) {
			b.Fatalf("%v", r.Error)
		}
	}
	direct := func() {
		if _, err := env.eng.Evaluate(ctx, mustID(fxDep), october); err != nil {
			b.Fatal(err)
		}
	}
	viaPlugin() // warm up: connection, reference cache
	direct()
	b.ResetTimer()
	var pe, pp []time.Duration
	for i := 0; i < b.N; i++ {
		for r := 0; r < rounds; r++ {
			t0 := time.Now()
			direct()
			t1 := time.Now()
			viaPlugin()
			t2 := time.Now()
			pe, pp = append(pe, t1.Sub(t0)), append(pp, t2.Sub(t1))
		}
	}
	b.StopTimer()
	me, mp := median(pe), median(pp)
	overhead := 100 * (float64(mp) - float64(me)) / float64(me)
	b.ReportMetric(float64(me.Microseconds())/1000, "engine-ms")
	b.ReportMetric(float64(mp.Microseconds())/1000, "plugin-ms")
	b.ReportMetric(overhead, "overhead-%")
	fmt.Printf("scorecard dep:69 %s, %d activités, médianes sur %d paires : moteur direct %v, via le plugin (gRPC) %v, surcoût %.1f %% (objectif < 10 %%)\n",
		october, activities, len(pe), me.Round(time.Microsecond), mp.Round(time.Microsecond), overhead)
}
