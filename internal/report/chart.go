package report

import (
	"bytes"
	"image/color"
	"math"
	"strings"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/font"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"
	"gonum.org/v1/plot/vg/vgsvg"

	"github.com/sdaasp-rhone/fne/internal/engine"
)

var (
	colValue  = color.RGBA{0x00, 0x00, 0x91, 0xff} // the État's blue
	colTarget = color.RGBA{0xc9, 0x19, 0x1e, 0xff}
	colGrid   = color.RGBA{0xdd, 0xdd, 0xdd, 0xff}
)

// chartSVG draws the 24 months of an indicator (solid line, points) and its target trajectory (dashed),
// with French month labels and numbers, as an SVG fragment to inline in the HTML.
func chartSVG(c Chart) (string, error) {
	p := plot.New()
	p.BackgroundColor = color.Transparent
	p.X.Tick.Label.Font = font.From(plot.DefaultFont, 7)
	p.Y.Tick.Label.Font = font.From(plot.DefaultFont, 7)
	p.X.Tick.Label.Font.Typeface = "Liberation"
	p.Y.Tick.Label.Font.Typeface = "Liberation"
	p.X.Tick.Label.Font.Variant = "Sans"
	p.Y.Tick.Label.Font.Variant = "Sans"
	p.X.Padding, p.Y.Padding = vg.Points(2), vg.Points(2)

	n := len(c.Points)
	var ticks []plot.Tick
	for i, pt := range c.Points {
		label := ""
		if (n-1-i)%6 == 0 {
			label = monthShort(pt.Month)
		}
		ticks = append(ticks, plot.Tick{Value: float64(i), Label: label})
	}
	p.X.Tick.Marker = plot.ConstantTicks(ticks)
	p.X.Min, p.X.Max = 0, float64(max(n-1, 1))

	lo, hi := math.Inf(1), math.Inf(-1)
	see := func(v *float64) {
		if v != nil {
			lo, hi = math.Min(lo, *v), math.Max(hi, *v)
		}
	}
	for _, pt := range c.Points {
		see(pt.Value)
		see(pt.Target)
	}
	if math.IsInf(lo, 1) {
		lo, hi = 0, 1
	}
	lo = math.Min(lo, 0) // counts and rates read from zero
	if hi <= lo {
		hi = lo + 1
	}
	hi += (hi - lo) * 0.08
	p.Y.Min, p.Y.Max = lo, hi
	p.Y.Tick.Marker = frTicks{unit: c.Unit}

	grid := plotter.NewGrid()
	grid.Vertical.Color = color.Transparent
	grid.Horizontal.Color = colGrid
	p.Add(grid)

	// Target trajectory: dashed, drawn where the engine gives a target.
	for _, seg := range segments(c.Points, func(pt engine.Point) *float64 { return pt.Target }) {
		l, err := plotter.NewLine(seg)
		if err != nil {
			return "", err
		}
		l.Color, l.Width, l.Dashes = colTarget, vg.Points(1.2), []vg.Length{vg.Points(4), vg.Points(2)}
		p.Add(l)
	}
	// Values: a month without data is a gap, not a zero.
	for _, seg := range segments(c.Points, func(pt engine.Point) *float64 { return pt.Value }) {
		l, s, err := plotter.NewLinePoints(seg)
		if err != nil {
			return "", err
		}
		l.Color, l.Width = colValue, vg.Points(1.4)
		s.Color, s.Shape, s.Radius = colValue, draw.CircleGlyph{}, vg.Points(1.3)
		p.Add(l, s)
	}

	cv := vgsvg.New(vg.Points(250), vg.Points(120))
	p.Draw(draw.New(cv))
	var buf bytes.Buffer
	if _, err := cv.WriteTo(&buf); err != nil {
		return "", err
	}
	svg := buf.String()
	if i := strings.Index(svg, "<svg"); i > 0 {
		svg = svg[i:] // no XML prolog inside HTML
	}
	// Scale with the page: the chart fills its cell whatever the print size.
	svg = strings.Replace(svg, `width="250pt" height="120pt"`, `width="100%" preserveAspectRatio="xMidYMid meet" role="img"`, 1)
	return svg, nil
}

// segments splits a series where values are missing.
func segments(pts []engine.Point, get func(engine.Point) *float64) []plotter.XYs {
	var out []plotter.XYs
	var cur plotter.XYs
	for i, pt := range pts {
		v := get(pt)
		if v == nil {
			if len(cur) > 0 {
				out = append(out, cur)
			}
			cur = nil
			continue
		}
		cur = append(cur, plotter.XY{X: float64(i), Y: *v})
	}
	if len(cur) > 0 {
		out = append(out, cur)
	}
	return out
}

// frTicks is gonum's default ticks with French numbers.
type frTicks struct{ unit string }

func (t frTicks) Ticks(min, max float64) []plot.Tick {
	ts := plot.DefaultTicks{}.Ticks(min, max)
	step := 0.0
	for i := 1; i < len(ts); i++ {
		if ts[i].Label != "" && ts[i-1].Label != "" {
			step = ts[i].Value - ts[i-1].Value
			break
		}
	}
	dec := 0
	for step > 0 && step < 1 && dec < 3 {
		step *= 10
		dec++
	}
	for i := range ts {
		if ts[i].Label != "" {
			ts[i].Label = numDec(ts[i].Value, dec)
			if t.unit == "%" {
				ts[i].Label += " %"
			}
		}
	}
	return ts
}
