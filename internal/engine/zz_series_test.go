//go:build integration

package engine

import (
	"context"
	"os"
	"runtime/pprof"
	"testing"
	"time"

	"github.com/sdaasp-rhone/fne/internal/catalogue"
	"github.com/sdaasp-rhone/fne/internal/reference"
)

func BenchmarkZZSeries(b *testing.B) {
	p, err := reference.ParseDir(writeNationalReference(b))
	if err != nil {
		b.Fatal(err)
	}
	conn, ref, _ := benchDBWith(b, "fne_bench_national", p)
	ctx := context.Background()
	cat, _ := catalogue.Load()
	e := New(conn, cat)
	e.noWarm = true
	latest, _ := e.LatestMonth(ctx)
	e.Evaluate(ctx, ref.Root(), latest)
	f, _ := os.Create("/tmp/sc.prof")
	pprof.StartCPUProfile(f)
	for k := 0; k < 5; k++ {
		t0 := time.Now()
		e.Evaluate(ctx, ref.Root(), latest)
		b.Logf("scorecard %v", time.Since(t0))
	}
	pprof.StopCPUProfile()
	var per []string
	for _, ind := range cat.Indicators {
		t0 := time.Now()
		e.Evaluate(ctx, ref.Root(), latest, ind.ID)
		per = append(per, ind.ID+" "+time.Since(t0).String())
	}
	b.Log(per)
}
