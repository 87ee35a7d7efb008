//go:build integration

package dashboards

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/grafana/grafana-plugin-sdk-go/data"

	"github.com/sdaasp-rhone/fne/internal/chtest"
	"github.com/sdaasp-rhone/fne/internal/territory"
	"github.com/sdaasp-rhone/fne/plugin/pkg/plugin"
)

// The redesigned panels (COPIL tiles, map and due milestones; COTECH changes and separated gaps;
// the EPCI page's fallback territory; freshness without planned meetings) on the fixture of
// queries_integration_test.go.

func str(t *testing.T, fr *data.Frame, field string, row int) string {
	t.Helper()
	f, i := fr.FieldByName(field)
	if i < 0 {
		t.Fatalf("champ %s absent", field)
	}
	v, _ := f.ConcreteAt(row)
	return fmt.Sprint(v)
}

func rows(fr *data.Frame) int {
	if len(fr.Fields) == 0 {
		return 0
	}
	return fr.Fields[0].Len()
}

func TestCOPILOnFixture(t *testing.T) {
	db, ref := chtest.WithReference(t)
	loadFixture(t, db.Conn, ref)
	ds := newDatasource(t, db, "")
	frames := framesOf(t, ds, "copil.json", map[string]string{"indicateur": "a2.accompagnements"})

	t.Run("tuiles par axe", func(t *testing.T) {
		grid := frames["scorecard/<nil>/<nil>/<nil>/0"]
		// Catalogue: axis 1 has 5 indicators (instances, conseillers, rencontre annuelle, rencontre
		// locale, diversité), axis 2 has 7 (jalons diagnostic, accompagnements, pour 1 000 hab., foyers,
		// wifi, reconditionnement, zone blanche), axis 3 has 5 (fiches, consultations, deux rencontres,
		// relais informés, relais qui connaissent l'offre).
		for axis, n := range map[int]int64{1: 5, 2: 7, 3: 5} {
			tile := frames[fmt.Sprintf("axes/<nil>/<nil>/<nil>/%d", axis)]
			// The fixture range ends on 31/10/2026: October is evaluated, written in words.
			if got := str(t, tile, "period_label", 0); got != "octobre 2026" {
				t.Errorf("mois évalué : %q", got)
			}
			if rows(tile) != 1 || str(t, tile, "axis", 0) != plugin.AxisLabel(axis) || str(t, tile, "title", 0) != plugin.AxisTitles[axis] {
				t.Fatalf("tuile de l'axe %d : %d lignes, %q, %q", axis, rows(tile), str(t, tile, "axis", 0), str(t, tile, "title", 0))
			}
			// Each count is the number of grid rows of that axis in that status (sans_cible counts as
			// sans_donnees): the tile and the grid never disagree.
			var total int64
			for _, st := range []string{"en_retard", "a_surveiller", "en_bonne_voie", "atteint", "sans_donnees"} {
				got := int64(*num(t, tile, st, 0))
				want := int64(0)
				for r := 0; r < rows(grid); r++ {
					s := str(t, grid, "status", r)
					if s == "sans_cible" {
						s = "sans_donnees"
					}
					if str(t, grid, "axis", r) == plugin.AxisLabel(axis) && s == st {
						want++
					}
				}
				if got != want {
					t.Errorf("axe %d, %s : %d dans la tuile, %d dans la grille", axis, st, got, want)
				}
				total += got
			}
			if total != n {
				t.Errorf("axe %d : %d indicateurs comptés, attendu %d", axis, total, n)
			}
		}
		// Grid texts: October, département: 3 counsellors (m1, m2, m3), 9 accompaniments (3 + 2 + 4).
		for id, want := range map[string]string{"a1.conseillers_actifs": "3", "a2.accompagnements": "9"} {
			if got := str(t, grid, "value_text", rowWhere(t, grid, "id", id)); got != want {
				t.Errorf("%s : %q, attendu %q", id, got, want)
			}
		}
	})

	t.Run("carte des EPCI", func(t *testing.T) {
		m := frames["breakdown/a2.accompagnements/<nil>/epci/<nil>"]
		if rows(m) != 12 {
			t.Fatalf("carte : %d EPCI, attendu les 12 du référentiel", rows(m))
		}
		// E1: P1 (3, Villefranche) + P2 (2, Gleizé) = 5; E2: P3's latest version, 4 (Brignais).
		for terr, want := range map[string]float64{fxE1: 5, fxE2: 4} {
			r := rowWhere(t, m, "territory", terr)
			if v := num(t, m, "value", r); !eq(v, want) {
				t.Errorf("%s : %s, attendu %v", terr, show(v), want)
			}
			if lat := num(t, m, "latitude", r); lat == nil || *lat < 45 || *lat > 46.5 {
				t.Errorf("%s : latitude %s hors du Rhône", terr, show(lat))
			}
			if p := num(t, m, "population", r); p == nil || *p <= 0 {
				t.Errorf("%s : population %s (taille du cercle)", terr, show(p))
			}
		}
	})

	t.Run("jalons en retard ou proches", func(t *testing.T) {
		ms := frames["milestones/<nil>/<nil>/<nil>/0"]
		// J1 is done (left out); J2, en cours, planned 30/06/2026, is past today (December 2026): late.
		if rows(ms) != 1 || str(t, ms, "jalon", 0) != "J2" || str(t, ms, "echeance", 0) != plugin.EcheanceRetard {
			t.Errorf("jalons du COPIL : %v, attendu seulement J2 en retard", ms)
		}
	})
}

func TestCOTECHOnFixture(t *testing.T) {
	db, ref := chtest.WithReference(t)
	loadFixture(t, db.Conn, ref)
	ds := newDatasource(t, db, "")
	frames := framesOf(t, ds, "cotech.json", map[string]string{"indicateur": "a2.accompagnements"})

	for level, prefix := range map[string]string{"epci": "epci:", "commune": "com:"} {
		g := frames["gaps/<nil>/<nil>/"+level+"/<nil>"]
		for r := 0; r < rows(g); r++ {
			if terr := str(t, g, "territory", r); !strings.HasPrefix(terr, prefix) {
				t.Errorf("territoires sous leur cible (%s) : %s (%s)", level, terr, str(t, g, "name", r))
			}
		}
	}
	// No commune of the fixture reported a wifi hotspot: communes are under the wifi target.
	if g := frames["gaps/<nil>/<nil>/commune/<nil>"]; rows(g) == 0 {
		t.Error("communes sous leur cible : aucune ligne")
	}
	ch := frames["changes/<nil>/<nil>/<nil>/0"]
	for r := 0; r < rows(ch); r++ {
		if str(t, ch, "previous_status", r) == str(t, ch, "status", r) {
			t.Errorf("changement sans changement de statut : ligne %d", r)
		}
	}
	// The EPCI comparison: E1 5 accompaniments, written as French text.
	cmp := frames["breakdown/a2.accompagnements/<nil>/epci/<nil>"]
	if got := str(t, cmp, "value_text", rowWhere(t, cmp, "territory", fxE1)); got != "5" {
		t.Errorf("comparaison des EPCI, %s : %q, attendu 5", fxE1, got)
	}
}

// Without an EPCI in the URL, « Couverture locale » shows the first EPCI of the reference (sorted by
// name, as the EPCI list at the top of the page: CA Vienne Condrieu), never the département; a scoped
// datasource shows its own EPCI.
func TestEPCIDashboardOpensOnOneEPCI(t *testing.T) {
	db, ref := chtest.WithReference(t)
	loadFixture(t, db.Conn, ref)
	first := "epci:" + ref.EPCIs[0].Siren
	for scope, want := range map[string]string{"": first, fxE2: fxE2} {
		e, err := ref.Resolve(territory.MustParse(want))
		if err != nil {
			t.Fatal(err)
		}
		ds := newDatasource(t, db, scope)
		frames := framesOf(t, ds, "epci.json", map[string]string{"epci": ""})
		if got := str(t, frames["axes/<nil>//<nil>/1"], "territory_name", 0); got != e.Name {
			t.Errorf("périmètre %q : EPCI affiché %q, attendu %q", scope, got, e.Name)
		}
		places := frames["breakdown/ctx.lieux//commune/<nil>"]
		if rows(places) != len(e.Communes) {
			t.Errorf("périmètre %q : %d communes, attendu les %d de %s", scope, rows(places), len(e.Communes), e.Name)
		}
		// Counsellors in October: none of the fixture's activities is in the first EPCI, but October has
		// data elsewhere → 0 (a count is a count); E2: m3 in Brignais → 1. Never the département's 3.
		s := frames["series/a1.conseillers_actifs//<nil>/<nil>"]
		if v := num(t, s, "value", 2); !eq(v, map[string]float64{"": 0, fxE2: 1}[scope]) {
			t.Errorf("périmètre %q : conseillers d'octobre %s", scope, show(v))
		}
	}
}

// A planned meeting is not the newest data of the rencontres source; every source is listed.
func TestFreshnessListsEverySourceWithoutFutureData(t *testing.T) {
	db, ref := chtest.WithReference(t)
	loadFixture(t, db.Conn, ref)
	future := time.Now().UTC().AddDate(0, 2, 0).Format("2006-01-02")
	chtest.Insert(t, db.Conn, "INSERT INTO rencontres (id, version, deleted, date, type, titre, territoire, action, format, source_input, run_id, ingested_at)",
		[]any{"R1", uint64(1), uint8(0), chtest.Day("2026-10-15"), "echange_pratiques", "Échange", fxE1, "1.2", "presentiel", "r.csv", "run-r", time.Now()},
		[]any{"R2", uint64(1), uint8(0), chtest.Day(future), "echange_pratiques", "Prévue", fxE1, "1.2", "presentiel", "r.csv", "run-r", time.Now()},
	)
	ds := newDatasource(t, db, "")
	fr := framesOf(t, ds, "collecte.json", nil)["freshness/<nil>/<nil>/<nil>/<nil>"]
	var got []string
	for r := 0; r < rows(fr); r++ {
		got = append(got, str(t, fr, "source", r))
	}
	if strings.Join(got, ",") != "activites,structures,lieux,consultations,rencontres,participations,equipements,jalons" {
		t.Errorf("sources : %v", got)
	}
	f, _ := fr.FieldByName("last_data")
	v, _ := f.ConcreteAt(rowWhere(t, fr, "source", "rencontres"))
	if d, _ := v.(time.Time); d.Format("2006-01-02") != "2026-10-15" {
		t.Errorf("rencontres : donnée la plus récente %v, attendu le 15/10/2026 (la rencontre du %s est prévue)", v, future)
	}
	// The activites run ended 31/10/2026 06:00 UTC: a month and more ago, in French.
	if ago := str(t, fr, "last_run_ago", rowWhere(t, fr, "source", "activites")); !strings.HasPrefix(ago, "il y a ") {
		t.Errorf("dernier passage des activités : %q, attendu « il y a … »", ago)
	}
}
