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
// engine for all) on the scale data set of the engine's BenchmarkScale (10 M activities), which it does
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
		pages     int
	}
	var out []mes
	var month engine.Month
	var start, wall time.Duration
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
		targets := []territory.ID{ref.Root()}
		for _, e := range ref.EPCIs {
			targets = append(targets, territory.ID{Level: territory.LevelEPCI, Code: e.Siren})
		}
		builder := NewBuilder(eng, now)
		var pr Printer
		ts := time.Now()
		br, err := pr.StartBrowser(ctx) // one Chromium for the 13 packs, as fne report --all-epci
		start = time.Since(ts)
		if err != nil {
			b.Fatal(err)
		}
		pr.Browser = br
		jobs := make([]Job, len(targets))
		for k, t := range targets {
			jobs[k] = Job{Territory: t, Path: filepath.Join(dir, FileName(t, month, FormatPDF))}
		}
		WriteAll(ctx, builder, pr, month, FormatPDF, jobs, func(d Done) {
			if d.Err != nil {
				b.Fatal(d.Err)
			}
			out = append(out, mes{t: d.Territory, data: d.Build, pdf: d.Write})
		})
		wall = time.Since(ts)
		br.Close()
	}
	b.StopTimer()
	var load string
	if b, err := os.ReadFile("/proc/loadavg"); err == nil {
		load = strings.Fields(string(b))[0]
	}
	fmt.Printf("\nRapports mensuels : %d lignes d'activités, mois %s, charge de la machine %s\n", rows, month, load)
	fmt.Printf("  %-22s %14s %10s %10s\n", "territoire", "données+HTML", "PDF", "")
	td, tp := time.Duration(0), start
	fmt.Printf("  %-22s %14s %7.0f ms\n", "démarrage de Chromium", "", ms(start))
	_ = tp
	for _, m := range out {
		td += m.data
		tp += m.pdf
		fmt.Printf("  %-22s %11.0f ms %7.0f ms\n", m.t, ms(m.data), ms(m.pdf))
	}
	fmt.Printf("  %-22s %11.0f ms %7.0f ms\n", fmt.Sprintf("somme (%d rapports)", len(out)), ms(td), ms(tp))
	fmt.Printf("  %-22s %33.0f ms   (cible : moins de 10 s ; figures du rapport suivant pendant l'impression du précédent)\n", "durée totale réelle", ms(wall))
}

func ms(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }
