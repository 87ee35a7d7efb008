// Package demo generates the demo data set of `fne demo`: 24 months of plausible activity for the
// territory reference in force, written in the input formats of docs/regles.md « Sources » (Coop JSON pages, CSV,
// XLSX, YAML), then ingested through the real collectors.
//
// The data set is deterministic: one seed and one end month give byte-identical files (a PCG generator
// per file, no map iteration, fixed workbook metadata). It is shaped so that the indicators tell a
// story: coverage is sparse in the north and west of the territory and dense near its centre-south,
// some indicators are on track, some late, series start at different months (the map statistics ten
// months before the end, equipment fifteen), every indicator has a value at the last month (the
// default period of the dashboards), nothing is dated outside the period, and a handful of
// deliberately invalid rows feed the data-quality views. Nothing names a département: everything
// derives from the reference.
package demo

import (
	"fmt"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"time"

	"github.com/sdaasp-rhone/fne/internal/territory"
)

// Defaults of `fne demo`, for a territory of SizePopulation inhabitants; another territory gets
// counsellors and places scaled by (population / SizePopulation)^0.6 (see Size): services grow slower
// than population, so a rural département is not left with two counsellors nor a metropolis with 300.
const (
	Months         = 24     // length of the demo period
	Counsellors    = 14     // counsellors in activity at the end of the period (one more id: a replacement)
	Places         = 245    // valid places of the lieux file
	ActivityPage   = 500    // page[size] of the Coop activity pages
	SizePopulation = 478313 // the population the defaults were tuned on (the Rhône outside Lyon)
)

// Size returns the counsellor posts and the valid places of the demo for a territory of pop
// inhabitants: Counsellors and Places at SizePopulation, scaled by (pop / SizePopulation)^0.6, at least
// 4 posts (the arrival and the replacement of the story need them) and 20 places.
func Size(pop uint64) (posts, places int) {
	f := math.Pow(float64(pop)/SizePopulation, 0.6)
	return max(4, int(math.Round(Counsellors*f))), max(20, int(math.Round(Places*f)))
}

// Options of Generate.
type Options struct {
	Ref  *territory.Reference
	End  time.Time // any day of the last month of the period
	Seed uint64
	// Scale multiplies the volume of activities and consultations (1 when zero): tests that go through
	// ClickHouse use a fraction to stay fast. Places, meetings and equipment are not scaled.
	Scale float64
}

// territorySize is Size for the whole reference.
func territorySize(ref *territory.Reference) (posts, places int) {
	var pop uint64
	for _, c := range ref.Communes {
		pop += uint64(c.Population)
	}
	return Size(pop)
}

// File is one generated file and what the collectors should make of it.
type File struct {
	Source  string // collector name
	Path    string // absolute path
	Valid   int    // rows a correct collector writes
	Invalid int    // rows planted to be rejected
}

// Result lists the generated files, in ingestion order.
type Result struct {
	Dir           string
	First, Last   time.Time // first days of the first and last months
	Files         []File
	Posts, Places int // counsellor posts and valid places, scaled to the territory (Size)
}

// Expected sums the valid and invalid rows per source.
func (r *Result) Expected() map[string][2]int {
	out := map[string][2]int{}
	for _, f := range r.Files {
		e := out[f.Source]
		e[0] += f.Valid
		e[1] += f.Invalid
		out[f.Source] = e
	}
	return out
}

// gen carries the shared model of the territory while the files are written.
type gen struct {
	dir    string
	ref    *territory.Reference
	seed   uint64
	scale  float64
	first  time.Time // first day of the first month
	months []time.Time
	endTS  time.Time // last second of the period
	// factor is the density of services per commune index: lower in the north and west of the territory.
	factor []float64
	epcis  []epciModel
	places []place
	// posts and nPlaces: counsellor posts and valid places, scaled to the territory (Size).
	posts, nPlaces int
	files          []File
	// weights caches the commune weights of pickCommune (read only by key: no iteration order leaks).
	weights map[weightKey][]float64
}

type epciModel struct {
	info     territory.EPCIInfo
	communes []int // indices in ref.Communes
	pop      float64
	factor   float64 // population-weighted mean density factor
}

// Generate writes the demo data set into dir (created if needed) and returns what it wrote.
func Generate(dir string, o Options) (*Result, error) {
	if o.Ref == nil || len(o.Ref.Communes) == 0 || len(o.Ref.EPCIs) == 0 {
		return nil, fmt.Errorf("référentiel territorial vide : impossible de générer les données de démonstration")
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, fmt.Errorf("création du dossier %s : %w", dir, err)
	}
	abs, err := filepath.Abs(dir)
	if err != nil {
		return nil, err
	}
	end := time.Date(o.End.Year(), o.End.Month(), 1, 0, 0, 0, 0, time.UTC)
	g := &gen{dir: abs, ref: o.Ref, seed: o.Seed, first: end.AddDate(0, -(Months - 1), 0), scale: o.Scale, weights: map[weightKey][]float64{}}
	if g.scale <= 0 {
		g.scale = 1
	}
	for i := 0; i < Months; i++ {
		g.months = append(g.months, g.first.AddDate(0, i, 0))
	}
	g.endTS = end.AddDate(0, 1, 0).Add(-time.Second)
	g.posts, g.nPlaces = territorySize(o.Ref)
	g.geography()
	steps := []func() error{g.coop, g.lieux, g.consultations, g.meetings, g.equipment, g.jalons}
	for _, step := range steps {
		if err := step(); err != nil {
			return nil, err
		}
	}
	return &Result{Dir: abs, First: g.first, Last: end, Files: g.files, Posts: g.posts, Places: g.nPlaces}, nil
}

// rng returns the generator of one part of the data set: each part has its own stream, so that a
// change in one generator does not reshuffle the others.
func (g *gen) rng(part uint64) *rand.Rand {
	return rand.New(rand.NewPCG(g.seed, 0x9e3779b97f4a7c15^part))
}

func (g *gen) add(source, name string, valid, invalid int) string {
	p := filepath.Join(g.dir, name)
	g.files = append(g.files, File{Source: source, Path: p, Valid: valid, Invalid: invalid})
	return p
}

// geography computes the density factor of every commune from its position in the territory's
// bounding box: 1.25 near the south-east corner, down to 0.12 in the north-west.
func (g *gen) geography() {
	cs := g.ref.Communes
	latMin, latMax, lonMin, lonMax := math.Inf(1), math.Inf(-1), math.Inf(1), math.Inf(-1)
	for _, c := range cs {
		if c.NoCentroid {
			continue
		}
		latMin, latMax = math.Min(latMin, c.Latitude), math.Max(latMax, c.Latitude)
		lonMin, lonMax = math.Min(lonMin, c.Longitude), math.Max(lonMax, c.Longitude)
	}
	g.factor = make([]float64, len(cs))
	for i, c := range cs {
		north, west := 0.5, 0.5
		switch {
		case c.NoCentroid:
			// Without a centroid the position is a deterministic spread over the commune list (golden
			// ratio steps), so that density still varies from commune to commune.
			north = math.Mod(float64(i)*0.6180339887, 1)
			west = math.Mod(float64(i)*0.7548776662, 1)
		default:
			if latMax > latMin {
				north = (c.Latitude - latMin) / (latMax - latMin)
			}
			if lonMax > lonMin {
				west = (lonMax - c.Longitude) / (lonMax - lonMin)
			}
		}
		g.factor[i] = math.Max(0.12, 1.25-0.9*north-0.45*west)
	}
	idx := map[string]int{}
	for i, c := range cs {
		idx[c.Code] = i
	}
	for _, e := range g.ref.EPCIs {
		m := epciModel{info: e}
		var wf float64
		for _, code := range e.Communes {
			i := idx[code]
			m.communes = append(m.communes, i)
			p := float64(cs[i].Population)
			m.pop += p
			wf += p * g.factor[i]
		}
		if m.pop > 0 {
			m.factor = wf / m.pop
		}
		g.epcis = append(g.epcis, m)
	}
}

// weighted picks an index with probability proportional to w.
func weighted(r *rand.Rand, w []float64) int {
	var total float64
	for _, x := range w {
		total += x
	}
	x := r.Float64() * total
	for i, v := range w {
		if x < v {
			return i
		}
		x -= v
	}
	return len(w) - 1
}

// poisson draws a Poisson variable of mean m.
func poisson(r *rand.Rand, m float64) int {
	if m <= 0 {
		return 0
	}
	if m > 40 {
		v := int(math.Round(m + math.Sqrt(m)*r.NormFloat64()))
		return max(v, 0)
	}
	l, k, p := math.Exp(-m), 0, 1.0
	for {
		p *= r.Float64()
		if p <= l {
			return k
		}
		k++
	}
}

// uuid is a random version-4 UUID drawn from r.
func uuid(r *rand.Rand) string {
	a, b := r.Uint64(), r.Uint64()
	return fmt.Sprintf("%08x-%04x-4%03x-%04x-%012x", uint32(a>>32), uint16(a>>16), uint16(a)&0xfff,
		uint16(b>>48)&0x3fff|0x8000, b&0xffffffffffff)
}

// digits is n random decimal digits.
func digits(r *rand.Rand, n int) string {
	var b strings.Builder
	for i := 0; i < n; i++ {
		b.WriteByte(byte('0' + r.IntN(10)))
	}
	return b.String()
}

// postcode is a plausible, fictitious postcode for a commune: the reference has no postcodes.
func postcode(code string) string {
	if len(code) != 5 {
		return "00000"
	}
	return code[:4] + "0"
}

// outsideCode is a commune code that is not in the reference: activities there land in the
// "hors périmètre / non localisée" bucket.
func (g *gen) outsideCode() string {
	d := strings.TrimSuffix(g.ref.Departement, "M") // 69M, the Métropole de Lyon: a 69xxx code
	if len(d) >= 5 {
		return "99999"
	}
	return d + strings.Repeat("9", 5-len(d))
}

// jitter moves a centroid by up to about 800 m, so that places of one commune do not overlap.
func jitter(r *rand.Rand, v float64) float64 {
	return math.Round((v+(r.Float64()-0.5)*0.016)*1e5) / 1e5
}

// position is a place's coordinates near the commune's centroid, nil when the commune has none (the
// national reference): a place is then written without coordinates, never at 0,0. The random draws
// are the same either way, so the rest of the data set does not change.
func position(r *rand.Rand, c territory.Commune) (lat, lon *float64) {
	la, lo := jitter(r, c.Latitude), jitter(r, c.Longitude)
	if c.NoCentroid {
		return nil, nil
	}
	return &la, &lo
}

// withinMonth moves d off the days closed (earlier first, later when the month starts there), never
// out of its month: a record dated in the month before the period would make the first month partial.
func withinMonth(d time.Time, closed ...time.Weekday) time.Time {
	isClosed := func(t time.Time) bool {
		for _, w := range closed {
			if t.Weekday() == w {
				return true
			}
		}
		return false
	}
	for back := d; back.Month() == d.Month(); back = back.AddDate(0, 0, -1) {
		if !isClosed(back) {
			return back
		}
	}
	for fwd := d; fwd.Month() == d.Month(); fwd = fwd.AddDate(0, 0, 1) {
		if !isClosed(fwd) {
			return fwd
		}
	}
	return d
}

func monthKey(t time.Time) string { return t.Format("2006-01") }

// sortedKeys returns the keys of m in order (never range over a map when writing output).
func sortedKeys[V any](m map[string]V) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}
