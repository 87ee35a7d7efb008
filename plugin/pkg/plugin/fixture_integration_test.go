//go:build integration

package plugin

import (
	"fmt"
	"net"
	"testing"
	"time"

	"github.com/ClickHouse/clickhouse-go/v2/lib/driver"

	"github.com/sdaasp-rhone/fne/internal/chtest"
	"github.com/sdaasp-rhone/fne/internal/engine"
	"github.com/sdaasp-rhone/fne/internal/territory"
)

// Fixture territories (real reference of reference/):
//
//	E1 = epci:200040590 CA Villefranche Beaujolais Saône: C1 = com:69264 Villefranche-sur-Saône, C2 = com:69092 Gleizé
//	E2 = epci:246900757 CC de la Vallée du Garon: C3 = com:69027 Brignais
const (
	fxE1, fxE2         = "epci:200040590", "epci:246900757"
	fxC1, fxC2, fxC3   = "com:69264", "com:69092", "com:69027"
	fxDep              = "dep:69"
	fxInsertActivities = "INSERT INTO activites (id, version, deleted, date, mediateur_id, accompagnements, type_lieu, structure_id, lieu_code_insee)"
)

var october = engine.Month{Year: 2026, Month: 10}

// fxRange is a dashboard range from August to October 2026.
var fxFrom, fxTo = time.Date(2026, 8, 1, 0, 0, 0, 0, time.UTC), time.Date(2026, 10, 31, 23, 0, 0, 0, time.UTC)

// loadFixture inserts, straight into the source tables:
//
//	activities, October 2026: P1 m1 3 acc. in C1; P2 m2 2 acc. in C2; P3 m3 in C3, modified from 10 to
//	4 acc. (latest version wins); P4 m4 7 acc. in C1, then deleted. September 2026: P5 m1 4 acc. in C1.
//	No activity at all in August 2026.
//	milestones: 2.1/J1 realise (planned 31/03/2026, done 20/03/2026); 3.2/J2 en_cours planned 30/06/2026.
//	one successful run of the activites source ending 31/10/2026 06:00.
//
// By hand, October 2026:
//
//	a1.conseillers_actifs  dep:69 = |{m1,m2,m3}| = 3; E1 = |{m1,m2}| = 2; E2 = |{m3}| = 1; other EPCI 0
//	a2.accompagnements     dep:69 = 3+2+4 = 9;        E1 = 3+2 = 5;     E2 = 4;          C1 = 3
//	trend (Oct − Sep)      conseillers dep 3−1 = 2;   accompagnements dep 9−4 = 5
//	series a2.accompagnements dep:69, Aug..Oct = [null (nothing collected in August), 4, 9]
func loadFixture(t testing.TB, conn driver.Conn) {
	a := func(id string, ver uint64, del uint8, date, med string, acc uint32, code string) []any {
		return []any{id, ver, del, chtest.Day(date), med, acc, "domicile", "", code}
	}
	chtest.Insert(t, conn, fxInsertActivities,
		a("P1", 1, 0, "2026-10-05", "m1", 3, "69264"),
		a("P2", 1, 0, "2026-10-06", "m2", 2, "69092"),
		a("P3", 1, 0, "2026-10-07", "m3", 10, "69027"),
		a("P3", 2, 0, "2026-10-07", "m3", 4, "69027"),
		a("P4", 1, 0, "2026-10-08", "m4", 7, "69264"),
		a("P4", 2, 1, "2026-10-08", "m4", 7, "69264"),
		a("P5", 1, 0, "2026-09-10", "m1", 4, "69264"),
	)
	d1, d2, d3 := chtest.Day("2026-03-31"), chtest.Day("2026-03-20"), chtest.Day("2026-06-30")
	chtest.Insert(t, conn, "INSERT INTO jalons (action, jalon, version, deleted, libelle, statut, date_prevue, date_realisee)",
		[]any{"2.1", "J1", uint64(1), uint8(0), "Diagnostic des besoins lancé", "realise", &d1, &d2},
		[]any{"3.2", "J2", uint64(1), uint8(0), "Guide des structures relais", "en_cours", &d3, (*time.Time)(nil)},
	)
	end := time.Date(2026, 10, 31, 6, 0, 0, 0, time.UTC)
	chtest.Insert(t, conn, "INSERT INTO ingestion_runs (run_id, version, source, input, started_at, ended_at, rows_read, rows_written, rows_rejected, status, error)",
		[]any{"run-1", uint64(2), "activites", "activites.json", end.Add(-time.Minute), end, uint64(7), uint64(7), uint64(0), "succes", ""},
	)
}

// fxSettingsJSON is the datasource jsonData pointing at db.
func fxSettingsJSON(t testing.TB, db *chtest.DB, scope string) []byte {
	host, port, err := net.SplitHostPort(db.Config.Addr)
	if err != nil {
		t.Fatal(err)
	}
	return []byte(fmt.Sprintf(`{"host":%q,"port":%s,"database":%q,"username":%q,"queryTimeout":30,"scope":%q}`, host, port, db.Config.Database, db.Config.Username, scope))
}

func mustID(s string) territory.ID { return territory.MustParse(s) }

// noLevel asks the engine for its default children (the EPCI of the département).
const noLevel territory.Level = ""
