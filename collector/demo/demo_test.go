package demo

import (
	"crypto/sha256"
	"encoding/csv"
	"encoding/hex"
	"encoding/json"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/xuri/excelize/v2"
	"gopkg.in/yaml.v3"

	"github.com/sdaasp-rhone/fne/internal/reference"
	"github.com/sdaasp-rhone/fne/internal/territory"
)

func embeddedRef(t testing.TB) *territory.Reference {
	t.Helper()
	p, err := reference.ParseDir("")
	if err != nil {
		t.Fatal(err)
	}
	return p.Ref
}

var testEnd = time.Date(2026, 10, 1, 0, 0, 0, 0, time.UTC)

// The full-size set of seed 1 is generated once for the tests that read it (generation under -race
// takes seconds).
var (
	fullOnce sync.Once
	fullDir  string
	fullRes  *Result
	fullErr  error
)

func fullSet(t *testing.T) (string, *Result) {
	t.Helper()
	fullOnce.Do(func() {
		if fullDir, fullErr = os.MkdirTemp("", "fne-demo-test-"); fullErr != nil {
			return
		}
		p, err := reference.ParseDir("")
		if err != nil {
			fullErr = err
			return
		}
		fullRes, fullErr = Generate(fullDir, Options{Ref: p.Ref, End: testEnd, Seed: 1})
	})
	if fullErr != nil {
		t.Fatal(fullErr)
	}
	return fullDir, fullRes
}

func TestMain(m *testing.M) {
	code := m.Run()
	if fullDir != "" {
		_ = os.RemoveAll(fullDir)
	}
	os.Exit(code)
}

func generate(t testing.TB, dir string, seed uint64, scale float64) *Result {
	t.Helper()
	res, err := Generate(dir, Options{Ref: embeddedRef(t), End: testEnd, Seed: seed, Scale: scale})
	if err != nil {
		t.Fatal(err)
	}
	return res
}

func hashes(t *testing.T, res *Result) map[string]string {
	t.Helper()
	out := map[string]string{}
	for _, f := range res.Files {
		b, err := os.ReadFile(f.Path)
		if err != nil {
			t.Fatal(err)
		}
		s := sha256.Sum256(b)
		out[filepath.Base(f.Path)] = hex.EncodeToString(s[:])
	}
	return out
}

// Same seed and end month: byte-identical files; another seed: different files.
func TestDeterminism(t *testing.T) {
	_, full := fullSet(t)
	a := hashes(t, full)
	b := hashes(t, generate(t, t.TempDir(), 1, 1))
	// Another seed, at a tenth of the volume to keep the test fast: every file differs anyway.
	c := hashes(t, generate(t, t.TempDir(), 2, 0.1))
	if len(a) < 8 {
		t.Fatalf("only %d files", len(a))
	}
	for name, h := range a {
		if b[name] != h {
			t.Errorf("%s differs between two runs with the same seed", name)
		}
		if c[name] == h && name != "jalons.yaml" {
			t.Errorf("%s identical with another seed", name)
		}
	}
	if len(a) != len(b) {
		t.Errorf("%d files vs %d", len(a), len(b))
	}
}

func readCSV(t *testing.T, path string) ([]string, [][]string) {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	recs, err := csv.NewReader(f).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	return recs[0], recs[1:]
}

func TestInvariants(t *testing.T) {
	dir, res := fullSet(t)
	ref := embeddedRef(t)
	exp := res.Expected()

	// Places: exactly Places valid rows + 2 planted; every valid place's code_insee (or its commune name)
	// is in the reference; ids unique.
	hdr, rows := readCSV(t, filepath.Join(dir, "lieux.csv"))
	if strings.Join(hdr, ",") != strings.Join(lieuxHeader, ",") {
		t.Errorf("lieux header: %v", hdr)
	}
	if len(rows) != 247 || exp["lieux"] != [2]int{245, 2} {
		t.Errorf("lieux: %d rows, expected %v; want 247 rows and [245 2]", len(rows), exp["lieux"])
	}
	names := map[string]int{}
	for _, c := range ref.Communes {
		names[territory.NameKey(c.Nom)]++
	}
	ids := map[string]bool{}
	byName := 0
	perEPCI := map[string]int{}
	for _, r := range rows[:245] {
		if ids[r[0]] {
			t.Errorf("duplicate place id %s", r[0])
		}
		ids[r[0]] = true
		code := r[5]
		if code == "" {
			byName++
			if names[territory.NameKey(r[3])] != 1 {
				t.Errorf("place %s without code_insee: commune %q does not match exactly one commune", r[0], r[3])
			}
			continue
		}
		c, ok := ref.Commune(code)
		if !ok {
			t.Errorf("place %s: code_insee %s not in the reference", r[0], code)
		}
		perEPCI[c.EPCI]++
	}
	if byName == 0 {
		t.Error("no place to be located by commune name")
	}
	// Uneven spread: per 10 000 inhabitants the densest EPCI has at least 3× the sparsest.
	lo, hi := 1e9, 0.0
	for _, e := range ref.EPCIs {
		tr, _ := ref.Resolve(territory.ID{Level: territory.LevelEPCI, Code: e.Siren})
		d := float64(perEPCI[e.Siren]) * 1e4 / float64(tr.Population)
		lo, hi = min(lo, d), max(hi, d)
	}
	if hi < 3*lo {
		t.Errorf("places per 10 000 inhabitants from %.2f to %.2f: not uneven enough", lo, hi)
	}

	// Activities: 24 distinct months ending at the end month, ids unique, the planted rows present.
	months := map[string]int{}
	acc := map[string]int{}
	counsellors := map[string]map[string]bool{}
	actIDs := map[string]bool{}
	var valid, invalid, deleted, modified int
	for _, f := range res.Files {
		if f.Source != "activites" {
			continue
		}
		var page struct {
			Data []struct {
				ID         string `json:"id"`
				Attributes struct {
					Type            string  `json:"type"`
					MediateurID     string  `json:"mediateur_id"`
					Date            string  `json:"date"`
					Creation        string  `json:"creation"`
					Modification    string  `json:"modification"`
					Accompagnements int     `json:"accompagnements"`
					Suppression     *string `json:"suppression"`
				} `json:"attributes"`
			} `json:"data"`
			Links map[string]href `json:"links"`
		}
		b, _ := os.ReadFile(f.Path)
		if err := json.Unmarshal(b, &page); err != nil {
			t.Fatal(err)
		}
		if len(page.Data) > ActivityPage {
			t.Errorf("%s: %d items", f.Path, len(page.Data))
		}
		lastPage := f.Path == res.Files[len(filesOf(res, "activites"))+len(filesOf(res, "structures"))-1].Path
		if _, ok := page.Links["next"]; ok == lastPage {
			t.Errorf("%s: links.next present=%v on last page=%v", filepath.Base(f.Path), ok, lastPage)
		}
		for _, d := range page.Data {
			if actIDs[d.ID] {
				t.Errorf("duplicate activity id %s", d.ID)
			}
			actIDs[d.ID] = true
			a := d.Attributes
			if _, err := time.Parse("2006-01-02", a.Date); err != nil || a.Type == "atelier_libre" {
				invalid++
				continue
			}
			valid++
			if a.Suppression != nil {
				deleted++
				continue
			}
			if a.Modification != a.Creation {
				modified++
			}
			m := a.Date[:7]
			months[m]++
			acc[m] += a.Accompagnements
			if counsellors[m] == nil {
				counsellors[m] = map[string]bool{}
			}
			counsellors[m][a.MediateurID] = true
		}
	}
	if valid != exp["activites"][0] || invalid != 2 || exp["activites"][1] != 2 {
		t.Errorf("activities: %d valid, %d invalid; expected %v", valid, invalid, exp["activites"])
	}
	keys := sortedKeys(months)
	if len(keys) != 24 || keys[0] != "2024-11" || keys[23] != "2026-10" {
		t.Errorf("activity months: %d from %v", len(keys), keys)
	}
	if deleted == 0 || modified == 0 {
		t.Errorf("%d deleted, %d modified activities: want some of each", deleted, modified)
	}
	// Counsellors per month, by the generator's rules, for months 0 (2024-11) to 23 (2026-10): 14 posts;
	// one post is vacant until month 4 (13 in months 0–3); one counsellor leaves after month 17 and is
	// replaced from month 20 (13 in months 18–19); in August counsellor number year % 15 takes the month
	// off: in 2025 (month 9) number 0, who is active (13); in 2026 (month 21) number 1, the one who left
	// (14). Never more than the 14 posts.
	wantCounsellors := []int{13, 13, 13, 13, 14, 14, 14, 14, 14, 13, 14, 14, 14, 14, 14, 14, 14, 14, 13, 13, 14, 14, 14, 14}
	for i, m := range keys {
		if m[5:] != "08" && (acc[m] < 1300 || acc[m] > 2800) {
			t.Errorf("%s: %d accompaniments, outside 1300–2800", m, acc[m])
		}
		if n := len(counsellors[m]); i < len(wantCounsellors) && n != wantCounsellors[i] {
			t.Errorf("%s (month %d): %d counsellors, want %d", m, i, n, wantCounsellors[i])
		}
	}
	if n := len(counsellors["2026-10"]); n != 14 {
		t.Errorf("counsellors active in the end month: %d, want 14", n)
	}

	// Consultations start ten months before the end.
	_, crow := readCSV(t, filepath.Join(dir, "consultations.csv"))
	if crow[0][0] != "2026-01-01" || len(crow)-2 != exp["consultations"][0] {
		t.Errorf("consultations: first %s, %d rows, expected %v", crow[0][0], len(crow), exp["consultations"])
	}

	// Meetings: one departmental meeting per calendar year, ids unique, participations in one workbook.
	f, err := excelize.OpenFile(filepath.Join(dir, "rencontres.xlsx"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if got := f.GetSheetList(); strings.Join(got, ",") != "rencontres,participations" {
		t.Errorf("sheets %v", got)
	}
	rr, _ := f.GetRows("rencontres")
	pr, _ := f.GetRows("participations")
	if len(rr)-2 != exp["rencontres"][0] || len(pr)-2 != exp["participations"][0] {
		t.Errorf("%d meetings / %d participations rows, expected %v %v", len(rr)-1, len(pr)-1, exp["rencontres"], exp["participations"])
	}
	depYears := map[string]int{}
	mids := map[string]bool{}
	local := map[string]map[string]bool{}
	for _, r := range rr[1:] {
		if mids[r[0]] {
			t.Errorf("duplicate meeting id %s", r[0])
		}
		mids[r[0]] = true
		if r[2] == "rencontre_departementale" {
			depYears[r[1][:4]]++
		}
		if (r[2] == "echange_pratiques" || r[2] == "atelier_thematique") && r[1][:4] == "2026" {
			if local["2026"] == nil {
				local["2026"] = map[string]bool{}
			}
			local["2026"][r[4]] = true
		}
	}
	if depYears["2024"] != 1 || depYears["2025"] != 1 || depYears["2026"] != 1 {
		t.Errorf("departmental meetings per year: %v", depYears)
	}

	// Equipment: hotspots in some communes, not all.
	_, erows := readCSV(t, filepath.Join(dir, "equipements.csv"))
	hot := map[string]bool{}
	for _, r := range erows {
		if r[2] == "hotspots_wifi_actifs" {
			hot[r[1]] = true
		}
	}
	if len(hot) < 30 || len(hot) > 150 {
		t.Errorf("%d communes with hotspots, want a share between 30 and 150 of 208", len(hot))
	}
	if len(erows)-2 != exp["equipements"][0] {
		t.Errorf("%d equipment rows, expected %v", len(erows), exp["equipements"])
	}

	// Milestones: valid YAML, action 2.1 = 2 realised of 5.
	var js []map[string]any
	b, _ := os.ReadFile(filepath.Join(dir, "jalons.yaml"))
	if err := yaml.Unmarshal(b, &js); err != nil {
		t.Fatal(err)
	}
	var a21, a21done int
	for _, j := range js {
		if j["action"] == "2.1" {
			a21++
			if j["statut"] == "realise" {
				a21done++
			}
		}
	}
	if len(js) != 17 || a21 != 5 || a21done != 2 {
		t.Errorf("milestones: %d, action 2.1: %d done of %d", len(js), a21done, a21)
	}
	t.Logf("expected rows per source: %v", exp)
	t.Logf("activities per month: %v", months)
	t.Logf("accompaniments per month: %v", acc)
}

func filesOf(res *Result, source string) []File {
	var out []File
	for _, f := range res.Files {
		if f.Source == source {
			out = append(out, f)
		}
	}
	sort.SliceStable(out, func(i, j int) bool { return out[i].Path < out[j].Path })
	return out
}

// TestWithinMonth: a closed day moves to the previous open day of the same month, or to the next one
// when the month starts with closed days. 2024-12-01 is a Sunday (the first month of a period ending
// 2026-11): Monday 2024-12-02, not Saturday 2024-11-30. 2025-06-01 is a Sunday, 2025-05-31 a Saturday.
func TestWithinMonth(t *testing.T) {
	day := func(s string) time.Time { d, _ := time.Parse("2006-01-02", s); return d }
	tests := []struct {
		in     string
		closed []time.Weekday
		want   string
	}{
		{"2024-12-01", []time.Weekday{time.Sunday}, "2024-12-02"},
		{"2024-12-08", []time.Weekday{time.Sunday}, "2024-12-07"},
		{"2025-06-01", []time.Weekday{time.Saturday, time.Sunday}, "2025-06-02"},
		{"2025-06-08", []time.Weekday{time.Saturday, time.Sunday}, "2025-06-06"},
		{"2026-11-30", []time.Weekday{time.Sunday}, "2026-11-30"}, // a Monday stays
	}
	for _, tt := range tests {
		if got := withinMonth(day(tt.in), tt.closed...).Format("2006-01-02"); got != tt.want {
			t.Errorf("withinMonth(%s) = %s, want %s", tt.in, got, tt.want)
		}
	}
}

// Nothing is dated outside the announced period. Ending 2026-11, the period starts on Sunday
// 2024-12-01: activities, meetings, consultations and equipment months all fall in 2024-12-01..2026-11-30
// (the planted impossible dates aside).
func TestNothingOutsideWindow(t *testing.T) {
	dir := t.TempDir()
	res, err := Generate(dir, Options{Ref: embeddedRef(t), End: time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC), Seed: 1, Scale: 0.2})
	if err != nil {
		t.Fatal(err)
	}
	lo, hi := "2024-12-01", "2026-11-30"
	check := func(what, d string) {
		if _, err := time.Parse("2006-01-02", d); err != nil {
			return // planted invalid row
		}
		if d < lo || d > hi {
			t.Errorf("%s dated %s, outside %s..%s", what, d, lo, hi)
		}
	}
	first := ""
	for _, f := range filesOf(res, "activites") {
		var page struct {
			Data []struct {
				Attributes struct {
					Date string `json:"date"`
				} `json:"attributes"`
			} `json:"data"`
		}
		b, _ := os.ReadFile(f.Path)
		if err := json.Unmarshal(b, &page); err != nil {
			t.Fatal(err)
		}
		for _, d := range page.Data {
			check("activity", d.Attributes.Date)
			if _, err := time.Parse("2006-01-02", d.Attributes.Date); err == nil && (first == "" || d.Attributes.Date < first) {
				first = d.Attributes.Date
			}
		}
	}
	// Sunday 2024-12-01 is moved to Monday 2024-12-02: the first activity day.
	if first != "2024-12-02" {
		t.Errorf("first activity %s, want 2024-12-02", first)
	}
	_, crow := readCSV(t, filepath.Join(dir, "consultations.csv"))
	for _, r := range crow {
		check("consultation", r[0])
	}
	_, erow := readCSV(t, filepath.Join(dir, "equipements.csv"))
	for _, r := range erow {
		check("equipment", r[0]+"-01")
	}
	f, err := excelize.OpenFile(filepath.Join(dir, "rencontres.xlsx"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	rr, _ := f.GetRows("rencontres")
	for _, r := range rr[1:] {
		check("meeting "+r[0], r[1])
	}
}

// Household flows are reported up to the last month by every EPCI (so « Foyers équipés ou connectés »
// has a value at the default month), and from fifteen months before the end, so that the year-before
// figure of the last months exists.
func TestEquipmentFlowsToLastMonth(t *testing.T) {
	dir, _ := fullSet(t)
	ref := embeddedRef(t)
	_, rows := readCSV(t, filepath.Join(dir, "equipements.csv"))
	last := map[string]bool{}
	var months []string
	seen := map[string]bool{}
	for _, r := range rows {
		if r[2] == "foyers_equipes" || r[2] == "foyers_connectes" {
			if r[0] == "2026-10" {
				last[r[1]+"/"+r[2]] = true
			}
			if !seen[r[0]] {
				seen[r[0]] = true
				months = append(months, r[0])
			}
		}
	}
	sort.Strings(months)
	// 12 EPCI × 2 flows in the last month.
	if len(last) != 2*len(ref.EPCIs) || len(ref.EPCIs) != 12 {
		t.Errorf("%d EPCI flows in 2026-10, want 24", len(last))
	}
	// Month 9 (2025-08) is the first reporting month (24 − 15), and 2025-10, a year before the end, is reported.
	if len(months) == 0 || months[0] != "2025-08" || months[len(months)-1] != "2026-10" || !seen["2025-10"] {
		t.Errorf("flow months %v, want 2025-08..2026-10 with 2025-10", months)
	}
}

// Paris is one commune in one EPCI: the generator still writes every file (no index past the only
// commune), with 34 posts and 596 places for 2,103,778 inhabitants ((2103778 / 478313)^0.6 = 2.432:
// 14 × 2.432 = 34.0, 245 × 2.432 = 595.9), and a reconditioning chain even if none is drawn.
func TestParisOneCommune(t *testing.T) {
	nat, err := reference.LoadNational()
	if err != nil {
		t.Fatal(err)
	}
	p, err := nat.Scope("75")
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	res, err := Generate(dir, Options{Ref: p.Ref, End: testEnd, Seed: 1, Scale: 0.05})
	if err != nil {
		t.Fatal(err)
	}
	if res.Posts != 34 || res.Places != 596 {
		t.Errorf("Paris: %d posts, %d places; want 34 and 596", res.Posts, res.Places)
	}
	_, rows := readCSV(t, filepath.Join(dir, "equipements.csv"))
	kinds := map[string]bool{}
	for _, r := range rows {
		kinds[r[2]] = true
	}
	if !kinds["structures_reconditionnement_actives"] || !kinds["pc_reconditionnes_distribues"] || !kinds["foyers_equipes"] {
		t.Errorf("equipment indicators written for Paris: %v", kinds)
	}
}
