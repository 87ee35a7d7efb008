//go:build integration

package cli

import (
	"encoding/json"
	"fmt"
	"html"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/ClickHouse/clickhouse-go/v2/lib/driver"

	"github.com/sdaasp-rhone/fne/internal/catalogue"
	"github.com/sdaasp-rhone/fne/internal/chtest"
)

// Report fixture (real reference): E1 = epci:200040590 (CA Villefranche Beaujolais Saône, population in
// scope 67 943), E2 = epci:246900757 (CC de la Vallée du Garon, 32 734), Tarare 69243 in
// epci:200040566, dep:69 population 478 313.
//
// Activities (accompagnements): 2026-10: Villefranche 69264 3 + 4 (m1), Tarare 5 (m2), Brignais 69027
// (E2) 6 (m3) → dep 18, E1 7, E2 6, 3 counsellors; 2026-09: Tarare 2 (m2), Brignais 1 (m3) → dep 3, E1 0,
// E2 1; 2025-10: Villefranche 10 (m1) → dep 10, E1 10, E2 0.
const (
	repE1, repE2 = "epci:200040590", "epci:246900757"
)

func loadReportFixture(t *testing.T, conn driver.Conn, now time.Time) {
	a := func(id, date, med string, acc uint32, insee string) []any {
		return []any{id, uint64(1), uint8(0), chtest.Day(date), med, acc, "domicile", insee}
	}
	chtest.Insert(t, conn, "INSERT INTO activites (id, version, deleted, date, mediateur_id, accompagnements, type_lieu, lieu_code_insee)",
		a("A1", "2026-10-05", "m1", 3, "69264"), a("A2", "2026-10-06", "m1", 4, "69264"),
		a("A3", "2026-10-07", "m2", 5, "69243"), a("A4", "2026-10-08", "m3", 6, "69027"),
		a("A5", "2026-09-07", "m2", 2, "69243"), a("A6", "2026-09-08", "m3", 1, "69027"),
		a("A7", "2025-10-10", "m1", 10, "69264"))
	// One steering committee in February 2026: a1.instances_actives = 1 for dep:69 over the 12 months.
	chtest.Insert(t, conn, "INSERT INTO rencontres (id, version, deleted, date, type, territoire)",
		[]any{"R1", uint64(1), uint8(0), chtest.Day("2026-02-01"), "comite_pilotage", "dep:69"})
	// One place at Villefranche's centre: Tarare (about 25 km away) is far from any place.
	chtest.Insert(t, conn, "INSERT INTO lieux (id, version, deleted, code_insee, latitude, longitude, date_maj)",
		[]any{"L1", uint64(1), uint8(0), "69264", ptrF(45.9875), ptrF(4.7230), chtest.Day("2026-06-01")})
	day := now.UTC().Truncate(24 * time.Hour)
	late, due, far := day.AddDate(0, 0, -30), day.AddDate(0, 0, 30), day.AddDate(0, 6, 0)
	chtest.Insert(t, conn, "INSERT INTO jalons (action, jalon, version, deleted, libelle, statut, date_prevue)",
		[]any{"2.1", "J1", uint64(1), uint8(0), "Questionnaire diffusé", "realise", &late},
		[]any{"2.1", "J2", uint64(1), uint8(0), "Diagnostic partagé", "en_cours", &late},   // late
		[]any{"1.2", "J3", uint64(1), uint8(0), "Annuaire des acteurs", "a_lancer", &due},  // due within 3 months
		[]any{"1.2", "J4", uint64(1), uint8(0), "Charte départementale", "a_lancer", &far}) // later
	// Rejects: two of one reason since October (one of them re-ingested: counts once), one from 2025.
	rj := func(pos string, ver uint64, at time.Time, reason string) []any {
		return []any{"lieux", "lieux.csv", pos, "nom", ver, "run1", reason, "raw", at}
	}
	chtest.Insert(t, conn, "INSERT INTO rejects (source, input, position, field, version, run_id, reason, raw, rejected_at)",
		rj("ligne 3", 1, now.Add(-time.Hour), "champ obligatoire « nom » vide"),
		rj("ligne 3", 2, now.Add(-time.Minute), "champ obligatoire « nom » vide"),
		rj("ligne 9", 1, now.Add(-time.Hour), "champ obligatoire « nom » vide"),
		rj("ligne 12", 1, chtest.Day("2025-03-01"), "motif ancien"))
}

func ptrF(v float64) *float64 { return &v }

// indicatorsJSON runs `fne indicators --format json` (the same engine as the report).
func indicatorsJSON(t *testing.T, conn []string, terr, period string) map[string]map[string]any {
	t.Helper()
	code, out, errOut := run(append([]string{"indicators", "--territory", terr, "--period", period, "--format", "json"}, conn...)...)
	if code != ExitOK {
		t.Fatalf("indicators %s %s : code %d %s", terr, period, code, errOut)
	}
	var rows []map[string]any
	if err := json.Unmarshal([]byte(out), &rows); err != nil {
		t.Fatal(err)
	}
	byID := map[string]map[string]any{}
	var order []string
	for _, r := range rows {
		byID[r["id"].(string)] = r
		order = append(order, r["id"].(string))
	}
	byID[""] = map[string]any{"order": order}
	return byID
}

// The formatting rule of the README, written again here so that the test does not check the report
// against its own code: percentages to 1 decimal, per-capita rates to 2, whole counts without decimals.
func frNum(v float64, unit string) string {
	dec := 0
	switch {
	case unit == "%":
		dec = 1
	case strings.HasPrefix(unit, "pour "):
		dec = 2
	case v != math.Trunc(v):
		dec = 1
	}
	s := strconv.FormatFloat(math.Abs(v), 'f', dec, 64)
	ip, frac, _ := strings.Cut(s, ".")
	var b strings.Builder
	for i := range ip {
		if i > 0 && (len(ip)-i)%3 == 0 {
			b.WriteByte(' ')
		}
		b.WriteByte(ip[i])
	}
	out := b.String()
	if frac != "" {
		out += "," + frac
	}
	if v < 0 && strings.Trim(out, "0, ") != "" {
		out = "-" + out
	}
	return out
}

func frVal(v any, unit string) string {
	f, ok := v.(float64)
	if !ok {
		return "—"
	}
	if unit == "%" {
		return frNum(f, unit) + " %"
	}
	return frNum(f, unit)
}

func frDelta(v *float64, unit string) string {
	if v == nil {
		return "—"
	}
	s := frNum(*v, unit)
	if *v > 0 && strings.Trim(s, "0, ") != "" {
		s = "+" + s
	}
	if unit == "%" {
		s += " pt"
	}
	return s
}

var monthsShort = []string{"janv.", "févr.", "mars", "avr.", "mai", "juin", "juil.", "août", "sept.", "oct.", "nov.", "déc."}

// frTarget is the target cell: the JSON target, with the direction and deadline of the catalogue.
func frTarget(t *testing.T, r map[string]any) string {
	tv, ok := r["target"].(float64)
	if !ok {
		return "—"
	}
	cat, err := catalogue.Load()
	if err != nil {
		t.Fatal(err)
	}
	ind, _ := cat.Get(r["id"].(string))
	unit := r["unit"].(string)
	val := frVal(tv, unit)
	if unit == "%" && tv == math.Trunc(tv) {
		val = frNum(tv, "") + " %"
	}
	dir, dl := ind.Direction, ind.Deadline
	if dir == "hausse" {
		dl = ""
	}
	switch dir {
	case "hausse":
		return "> " + val + " (un an avant)"
	case "au_plus":
		val = "≤ " + val
	default:
		val = "≥ " + val
	}
	if dl != "" {
		m, _ := time.Parse("2006-01", dl)
		val += fmt.Sprintf(" en %s %d", monthsShort[m.Month()-1], m.Year())
	}
	return val
}

var statusesFr = map[string]string{"atteint": "Atteint", "en_bonne_voie": "En bonne voie", "a_surveiller": "À surveiller",
	"en_retard": "En retard", "sans_donnees": "Sans données", "sans_cible": "Sans cible"}

func fptr(v any) *float64 {
	if f, ok := v.(float64); ok {
		return &f
	}
	return nil
}

// norm folds what differs between HTML and pdftotext only in form: no-break spaces, the typographic
// minus, line breaks.
func norm(s string) string {
	s = strings.NewReplacer("\u00a0", " ", "\u202f", " ", "\u2212", "-").Replace(s)
	return strings.Join(strings.Fields(s), " ")
}

var tagRe = regexp.MustCompile(`<[^>]*>`)

func htmlText(s string) string { return norm(html.UnescapeString(tagRe.ReplaceAllString(s, " "))) }

// between returns the text after the last occurrence of from and before the following to.
func between(t *testing.T, s, from, to string) string {
	t.Helper()
	i := strings.LastIndex(s, from)
	if i < 0 {
		t.Fatalf("%q introuvable", from)
	}
	s = s[i+len(from):]
	j := strings.Index(s, to)
	if j < 0 {
		t.Fatalf("%q introuvable après %q", to, from)
	}
	return s[:j]
}

// TestReportSameNumbers: every value of the synthesis (value, target, status, progress, change since last
// month and since a year earlier), in the HTML and in the PDF text, is what `fne indicators --format
// json` gives for the same territory and months, for the département and two EPCI; plus hand-checked
// values of the fixture.
func TestReportSameNumbers(t *testing.T) {
	if _, err := exec.LookPath("pdftotext"); err != nil {
		t.Fatal("pdftotext absent : lancez « make report-deps » (paquet poppler-utils)")
	}
	db, _ := chtest.WithReference(t)
	now := time.Now()
	loadReportFixture(t, db.Conn, now)
	conn := []string{"--addr", db.Config.Addr, "--database", db.Config.Database}
	dir := t.TempDir()

	texts := map[string]map[string]string{} // territory → format → synthesis text
	for _, terr := range []string{"dep:69", repE1, repE2} {
		cur := indicatorsJSON(t, conn, terr, "2026-10")
		prev := indicatorsJSON(t, conn, terr, "2026-09")
		year := indicatorsJSON(t, conn, terr, "2025-10")
		texts[terr] = map[string]string{}
		for _, format := range []string{"html", "pdf"} {
			out := filepath.Join(dir, strings.ReplaceAll(terr, ":", "-")+"."+format)
			code, stdout, errOut := run(append([]string{"report", "--territory", terr, "--period", "2026-10", "--format", format, "--out", out}, conn...)...)
			if code != ExitOK || !strings.Contains(stdout, "octobre 2026") {
				t.Fatalf("report %s %s : code %d %s %s", terr, format, code, stdout, errOut)
			}
			var doc string
			if format == "html" {
				b, err := os.ReadFile(out)
				if err != nil {
					t.Fatal(err)
				}
				// Self-contained: no script, no external style sheet, image or font; links only to its own anchors
				// (the SVG namespace URIs are names, never fetched).
				if regexp.MustCompile(`<script|<link|<img|<iframe|\bsrc=|url\(|@import|href="[^#]`).Match(b) {
					t.Errorf("%s : le HTML doit être autonome (ni script ni ressource externe)", terr)
				}
				doc = htmlText(string(b))
			} else {
				b, err := exec.Command("pdftotext", "-raw", out, "-").Output()
				if err != nil {
					t.Fatalf("pdftotext %s : %v", out, err)
				}
				doc = norm(string(b))
			}
			texts[terr][format] = doc
			synth := between(t, doc, "1. Synthèse par axe", "2. Ce qui a changé depuis le mois dernier")
			changes := between(t, doc, "2. Ce qui a changé depuis le mois dernier", "3. Évolution des indicateurs")
			order := cur[""]["order"].([]string)
			if len(order) != 19 {
				t.Fatalf("%d indicateurs, attendu 19", len(order))
			}
			for k, id := range order {
				r := cur[id]
				unit := r["unit"].(string)
				var dYear *float64
				if v, y := fptr(r["value"]), fptr(year[id]["value"]); v != nil && y != nil {
					d := *v - *y
					dYear = &d
				}
				prog := "—"
				if p := fptr(r["progress"]); p != nil {
					prog = frNum(*p, "%") + " %"
				}
				want := strings.Join([]string{frVal(r["value"], unit), frTarget(t, r), statusesFr[r["status"].(string)], prog,
					frDelta(fptr(r["trend"]), unit), frDelta(dYear, unit)}, " ")
				i := strings.Index(synth, id+" ")
				if i < 0 {
					t.Errorf("%s %s : %s absent de la synthèse", terr, format, id)
					continue
				}
				row := synth[i:]
				if k+1 < len(order) {
					if j := strings.Index(row, order[k+1]+" "); j > 0 {
						row = row[:j]
					}
				}
				if !strings.Contains(row, " "+want) {
					t.Errorf("%s %s %s :\n  ligne   %q\n  attendu %q", terr, format, id, row, want)
				}
				// What changed lists exactly the indicators whose status differs from the month before.
				changed := prev[id]["status"] != r["status"]
				if strings.Contains(changes, id+" ") != changed {
					t.Errorf("%s %s %s : changement de statut %v → %v, section « Ce qui a changé » : %v", terr, format, id, prev[id]["status"], r["status"], !changed)
				}
			}
		}
	}

	// Hand-checked values (fixture arithmetic above), in both formats.
	for _, format := range []string{"html", "pdf"} {
		dep, e1, e2 := texts["dep:69"][format], texts[repE1][format], texts[repE2][format]
		synth := between(t, dep, "1. Synthèse par axe", "2. Ce qui a changé")
		for _, want := range []string{
			// 3 counsellors; trajectory 14 × 21/35 = 8,4 at 2026-10, 3 < 80 % of it; 3/14 = 21,4 %; September 2 → +1.
			"Conseillers numériques en activité 3 ≥ 14 en déc. 2027 En retard 21,4 % +1 +2",
			// 18 accompagnements; a year before 10 (> 10: atteint), 18/10 = 180 %; September 3 → +15, year +8.
			"Accompagnements réalisés 18 > 10 (un an avant) Atteint 180,0 % +15 +8",
			// 18 × 1 000 / 478 313 = 0,0376 → 0,04; a year before 10 000 / 478 313 = 0,0209 → 0,02.
			"Accompagnements pour 1 000 habitants 0,04 > 0,02 (un an avant) Atteint",
			// One governance meeting in 12 months; target 4, 1/4 = 25 %.
			"Réunions des instances de coordination 1 ≥ 4 en déc. 2027 En retard 25,0 %",
			// Milestones of action 2.1: J1 done of J1, J2 → 50 %.
			"Diagnostic des besoins : jalons réalisés 50,0 % ≥ 100 % en déc. 2027",
		} {
			if !strings.Contains(synth, want) {
				t.Errorf("dep %s : %q absent de la synthèse :\n%s", format, want, synth)
			}
		}
		// E1 : 7 against 10 a year before: 70 % (< 80 %: en retard), −3 over the year; 7 000 / 67 943 = 0,10.
		if s := between(t, e1, "1. Synthèse par axe", "2. Ce qui a changé"); !strings.Contains(s, "Accompagnements réalisés 7 > 10 (un an avant) En retard 70,0 % +7 -3") ||
			!strings.Contains(s, "Accompagnements pour 1 000 habitants 0,10") {
			t.Errorf("E1 %s : %s", format, s)
		}
		// E2 : 6 against 0 a year before: a rise (atteint), no progress (reference 0); 6 000 / 32 734 = 0,18.
		if s := between(t, e2, "1. Synthèse par axe", "2. Ce qui a changé"); !strings.Contains(s, "Accompagnements réalisés 6 > 0 (un an avant) Atteint — +5 +6") ||
			!strings.Contains(s, "Accompagnements pour 1 000 habitants 0,18") {
			t.Errorf("E2 %s : %s", format, s)
		}
		cover := between(t, dep, "Revue mensuelle de la feuille de route", "Sommaire")
		if !strings.Contains(cover, "Rhône (hors Métropole de Lyon)") || !strings.Contains(cover, "octobre 2026") ||
			!strings.Contains(cover, "Activités des conseillers (Coop) 8 octobre 2026") { // newest activity date
			t.Errorf("couverture %s : %s", format, cover)
		}
		terr := between(t, dep, "4. Territoires", "5. Jalons")
		// EPCI sorted by accompagnements per 1 000: E2 (0,18) before E1 (0,10); Tarare's EPCI 5 000 / its population.
		if i, j := strings.Index(terr, "CC de la Vallée du Garon"), strings.Index(terr, "CA Villefranche Beaujolais Saône"); i < 0 || j < 0 || i > j {
			t.Errorf("comparaison des EPCI %s mal triée : %s", format, terr)
		}
		far := between(t, dep, "Communes à plus de 10 km de tout lieu d'accompagnement", "5. Jalons")
		if !strings.Contains(far, "Tarare 69243") || strings.Contains(far, "Villefranche-sur-Saône 69264") {
			t.Errorf("communes éloignées %s : %s", format, far)
		}
		jal := between(t, dep, "5. Jalons de la feuille de route", "6. Qualité des données")
		late := between(t, jal, "Jalons en retard", "Jalons attendus dans les trois mois")
		soon := jal[strings.Index(jal, "Jalons attendus dans les trois mois"):]
		if !strings.Contains(late, "J2 Diagnostic partagé En cours") || strings.Contains(late, "J1") || strings.Contains(late, "J3") {
			t.Errorf("jalons en retard %s : %s", format, late)
		}
		if !strings.Contains(soon, "J3 Annuaire des acteurs À lancer") || strings.Contains(soon, "J4") {
			t.Errorf("jalons à venir %s : %s", format, soon)
		}
		// Rejects since 1 October 2026: 2 distinct rows for one reason (the re-ingested one counts once).
		qual := between(t, dep, "6. Qualité des données", "7. Annexe")
		if !strings.Contains(qual, "Rejets depuis le 1er octobre 2026, par code de motif") || !strings.Contains(qual, "Lieux d'accompagnement champ_absent champ obligatoire « nom » vide 2") ||
			strings.Contains(qual, "motif ancien") {
			t.Errorf("rejets %s : %s", format, qual)
		}
		annex := dep[strings.LastIndex(dep, "7. Annexe"):]
		if !strings.Contains(annex, "Nombre de conseillers numériques distincts ayant enregistré au moins une activité") {
			t.Errorf("annexe %s sans la méthode du catalogue", format)
		}
	}
	// The PDF has page numbers and a table of contents that gives them.
	toc := between(t, texts["dep:69"]["pdf"], "Sommaire", "Lecture des statuts")
	if !regexp.MustCompile(`1\. Synthèse par axe 3 2\. Ce qui a changé depuis le mois dernier \d+`).MatchString(toc) {
		t.Errorf("sommaire du PDF sans numéros de page : %s", toc)
	}
	if !strings.Contains(texts["dep:69"]["pdf"], "Page 3 sur ") {
		t.Errorf("PDF sans numéros de page")
	}
}

// TestReportErrors: French messages and the exit codes of the README.
func TestReportErrors(t *testing.T) {
	db := chtest.Empty(t) // no schema: « fne migrate » not run
	conn := []string{"--addr", db.Config.Addr, "--database", db.Config.Database}
	for _, c := range []struct {
		args []string
		code int
		msg  string
	}{
		{[]string{"--format", "docx"}, ExitUsage, "format « docx » inconnu (pdf ou html)"},
		{[]string{"--all-epci"}, ExitUsage, "--all-epci demande le dossier de sortie : --out DOSSIER"},
		{[]string{"--all-epci", "--out", "d", "--territory", "dep:69"}, ExitUsage, "--all-epci et --territory sont incompatibles"},
		{[]string{"--period", "2026-13"}, ExitUsage, "période invalide"},
		{[]string{"--territory", "canton:1"}, ExitUsage, "niveau \"canton\" inconnu"},
		{[]string{"surplus"}, ExitUsage, "argument inattendu « surplus »"},
		{append([]string{"--period", "2026-10"}, conn...), ExitInvalidData, "fne migrate"},
		{[]string{"--addr", "127.0.0.1:1", "--dial-timeout", "1s"}, ExitUnreachable, "injoignable"},
	} {
		code, _, errOut := run(append([]string{"report"}, c.args...)...)
		if code != c.code || !strings.Contains(errOut, c.msg) {
			t.Errorf("%v : code %d, %q (attendu %d, %q)", c.args, code, errOut, c.code, c.msg)
		}
	}
}
