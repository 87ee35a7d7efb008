// Package report builds the monthly review pack of a territory: the French printable document the
// technical committee (COTECH) and the steering committee (COPIL) bring to their meetings. Every figure
// comes from the indicator engine (internal/engine), through the same calls as `fne indicators` and the
// Grafana plugin, so the pack, the command and the dashboards give the same numbers; this package holds
// no indicator SQL. It renders one self-contained HTML file (inline CSS, charts as inline SVG drawn in
// Go) and prints it to an A4 PDF with headless Chromium.
package report

import (
	"context"
	"errors"
	"fmt"
	"os"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/sdaasp-rhone/fne/collector/ingest"
	"github.com/sdaasp-rhone/fne/internal/catalogue"
	"github.com/sdaasp-rhone/fne/internal/engine"
	"github.com/sdaasp-rhone/fne/internal/territory"
)

// SourceReport is the source name under which report runs are recorded in ingestion_runs.
const SourceReport = "rapport"

// ChartMonths is how many months each indicator chart shows.
const ChartMonths = 24

// Pack is everything one review pack shows, in the order of the document.
type Pack struct {
	Territory territory.ID
	Name      string
	LevelName string // « Département », « EPCI », « Commune »
	Month     engine.Month
	Generated time.Time

	Sources []engine.Freshness // cover (newest data) and data quality
	Totals  []StatusCount      // every indicator of the pack, by status (cover)
	Axes    []Axis
	Changes []Change
	Charts  []Chart
	EPCI    []EPCIRow // comparison of every EPCI of the département, sorted
	EPCIKey string    // label of the indicator the comparison is sorted by
	Gaps    []GapGroup
	Far     []engine.Gap // communes farther than the distance rule from every place, most populated first
	Late    []engine.Milestone
	Due     []engine.Milestone // due within three months of Generated
	Rejects []RejectGroup
	// RejectsFrom..Generated is the window of Rejects.
	RejectsFrom time.Time
	Annex       []AnnexRow

	html []byte       // drawn ahead by WriteAll (HTML format)
	gaps []engine.Gap // read with the other territory-specific figures, sorted out by buildTerritories
}

// Axis is one axis of the synthesis: status counts, then its indicators.
type Axis struct {
	Number int
	Title  string
	Counts []StatusCount
	Lines  []Line
}

// StatusCount is how many indicators of an axis have a status.
type StatusCount struct {
	Status string
	N      int
}

// Line is one indicator of the synthesis: the engine's result for the month, with the changes since
// the month before (Result.Trend) and since a year earlier.
type Line struct {
	engine.Result
	YearAgo    *float64 // value twelve months earlier
	DeltaYear  *float64 // value minus YearAgo
	PrevStatus string   // status the month before
}

// Change is an indicator whose status changed since the month before.
type Change struct {
	Line
	Direction string // Better, Worse, DataGone, DataBack or Other
}

// Directions of a status change.
const (
	Better   = "amélioration"
	Worse    = "dégradation"
	DataGone = "plus de données ce mois"
	DataBack = "données de retour"
	Other    = "changement de référence"
)

func direction(prev, cur string) string {
	p, okp := statusOrder[prev]
	c, okc := statusOrder[cur]
	switch {
	case okp && okc && c > p:
		return Better
	case okp && okc:
		return Worse
	case cur == engine.StatusSansDonnees:
		return DataGone
	case prev == engine.StatusSansDonnees:
		return DataBack
	}
	return Other
}

// Chart is one indicator over ChartMonths months with its target trajectory, as inline SVG.
type Chart struct {
	ID, Label, Unit string
	Points          []engine.Point
	SVG             string
}

// EPCIRow is one EPCI of the comparison table.
type EPCIRow struct {
	ID         territory.ID
	Name       string
	Population uint64
	Key        *float64 // the sorting indicator (bars)
	KeyStatus  string
	Others     []*float64 // values of EPCICols, same order
	Current    bool       // the pack's own territory
}

// EPCICol is one extra column of the EPCI comparison.
type EPCICol struct{ ID, Label, Unit string }

// epciKey sorts the comparison; epciCols are shown beside it (all evaluated by engine.Breakdown).
const epciKey = "a2.accompagnements_1000_hab"

var epciCols = []EPCICol{
	{"a1.conseillers_actifs", "Conseillers actifs", "nombre"},
	{"ctx.lieux_10000_hab", "Lieux pour 10 000 hab.", "pour 10 000 hab."},
	{"a2.communes_hotspot", "Communes avec wifi", "%"},
	{"a2.population_zone_blanche", "Population éloignée", "%"},
}

// EPCICols are the extra columns of the EPCI comparison.
func EPCICols() []EPCICol { return epciCols }

// GapGroup is the territories failing one coverage target.
type GapGroup struct {
	Indicator, Label string
	Territories      []engine.Gap
}

// AnnexRow is one indicator's method and the origin of its target.
type AnnexRow struct {
	ID, Axis, Action, Label, Definition, Source, Window, Origin string
	Target                                                      string // the catalogue (or deployment) target
	HasTarget                                                   bool
}

var windowFr = map[string]string{
	catalogue.WindowMois:      "le mois",
	catalogue.WindowAnnee:     "depuis le 1er janvier",
	catalogue.Window12Mois:    "12 mois glissants",
	catalogue.WindowTrimestre: "le trimestre (mois et deux précédents)",
	catalogue.WindowCourant:   "état à la fin du mois",
}

// Build gathers the pack of territory t for month m; now is the generation time (milestones due, data
// freshness, rejects window).
func Build(ctx context.Context, eng *engine.Engine, t territory.ID, m engine.Month, now time.Time) (*Pack, error) {
	return NewBuilder(eng, now).Build(ctx, t, m)
}

// Builder builds several packs at one generation time (`--all-epci`, a `reports:` run) and reads once
// what is the same in all of them: the EPCI comparison, the milestones, the data quality.
type Builder struct {
	eng *engine.Engine
	now time.Time

	mu   sync.Mutex
	memo map[string]any
}

// NewBuilder returns a Builder over eng; now is the generation time of its packs.
func NewBuilder(eng *engine.Engine, now time.Time) *Builder {
	return &Builder{eng: eng, now: now, memo: map[string]any{}}
}

// once returns the value of key, computing it with f on first use.
func once[T any](b *Builder, key string, f func() (T, error)) (T, error) {
	b.mu.Lock()
	v, ok := b.memo[key]
	b.mu.Unlock()
	if ok {
		return v.(T), nil
	}
	r, err := f()
	if err != nil {
		return r, err
	}
	b.mu.Lock()
	b.memo[key] = r
	b.mu.Unlock()
	return r, nil
}

func overviewKey(t territory.ID, m engine.Month) string {
	return "aperçu " + t.String() + " " + m.String()
}

// Prepare reads at once the indicators, series and gaps of every territory of ts for month m (each input
// is read once for all the packs of a run, not once per pack); Build then finds them.
func (b *Builder) Prepare(ctx context.Context, ts []territory.ID, m engine.Month) error {
	var todo []territory.ID
	b.mu.Lock()
	for _, t := range ts {
		if _, ok := b.memo[overviewKey(t, m)]; !ok {
			todo = append(todo, t)
		}
	}
	b.mu.Unlock()
	if len(todo) == 0 {
		return nil
	}
	var (
		all        map[territory.ID]engine.Overview
		gaps       map[territory.ID][]engine.Gap
		errO, errG error
		wg         sync.WaitGroup
	)
	wg.Add(2)
	go func() { defer wg.Done(); all, errO = b.eng.Overviews(ctx, todo, m.Add(-(ChartMonths - 1)), m) }()
	go func() { defer wg.Done(); gaps, errG = b.eng.GapsMany(ctx, todo, m) }()
	wg.Wait()
	if err := errors.Join(errO, errG); err != nil {
		return err
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	for t, o := range all {
		b.memo[overviewKey(t, m)] = o
		b.memo[gapsKey(t, m)] = gaps[t]
	}
	return nil
}

func gapsKey(t territory.ID, m engine.Month) string {
	return "manques " + t.String() + " " + m.String()
}

// gapsOf is the gaps of t at m: prepared, or read for t alone.
func (b *Builder) gapsOf(ctx context.Context, t territory.ID, m engine.Month) ([]engine.Gap, error) {
	return once(b, gapsKey(t, m), func() ([]engine.Gap, error) { return b.eng.Gaps(ctx, t, m) })
}

// overview is the indicators of t at m and their series: prepared, or read for t alone.
func (b *Builder) overview(ctx context.Context, t territory.ID, m engine.Month) (engine.Overview, error) {
	return once(b, overviewKey(t, m), func() (engine.Overview, error) {
		all, err := b.eng.Overviews(ctx, []territory.ID{t}, m.Add(-(ChartMonths - 1)), m)
		return all[t], err
	})
}

// Build gathers the pack of territory t for month m.
func (b *Builder) Build(ctx context.Context, t territory.ID, m engine.Month) (*Pack, error) {
	eng, now := b.eng, b.now
	ref, err := eng.Reference(ctx)
	if err != nil {
		return nil, err
	}
	tr, err := ref.Resolve(t)
	if err != nil {
		return nil, err
	}
	p := &Pack{Territory: t, Name: tr.Name, Month: m, Generated: now}
	switch t.Level {
	case territory.LevelDep:
		p.LevelName = "Département"
	case territory.LevelEPCI:
		p.LevelName = "Intercommunalité (EPCI)"
	default:
		p.LevelName = "Commune"
	}

	// The two territory-specific reads are independent: ClickHouse answers them side by side.
	var (
		ov         engine.Overview
		errO, errG error
		wg         sync.WaitGroup
	)
	wg.Add(2)
	go func() { defer wg.Done(); ov, errO = b.overview(ctx, t, m) }()
	go func() { defer wg.Done(); p.gaps, errG = b.gapsOf(ctx, t, m) }()
	wg.Wait()
	if err := errors.Join(errO, errG); err != nil {
		return nil, err
	}
	p.buildSynthesis(ov.Results, ov.Series)
	for _, r := range ov.Results {
		c := Chart{ID: r.ID, Label: r.Label, Unit: r.Unit, Points: ov.Series[r.ID]}
		if c.SVG, err = chartSVG(c); err != nil {
			return nil, fmt.Errorf("graphique de %s : %w", r.ID, err)
		}
		p.Charts = append(p.Charts, c)
	}
	if err := p.buildTerritories(ctx, b, ref); err != nil {
		return nil, err
	}

	ms, err := once(b, "jalons", func() ([]engine.Milestone, error) { return eng.Milestones(ctx) })
	if err != nil {
		return nil, err
	}
	today := now.UTC().Truncate(24 * time.Hour)
	horizon := today.AddDate(0, 3, 0)
	for _, j := range ms {
		switch {
		case j.EnRetard:
			p.Late = append(p.Late, j)
		case j.Statut != "realise" && j.Statut != "abandonne" && j.DatePrevue != nil && !j.DatePrevue.After(horizon):
			p.Due = append(p.Due, j)
		}
	}

	// The committee reads what comes next in date order, and the latest first among the late ones.
	sort.SliceStable(p.Due, func(i, j int) bool { return p.Due[i].DatePrevue.Before(*p.Due[j].DatePrevue) })
	sort.SliceStable(p.Late, func(i, j int) bool { return p.Late[i].DatePrevue.Before(*p.Late[j].DatePrevue) })
	if p.Sources, err = once(b, "fraicheur", func() ([]engine.Freshness, error) { return eng.Freshness(ctx, now) }); err != nil {
		return nil, err
	}
	// The month's data is collected during the month and the first days of the next one, when the pack
	// is made: rejects count from the first day of the month to the generation time.
	p.RejectsFrom = m.Start()
	rejects, err := once(b, "rejets "+m.String(), func() ([]engine.RejectCount, error) {
		return eng.Rejects(ctx, p.RejectsFrom, now.Add(time.Second))
	})
	if err != nil {
		return nil, err
	}
	p.Rejects = groupRejects(rejects)

	for _, ind := range eng.Catalogue().Indicators {
		ax := "contexte"
		if ind.Axis > 0 {
			ax = fmt.Sprint(ind.Axis)
		}
		row := AnnexRow{ID: ind.ID, Axis: ax, Action: ind.Action, Label: ind.Label, Definition: ind.Definition,
			Source: ind.Source, Window: windowFr[ind.Window], Origin: originFr(ind.TargetOrigin), HasTarget: ind.Target != nil || ind.Direction == catalogue.Hausse}
		switch {
		case ind.Direction == catalogue.Hausse:
			row.Target = "hausse sur un an (comparée au même mois un an plus tôt)"
		case ind.Target != nil:
			row.Target = TargetText(engine.Result{Target: ind.Target, Unit: ind.Unit, Direction: ind.Direction, Deadline: ind.Deadline})
			if ind.TargetOf != "" { // a share of another indicator: « 100 % des lieux … »
				row.Target = fmt.Sprintf("%s%s%% des %s", numDec(*ind.Target, 0), nbsp, strings.ToLower(labelOf(eng.Catalogue(), ind.TargetOf)))
				if ind.Deadline != "" {
					row.Target += " en " + deadlineShort(ind.Deadline)
				}
			}
		}
		p.Annex = append(p.Annex, row)
	}
	return p, nil
}

func (p *Pack) buildSynthesis(results []engine.Result, series map[string][]engine.Point) {
	byAxis := map[int]*Axis{}
	var order []int
	for _, r := range results {
		l := Line{Result: r}
		pts := series[r.ID]
		for _, pt := range pts {
			if pt.Month == p.Month.Add(-12) {
				l.YearAgo = pt.Value
			}
			if pt.Month == p.Month.Add(-1) {
				l.PrevStatus = pt.Status
			}
		}
		if l.YearAgo != nil && r.Value != nil {
			d := *r.Value - *l.YearAgo
			l.DeltaYear = &d
		}
		a := byAxis[r.Axis]
		if a == nil {
			a = &Axis{Number: r.Axis, Title: axisTitles[r.Axis]}
			if a.Title == "" {
				a.Title = fmt.Sprintf("Axe %d", r.Axis)
			}
			byAxis[r.Axis] = a
			order = append(order, r.Axis)
		}
		a.Lines = append(a.Lines, l)
		if l.PrevStatus != "" && l.PrevStatus != r.Status {
			p.Changes = append(p.Changes, Change{Line: l, Direction: direction(l.PrevStatus, r.Status)})
		}
	}
	// Context indicators (axis 0) come last, after the three axes.
	sort.SliceStable(order, func(i, j int) bool {
		if (order[i] == 0) != (order[j] == 0) {
			return order[j] == 0
		}
		return order[i] < order[j]
	})
	var all []Line
	for _, n := range order {
		a := byAxis[n]
		a.Counts = countStatuses(a.Lines)
		all = append(all, a.Lines...)
		p.Axes = append(p.Axes, *a)
	}
	p.Totals = countStatuses(all)
}

func countStatuses(ls []Line) []StatusCount {
	var out []StatusCount
	for _, st := range []string{engine.StatusAtteint, engine.StatusBonneVoie, engine.StatusASurveiller, engine.StatusEnRetard, engine.StatusSansDonnees, engine.StatusSansCible} {
		c := 0
		for _, l := range ls {
			if l.Status == st {
				c++
			}
		}
		if c > 0 {
			out = append(out, StatusCount{st, c})
		}
	}
	return out
}

func (p *Pack) buildTerritories(ctx context.Context, b *Builder, ref *territory.Reference) error {
	eng := b.eng
	breakdown := func(id string) ([]engine.Child, error) {
		return once(b, "ventilation "+id+" "+p.Month.String(), func() ([]engine.Child, error) {
			return eng.Breakdown(ctx, id, ref.Root(), territory.LevelEPCI, p.Month)
		})
	}
	if k, ok := eng.Catalogue().Get(epciKey); ok {
		p.EPCIKey = k.Label
		kids, err := breakdown(epciKey)
		if err != nil {
			return err
		}
		cols := make([][]engine.Child, len(epciCols))
		for i, c := range epciCols {
			if _, ok := eng.Catalogue().Get(c.ID); !ok {
				continue
			}
			if cols[i], err = breakdown(c.ID); err != nil {
				return err
			}
		}
		for k, kid := range kids {
			row := EPCIRow{ID: kid.Territory, Name: kid.Name, Population: kid.Population, Key: kid.Value, KeyStatus: kid.Status,
				Current: kid.Territory == p.Territory || (p.Territory.Level == territory.LevelCommune && ref.Within(p.Territory, kid.Territory))}
			for i := range epciCols {
				var v *float64
				if k < len(cols[i]) && cols[i][k].Territory == kid.Territory {
					v = cols[i][k].Value
				}
				row.Others = append(row.Others, v)
			}
			p.EPCI = append(p.EPCI, row)
		}
		// Highest first; EPCI without data last, by name.
		sort.SliceStable(p.EPCI, func(i, j int) bool {
			a, b := p.EPCI[i].Key, p.EPCI[j].Key
			if (a == nil) != (b == nil) {
				return b == nil
			}
			if a != nil && *a != *b {
				return *a > *b
			}
			return p.EPCI[i].Name < p.EPCI[j].Name
		})
	}

	gaps := p.gaps
	groups := map[string]*GapGroup{}
	var order []string
	for _, g := range gaps {
		if g.Indicator == "a2.population_zone_blanche" {
			p.Far = append(p.Far, g)
			continue
		}
		key := g.Indicator
		if g.Indicator == "a3.fiches_a_jour" {
			key += "/fiches" // its label carries a count per commune: one group for all
		}
		gg := groups[key]
		if gg == nil {
			label := g.Label
			if g.Indicator == "a3.fiches_a_jour" {
				label = "Communes ayant des fiches de lieu non mises à jour depuis un an"
			}
			gg = &GapGroup{Indicator: g.Indicator, Label: label}
			groups[key] = gg
			order = append(order, key)
		}
		gg.Territories = append(gg.Territories, g)
	}
	for _, k := range order {
		p.Gaps = append(p.Gaps, *groups[k])
	}
	sort.SliceStable(p.Far, func(i, j int) bool { return p.Far[i].Population > p.Far[j].Population })
	return nil
}

func labelOf(c *catalogue.Catalogue, id string) string {
	if i, ok := c.Get(id); ok {
		return i.Label
	}
	return id
}

// FarPopulation is the population of the communes in Far.
func (p *Pack) FarPopulation() uint64 {
	var n uint64
	for _, g := range p.Far {
		n += g.Population
	}
	return n
}

// Formats of a pack file.
const (
	FormatPDF  = "pdf"
	FormatHTML = "html"
)

// FileName is the default file name of a pack: « rapport-epci-200040566-2026-10.pdf ».
func FileName(t territory.ID, m engine.Month, format string) string {
	return fmt.Sprintf("rapport-%s-%s-%s.%s", t.Level, t.Code, m, format)
}

// LastCompleteMonth is the default month of a pack: the newest month of activity data, or the month
// before when that one is the current month (still being collected).
func LastCompleteMonth(ctx context.Context, eng *engine.Engine, now time.Time) (engine.Month, error) {
	m, err := eng.LatestMonth(ctx)
	if err != nil {
		return m, err
	}
	if !m.Before(engine.MonthOf(now.UTC())) {
		m = engine.MonthOf(now.UTC()).Add(-1)
	}
	return m, nil
}

// Write builds the pack of t for m with b and writes it to path in format (pdf or html).
func Write(ctx context.Context, b *Builder, pr Printer, t territory.ID, m engine.Month, format, path string) error {
	p, err := b.Build(ctx, t, m)
	if err != nil {
		return err
	}
	return p.WriteFile(ctx, pr, format, path)
}

// WriteFile writes a built pack to path in format (pdf or html); the file appears whole or not at all.
func (p *Pack) WriteFile(ctx context.Context, pr Printer, format, path string) error {
	tmp := path + ".partiel"
	defer os.Remove(tmp)
	switch format {
	case FormatHTML:
		if p.html == nil {
			if err := p.renderCheck(); err != nil {
				return err
			}
		}
		if err := os.WriteFile(tmp, p.html, 0o644); err != nil {
			return err
		}
	case FormatPDF:
		if err := pr.PDF(ctx, p, tmp); err != nil {
			return err
		}
	default:
		return fmt.Errorf("format « %s » inconnu (pdf ou html)", format)
	}
	return os.Rename(tmp, path)
}

// Job is one pack to write: its territory and file.
type Job struct {
	Territory territory.ID
	Path      string
}

// Done is the outcome of one Job.
type Done struct {
	Job
	Err          error
	Build, Write time.Duration // gathering the figures and drawing the HTML; writing the file (printing)
}

// WriteAll writes the packs of jobs for month m, calling each as every one finishes, in the order of
// jobs. The figures of every pack are read first in one engine request (Builder.Prepare); then packs are
// gathered one after the other while up to pr.Tabs of them print side by side in one Chromium
// (pr.Browser, else one started here for the run), so a run takes about its printing time, not the sum
// of reading and printing.
func WriteAll(ctx context.Context, b *Builder, pr Printer, m engine.Month, format string, jobs []Job, each func(Done)) {
	var wg sync.WaitGroup
	if len(jobs) > 1 {
		ts := make([]territory.ID, len(jobs))
		for i, j := range jobs {
			ts[i] = j.Territory
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			// A failure here (a territory unknown to the reference) is reported by the pack concerned,
			// which Build then reads alone.
			_ = b.Prepare(ctx, ts, m)
		}()
	}
	if format == FormatPDF && pr.Browser == nil && len(jobs) > 1 {
		// One Chromium for all the packs (starting it costs about a print), started while the figures
		// are read.
		br, err := pr.StartBrowser(ctx)
		if err != nil {
			wg.Wait()
			for _, j := range jobs {
				each(Done{Job: j, Err: err})
			}
			return
		}
		defer br.Close()
		pr.Browser = br
	}
	wg.Wait()
	type built struct {
		i   int
		p   *Pack
		err error
		d   time.Duration
	}
	tabs := 1
	if format == FormatPDF && pr.Browser != nil {
		tabs = pr.tabs()
	}
	work := make(chan built, tabs)
	results := make([]chan Done, len(jobs))
	for i := range results {
		results[i] = make(chan Done, 1)
	}
	go func() {
		defer close(work)
		for i, j := range jobs {
			if err := ctx.Err(); err != nil {
				work <- built{i: i, err: err}
				continue
			}
			t0 := time.Now()
			p, err := b.Build(ctx, j.Territory, m)
			if err == nil && format == FormatHTML {
				err = p.renderCheck() // the HTML is drawn here, not by the writers
			}
			work <- built{i, p, err, time.Since(t0)}
		}
	}()
	for w := 0; w < tabs; w++ {
		go func() {
			for r := range work {
				d := Done{Job: jobs[r.i], Err: r.err, Build: r.d}
				if r.err == nil {
					t0 := time.Now()
					d.Err = r.p.WriteFile(ctx, pr, format, jobs[r.i].Path)
					d.Write = time.Since(t0)
				}
				results[r.i] <- d
			}
		}()
	}
	for _, c := range results {
		each(<-c)
	}
}

// RejectGroup counts one source's rejects of one reason code (the fixed codes of the README, « Codes de
// motif de rejet », the same as the collector's metrics), with the most frequent reason as an example.
type RejectGroup struct {
	Source, Code, Example string
	Rows                  uint64
}

// groupRejects folds rejects counted by reason (most frequent first) into reason codes, most frequent
// first; the example of a group is its most frequent reason, since rs comes sorted that way.
func groupRejects(rs []engine.RejectCount) []RejectGroup {
	var out []RejectGroup
	at := map[[2]string]int{}
	for _, r := range rs {
		k := [2]string{r.Source, ingest.ReasonCode(r.Reason)}
		i, ok := at[k]
		if !ok {
			i = len(out)
			at[k] = i
			out = append(out, RejectGroup{Source: r.Source, Code: k[1], Example: r.Reason})
		}
		out[i].Rows += r.Rows
	}
	sort.SliceStable(out, func(i, j int) bool { return out[i].Rows > out[j].Rows })
	return out
}
