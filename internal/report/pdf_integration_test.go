//go:build integration

package report

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"testing"
	"time"

	"github.com/sdaasp-rhone/fne/internal/engine"
	"github.com/sdaasp-rhone/fne/internal/territory"
)

// The table of contents of a printed pack gives the page each section starts on, whatever the numbers
// the first print carried: none (first pack), the right ones (a pack laid out like the previous one) or
// wrong ones (fixed in the loaded page, then printed again).
func TestPDFTableOfContents(t *testing.T) {
	if _, err := exec.LookPath("pdftotext"); err != nil {
		t.Skip("pdftotext absent (make report-deps)")
	}
	ctx := context.Background()
	var pr Printer
	br, err := pr.StartBrowser(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer br.Close()
	pr.Browser = br
	now := time.Date(2026, 11, 5, 9, 0, 0, 0, time.UTC)
	short := &Pack{Territory: territory.MustParse("dep:69"), Name: "Essai", LevelName: "Département", Month: engine.Month{Year: 2026, Month: 10}, Generated: now, RejectsFrom: now}
	// Every chapter starts a page: cover 1, contents 2, then one page per empty chapter.
	want := map[string]int{"synthese": 3, "changements": 4, "graphiques": 5, "territoires": 6, "jalons": 7, "qualite": 8, "annexe": 9}
	// 150 communes far from any place make « Territoires » three or four pages longer.
	long := *short
	for i := 0; i < 150; i++ {
		long.Far = append(long.Far, engine.Gap{Territory: territory.ID{Level: territory.LevelCommune, Code: fmt.Sprintf("69%03d", i)}, Name: fmt.Sprintf("Commune %d", i), Population: 100})
	}
	dir := t.TempDir()
	for _, c := range []struct {
		name  string
		p     *Pack
		guess map[string]int
	}{
		{"sans numéros", short, nil},
		{"numéros justes", short, want},
		{"numéros faux", short, map[string]int{"synthese": 9, "changements": 9, "graphiques": 9, "territoires": 9, "jalons": 9, "qualite": 9, "annexe": 9}},
		{"rapport plus long", &long, want},
	} {
		br.setLastPages(c.guess)
		out := filepath.Join(dir, c.name+".pdf")
		if err := pr.PDF(ctx, c.p, out); err != nil {
			t.Fatal(err)
		}
		text, err := exec.Command("pdftotext", "-layout", out, "-").Output()
		if err != nil {
			t.Fatal(err)
		}
		toc := tocNumbers(t, string(text))
		real, err := sectionPages(ctx, "pdftotext", out)
		if err != nil {
			t.Fatal(err)
		}
		for _, s := range Sections {
			if toc[s.Anchor] != real[s.Anchor] {
				t.Errorf("%s : le sommaire donne la page %d pour « %s », qui commence page %d", c.name, toc[s.Anchor], s.Title, real[s.Anchor])
			}
		}
		if c.p == short {
			for a, n := range want {
				if real[a] != n {
					t.Errorf("%s : « %s » page %d, attendu %d", c.name, a, real[a], n)
				}
			}
		} else if real["jalons"] <= want["jalons"] || real["synthese"] != 3 {
			t.Errorf("%s : pages %v, attendu la section 5 après la page %d", c.name, real, want["jalons"])
		}
	}
	_ = os.Remove(dir)
}

// tocNumbers reads the page numbers of the table of contents (page 2) of a pdftotext -layout output.
func tocNumbers(t *testing.T, text string) map[string]int {
	t.Helper()
	out := map[string]int{}
	for i, s := range Sections {
		re := regexp.MustCompile(fmt.Sprintf(`%d\. %s\s+(\d+)`, i+1, regexp.QuoteMeta(s.Title)))
		m := re.FindStringSubmatch(text)
		if m == nil {
			t.Fatalf("sommaire sans « %d. %s » suivi d'un numéro de page", i+1, s.Title)
		}
		out[s.Anchor], _ = strconv.Atoi(m[1])
	}
	return out
}
