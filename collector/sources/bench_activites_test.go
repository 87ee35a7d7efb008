//go:build integration

package sources

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime/pprof"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	gojsonv2 "github.com/goccy/go-json/v2"

	"github.com/sdaasp-rhone/fne/collector/ingest"
	"github.com/sdaasp-rhone/fne/internal/chtest"
)

// BenchmarkIngestActivites: 1 000 000 generated activities (FNE_BENCH_ACTIVITES overrides) in one Coop
// JSON file, ingested (1) by the collector in-process, (2) as the ceiling, the same rows pre-formatted
// as TabSeparated piped to clickhouse-client, and (3) by the `fne ingest` binary, whose peak RSS is
// measured. Targets: collector / ceiling >= 0.5, fne peak RSS < 300 MB.
func BenchmarkIngestActivites(b *testing.B) {
	n := 1000000
	if v := os.Getenv("FNE_BENCH_ACTIVITES"); v != "" {
		n, _ = strconv.Atoi(v)
	}
	dir := b.TempDir()
	file := filepath.Join(dir, "activites.json")
	f, err := os.Create(file)
	if err != nil {
		b.Fatal(err)
	}
	if err := writeGeneratedActivities(f, n); err != nil {
		b.Fatal(err)
	}
	f.Close()
	st, _ := os.Stat(file)

	// The ceiling's input: the collector's own rows, formatted once, outside the measure.
	tsv := filepath.Join(dir, "activites.tsv")
	writeActivitesTSV(b, file, tsv)

	ctx := context.Background()
	repeat := 3
	if v := os.Getenv("FNE_BENCH_REPEAT"); v != "" {
		repeat, _ = strconv.Atoi(v)
	}
	for i := 0; i < b.N; i++ {
		// (1) collector in-process and (2) ceiling, alternated: the machine is shared, so each is taken
		// at its best of `repeat` runs, measured side by side.
		collector, ceiling := time.Duration(1<<62), time.Duration(1<<62)
		var cpu time.Duration
		for k := 0; k < repeat; k++ {
			db := chtest.Migrated(b)
			r := &ingest.Runner{Conn: db.Conn}
			if v := os.Getenv("FNE_BENCH_BATCH"); v != "" {
				r.BatchSize, _ = strconv.Atoi(v)
			}
			if p := os.Getenv("FNE_BENCH_CPUPROFILE"); p != "" && k == 0 {
				pf, err := os.Create(p)
				if err != nil {
					b.Fatal(err)
				}
				if err := pprof.StartCPUProfile(pf); err != nil {
					b.Fatal(err)
				}
			}
			c0 := processCPU()
			t0 := time.Now()
			sum, err := r.Run(ctx, NewActivites(), ingest.Input{Location: file})
			d := time.Since(t0)
			c := processCPU() - c0
			pprof.StopCPUProfile()
			if err != nil || sum.Written != uint64(n) {
				b.Fatalf("%v, bilan %+v", err, sum)
			}
			if d < collector {
				collector, cpu = d, c
			}
			db.Conn.Exec(ctx, "DROP DATABASE "+db.Config.Database)

			db2 := chtest.Migrated(b)
			host, port, _ := strings.Cut(db2.Config.Addr, ":")
			cols := strings.Join(append(append([]string(nil), activitesColumns...), "source_input", "run_id", "ingested_at"), ", ")
			cmd := exec.Command("clickhouse-client", "--host", host, "--port", port, "--database", db2.Config.Database,
				"--query", "INSERT INTO activites ("+cols+") FORMAT TabSeparated")
			in, err := os.Open(tsv)
			if err != nil {
				b.Fatal(err)
			}
			cmd.Stdin = in
			t0 = time.Now()
			if out, err := cmd.CombinedOutput(); err != nil {
				b.Fatalf("clickhouse-client : %v\n%s", err, out)
			}
			if d := time.Since(t0); d < ceiling {
				ceiling = d
			}
			in.Close()
			if got := queryInts(b, db2, "SELECT count() FROM activites"); len(got) == 0 || got[0] != uint64(n) {
				b.Fatalf("plafond : %v lignes", got)
			}
			db2.Conn.Exec(ctx, "DROP DATABASE "+db2.Config.Database)
		}

		// (3) the fne binary: wall time and peak RSS.
		bin := filepath.Join(dir, "fne")
		build := exec.Command("go", "build", "-o", bin, "./collector/cmd/fne")
		build.Dir = "../.."
		if out, err := build.CombinedOutput(); err != nil {
			b.Fatalf("go build : %v\n%s", err, out)
		}
		db3 := chtest.Migrated(b)
		run := exec.Command(bin, "ingest", "activites", file, "--addr", db3.Config.Addr, "--database", db3.Config.Database)
		t0 := time.Now()
		out, err := run.CombinedOutput()
		fneTook := time.Since(t0)
		if err != nil {
			b.Fatalf("fne ingest : %v\n%s", err, out)
		}
		rss := run.ProcessState.SysUsage().(*syscall.Rusage).Maxrss // KiB on Linux
		if got := queryInts(b, db3, "SELECT count() FROM activites"); len(got) == 0 || got[0] != uint64(n) {
			b.Fatalf("fne : %v lignes\n%s", got, out)
		}

		split := ingestSplit(b, file, db3)

		cr, lr, fr := float64(n)/collector.Seconds(), float64(n)/ceiling.Seconds(), float64(n)/fneTook.Seconds()
		b.ReportMetric(cr, "rows/s")
		b.ReportMetric(lr, "ceiling_rows/s")
		b.ReportMetric(cr/lr, "ratio")
		b.ReportMetric(float64(rss)/1024, "fne_peak_MB")
		load := "?"
		if bs, err := os.ReadFile("/proc/loadavg"); err == nil {
			load = strings.Fields(string(bs))[0]
		}
		fmt.Printf("\ningestion de %d activités (fichier JSON de %d Mo), meilleur de %d essais alternés, charge %s :\n", n, st.Size()>>20, repeat, load)
		fmt.Printf("  collecteur (en processus)   %6.1f s  %8.0f lignes/s, CPU du processus %.1f s (%.1f µs/ligne)\n",
			collector.Seconds(), cr, cpu.Seconds(), float64(cpu.Microseconds())/float64(n))
		fmt.Printf("  plafond clickhouse-client   %6.1f s  %8.0f lignes/s (TabSeparated préformaté)\n", ceiling.Seconds(), lr)
		fmt.Printf("  rapport collecteur/plafond  %6.2f   (objectif >= 0,5)\n", cr/lr)
		fmt.Printf("  fne ingest (binaire)        %6.1f s  %8.0f lignes/s, pic de mémoire résidente %d Mo (objectif < 300 Mo)\n",
			fneTook.Seconds(), fr, rss/1024)
		fmt.Printf("  répartition du temps sur un cœur (%d lignes, en µs par ligne) :\n", split.rows)
		for _, p := range split.phases {
			fmt.Printf("    %-44s %6.2f µs  %5.1f %%\n", p.name, float64(p.d.Nanoseconds())/1000/float64(split.rows), 100*p.d.Seconds()/split.total.Seconds())
		}
	}
}

// processCPU is the CPU time (user + system) of this process so far.
func processCPU() time.Duration {
	var ru syscall.Rusage
	_ = syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

type ingestPhase struct {
	name string
	d    time.Duration
}

type ingestSplitResult struct {
	rows   int
	phases []ingestPhase
	total  time.Duration
}

// ingestSplit times, one after the other on one goroutine, each stage of the collector over the first
// records of file (at most 100 000): reading (the page split into raw records), JSON decoding, validation
// and mapping into typed columns (as the collector), conversion to the driver's columns, and the write (Send) into a scratch table.
// Each stage is the difference with the stage before, so that they add up to the whole.
func ingestSplit(b *testing.B, file string, db *chtest.DB) ingestSplitResult {
	const limit = 100000
	ctx := context.Background()
	var raws [][]byte
	read := func(fn func(raw []byte)) time.Duration {
		f, err := os.Open(file)
		if err != nil {
			b.Fatal(err)
		}
		defer f.Close()
		t0 := time.Now()
		k := 0
		stop := errors.New("stop")
		_, err = readCoopPage(bufio.NewReaderSize(f, 1<<20), func(raw json.RawMessage) error {
			if k == limit {
				return stop
			}
			k++
			fn(raw)
			return nil
		})
		if err != nil && err != stop {
			b.Fatal(err)
		}
		return time.Since(t0)
	}
	tRead := read(func([]byte) {})
	tDecode := read(func(raw []byte) {
		var a activiteJSON
		_ = gojsonv2.UnmarshalOf(raw, &a)
	})
	spec := newActivites().spec
	now := time.Now().UTC().Truncate(time.Second)
	// As the collector does: the records go into typed columns, a chunk per batch.
	var chunks []*activiteChunk
	rows := 0
	tParse := read(func(raw []byte) {
		if len(chunks) == 0 || chunks[len(chunks)-1].Len() == ingest.DefaultBatchSize {
			chunks = append(chunks, newActiviteChunk().(*activiteChunk))
		}
		if _, _, rerr, ok := chunks[len(chunks)-1].parse(&spec, raw, now); ok && rerr == nil {
			rows++
		}
	})
	_ = raws
	cols := strings.Join(append(append([]string(nil), activitesColumns...), "source_input", "run_id", "ingested_at"), ", ")
	if err := db.Conn.Exec(ctx, "CREATE TABLE activites_split AS activites"); err != nil {
		b.Fatal(err)
	}
	var tConvert, tWrite time.Duration
	for _, ch := range chunks {
		t0 := time.Now()
		batch, err := db.Conn.PrepareBatch(ctx, "INSERT INTO activites_split ("+cols+")")
		if err != nil {
			b.Fatal(err)
		}
		if err := ingest.AppendColumns(batch, append(ch.Columns(), ingest.Provenance(ch.Len(), file, "bench", now)...)); err != nil {
			b.Fatal(err)
		}
		t1 := time.Now()
		if err := batch.Send(); err != nil {
			b.Fatal(err)
		}
		tConvert += t1.Sub(t0)
		tWrite += time.Since(t1)
	}
	r := ingestSplitResult{rows: rows, phases: []ingestPhase{
		{"lecture (page découpée en enregistrements)", tRead},
		{"décodage JSON", tDecode - tRead},
		{"validation et mise en colonnes typées", tParse - tDecode},
		{"conversion en colonnes du pilote", tConvert},
		{"écriture (envoi et insertion ClickHouse)", tWrite},
	}}
	for _, p := range r.phases {
		r.total += p.d
	}
	return r
}

// writeActivitesTSV formats the collector's rows of file as TabSeparated with the provenance columns.
func writeActivitesTSV(b *testing.B, file, tsv string) {
	spec := newActivites().spec
	sch, err := coopSchema(spec.schemaFile)
	if err != nil {
		b.Fatal(err)
	}
	in, err := os.Open(file)
	if err != nil {
		b.Fatal(err)
	}
	defer in.Close()
	out, err := os.Create(tsv)
	if err != nil {
		b.Fatal(err)
	}
	defer out.Close()
	w := bufio.NewWriterSize(out, 1<<20)
	now := time.Now().UTC().Truncate(time.Second)
	_, err = readCoopPage(bufio.NewReaderSize(in, 1<<20), func(raw json.RawMessage) error {
		row, _, _, rerr := spec.parse(sch, raw, now)
		if rerr != nil {
			return fmt.Errorf("%s : %s", rerr.field, rerr.reason)
		}
		for i, v := range append(row, file, "bench", now) {
			if i > 0 {
				w.WriteByte('\t')
			}
			if i == 7 { // the Date column
				w.WriteString(v.(time.Time).Format("2006-01-02"))
				continue
			}
			writeTSVValue(w, v)
		}
		return w.WriteByte('\n')
	})
	if err != nil {
		b.Fatal(err)
	}
	if err := w.Flush(); err != nil {
		b.Fatal(err)
	}
}

func writeTSVValue(w *bufio.Writer, v any) {
	esc := strings.NewReplacer("\\", "\\\\", "\t", "\\t", "\n", "\\n", "'", "\\'")
	switch x := v.(type) {
	case string:
		w.WriteString(esc.Replace(x))
	case time.Time:
		w.WriteString(strconv.FormatInt(x.Unix(), 10)) // DateTime reads a Unix timestamp: no time zone at play
	case *uint8:
		if x == nil {
			w.WriteString(`\N`)
		} else {
			w.WriteString(strconv.Itoa(int(*x)))
		}
	case []string:
		w.WriteByte('[')
		for i, s := range x {
			if i > 0 {
				w.WriteByte(',')
			}
			w.WriteString("'" + esc.Replace(s) + "'")
		}
		w.WriteByte(']')
	case []uint32:
		w.WriteByte('[')
		for i, n := range x {
			if i > 0 {
				w.WriteByte(',')
			}
			w.WriteString(strconv.FormatUint(uint64(n), 10))
		}
		w.WriteByte(']')
	default:
		fmt.Fprint(w, x)
	}
}
