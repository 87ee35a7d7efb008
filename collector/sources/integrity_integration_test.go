//go:build integration

package sources

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/sdaasp-rhone/fne/collector/ingest"
	"github.com/sdaasp-rhone/fne/internal/chtest"
)

// oneActivite is one valid activity whose duration tells the ingestions apart.
func oneActivite(id, date, modification string, duree int) string {
	return fmt.Sprintf(`[{"type":"activite","id":%q,"attributes":{"type":"individuel","mediateur_id":"m1","accompagnements":1,
"date":%q,"duree":%d,"type_lieu":"a_distance","creation":%q,"modification":%q,"suppression":null,
"materiel":[],"thematiques":["email"],"beneficiaires":{"total":1}}}]`, id, date, duree, modification, modification)
}

func writeFile(t *testing.T, name, content string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

// TestTiesLaterIngestionWins: ten ingestions of the same records, same upstream modification, all
// within one second of the clock. The tenth must win before and after OPTIMIZE FINAL, for both version
// forms (upstream modification << 32 | ingestion, and ingestion version + line).
func TestTiesLaterIngestionWins(t *testing.T) {
	db := chtest.Migrated(t)
	ctx := context.Background()
	now := time.Date(2026, 11, 30, 6, 0, 0, 0, time.UTC)
	r := &ingest.Runner{Conn: db.Conn, Now: func() time.Time { return now }}
	var prev [2]uint64
	for i := 1; i <= 10; i++ {
		act := writeFile(t, "a.json", oneActivite("act-1", "2026-10-06", "2026-10-06T14:02:11.000Z", 10*i))
		if _, err := r.Run(ctx, NewActivites(), ingest.Input{Location: act}); err != nil {
			t.Fatal(err)
		}
		ren := writeFile(t, "r.csv", "id,date,type,titre,territoire,action,format\n"+
			fmt.Sprintf("r1,2026-10-06,comite_technique,version %d,dep:69,1.2,presentiel\n", i))
		if _, err := r.Run(ctx, NewRencontres(), ingest.Input{Location: ren}); err != nil {
			t.Fatal(err)
		}
		// Never a tie: each ingestion's version is above the previous one's (merges may already have
		// dropped the older rows, so compare the maximum after each run).
		for k, tbl := range []string{"activites", "rencontres"} {
			var v uint64
			if err := db.Conn.QueryRow(ctx, "SELECT max(version) FROM "+tbl).Scan(&v); err != nil {
				t.Fatal(err)
			}
			if v <= prev[k] {
				t.Errorf("ingestion %d: %s version %d not above the previous %d", i, tbl, v, prev[k])
			}
			prev[k] = v
		}
	}
	check := func(when string) {
		var duree uint32
		var titre string
		if err := db.Conn.QueryRow(ctx, "SELECT argMax(duree, version) FROM activites").Scan(&duree); err != nil {
			t.Fatal(err)
		}
		if err := db.Conn.QueryRow(ctx, "SELECT argMax(titre, version) FROM rencontres").Scan(&titre); err != nil {
			t.Fatal(err)
		}
		// The tenth ingestion wrote duree 10*10 = 100 and « version 10 ».
		if duree != 100 || titre != "version 10" {
			t.Errorf("%s: duree %d, titre %q; want 100 and « version 10 » (the last ingestion)", when, duree, titre)
		}
	}
	check("before merges")
	for _, tbl := range []string{"activites", "rencontres"} {
		if err := db.Conn.Exec(ctx, "OPTIMIZE TABLE "+tbl+" FINAL"); err != nil {
			t.Fatal(err)
		}
	}
	check("after OPTIMIZE FINAL")
	var duree uint32
	var n uint64
	if err := db.Conn.QueryRow(ctx, "SELECT any(duree), count() FROM activites FINAL").Scan(&duree, &n); err != nil {
		t.Fatal(err)
	}
	if duree != 100 || n != 1 {
		t.Errorf("FINAL: duree %d over %d rows, want 100 over 1", duree, n)
	}
}
