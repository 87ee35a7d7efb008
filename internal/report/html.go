package report

import (
	"bytes"
	_ "embed"
	"fmt"
	"html/template"
	"io"
	"math"
	"strings"
	"time"

	"github.com/sdaasp-rhone/fne/internal/engine"
)

//go:embed pack.html.tmpl
var packTemplate string

// Sections are the chapters of the pack, in order: their anchor and title (the table of contents and
// the page-number pass of the PDF both use them).
var Sections = []struct{ Anchor, Title string }{
	{"synthese", "Synthèse par axe"},
	{"changements", "Ce qui a changé depuis le mois dernier"},
	{"graphiques", "Évolution des indicateurs sur 24 mois"},
	{"territoires", "Territoires"},
	{"jalons", "Jalons de la feuille de route"},
	{"qualite", "Qualité des données"},
	{"annexe", "Annexe : méthode de chaque indicateur"},
}

var tmpl = template.Must(template.New("pack").Funcs(template.FuncMap{
	"num":      Num,
	"tocPage":  tocPage,
	"unit":     WithUnit,
	"pct":      Pct,
	"delta":    Delta,
	"target":   TargetText,
	"status":   StatusFr,
	"month":    MonthFr,
	"date":     dateFr,
	"datep":    func(t *time.Time) string { return optDate(t) },
	"source":   sourceName,
	"int":      func(n uint64) string { return numDec(float64(n), 0) },
	"intn":     func(n int) string { return numDec(float64(n), 0) },
	"svg":      func(s string) template.HTML { return template.HTML(s) }, // drawn by chartSVG, not user input
	"bar":      barWidth,
	"cols":     EPCICols,
	"add":      func(a, b int) int { return a + b },
	"jstatut":  milestoneStatusFr,
	"names":    gapNames,
	"dirclass": func(d string) string { return map[string]string{Better: "mieux", Worse: "moins", DataGone: "moins"}[d] },
	"arrow": func(d string) string {
		return map[string]string{Better: "▲", Worse: "▼", DataGone: "▼", DataBack: "▲"}[d]
	},
	"runst":    runStatusFr,
	"datetime": dateTimeFr,
	"last":     lastPoint,
	"late": func(d *time.Time, now time.Time) string {
		if d == nil {
			return "—"
		}
		n := int(now.UTC().Truncate(24*time.Hour).Sub(d.UTC().Truncate(24*time.Hour)).Hours() / 24)
		if n == 1 {
			return "1 jour"
		}
		return numDec(float64(n), 0) + " jours"
	},
}).Parse(packTemplate))

// htmlData is what the template sees: the pack, its section list and, for the PDF, the page on which
// each section starts (nil in the HTML form, where the table of contents is a list of links).
type htmlData struct {
	*Pack
	Sections []struct{ Anchor, Title string }
	Pages    map[string]int
	Print    bool
	MaxKey   float64
}

// HTML writes the pack as one self-contained HTML document: inline CSS and SVG, no script, no link to
// the network.
func (p *Pack) HTML(w io.Writer) error { return p.render(w, nil, false) }

// renderCheck draws the HTML once and keeps it, so that WriteFile in HTML only writes it.
func (p *Pack) renderCheck() error {
	var buf bytes.Buffer
	if err := p.HTML(&buf); err != nil {
		return err
	}
	p.html = buf.Bytes()
	return nil
}

func (p *Pack) render(w io.Writer, pages map[string]int, print bool) error {
	d := htmlData{Pack: p, Sections: Sections, Pages: pages, Print: print}
	for _, r := range p.EPCI {
		if r.Key != nil {
			d.MaxKey = math.Max(d.MaxKey, *r.Key)
		}
	}
	return tmpl.Execute(w, d)
}

// tocPage is the page number of a section in the printed table of contents ("00" until known): a
// fixed-width cell, so that filling it in never moves the layout (Printer.PDF rewrites it in place).
func tocPage(anchor string, pages map[string]int) template.HTML {
	n := "00"
	if pages != nil {
		n = fmt.Sprint(pages[anchor])
	}
	return template.HTML(fmt.Sprintf(`<span class="pg" id="pg-%s">%s</span>`, template.HTMLEscapeString(anchor), n))
}

// lastPoint is the last point of a chart, for its caption.
func lastPoint(c Chart) engine.Point {
	if len(c.Points) == 0 {
		return engine.Point{}
	}
	return c.Points[len(c.Points)-1]
}

func optDate(t *time.Time) string {
	if t == nil {
		return "—"
	}
	return dateFr(*t)
}

// barWidth is the bar length (0–100 %) of v in the EPCI comparison.
func barWidth(v *float64, maxV float64) string {
	if v == nil || maxV <= 0 {
		return "0"
	}
	return fmt.Sprintf("%.1f", math.Max(0, *v)/maxV*100)
}

func milestoneStatusFr(s string) string {
	switch s {
	case "a_lancer":
		return "À lancer"
	case "en_cours":
		return "En cours"
	case "realise":
		return "Réalisé"
	case "abandonne":
		return "Abandonné"
	}
	return s
}

// gapNames lists the territories of a gap group, by name.
func gapNames(gs []engine.Gap) string {
	names := make([]string, len(gs))
	for i, g := range gs {
		names[i] = g.Name
	}
	return strings.Join(names, ", ")
}
