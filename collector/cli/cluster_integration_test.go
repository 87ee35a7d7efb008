//go:build integration && cluster

package cli

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/sdaasp-rhone/fne/internal/catalogue"
	"github.com/sdaasp-rhone/fne/internal/chtest"
	"github.com/sdaasp-rhone/fne/internal/clustertest"
	"github.com/sdaasp-rhone/fne/internal/engine"
	"github.com/sdaasp-rhone/fne/internal/territory"
)

// clusterMigrate runs `fne migrate --cluster` through node n and returns its output.
func clusterMigrate(t *testing.T, db *clustertest.DB, n int) string {
	t.Helper()
	var stdout, stderr bytes.Buffer
	code := Main(context.Background(), []string{"migrate", "--cluster", clustertest.Name, "--addr", clustertest.Addr(n), "--database", db.Name}, &stdout, &stderr)
	if code != 0 {
		t.Fatalf("fne migrate --cluster : code %d\n%s%s", code, stdout.String(), stderr.String())
	}
	return stdout.String()
}

// `fne migrate --cluster` creates, on each of the four servers, every table twice (16 tables: 3 reference,
// 8 sources, 3 operations, 1 aggregates and schema_migrations): T_local replicated and T distributed; the
// reference loaded through n1 is read whole through n4; a second run through another node changes nothing.
func TestClusterMigrateCommand(t *testing.T) {
	ctx := context.Background()
	db := clustertest.Empty(t)
	out := clusterMigrate(t, db, 1)
	if !strings.Contains(out, "Migration 0001_reference appliquée.") || !strings.Contains(out, "Référentiel chargé : Rhône (hors Métropole de Lyon) — 12 EPCI, 208 communes.") {
		t.Errorf("first run:\n%s", out)
	}
	for n := 1; n <= clustertest.Nodes; n++ {
		c := db.Conn(t, n)
		var local, dist, other uint64
		if err := c.QueryRow(ctx, `SELECT countIf(engine LIKE 'Replicated%MergeTree' AND endsWith(name, '_local')),
			countIf(engine = 'Distributed'), countIf(engine NOT LIKE 'Replicated%' AND engine != 'Distributed')
			FROM system.tables WHERE database = ?`, db.Name).Scan(&local, &dist, &other); err != nil {
			t.Fatal(err)
		}
		if local != 16 || dist != 16 || other != 0 {
			t.Errorf("n%d: %d replicated, %d distributed, %d other tables; want 16, 16, 0", n, local, dist, other)
		}
	}
	db.Sync(t)
	var communes uint64
	if err := db.Conn(t, 4).QueryRow(ctx, "SELECT count() FROM ref_communes").Scan(&communes); err != nil {
		t.Fatal(err)
	}
	if communes != 208 {
		t.Errorf("ref_communes through n4: %d rows, want 208", communes)
	}
	out = clusterMigrate(t, db, 3)
	if !strings.Contains(out, "Schéma à jour (version ") || !strings.Contains(out, "Référentiel inchangé") {
		t.Errorf("second run through n3:\n%s", out)
	}
}

// killCommunes are communes of the reference the generated activities are located in.
var killCommunes = []string{"69264", "69027", "69092", "69243"}

// writeKillActivities writes n activities as one Coop JSON page: activity i has 1 + i%5 accompaniments,
// is dated 2026-01-01 + ⌊300·i/n⌋ days, at home in killCommunes[i%4]; it returns the accompaniments of
// October 2026 (the sum over those i, computed here as the file is written).
func writeKillActivities(t *testing.T, path string, n int) (october uint64) {
	t.Helper()
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	w := bufio.NewWriterSize(f, 1<<20)
	base := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	fmt.Fprint(w, `{"data":[`)
	for i := 0; i < n; i++ {
		if i > 0 {
			w.WriteByte(',')
		}
		acc := 1 + i%5
		day := base.AddDate(0, 0, i*300/n)
		if day.Month() == time.October {
			october += uint64(acc)
		}
		fmt.Fprintf(w, `{"type":"activite","id":"k-%07d","attributes":{"type":"individuel","mediateur_id":"med-%03d",`+
			`"accompagnements":%d,"date":"%s","duree":30,"type_lieu":"domicile","structure_id":null,"lieu_code_postal":null,`+
			`"lieu_commune":null,"lieu_code_insee":"%s","creation":"2026-11-01T00:00:00.000Z","modification":"2026-11-01T00:00:00.000Z",`+
			`"suppression":null,"materiel":[],"thematiques":["email"],"beneficiaires":{"total":%d}}}`,
			i, i%40, acc, day.Format("2006-01-02"), killCommunes[i%4], acc)
	}
	fmt.Fprintf(w, `],"meta":{"total_count":%d}}`, n)
	if err := w.Flush(); err != nil {
		t.Fatal(err)
	}
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}
	return october
}

// A replica killed (SIGKILL) in the middle of `fne ingest activites`: the collector was connected to it
// (n2, first of its --addr list), loses its connection, retries the batch on the next address (n3), whose
// Distributed table writes shard 01 on its surviving replica n1. The run ends in success; nothing is
// lost nor doubled (every id once, accompaniments as generated); n2 restarted catches up and answers the
// same figures, and so does the engine.
func TestClusterReplicaKilledDuringIngestion(t *testing.T) {
	ctx := context.Background()
	db := clustertest.Empty(t)
	clusterMigrate(t, db, 1)
	const n = 300_000 // 15 batches of 20 000: the kill lands after the first ones
	file := filepath.Join(t.TempDir(), "activites.json")
	october := writeKillActivities(t, file, n)
	// Σ (1 + i%5) over 300 000 = 60 000 × (1+2+3+4+5).
	const total = 60_000 * 15

	watch := db.Conn(t, 3)
	done := make(chan int, 1)
	var stdout, stderr bytes.Buffer
	go func() {
		done <- Main(ctx, []string{"ingest", "activites", file, "--addr", clustertest.Addrs(2), "--database", db.Name}, &stdout, &stderr)
	}()
	deadline := time.Now().Add(60 * time.Second)
	var landed uint64
	for time.Now().Before(deadline) {
		if err := watch.QueryRow(ctx, "SELECT count() FROM activites").Scan(&landed); err != nil {
			t.Fatal(err)
		}
		if landed >= 40_000 {
			break
		}
		time.Sleep(20 * time.Millisecond)
	}
	select {
	case code := <-done:
		t.Fatalf("ingestion ended (code %d) before the kill, %d rows landed: raise n", code, landed)
	default:
	}
	clustertest.Kill(t, 2)
	t.Logf("n2 killed with %d of %d rows landed", landed, n)
	restarted := false
	defer func() {
		if !restarted {
			clustertest.Start(t, 2)
		}
	}()
	var code int
	select {
	case code = <-done:
	case <-time.After(3 * time.Minute):
		t.Fatal("ingestion still running 3 minutes after the kill")
	}
	if code != 0 {
		t.Fatalf("fne ingest: code %d\n%s\n%s", code, stdout.String(), stderr.String())
	}
	t.Logf("ingestion: %s", strings.TrimSpace(stdout.String()))
	var rejects uint64
	if err := watch.QueryRow(ctx, "SELECT count() FROM rejects").Scan(&rejects); err != nil {
		t.Fatal(err)
	}
	if rejects != 0 {
		t.Errorf("%d rejects, want 0", rejects)
	}

	cat, err := catalogue.Load()
	if err != nil {
		t.Fatal(err)
	}
	// figures returns, through node, the rows, distinct ids and accompaniments (newest version per id) of
	// activites, and the engine's a2.accompagnements for the département in October 2026.
	figures := func(node int) (rows, ids, acc uint64, oct float64) {
		t.Helper()
		c := db.Conn(t, node)
		if err := c.QueryRow(ctx, `SELECT sum(c), count(), sum(a) FROM (
			SELECT count() AS c, argMax(accompagnements, version) AS a FROM activites GROUP BY id)`).Scan(&rows, &ids, &acc); err != nil {
			t.Fatal(err)
		}
		rs, err := engine.New(c, cat).OneShot().Evaluate(ctx, territory.MustParse("dep:69"), engine.Month{Year: 2026, Month: 10}, "a2.accompagnements")
		if err != nil {
			t.Fatal(err)
		}
		if rs[0].Value == nil {
			t.Fatalf("n%d: a2.accompagnements sans valeur", node)
		}
		return rows, ids, acc, *rs[0].Value
	}
	// n2 down: the survivors hold everything except, possibly, the parts n2 acknowledged in its last
	// moments and n1 had not fetched yet (replication is asynchronous: they come back with n2, see README
	// « Mode cluster »). Nothing is doubled: one row per id.
	rows, ids, acc, _ := figures(3)
	t.Logf("n2 down, through n3: %d rows for %d ids (%d on n2 only, not yet replicated when it was killed)", rows, ids, n-ids)
	if rows != ids || ids > n || n-ids > 3*20_000 {
		t.Errorf("n2 down: %d rows for %d ids; want one row per id and at most 3 batches missing", rows, ids)
	}
	_ = acc
	clustertest.Start(t, 2)
	restarted = true
	db.Sync(t)
	for _, node := range []int{2, 3} {
		rows, ids, acc, oct := figures(node)
		if rows != n || ids != n || acc != total || oct != float64(october) {
			t.Errorf("n2 back, through n%d: %d rows, %d ids, %d accompaniments, %v in October; want %d, %d, %d, %d",
				node, rows, ids, acc, oct, n, n, total, october)
		}
	}
	// n2's own replica holds exactly what n1's does.
	var n1, n2 uint64
	if err := db.Conn(t, 1).QueryRow(ctx, "SELECT count() FROM activites_local").Scan(&n1); err != nil {
		t.Fatal(err)
	}
	if err := db.Conn(t, 2).QueryRow(ctx, "SELECT count() FROM activites_local").Scan(&n2); err != nil {
		t.Fatal(err)
	}
	if n1 != n2 || n1 == 0 {
		t.Errorf("shard 01: n1 holds %d rows, n2 %d", n1, n2)
	}
}

// `fne demo` (every source, 24 months, deliberate bad rows) ingested through two nodes of the cluster and
// into the single server: `fne indicators` prints the same scorecard for the département, an EPCI and a
// commune, read through a third node.
func TestClusterDemoMatchesSingleServer(t *testing.T) {
	run := func(args ...string) string {
		t.Helper()
		var stdout, stderr bytes.Buffer
		start := time.Now()
		if code := Main(context.Background(), args, &stdout, &stderr); code != 0 {
			t.Fatalf("fne %v : code %d\n%s%s", args, code, stdout.String(), stderr.String())
		}
		t.Logf("fne %s … --addr %s : %v", args[0], args[len(args)-3], time.Since(start).Round(time.Millisecond))
		return stdout.String()
	}
	single := chtest.Empty(t)
	db := clustertest.Empty(t)
	clusterMigrate(t, db, 1)
	dir := t.TempDir()
	run("migrate", "--addr", single.Config.Addr, "--database", single.Config.Database)
	run("demo", "--dir", filepath.Join(dir, "s"), "--end", "2026-10", "--addr", single.Config.Addr, "--database", single.Config.Database)
	run("demo", "--dir", filepath.Join(dir, "c"), "--end", "2026-10", "--addr", clustertest.Addr(2)+","+clustertest.Addr(3), "--database", db.Name)
	db.Sync(t)
	for _, terr := range []string{"dep:69", "epci:200040566", "com:69264"} {
		want := run("indicators", "--territory", terr, "--period", "2026-10", "--addr", single.Config.Addr, "--database", single.Config.Database)
		got := run("indicators", "--territory", terr, "--period", "2026-10", "--addr", clustertest.Addr(4), "--database", db.Name)
		if !strings.Contains(want, "Accompagnements réalisés") {
			t.Fatalf("single server %s:\n%s", terr, want)
		}
		if got != want {
			t.Errorf("%s: cluster\n%s\nsingle server\n%s", terr, got, want)
		}
	}
}
