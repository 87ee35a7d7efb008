package report

import (
	"fmt"
	"image/color"
	"regexp"
	"strings"
	"testing"

	"gonum.org/v1/plot/vg"

	"github.com/sdaasp-rhone/fne/internal/engine"
)

// strokes lists what an SVG draws, in order: each subpath of each path with its style, and each text.
func strokes(svg string) []string {
	var out []string
	re := regexp.MustCompile(`<path d="([^"]*)" style="([^"]*)"|<text[^>]*>([^<]*)</text>`)
	for _, m := range re.FindAllStringSubmatch(svg, -1) {
		if m[3] != "" {
			out = append(out, "text "+m[3])
			continue
		}
		for _, sub := range strings.Split(m[1], "M")[1:] { // every subpath starts with a move
			out = append(out, m[2]+" M"+sub)
		}
	}
	return out
}

// A batched chart draws exactly the subpaths, styles and texts of the unbatched one, in the same order,
// with far fewer path elements.
func TestChartBatchedDrawsTheSame(t *testing.T) {
	var pts []engine.Point
	m := engine.Month{Year: 2024, Month: 12}
	for i := 0; i < 24; i++ {
		v, tg := float64(i*3%17), float64(10+i)
		p := engine.Point{Month: m.Add(i), Value: &v, Target: &tg}
		if i == 7 || i == 8 {
			p.Value = nil // a gap: two segments
		}
		pts = append(pts, p)
	}
	c := Chart{ID: "a2.accompagnements", Label: "Accompagnements", Unit: "nombre", Points: pts}
	plain, err := drawChart(c, false)
	if err != nil {
		t.Fatal(err)
	}
	batched, err := drawChart(c, true)
	if err != nil {
		t.Fatal(err)
	}
	a, b := strokes(plain), strokes(batched)
	if strings.Join(a, "\n") != strings.Join(b, "\n") {
		t.Errorf("dessins différents : %d éléments sans regroupement, %d avec", len(a), len(b))
	}
	np, nb := strings.Count(plain, "<path"), strings.Count(batched, "<path")
	// 24 x ticks + y ticks + 22 points each a path when drawn one by one.
	if np < 50 || nb > np/4 {
		t.Errorf("%d chemins sans regroupement, %d avec : attendu au moins 50 et au plus le quart", np, nb)
	}
}

// recorder logs the operations a batcher passes on.
type recorder struct {
	vg.Canvas
	log []string
}

func (r *recorder) SetColor(c color.Color) {
	cr, _, _, _ := c.RGBA()
	r.log = append(r.log, fmt.Sprintf("couleur %d", cr>>8))
}
func (r *recorder) SetLineWidth(w vg.Length) { r.log = append(r.log, fmt.Sprintf("largeur %g", w)) }
func (r *recorder) SetLineDash(d []vg.Length, o vg.Length) {
	r.log = append(r.log, fmt.Sprintf("tirets %v", d))
}
func (r *recorder) Push()            { r.log = append(r.log, "push") }
func (r *recorder) Pop()             { r.log = append(r.log, "pop") }
func (r *recorder) Stroke(p vg.Path) { r.log = append(r.log, fmt.Sprintf("trait %d", len(p))) }
func (r *recorder) Fill(p vg.Path)   { r.log = append(r.log, fmt.Sprintf("remplissage %d", len(p))) }

func TestPathBatcher(t *testing.T) {
	seg := func() vg.Path {
		var p vg.Path
		p.Move(vg.Point{X: 0, Y: 0})
		p.Line(vg.Point{X: 1, Y: 1})
		return p
	}
	red, black := color.RGBA{R: 200, A: 255}, color.RGBA{A: 255}
	for _, c := range []struct {
		name string
		draw func(b *pathBatcher)
		want string
	}{
		{"même style répété : un seul trait", func(b *pathBatcher) {
			for i := 0; i < 3; i++ {
				b.SetColor(black)
				b.SetLineWidth(1)
				b.Stroke(seg())
			}
		}, "couleur 0|largeur 1|couleur 0|largeur 1|couleur 0|largeur 1|trait 6"},
		{"changement de couleur : le lot est tracé avant", func(b *pathBatcher) {
			b.SetColor(black)
			b.Stroke(seg())
			b.SetColor(red)
			b.Stroke(seg())
		}, "couleur 0|trait 2|couleur 200|trait 2"},
		{"trait puis remplissage : deux éléments", func(b *pathBatcher) {
			b.Stroke(seg())
			b.Fill(seg())
			b.Fill(seg())
		}, "trait 2|remplissage 4"},
		{"après Pop le style est oublié", func(b *pathBatcher) {
			b.SetColor(red)
			b.Push()
			b.Stroke(seg())
			b.Pop()
			b.Stroke(seg())
			b.SetColor(red) // the canvas may be back to another colour: B is drawn before
			b.Stroke(seg())
		}, "couleur 200|push|trait 2|pop|trait 2|couleur 200|trait 2"},
		{"tirets changés", func(b *pathBatcher) {
			b.SetLineDash(nil, 0)
			b.Stroke(seg())
			b.SetLineDash([]vg.Length{4, 2}, 0)
			b.Stroke(seg())
			b.SetLineDash([]vg.Length{4, 2}, 0)
			b.Stroke(seg())
		}, "tirets []|trait 2|tirets [4 2]|tirets [4 2]|trait 4"},
	} {
		r := &recorder{}
		b := &pathBatcher{Canvas: r, width: -1}
		c.draw(b)
		b.flush()
		if got := strings.Join(r.log, "|"); got != c.want {
			t.Errorf("%s :\n %s\nattendu\n %s", c.name, got, c.want)
		}
	}
}
