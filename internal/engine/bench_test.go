//go:build integration

package engine

import (
	"context"
	"fmt"
	"os"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/ClickHouse/clickhouse-go/v2/lib/driver"

	"github.com/sdaasp-rhone/fne/internal/catalogue"
	"github.com/sdaasp-rhone/fne/internal/chtest"
	"github.com/sdaasp-rhone/fne/internal/migrate"
	"github.com/sdaasp-rhone/fne/internal/reference"
	"github.com/sdaasp-rhone/fne/internal/store"
	"github.com/sdaasp-rhone/fne/internal/territory"
)

// BenchmarkScale generates the scale data set of the issue server-side (10 M activities over 3 years by
// 4000 counsellors, each working in at most 3 communes, 5 % of them modified later — a third of those moved to another date —, 1 %
// deleted, 1 % outside the département; 3000 structures, 2000 places, 1 M consultation rows, 3000
// meetings, 30 000 participations, equipment for 208 communes × 13 figures × 36 months) in its own
// database, then prints the time of the whole scorecard for dep:69, one EPCI and one commune, of a
// 36-month series of a2.accompagnements, next to one plain `SELECT count() FROM activites FINAL`.
//
//	make bench   (or: go test -tags integration -run '^$' -bench Scale -benchtime 1x ./internal/engine/)
func BenchmarkScale(b *testing.B) {
	n := 10_000_000
	if s := os.Getenv("FNE_BENCH_ROWS"); s != "" {
		fmt.Sscan(s, &n)
	}
	ctx := context.Background()
	conn, ref, fresh := benchDB(b)
	if fresh {
		generateActivities(b, conn, ref, n)
	} else {
		b.Logf("base %s réutilisée (FNE_BENCH_DB) : pas de génération", os.Getenv("FNE_BENCH_DB"))
	}
	var rows, parts uint64
	_ = conn.QueryRow(ctx, "SELECT count() FROM activites").Scan(&rows)
	_ = conn.QueryRow(ctx, "SELECT count() FROM system.parts WHERE database = currentDatabase() AND table = 'activites' AND active").Scan(&parts)
	cat, _ := catalogue.Load()
	e := New(conn, cat)
	latest, err := e.LatestMonth(ctx)
	if err != nil {
		b.Fatal(err)
	}
	epci := territory.ID{Level: territory.LevelEPCI, Code: ref.EPCIs[0].Siren}
	com := territory.ID{Level: territory.LevelCommune, Code: "69264"}
	timeIt := func(f func() error) (time.Duration, error) {
		best := time.Duration(1 << 62)
		for i := 0; i < 3; i++ {
			t0 := time.Now()
			if err := f(); err != nil {
				return 0, err
			}
			if d := time.Since(t0); d < best {
				best = d
			}
		}
		return best, nil
	}
	type mes struct {
		name string
		d    time.Duration
	}
	var out []mes
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		out = out[:0]
		persisted := false
		cold := func(name string, f func(e *Engine) error) {
			t0 := time.Now()
			fresh := New(conn, cat)
			fresh.noWarm = true // measure the cold path alone, without the background warming
			fresh.noPersist = !persisted
			if err := f(fresh); err != nil {
				b.Fatal(err)
			}
			out = append(out, mes{name, time.Since(t0)})
		}
		warm := func(name string, f func() error) {
			d, err := timeIt(f)
			if err != nil {
				b.Fatal(err)
			}
			out = append(out, mes{name, d})
		}
		cold("à froid : tableau de bord complet dep (cache vide)", func(e *Engine) error {
			_, err := e.Evaluate(ctx, ref.Root(), latest)
			return err
		})
		cold("à froid : série 36 mois a2.accompagnements dep", func(e *Engine) error {
			_, err := e.Series(ctx, "a2.accompagnements", ref.Root(), latest.Add(-35), latest)
			return err
		})
		cold("  dont passe fenêtrée des activités (M, M-1, M-12)", func(e *Engine) error {
			_, err := e.passActivities(ctx, ref, []Month{latest.Add(-12), latest.Add(-1), latest})
			return err
		})
		cold("  dont passe complète de dédoublonnage des activités", func(e *Engine) error {
			_, err := e.passActivities(ctx, ref, nil)
			return err
		})
		// Persisted aggregates (activites_agregats): written once by Refresh, then read by any new engine.
		if err := conn.Exec(ctx, "TRUNCATE TABLE activites_agregats"); err != nil {
			b.Fatal(err)
		}
		persisted = true
		cold("Refresh : passe complète + écriture des agrégats", func(e *Engine) error { return e.Refresh(ctx) })
		var aggRows uint64
		_ = conn.QueryRow(ctx, "SELECT count() FROM activites_agregats").Scan(&aggRows)
		out = append(out, mes{fmt.Sprintf("  (%d lignes d'agrégats persistées)", aggRows), 0})
		cold("Refresh déjà à jour (empreinte + marqueur)", func(e *Engine) error { return e.Refresh(ctx) })
		cold("à froid, agrégats persistés : tableau de bord complet dep", func(e *Engine) error {
			_, err := e.Evaluate(ctx, ref.Root(), latest)
			return err
		})
		cold("à froid, agrégats persistés : série 36 mois a2.accompagnements dep", func(e *Engine) error {
			_, err := e.Series(ctx, "a2.accompagnements", ref.Root(), latest.Add(-35), latest)
			return err
		})
		warm("  dont empreinte (system.parts + system.mutations)", func() error {
			_, err := e.fingerprint(ctx, ref)
			return err
		})
		warm("  dont chargement complet des agrégats persistés", func() error {
			fp, err := e.fingerprint(ctx, ref)
			if err != nil {
				return err
			}
			_, ok, err := e.loadPersisted(ctx, fp, nil)
			if err == nil && !ok {
				err = fmt.Errorf("agrégats absents")
			}
			return err
		})
		warm("  dont chargement des agrégats de 3 mois (M, M-1, M-12)", func() error {
			fp, err := e.fingerprint(ctx, ref)
			if err != nil {
				return err
			}
			_, _, err = e.loadPersisted(ctx, fp, []Month{latest.Add(-12), latest.Add(-1), latest})
			return err
		})
		for _, t := range []territory.ID{ref.Root(), epci, com} {
			t := t
			warm("tableau de bord complet "+t.String(), func() error { _, err := e.Evaluate(ctx, t, latest); return err })
		}
		warm("série 36 mois a2.accompagnements dep", func() error {
			_, err := e.Series(ctx, "a2.accompagnements", ref.Root(), latest.Add(-35), latest)
			return err
		})
		warm("ventilation a2.accompagnements par commune (208)", func() error {
			_, err := e.Breakdown(ctx, "a2.accompagnements", ref.Root(), territory.LevelCommune, latest)
			return err
		})
		warm("  dont indicateurs d'activité seuls dep", func() error {
			_, err := e.Evaluate(ctx, ref.Root(), latest, "a2.accompagnements", "a1.conseillers_actifs")
			return err
		})
		warm("  dont consultations dep", func() error {
			_, err := e.Evaluate(ctx, ref.Root(), latest, "a3.consultations")
			return err
		})
		warm("  dont rencontres + lieux + équipement + jalons dep", func() error {
			_, err := e.Evaluate(ctx, ref.Root(), latest, "a1.instances_actives", "a1.diversite_structures", "a2.population_zone_blanche",
				"a2.communes_hotspot", "a2.foyers_equipes_connectes", "a2.jalons_diagnostic", "a3.fiches_a_jour")
			return err
		})
		warm("référence : SELECT count() FROM activites FINAL", func() error {
			var c uint64
			return conn.QueryRow(ctx, "SELECT count() FROM activites FINAL").Scan(&c)
		})
		var load string
		if b, err := os.ReadFile("/proc/loadavg"); err == nil {
			load = strings.Fields(string(b))[0]
		}
		out = append(out, mes{"(charge de la machine : " + load + ")", 0})
	}
	b.StopTimer()
	sort.SliceStable(out, func(i, j int) bool { return false })
	fmt.Printf("\nÉchelle : %d lignes d'activités (%d parts actives), mois évalué %s\n", rows, parts, latest)
	for _, m := range out {
		fmt.Printf("  %-60s %8.0f ms\n", m.name, float64(m.d.Microseconds())/1000)
	}
}

// benchDB is a throw-away database, or the kept database named by FNE_BENCH_DB (generated on first use,
// reused afterwards: the generation takes minutes at 10 M rows).
func benchDB(b *testing.B) (driver.Conn, *territory.Reference, bool) {
	p, err := reference.ParseDir("")
	if err != nil {
		b.Fatal(err)
	}
	name := os.Getenv("FNE_BENCH_DB")
	if name == "" {
		// One data set for every benchmark of this process (make bench runs them in one go), dropped
		// by TestMain at the end.
		if sharedBenchDB == "" {
			sharedBenchDB = fmt.Sprintf("fne_bench_%d", time.Now().UnixNano())
		}
		name = sharedBenchDB
	}
	return benchDBWith(b, name, p)
}

// sharedBenchDB is the département data set generated by this process ("" if none).
var sharedBenchDB string

// benchDBWith is benchDB for the reference p, kept under the name given (throw-away when empty).
func benchDBWith(b *testing.B, name string, p *reference.Parsed) (driver.Conn, *territory.Reference, bool) {
	keep := true
	if name == "" {
		name, keep = fmt.Sprintf("fne_bench_%d", time.Now().UnixNano()), false
	}
	ctx := context.Background()
	cfg := store.Config{Addr: chtest.Addr(), Database: name, QueryTimeout: 10 * time.Minute}.WithDefaults()
	conn, err := store.EnsureDatabase(ctx, cfg)
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() {
		if !keep {
			_ = conn.Exec(context.Background(), "DROP DATABASE IF EXISTS "+name)
		}
		conn.Close()
	})
	ms, _ := migrate.Load()
	if _, err := migrate.Apply(ctx, conn, ms, migrate.Options{}); err != nil {
		b.Fatal(err)
	}
	if _, err := reference.Load(ctx, conn, p); err != nil {
		b.Fatal(err)
	}
	ref, err := reference.Current(ctx, conn)
	if err != nil {
		b.Fatal(err)
	}
	var n uint64
	_ = conn.QueryRow(ctx, "SELECT count() FROM activites").Scan(&n)
	return conn, ref, n == 0
}

// generateActivities fills the database with the data set of BenchmarkScale (n activities), server-side.
func generateActivities(b *testing.B, conn driver.Conn, ref *territory.Reference, n int) {
	generateScaled(b, conn, ref, n, deptScale)
}

// benchScale sizes the sources other than activities (and the counsellors) of a generated data set.
type benchScale struct {
	meds, structures, lieux, consultations, rencontres, participations int
}

// deptScale is the département data set of the issue (10 M activities).
var deptScale = benchScale{meds: 4000, structures: 3000, lieux: 2000, consultations: 1_000_000, rencontres: 3000, participations: 30000}

// generateScaled fills the database with n activities and the other sources sized by sc, server-side.
func generateScaled(b *testing.B, conn driver.Conn, ref *territory.Reference, n int, sc benchScale) {
	ctx := context.Background()
	tokens := strings.NewReplacer("{MEDS}", fmt.Sprint(sc.meds), "{STRUCTS}", fmt.Sprint(sc.structures), "{LIEUX}", fmt.Sprint(sc.lieux),
		"{CONSULT}", fmt.Sprint(sc.consultations), "{RENC}", fmt.Sprint(sc.rencontres), "{PARTS}", fmt.Sprint(sc.participations),
		"{STPART}", fmt.Sprint(sc.participations/6), "{DEP}", ref.Departement)
	codes := make([]string, 0, len(ref.Communes))
	lats := make([]float64, 0, len(ref.Communes))
	lons := make([]float64, 0, len(ref.Communes))
	for _, c := range ref.Communes {
		codes = append(codes, c.Code)
		lats = append(lats, c.Latitude)
		lons = append(lons, c.Longitude)
	}
	exec := func(what, q string, args ...any) {
		t0 := time.Now()
		if err := conn.Exec(ctx, tokens.Replace(q), args...); err != nil {
			b.Fatalf("%s : %v", what, err)
		}
		b.Logf("génération %-15s %6.1f s", what, time.Since(t0).Seconds())
	}
	nc := len(codes)
	// Activities: dates 2024-01-01 .. 2026-12-31 (1096 days); a third in a structure.
	exec("activites", fmt.Sprintf(`INSERT INTO activites (id, version, deleted, modification, creation, type, mediateur_id, date, duree,
    accompagnements, type_lieu, structure_id, lieu_code_insee, source_input, run_id, ingested_at)
SELECT lower(concat(hex(cityHash64(number)), hex(cityHash64(number, 1)))) AS id, toUInt64(1) AS version, 0,
    toDateTime('2024-01-01 00:00:00'), toDateTime('2024-01-01 00:00:00'), 'individuel',
    concat('med', toString(number %% {MEDS})), toDate('2024-01-01') + (cityHash64(number, 2) %% 1096), 30,
    toUInt32(1 + number %% 3), if(number %% 3 = 0, 'lieu_activite', 'domicile'),
    if(number %% 3 = 0, concat('S', toString(number %% {MEDS} %% {STRUCTS})), ''),
    if(number %% 3 = 0, '', if(number %% 100 = 7, '01194', arrayElement(?, toUInt32(1 + ((number %% {MEDS}) * 7 + intDiv(number, {MEDS}) %% 3) %% %d)))),
    'bench', 'bench', now()
FROM numbers(%d)`, nc, n), codes)
	// 5 % modified later (version 2): a third of them moved 40 days later, 1 % of all deleted.
	exec("modifications", fmt.Sprintf(`INSERT INTO activites (id, version, deleted, modification, creation, type, mediateur_id, date, duree,
    accompagnements, type_lieu, structure_id, lieu_code_insee, source_input, run_id, ingested_at)
SELECT lower(concat(hex(cityHash64(number)), hex(cityHash64(number, 1)))), toUInt64(2), if(number %% 100 = 0, 1, 0),
    toDateTime('2024-02-01 00:00:00'), toDateTime('2024-01-01 00:00:00'), 'individuel',
    concat('med', toString(number %% {MEDS})),
    least(toDate('2024-01-01') + (cityHash64(number, 2) %% 1096) + if(number %% 3 = 1, 40, 0), toDate('2026-12-31')), 30,
    toUInt32(2 + number %% 3), if(number %% 3 = 0, 'lieu_activite', 'domicile'),
    if(number %% 3 = 0, concat('S', toString(number %% {MEDS} %% {STRUCTS})), ''),
    if(number %% 3 = 0, '', if(number %% 100 = 7, '01194', arrayElement(?, toUInt32(1 + ((number %% {MEDS}) * 7 + intDiv(number, {MEDS}) %% 3) %% %d)))),
    'bench', 'bench', now()
FROM numbers(%d) WHERE number %% 20 = 0 OR number %% 100 = 0`, nc, n), codes)
	exec("structures", fmt.Sprintf(`INSERT INTO structures (id, version, deleted, code_insee)
SELECT concat('S', toString(number)), toUInt64(1), 0, arrayElement(?, toUInt32(1 + number %% %d)) FROM numbers({STRUCTS})`, nc), codes)
	exec("lieux", fmt.Sprintf(`INSERT INTO lieux (id, version, deleted, code_insee, latitude, longitude, date_maj)
SELECT concat('L', toString(number)), toUInt64(1), 0, arrayElement(?, toUInt32(1 + number %% %d)),
    arrayElement(?, toUInt32(1 + number %% %d)) + 0.01, arrayElement(?, toUInt32(1 + number %% %d)),
    toDate('2024-06-01') + (number %% 900)
FROM numbers({LIEUX}) WHERE number %% 7 != 3`, nc, nc, nc), codes, lats, lons)
	exec("consultations", `INSERT INTO consultations (date, lieu_id, consultations, version)
SELECT toDate('2024-01-01') + (number % 1096), concat('L', toString(intDiv(number, 1096) % {LIEUX})), toUInt32(1 + number % 20), toUInt64(1)
FROM numbers({CONSULT})`)
	exec("rencontres", fmt.Sprintf(`INSERT INTO rencontres (id, version, deleted, date, type, territoire)
SELECT concat('R', toString(number)), toUInt64(1), 0, toDate('2024-01-01') + (number %% 1096),
    arrayElement(['echange_pratiques', 'atelier_thematique', 'petit_dejeuner', 'demi_journee_information', 'comite_technique', 'comite_pilotage', 'instance_coordination', 'rencontre_departementale'], toUInt32(1 + number %% 8)),
    if(number %% 5 = 0, 'dep:{DEP}', concat('com:', arrayElement(?, toUInt32(1 + number %% %d))))
FROM numbers({RENC})`, nc), codes)
	exec("participations", `INSERT INTO participations (rencontre_id, structure_id, version, deleted, structure_type, relais, connait_offre)
SELECT concat('R', toString(number % {RENC})), concat('st', toString(number % {STPART})), toUInt64(1), 0,
    arrayElement(['collectivite', 'association', 'france_services', 'mediatheque', 'ccas', 'autre'], toUInt32(1 + number % 6)),
    toUInt8(number % 2), if(number % 3 = 0, NULL, toNullable(toUInt8(number % 3 = 1)))
FROM numbers({PARTS})`)
	exec("equipements", fmt.Sprintf(`INSERT INTO equipements (periode, territoire, indicateur, version, deleted, valeur)
SELECT addMonths(toDate('2024-01-01'), toUInt32(intDiv(number, %[1]d * 13))), concat('com:', arrayElement(?, toUInt32(1 + number %% %[1]d))),
    arrayElement(['hotspots_wifi_actifs', 'pc_libre_acces', 'points_acces_mobiles', 'structures_reconditionnement_actives', 'pc_reconditionnes_distribues', 'pc_dons', 'pc_ventes_solidaires', 'pc_locations', 'pc_reparations', 'cartes_sim_solidaires', 'box_prix_coutant', 'foyers_equipes', 'foyers_connectes'], toUInt32(1 + intDiv(number, %[1]d) %% 13)),
    toUInt64(1), 0, toFloat64(number %% 4)
FROM numbers(%[1]d * 13 * 36)`, nc), codes)
	exec("jalons", `INSERT INTO jalons (action, jalon, version, deleted, statut)
SELECT if(number < 10, '2.1', '1.1'), concat('J', toString(number)), toUInt64(1), 0, if(number % 3 = 0, 'realise', 'en_cours') FROM numbers(30)`)

}
