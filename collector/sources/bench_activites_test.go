//go:build integration

package sources

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

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
	for i := 0; i < b.N; i++ {
		// (1) collector, in-process.
		db := chtest.Migrated(b)
		r := &ingest.Runner{Conn: db.Conn}
		t0 := time.Now()
		sum, err := r.Run(ctx, NewActivites(), ingest.Input{Location: file})
		collector := time.Since(t0)
		if err != nil || sum.Written != uint64(n) {
			b.Fatalf("%v, bilan %+v", err, sum)
		}

		// (2) ceiling: clickhouse-client reading TabSeparated.
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
		ceiling := time.Since(t0)
		in.Close()
		if got := queryInts(b, db2, "SELECT count() FROM activites"); len(got) == 0 || got[0] != uint64(n) {
			b.Fatalf("plafond : %v lignes", got)
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
		t0 = time.Now()
		out, err := run.CombinedOutput()
		fneTook := time.Since(t0)
		if err != nil {
			b.Fatalf("fne ingest : %v\n%s", err, out)
		}
		rss := run.ProcessState.SysUsage().(*syscall.Rusage).Maxrss // KiB on Linux
		if got := queryInts(b, db3, "SELECT count() FROM activites"); len(got) == 0 || got[0] != uint64(n) {
			b.Fatalf("fne : %v lignes\n%s", got, out)
		}

		cr, lr, fr := float64(n)/collector.Seconds(), float64(n)/ceiling.Seconds(), float64(n)/fneTook.Seconds()
		b.ReportMetric(cr, "rows/s")
		b.ReportMetric(lr, "ceiling_rows/s")
		b.ReportMetric(cr/lr, "ratio")
		b.ReportMetric(float64(rss)/1024, "fne_peak_MB")
		fmt.Printf("\ningestion de %d activités (fichier JSON de %d Mo) :\n", n, st.Size()>>20)
		fmt.Printf("  collecteur (en processus)   %6.1f s  %8.0f lignes/s\n", collector.Seconds(), cr)
		fmt.Printf("  plafond clickhouse-client   %6.1f s  %8.0f lignes/s (TabSeparated préformaté)\n", ceiling.Seconds(), lr)
		fmt.Printf("  rapport collecteur/plafond  %6.2f   (objectif >= 0,5)\n", cr/lr)
		fmt.Printf("  fne ingest (binaire)        %6.1f s  %8.0f lignes/s, pic de mémoire résidente %d Mo (objectif < 300 Mo)\n",
			fneTook.Seconds(), fr, rss/1024)
	}
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
