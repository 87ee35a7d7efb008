//go:build integration

package engine

import (
	"testing"

	"github.com/ClickHouse/clickhouse-go/v2/lib/driver"

	"github.com/sdaasp-rhone/fne/internal/catalogue"
	"github.com/sdaasp-rhone/fne/internal/chtest"
	"github.com/sdaasp-rhone/fne/internal/territory"
)

// Fixture territories (real reference, docs/regles.md « Territoires »):
//
//	E1 = epci:200040590 CA Villefranche Beaujolais Saône — straddles the Ain (01): 17 communes in scope,
//	     population in scope 67 943; its Ain commune 01194 is outside the reference.
//	E2 = epci:246900757 CC de la Vallée du Garon, 5 communes, population 32 734.
//	C1 = com:69264 Villefranche-sur-Saône (E1), population 36 172.
//	C2 = com:69092 Gleizé (E1), population 8 035.
//	C3 = com:69027 Brignais (E2), population 12 503.
//	T  = com:69243 Tarare (epci:200040566).
//	dep:69: 208 communes, population 478 313, 12 EPCI.
const (
	e1, e2         = "epci:200040590", "epci:246900757"
	c1, c2, c3, cT = "com:69264", "com:69092", "com:69027", "com:69243"
	dep            = "dep:69"
	popDep         = 478313.0
	popE1          = 67943.0
	popC1          = 36172.0
)

const (
	insAct   = "INSERT INTO activites (id, version, deleted, date, mediateur_id, accompagnements, type_lieu, structure_id, lieu_code_insee, creation, modification)"
	insStr   = "INSERT INTO structures (id, version, deleted, code_insee)"
	insRen   = "INSERT INTO rencontres (id, version, deleted, date, type, territoire)"
	insPart  = "INSERT INTO participations (rencontre_id, structure_id, version, deleted, structure_type, relais, connait_offre)"
	insJal   = "INSERT INTO jalons (action, jalon, version, deleted, statut)"
	insEq    = "INSERT INTO equipements (periode, territoire, indicateur, version, deleted, valeur)"
	insLieu  = "INSERT INTO lieux (id, version, deleted, code_insee, latitude, longitude, date_maj)"
	insConsu = "INSERT INTO consultations (date, lieu_id, consultations, version)"
)

func u8(v uint8) *uint8      { return &v }
func f64(v float64) *float64 { return &v }

// loadFixture inserts phase 1: everything except the late arrivals (structure S3, meeting R99, place LX).
func loadFixture(t testing.TB, conn driver.Conn) {
	// Version 1 is the creation (modification = creation); later versions are edits (modification after
	// creation), as the Coop API reports them.
	a := func(id string, ver uint64, del uint8, date, med string, acc uint32, tl, sid, lci string) []any {
		created := chtest.Day("2024-01-01")
		return []any{id, ver, del, chtest.Day(date), med, acc, tl, sid, lci, created, created.AddDate(0, 0, int(ver)-1)}
	}
	chtest.Insert(t, conn, insAct,
		a("A1", 1, 0, "2026-10-05", "m1", 3, "domicile", "", "69264"),
		a("A2", 1, 0, "2026-10-06", "m1", 2, "lieu_activite", "S1", ""),
		a("A3", 1, 0, "2026-10-07", "m2", 5, "lieu_activite", "S2", ""), // S2 is deleted later: still locates
		a("A4", 1, 0, "2026-10-08", "m3", 10, "a_distance", "", "69092"),
		a("A4", 2, 0, "2026-10-08", "m3", 4, "a_distance", "", "69092"), // modified: 4 wins
		a("A5", 1, 0, "2026-10-09", "m4", 7, "domicile", "", "69264"),
		a("A5", 2, 1, "2026-10-09", "m4", 7, "domicile", "", "69264"),   // deleted
		a("A6", 1, 0, "2026-10-10", "m5", 6, "lieu_activite", "S3", ""), // S3 arrives in phase 2
		a("A7", 1, 0, "2026-10-20", "m6", 8, "domicile", "", "69264"),
		a("A7", 2, 0, "2026-08-20", "m6", 8, "domicile", "", "69264"), // date moved out of October
		a("A8", 1, 0, "2026-07-15", "m2", 1, "domicile", "", "69027"),
		a("A8", 2, 0, "2026-10-15", "m2", 1, "domicile", "", "69027"), // date moved into October
		a("A9", 1, 0, "2026-10-11", "m7", 9, "domicile", "", "01194"), // Ain commune of E1: out of scope
		a("A10", 1, 0, "2026-10-12", "m8", 2, "domicile", "", ""),     // no commune: non localisée
		a("A11", 1, 0, "2026-10-13", "m9", 10, "domicile", "", "69243"),
		a("A12", 1, 0, "2026-09-10", "m1", 4, "domicile", "", "69264"),
		a("A13", 1, 0, "2025-10-10", "m1", 2, "domicile", "", "69264"),
		a("A14", 1, 0, "2025-10-11", "m2", 6, "domicile", "", "69027"),
		a("A15", 1, 0, "2025-10-12", "m9", 20, "domicile", "", "69243"),
	)
	chtest.Insert(t, conn, insStr,
		[]any{"S1", uint64(1), uint8(0), "69264"},
		[]any{"S2", uint64(1), uint8(0), "69027"},
		[]any{"S2", uint64(2), uint8(1), "69027"},
	)
	r := func(id string, ver uint64, del uint8, date, typ, terr string) []any {
		return []any{id, ver, del, chtest.Day(date), typ, terr}
	}
	chtest.Insert(t, conn, insRen,
		r("R1", 1, 0, "2026-03-19", "rencontre_departementale", "dep:69"),
		r("R2", 1, 0, "2026-06-03", "echange_pratiques", c1),
		r("R3", 1, 0, "2026-05-10", "atelier_thematique", e2),
		r("R4", 1, 0, "2026-05-12", "petit_dejeuner", e1),
		r("R5", 1, 0, "2026-09-01", "demi_journee_information", c2),
		r("R6", 1, 0, "2026-04-01", "petit_dejeuner", c3),
		r("R7", 1, 0, "2026-02-01", "comite_pilotage", "dep:69"),
		r("R8", 1, 0, "2025-12-01", "comite_technique", e1),
		r("R9", 1, 0, "2025-10-15", "instance_coordination", "dep:69"), // outside the 12 months of 2026-10
		r("R10", 1, 0, "2026-06-10", "echange_pratiques", "com:01194"), // Ain commune of E1: outside scope
		r("R11", 1, 0, "2026-07-01", "atelier_thematique", "epci:200040566"),
		r("R11", 2, 1, "2026-07-01", "atelier_thematique", "epci:200040566"), // deleted
		r("R12", 1, 0, "2026-03-01", "echange_pratiques", "epci:200066587"),
		r("R12", 2, 0, "2026-03-01", "echange_pratiques", "epci:246900625"), // moved to CCPA
	)
	p := func(rid, sid string, ver uint64, del uint8, st string, rel uint8, co *uint8) []any {
		return []any{rid, sid, ver, del, st, rel, co}
	}
	chtest.Insert(t, conn, insPart,
		p("R2", "st1", 1, 0, "collectivite", 0, nil),
		p("R2", "st2", 1, 0, "association", 0, nil),
		p("R2", "st3", 1, 0, "mediatheque", 0, nil),
		p("R2", "st7", 1, 0, "etat", 0, nil),
		p("R2", "st7", 2, 1, "etat", 0, nil), // deleted participation
		p("R3", "st4", 1, 0, "association", 0, nil),
		p("R12", "st5", 1, 0, "ccas", 0, nil),
		p("R10", "st6", 1, 0, "entreprise", 0, nil),
		p("R99", "st8", 1, 0, "france_services", 0, nil), // its meeting arrives in phase 2
		p("R4", "st1", 1, 0, "collectivite", 1, u8(1)),
		p("R4", "st2", 1, 0, "association", 1, u8(0)),
		p("R4", "st9", 1, 0, "autre", 0, u8(1)),      // not a relay
		p("R5", "st1", 1, 0, "collectivite", 1, nil), // not answered
		p("R5", "st10", 1, 0, "ccas", 1, u8(1)),
		p("R6", "st11", 1, 0, "mediatheque", 1, u8(0)),
	)
	j := func(action, jalon string, ver uint64, del uint8, st string) []any {
		return []any{action, jalon, ver, del, st}
	}
	chtest.Insert(t, conn, insJal,
		j("2.1", "J1", 1, 0, "realise"),
		j("2.1", "J2", 1, 0, "en_cours"),
		j("2.1", "J3", 1, 0, "en_cours"),
		j("2.1", "J3", 2, 0, "realise"),
		j("2.1", "J4", 1, 0, "a_lancer"),
		j("2.1", "J4", 2, 1, "a_lancer"),
		j("1.1", "J5", 1, 0, "a_lancer"),
	)
	e := func(p, terr, ind string, ver uint64, v float64) []any {
		return []any{chtest.Day(p + "-01"), terr, ind, ver, uint8(0), v}
	}
	chtest.Insert(t, conn, insEq,
		e("2026-03", c1, "hotspots_wifi_actifs", 1, 0),
		e("2026-03", c1, "hotspots_wifi_actifs", 2, 2), // a later file replaces 0 by 2
		e("2026-05", c2, "hotspots_wifi_actifs", 1, 1),
		e("2026-09", c2, "hotspots_wifi_actifs", 1, 0),          // Gleizé's hotspot closed in September
		e("2025-12", "69027", "hotspots_wifi_actifs", 1, 1),     // bare INSEE = commune; carried forward
		e("2026-11", "com:69268", "hotspots_wifi_actifs", 1, 3), // after M
		e("2026-06", e2, "hotspots_wifi_actifs", 1, 5),          // EPCI-level: never a commune's
		e("2026-01", "com:01194", "hotspots_wifi_actifs", 1, 4), // outside the reference
		e("2026-10", c1, "foyers_equipes", 1, 5),
		e("2026-10", e1, "foyers_connectes", 1, 31),
		e("2026-10", c2, "foyers_connectes", 1, 4),
		e("2026-10", "dep:69", "foyers_equipes", 1, 100),
		e("2026-10", "com:01194", "foyers_equipes", 1, 50),
		e("2025-10", c3, "foyers_equipes", 1, 7),
		e("2026-08", c1, "pc_reconditionnes_distribues", 1, 12),
		e("2026-07", c3, "pc_reconditionnes_distribues", 1, 3), // outside the quarter of 2026-10
		e("2026-10", c2, "pc_reconditionnes_distribues", 1, 5),
		e("2026-10", c2, "pc_reconditionnes_distribues", 2, 6),
	)
	l := func(id string, ver uint64, del uint8, code string, lat, lon *float64, dm string) []any {
		return []any{id, ver, del, code, lat, lon, chtest.Day(dm)}
	}
	chtest.Insert(t, conn, insLieu,
		l("L1", 1, 0, "69264", f64(45.988), f64(4.732), "2026-06-12"),
		l("L2", 1, 0, "69264", nil, nil, "2025-09-30"),
		l("L3", 1, 0, "69027", f64(45.678), f64(4.753), "2025-11-01"), // 364 days before 2026-10-31: up to date
		l("L4", 1, 0, "69092", nil, nil, "2025-10-31"),                // exactly 365 days: outdated
		l("L5", 1, 0, "01194", f64(46.031), f64(4.539), "2024-01-01"), // outside the reference, on Saint-Cyr-le-Chatoux
		l("L6", 1, 0, "69264", f64(45.0), f64(4.0), "2026-06-01"),
		l("L6", 2, 1, "69264", f64(45.0), f64(4.0), "2026-06-01"), // deleted
		l("L7", 1, 0, "69092", nil, nil, "2024-01-01"),
		l("L7", 2, 0, "69092", nil, nil, "2026-09-01"),
	)
	c := func(date, lieu string, n uint32, ver uint64) []any { return []any{chtest.Day(date), lieu, n, ver} }
	chtest.Insert(t, conn, insConsu,
		c("2026-10-01", "L1", 14, 1),
		c("2026-10-02", "L1", 9, 1),
		c("2026-10-03", "L3", 5, 1),
		c("2026-10-04", "L3", 100, 1),
		c("2026-10-04", "L3", 10, 2), // a later report replaces 100
		c("2026-10-05", "LX", 7, 1),  // place LX arrives in phase 2
		c("2026-10-06", "L5", 50, 1), // place outside the reference
		c("2025-10-01", "L1", 20, 1),
	)
}

// loadLateArrivals inserts phase 2: the structure, meeting and place that earlier rows refer to.
func loadLateArrivals(t testing.TB, conn driver.Conn) {
	chtest.Insert(t, conn, insStr, []any{"S3", uint64(1), uint8(0), "69092"})
	chtest.Insert(t, conn, insRen, []any{"R99", uint64(1), uint8(0), chtest.Day("2026-08-01"), "echange_pratiques", c3})
	chtest.Insert(t, conn, insLieu, []any{"LX", uint64(1), uint8(0), "69092", (*float64)(nil), (*float64)(nil), chtest.Day("2024-05-01")})
}

func newTestEngine(t testing.TB) (*Engine, driver.Conn, *territory.Reference) {
	db, ref := chtest.WithReference(t)
	cat, err := catalogue.Load()
	if err != nil {
		t.Fatal(err)
	}
	e := New(db.Conn, cat)
	e.noWarm = true
	e.noPersist = true // the window pass; checkAll compares it with the persisted aggregates
	return e, db.Conn, ref
}
