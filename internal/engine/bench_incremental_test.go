//go:build integration

package engine

import (
	"context"
	"fmt"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/sdaasp-rhone/fne/internal/catalogue"
)

// BenchmarkIncrementalRefresh measures what a collection costs the aggregates: on the data set of
// BenchmarkScale (generated if FNE_BENCH_DB does not name a filled database), a full Refresh, then a
// collection of 1 % of the activities — half new activities dated in the last three months, half new
// versions of activities of those months, a third of which move 40 days earlier (into other months) —,
// then the incremental Refresh: its time and the ratio to the full pass, measured in the same run.
//
//	go test -tags integration -run '^$' -bench IncrementalRefresh -benchtime 1x ./internal/engine/
func BenchmarkIncrementalRefresh(b *testing.B) {
	ctx := context.Background()
	conn, ref, fresh := benchDB(b)
	if fresh {
		n := 10_000_000
		if s := os.Getenv("FNE_BENCH_ROWS"); s != "" {
			fmt.Sscan(s, &n)
		}
		generateActivities(b, conn, ref, n)
	}
	cat, _ := catalogue.Load()
	var total uint64
	if err := conn.QueryRow(ctx, "SELECT count() FROM activites").Scan(&total); err != nil {
		b.Fatal(err)
	}
	if err := conn.Exec(ctx, "TRUNCATE TABLE activites_agregats"); err != nil {
		b.Fatal(err)
	}
	e := New(conn, cat)
	e.noWarm = true
	t0 := time.Now()
	info, err := e.RefreshReport(ctx)
	if err != nil || !info.Full {
		b.Fatalf("Refresh complet : %+v %v", info, err)
	}
	fullD := time.Since(t0)
	var maxID uint64
	if err := conn.QueryRow(ctx, "SELECT max(toUInt64OrZero(substring(run_id, 7))) FROM activites WHERE run_id LIKE 'bench-%'").Scan(&maxID); err != nil {
		b.Fatal(err)
	}
	round := maxID + 1 // each run of the benchmark collects new ids and new versions
	k := total / 100
	b.ResetTimer()
	var incD time.Duration
	for i := 0; i < b.N; i++ {
		b.StopTimer()
		// New activities: ids never seen, dated 2026-10-01 .. 2026-12-31.
		exec := func(q string, args ...any) {
			if err := conn.Exec(ctx, q, args...); err != nil {
				b.Fatal(err)
			}
		}
		exec(fmt.Sprintf(`INSERT INTO activites (id, version, deleted, modification, creation, type, mediateur_id, date, duree,
    accompagnements, type_lieu, structure_id, lieu_code_insee, source_input, run_id, ingested_at)
SELECT concat('new-%[1]d-', toString(number)), toUInt64(1), 0, toDateTime('2026-12-31 00:00:00'), toDateTime('2026-12-31 00:00:00'),
    'individuel', concat('med', toString(number %% 4000)), toDate('2026-10-01') + (number %% 92), 30, toUInt32(1 + number %% 3),
    'domicile', '', '69264', 'bench', 'bench-%[1]d', now()
FROM numbers(%[2]d)`, round, k/2))
		// New versions of activities of the same months (edited later; a third moved 40 days earlier).
		exec(fmt.Sprintf(`INSERT INTO activites (id, version, deleted, modification, creation, type, mediateur_id, date, duree,
    accompagnements, type_lieu, structure_id, lieu_code_insee, source_input, run_id, ingested_at)
SELECT id, version + 1, 0, toDateTime('2027-01-01 00:00:00') + %[1]d, creation, type, mediateur_id,
    if(cityHash64(id) %% 3 = 0, date - 40, date), duree, accompagnements + 1, type_lieu, structure_id, lieu_code_insee,
    'bench', 'bench-%[1]d', now()
FROM activites WHERE date >= toDate('2026-10-01') AND cityHash64(id, %[1]d) %% 100 < 20
LIMIT %[2]d`, round, k/2))
		b.StartTimer()
		t0 := time.Now()
		x := New(conn, cat)
		x.noWarm = true
		info, err = x.RefreshReport(ctx)
		incD = time.Since(t0)
		if err != nil {
			b.Fatal(err)
		}
		if info.Full || info.UpToDate {
			b.Fatalf("Refresh incrémental attendu : %+v", info)
		}
		round++
	}
	b.StopTimer()
	var load string
	if bs, err := os.ReadFile("/proc/loadavg"); err == nil {
		load = strings.Fields(string(bs))[0]
	}
	fmt.Printf("\nAgrégats incrémentaux : %d activités, collecte de %d lignes (1 %%)\n", total, k/2*2)
	fmt.Printf("  %-60s %8.0f ms\n", "Refresh complet (passe complète + écriture)", float64(fullD.Microseconds())/1000)
	fmt.Printf("  %-60s %8.0f ms\n", fmt.Sprintf("Refresh incrémental (%d mois recalculés : %v)", len(info.Months), info.Months), float64(incD.Microseconds())/1000)
	for _, st := range info.Steps {
		fmt.Printf("    dont %-55s %8.0f ms\n", st.Name, float64(st.D.Microseconds())/1000)
	}
	fmt.Printf("  %-60s %8.3f (cible ≤ 1 s)\n", "rapport incrémental / complet", incD.Seconds()/fullD.Seconds())
	fmt.Printf("  (charge de la machine : %s)\n", load)
}
