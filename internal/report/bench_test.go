//go:build integration

package report

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/sdaasp-rhone/fne/internal/catalogue"
	"github.com/sdaasp-rhone/fne/internal/chtest"
	"github.com/sdaasp-rhone/fne/internal/engine"
	"github.com/sdaasp-rhone/fne/internal/store"
	"github.com/sdaasp-rhone/fne/internal/territory"
)

// BenchmarkReportPacks times the département pack and the twelve EPCI packs (`fne report --all-epci`: one
// engine and one Chromium for all) on the scale data set of the engine's BenchmarkScale (10 M activities), which it does
// not generate again: FNE_BENCH_DB names the database that benchmark filled and kept.
//
//	make bench-report   (generates the data set once with BenchmarkScale, then runs this benchmark)
func BenchmarkReportPacks(b *testing.B) {
	name := os.Getenv("FNE_BENCH_DB")
	if name == "" {
		b.Skip("FNE_BENCH_DB absent : « make bench-report » remplit la base du banc d'essai du moteur puis lance celui-ci")
	}
	ctx := context.Background()
	cfg := store.Config{Addr: chtest.Addr(), Database: name, QueryTimeout: 10 * time.Minute}.WithDefaults()
	conn, err := store.Open(ctx, cfg)
	if err != nil {
		b.Fatal(err)
	}
	defer conn.Close()
	var rows uint64
	if err := conn.QueryRow(ctx, "SELECT count() FROM activites").Scan(&rows); err != nil || rows == 0 {
		b.Fatalf("base %s vide ou illisible (%v) : lancez d'abord BenchmarkScale avec FNE_BENCH_DB=%s", name, err, name)
	}
	cat, err := catalogue.Load()
	if err != nil {
		b.Fatal(err)
	}
	dir := b.TempDir()
	type mes struct {
		t         territory.ID
		data, pdf time.Duration
	}
	var out []mes
	var month engine.Month
	var wall, grouped time.Duration
	var targets []territory.ID
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		out = out[:0]
		eng := engine.New(conn, cat).OneShot()
		now := time.Now()
		if month, err = LastCompleteMonth(ctx, eng, now); err != nil {
			b.Fatal(err)
		}
		ref, err := eng.Reference(ctx)
		if err != nil {
			b.Fatal(err)
		}
		targets = []territory.ID{ref.Root()}
		for _, e := range ref.EPCIs {
			targets = append(targets, territory.ID{Level: territory.LevelEPCI, Code: e.Siren})
		}
		jobs := make([]Job, len(targets))
		for k, t := range targets {
			jobs[k] = Job{Territory: t, Path: filepath.Join(dir, FileName(t, month, FormatPDF))}
		}
		ts := time.Now()
		// As fne report --all-epci: WriteAll reads the figures of the 13 territories at once while it
		// starts Chromium, then prints the packs side by side.
		WriteAll(ctx, NewBuilder(eng, now), Printer{}, month, FormatPDF, jobs, func(d Done) {
			if d.Err != nil {
				b.Fatal(d.Err)
			}
			out = append(out, mes{t: d.Territory, data: d.Build, pdf: d.Write})
		})
		wall = time.Since(ts)
	}
	b.StopTimer()
	// The grouped read alone, on a new engine (what WriteAll does before the first pack).
	t0 := time.Now()
	if err := NewBuilder(engine.New(conn, cat).OneShot(), time.Now()).Prepare(ctx, targets, month); err != nil {
		b.Fatal(err)
	}
	grouped = time.Since(t0)
	var load string
	if b, err := os.ReadFile("/proc/loadavg"); err == nil {
		load = strings.Fields(string(b))[0]
	}
	fmt.Printf("\nRapports mensuels : %d lignes d'activités, mois %s, charge de la machine %s\n", rows, month, load)
	fmt.Printf("  %-34s %8.0f ms   (indicateurs, séries de 24 mois et manques des %d territoires, lus ensemble)\n", "lecture groupée", ms(grouped), len(targets))
	fmt.Printf("  %-22s %14s %14s\n", "territoire", "reste+HTML", "PDF")
	td, tp := time.Duration(0), time.Duration(0)
	for _, m := range out {
		td += m.data
		tp += m.pdf
		fmt.Printf("  %-22s %11.0f ms %11.0f ms\n", m.t, ms(m.data), ms(m.pdf))
	}
	fmt.Printf("  %-22s %11.0f ms %11.0f ms   (impressions côte à côte : la somme dépasse la durée réelle)\n", fmt.Sprintf("somme (%d rapports)", len(out)), ms(td), ms(tp))
	fmt.Printf("  %-34s %8.0f ms   (cible : moins de 10 s, démarrage de Chromium compris)\n", "durée totale réelle", ms(wall))
}

func ms(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }
