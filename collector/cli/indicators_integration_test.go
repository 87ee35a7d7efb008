//go:build integration

package cli

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/sdaasp-rhone/fne/internal/chtest"
)

func TestIndicatorsCommand(t *testing.T) {
	db, _ := chtest.WithReference(t)
	ctx := context.Background()
	b, err := db.Conn.PrepareBatch(ctx, "INSERT INTO activites (id, version, deleted, date, mediateur_id, accompagnements, type_lieu, lieu_code_insee)")
	if err != nil {
		t.Fatal(err)
	}
	day := func(s string) time.Time { d, _ := time.Parse("2006-01-02", s); return d }
	// October 2026: Villefranche 3 + 4, Tarare 5 → dep 12, 2 counsellors; September: Tarare 2.
	_ = b.Append("A1", uint64(1), uint8(0), day("2026-10-05"), "m1", uint32(3), "domicile", "69264")
	_ = b.Append("A2", uint64(1), uint8(0), day("2026-10-06"), "m1", uint32(4), "domicile", "69264")
	_ = b.Append("A3", uint64(1), uint8(0), day("2026-10-07"), "m2", uint32(5), "domicile", "69243")
	_ = b.Append("A4", uint64(1), uint8(0), day("2026-09-07"), "m2", uint32(2), "domicile", "69243")
	if err := b.Send(); err != nil {
		t.Fatal(err)
	}
	conn := []string{"--addr", db.Config.Addr, "--database", db.Config.Database}

	// Default: département, newest month (October), French table.
	code, out, errOut := run(append([]string{"indicators"}, conn...)...)
	if code != ExitOK || !strings.Contains(out, "Rhône (hors Métropole de Lyon) (dep:69) — octobre 2026") {
		t.Fatalf("code %d\n%s\n%s", code, out, errOut)
	}
	for _, line := range strings.Split(out, "\n") {
		if strings.Contains(line, "Accompagnements réalisés") && !(strings.Contains(line, " 12 ") && strings.Contains(line, "Sans cible")) {
			t.Errorf("ligne accompagnements : %q", line)
		}
		// 12 × 1000 / 478 313 = 0,0251 → 0,03 (2 decimals)
		if strings.Contains(line, "Accompagnements pour 1 000") && !strings.Contains(line, "0,03") {
			t.Errorf("ligne par habitant : %q", line)
		}
		if strings.Contains(line, "Conseillers numériques") && !(strings.Contains(line, " 2 ") && strings.Contains(line, "≥ 14 en 2027-12") && strings.Contains(line, "défaut (COPIL)") && strings.Contains(line, "En retard")) {
			t.Errorf("ligne conseillers : %q", line)
		}
		if strings.Contains(line, "Rencontre annuelle") && !strings.Contains(line, "Sans données") {
			t.Errorf("sans rencontre, sans données : %q", line)
		}
	}

	// JSON, one EPCI, axis 2: unrounded values.
	code, out, errOut = run(append([]string{"indicators", "--territory", "epci:200040590", "--period", "2026-10", "--format", "json", "--axis", "2"}, conn...)...)
	if code != ExitOK {
		t.Fatalf("json : code %d %s", code, errOut)
	}
	var rows []map[string]any
	if err := json.Unmarshal([]byte(out), &rows); err != nil {
		t.Fatalf("%v\n%s", err, out)
	}
	if len(rows) != 7 {
		t.Errorf("axe 2 : %d indicateurs, attendu 7", len(rows))
	}
	for _, r := range rows {
		for _, k := range []string{"id", "territory", "period", "value", "unit", "target", "status"} {
			if _, ok := r[k]; !ok {
				t.Errorf("clé %s absente : %v", k, r)
			}
		}
		// Villefranche 7 × 1000 / 67 943 (population of the EPCI in scope), unrounded.
		if r["id"] == "a2.accompagnements_1000_hab" && r["value"] != 7*1000/67943.0 {
			t.Errorf("par habitant : %v", r["value"])
		}
		if r["id"] == "a2.communes_hotspot" && (r["value"] != nil || r["status"] != "sans_donnees") {
			t.Errorf("sans données d'équipement : %v", r)
		}
		// the roadmap commits to a hotspot in every commune; it sets no number of accompaniments (and a
		// "hausse" without last year's value has no reference to show)
		if r["id"] == "a2.communes_hotspot" && r["target_origin"] != "feuille_de_route" || r["id"] == "a2.accompagnements" && r["target_origin"] != "" {
			t.Errorf("origine de la cible : %v", r)
		}
	}

	// CSV series for Tarare: September 2, October 5, November without data.
	code, out, errOut = run(append([]string{"indicators", "--territory", "com:69243", "--indicator", "a2.accompagnements", "--series", "2026-09..2026-11", "--format", "csv"}, conn...)...)
	want := "id,territory,period,axis,action,label,value,unit,target,target_origin,status,progress,trend\n" +
		"a2.accompagnements,com:69243,2026-09,2,2.x,Accompagnements réalisés,2,nombre,,,sans_cible,,\n" +
		"a2.accompagnements,com:69243,2026-10,2,2.x,Accompagnements réalisés,5,nombre,,,sans_cible,,\n" +
		"a2.accompagnements,com:69243,2026-11,2,2.x,Accompagnements réalisés,,nombre,,,sans_donnees,,\n"
	if code != ExitOK || out != want {
		t.Errorf("série csv : code %d %s\n%s", code, errOut, out)
	}

	// A deployment override file changes the target without code.
	p := filepath.Join(t.TempDir(), "cibles.yaml")
	_ = os.WriteFile(p, []byte("overrides:\n  - id: a1.conseillers_actifs\n    target: 2\n"), 0o644)
	code, out, _ = run(append([]string{"indicators", "--period", "2026-10", "--indicator", "a1.conseillers_actifs", "--format", "csv", "--catalogue", p}, conn...)...)
	if code != ExitOK || !strings.Contains(out, ",2,nombre,2,copil,atteint,100,") {
		t.Errorf("surcharge : %d\n%s", code, out)
	}

	// Errors: French, non-zero.
	for _, c := range []struct {
		args []string
		code int
		msg  string
	}{
		{[]string{"--territory", "com:01194"}, ExitUsage, "territoire inconnu"},
		{[]string{"--territory", "canton:12"}, ExitUsage, "niveau \"canton\" inconnu"},
		{[]string{"--indicator", "a9.rien"}, ExitUsage, "indicateur inconnu"},
		{[]string{"--period", "2026-13"}, ExitUsage, "période invalide"},
		{[]string{"--series", "2026-10..2026-01", "--indicator", "a2.accompagnements"}, ExitUsage, "est avant"},
		{[]string{"--series", "2026-01..2026-10"}, ExitUsage, "exactement un indicateur"},
		{[]string{"--format", "xml"}, ExitUsage, "format « xml » inconnu"},
	} {
		code, _, errOut := run(append(append([]string{"indicators"}, c.args...), conn...)...)
		if code != c.code || !strings.Contains(errOut, c.msg) {
			t.Errorf("%v : code %d, %q", c.args, code, errOut)
		}
	}
}

// An activity dated 2099 (stored before such dates were rejected) does not move the default period:
// it stays the current month, the newest one with activities up to now.
func TestDefaultPeriodNeverAfterCurrentMonth(t *testing.T) {
	db, _ := chtest.WithReference(t)
	ctx := context.Background()
	b, err := db.Conn.PrepareBatch(ctx, "INSERT INTO activites (id, version, deleted, date, mediateur_id, accompagnements, type_lieu, lieu_code_insee)")
	if err != nil {
		t.Fatal(err)
	}
	now := time.Now().UTC()
	thisMonth := time.Date(now.Year(), now.Month(), 1, 0, 0, 0, 0, time.UTC)
	_ = b.Append("A1", uint64(1), uint8(0), thisMonth, "m1", uint32(3), "domicile", "69264")
	_ = b.Append("F1", uint64(1), uint8(0), time.Date(2099, 1, 15, 0, 0, 0, 0, time.UTC), "m1", uint32(4), "domicile", "69264")
	if err := b.Send(); err != nil {
		t.Fatal(err)
	}
	mois := []string{"janvier", "février", "mars", "avril", "mai", "juin", "juillet", "août", "septembre", "octobre", "novembre", "décembre"}
	want := fmt.Sprintf("— %s %d", mois[now.Month()-1], now.Year())
	code, out, errOut := run("indicators", "--addr", db.Config.Addr, "--database", db.Config.Database)
	if code != ExitOK || !strings.Contains(out, want) || strings.Contains(out, "2099") {
		t.Fatalf("code %d, attendu « %s »\n%s\n%s", code, want, out, errOut)
	}
}
