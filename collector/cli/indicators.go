package cli

import (
	"context"
	"encoding/csv"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"strconv"
	"strings"
	"text/tabwriter"

	"github.com/sdaasp-rhone/fne/internal/catalogue"
	"github.com/sdaasp-rhone/fne/internal/engine"
	"github.com/sdaasp-rhone/fne/internal/territory"
)

func init() {
	register(&command{name: "indicators", summary: "calcule les indicateurs de la feuille de route pour un territoire et un mois", run: runIndicators})
}

// indicatorStatusFr is how a status reads in the table (JSON and CSV keep the machine names).
var indicatorStatusFr = map[string]string{
	engine.StatusAtteint:     "Atteint",
	engine.StatusBonneVoie:   "En bonne voie",
	engine.StatusASurveiller: "À surveiller",
	engine.StatusEnRetard:    "En retard",
	engine.StatusSansDonnees: "Sans données",
	engine.StatusSansCible:   "Sans cible",
}

func runIndicators(ctx context.Context, env *Env, args []string) error {
	const usage = "[--territory ID] [--period AAAA-MM] [--format table|json|csv] [--axis N] [--indicator ID[,ID…]] [--series DE..À] [--catalogue FICHIER]"
	var cf connFlags
	fs := flagSet("indicators", usage, env)
	cf.register(fs)
	terr := fs.String("territory", "", "territoire : dep:<code>, epci:<SIREN> ou com:<code INSEE> (défaut : le département du référentiel)")
	period := fs.String("period", "", "mois évalué AAAA-MM (défaut : le dernier mois d'activités collecté)")
	format := fs.String("format", "table", "format de sortie : table (lisible), json ou csv (valeurs non arrondies)")
	axis := fs.Int("axis", 0, "n'affiche que l'axe N (1, 2 ou 3 ; 0 = tous)")
	only := fs.String("indicator", "", "identifiant(s) d'indicateur séparés par des virgules (obligatoire avec --series)")
	series := fs.String("series", "", "série mensuelle DE..À (ex. 2025-11..2026-10) d'un indicateur")
	catFile := fs.String("catalogue", "", "fichier de surcharge des cibles, échéances et références (FNE_CATALOGUE)")
	if err := parse(fs, usage, env, args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return usagef("argument inattendu « %s »", fs.Arg(0))
	}
	switch *format {
	case "table", "json", "csv":
	default:
		return usagef("format « %s » inconnu (table, json ou csv)", *format)
	}
	if *axis < 0 || *axis > 3 {
		return usagef("axe %d inconnu (1, 2 ou 3)", *axis)
	}
	var ids []string
	for _, s := range strings.Split(*only, ",") {
		if s = strings.TrimSpace(s); s != "" {
			ids = append(ids, s)
		}
	}
	var from, to engine.Month
	if *series != "" {
		a, b, ok := strings.Cut(*series, "..")
		var err1, err2 error
		from, err1 = engine.ParseMonth(strings.TrimSpace(a))
		to, err2 = engine.ParseMonth(strings.TrimSpace(b))
		if !ok || err1 != nil || err2 != nil {
			return usagef("--series attend DE..À au format AAAA-MM..AAAA-MM, ex. 2025-11..2026-10 (reçu « %s »)", *series)
		}
		if to.Before(from) {
			return usagef("--series : %s est avant %s", to, from)
		}
		if len(ids) != 1 {
			return usagef("--series demande exactement un indicateur : --indicator ID")
		}
		if *period != "" {
			return usagef("--period et --series sont incompatibles")
		}
	}
	var month engine.Month
	if *period != "" {
		m, err := engine.ParseMonth(*period)
		if err != nil {
			return usagef("%v", err)
		}
		month = m
	}
	var tid territory.ID
	if *terr != "" {
		id, err := territory.Parse(*terr)
		if err != nil {
			return usagef("%v", err)
		}
		tid = id
	}

	cat, err := loadCatalogue(*catFile, env)
	if err != nil {
		return exitError{ExitInvalidData, err}
	}
	for _, id := range ids {
		if _, ok := cat.Get(id); !ok {
			return usagef("%v : « %s » (disponibles : %s)", engine.ErrUnknownIndicator, id, strings.Join(cat.IDs(), ", "))
		}
	}

	conn, _, err := cf.open(ctx)
	if err != nil {
		return err
	}
	defer conn.Close()
	eng := engine.New(conn, cat).OneShot()
	ref, err := eng.Reference(ctx)
	if err != nil {
		return err
	}
	if *terr == "" {
		tid = ref.Root()
	}
	tr, err := ref.Resolve(tid)
	if err != nil {
		return err
	}

	if *series != "" {
		pts, err := eng.Series(ctx, ids[0], tid, from, to)
		if err != nil {
			return err
		}
		ind, _ := cat.Get(ids[0])
		if err := writeSeries(env.Stdout, *format, ind, tid, tr.Name, pts); err != nil || *format != "table" {
			return err
		}
		noteNoCentroid(env.Stdout, cat, ref, tid, ids[:1], func(string) bool { return len(pts) > 0 && pts[len(pts)-1].Value == nil })
		return nil
	}
	if *period == "" {
		if month, err = eng.LatestMonth(ctx); err != nil {
			return err
		}
	}
	if *axis > 0 && len(ids) == 0 {
		for _, ind := range cat.Indicators {
			if ind.Axis == *axis {
				ids = append(ids, ind.ID)
			}
		}
	}
	rs, err := eng.Evaluate(ctx, tid, month, ids...)
	if err != nil {
		if errors.Is(err, engine.ErrUnknownIndicator) {
			return usagef("%v", err)
		}
		return err
	}
	if *axis > 0 {
		kept := rs[:0]
		for _, r := range rs {
			if r.Axis == *axis {
				kept = append(kept, r)
			}
		}
		rs = kept
	}
	if err := writeResults(env.Stdout, *format, tid, tr.Name, month, rs); err != nil || *format != "table" {
		return err
	}
	shown := make([]string, 0, len(rs))
	empty := map[string]bool{}
	for _, r := range rs {
		shown = append(shown, r.ID)
		empty[r.ID] = r.Value == nil
	}
	noteNoCentroid(env.Stdout, cat, ref, tid, shown, func(id string) bool { return empty[id] })
	return nil
}

func loadCatalogue(path string, env *Env) (*catalogue.Catalogue, error) {
	if path == "" && env.Getenv != nil {
		path = env.Getenv("FNE_CATALOGUE")
	}
	if path == "" {
		return catalogue.Load()
	}
	return catalogue.LoadFile(path)
}

// row is the machine form of JSON and CSV (the README: at least id, territory, period, value, unit,
// target, status), unrounded.
type row struct {
	ID        string   `json:"id"`
	Territory string   `json:"territory"`
	Period    string   `json:"period"`
	Axis      int      `json:"axis"`
	Action    string   `json:"action"`
	Label     string   `json:"label"`
	Value     *float64 `json:"value"`
	Unit      string   `json:"unit"`
	Target    *float64 `json:"target"`
	// TargetOrigin: feuille_de_route (the roadmap's commitment) or copil (a default), "" without target.
	TargetOrigin string   `json:"target_origin"`
	Status       string   `json:"status"`
	Progress     *float64 `json:"progress"`
	Trend        *float64 `json:"trend"`
}

var csvHeader = []string{"id", "territory", "period", "axis", "action", "label", "value", "unit", "target", "target_origin", "status", "progress", "trend"}

func (r row) csv() []string {
	return []string{r.ID, r.Territory, r.Period, strconv.Itoa(r.Axis), r.Action, r.Label, num(r.Value), r.Unit, num(r.Target), r.TargetOrigin, r.Status, num(r.Progress), num(r.Trend)}
}

func num(v *float64) string {
	if v == nil {
		return ""
	}
	return strconv.FormatFloat(*v, 'g', -1, 64)
}

func writeRows(w io.Writer, format string, rows []row) error {
	if format == "json" {
		if rows == nil {
			rows = []row{}
		}
		enc := json.NewEncoder(w)
		enc.SetIndent("", "  ")
		return enc.Encode(rows)
	}
	cw := csv.NewWriter(w)
	_ = cw.Write(csvHeader)
	for _, r := range rows {
		_ = cw.Write(r.csv())
	}
	cw.Flush()
	return cw.Error()
}

func writeResults(w io.Writer, format string, tid territory.ID, name string, m engine.Month, rs []engine.Result) error {
	if format != "table" {
		rows := make([]row, 0, len(rs))
		for _, r := range rs {
			rows = append(rows, row{ID: r.ID, Territory: r.Territory, Period: r.Period, Axis: r.Axis, Action: r.Action,
				Label: r.Label, Value: r.Value, Unit: r.Unit, Target: r.Target, TargetOrigin: r.TargetOrigin, Status: r.Status, Progress: r.Progress, Trend: r.Trend})
		}
		return writeRows(w, format, rows)
	}
	fmt.Fprintf(w, "%s (%s) — %s\n\n", name, tid, monthFr(m))
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "Axe\tAction\tIndicateur\tValeur\tUnité\tCible\tOrigine de la cible\tStatut")
	for _, r := range rs {
		ax := strconv.Itoa(r.Axis)
		if r.Axis == 0 {
			ax = "contexte"
		}
		act := r.Action
		if act == "" {
			act = "—"
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n", ax, act, truncate(r.Label, 56), numFr(r.Value, r.Unit), r.Unit, targetFr(r), targetOriginFr[r.TargetOrigin], indicatorStatusFr[r.Status])
	}
	return tw.Flush()
}

// targetOriginFr says in the table who set the target (the dashboards use the same words).
var targetOriginFr = map[string]string{
	catalogue.TargetFeuilleDeRoute: "feuille de route",
	catalogue.TargetCopil:          "défaut (COPIL)",
	"":                             "—",
}

func targetFr(r engine.Result) string {
	if r.Target != nil && *r.Target == math.Trunc(*r.Target) && r.Unit == "%" {
		r.Unit = "" // a whole percentage target reads "≥ 100", not "≥ 100,0"
	}
	switch {
	case r.Target == nil:
		return "—"
	case r.Direction == catalogue.Hausse:
		return "> " + numFr(r.Target, r.Unit) + " (un an avant)"
	case r.Direction == catalogue.AuPlus:
		s := "≤ " + numFr(r.Target, r.Unit)
		if r.Deadline != "" {
			s += " en " + r.Deadline
		}
		return s
	}
	s := "≥ " + numFr(r.Target, r.Unit)
	if r.Deadline != "" {
		s += " en " + r.Deadline
	}
	return s
}

func writeSeries(w io.Writer, format string, ind catalogue.Indicator, tid territory.ID, name string, pts []engine.Point) error {
	if format != "table" {
		rows := make([]row, 0, len(pts))
		for _, p := range pts {
			r := row{ID: ind.ID, Territory: tid.String(), Period: p.Month.String(), Axis: ind.Axis, Action: ind.Action,
				Label: ind.Label, Value: p.Value, Unit: ind.Unit, Target: p.Target, Status: p.Status}
			if p.Target != nil {
				r.TargetOrigin = ind.TargetOrigin
			}
			rows = append(rows, r)
		}
		return writeRows(w, format, rows)
	}
	fmt.Fprintf(w, "%s — %s (%s)\n\n", ind.Label, name, tid)
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "Mois\tValeur\tUnité\tCible\tStatut")
	for _, p := range pts {
		t := "—"
		if p.Target != nil {
			t = numFr(p.Target, ind.Unit)
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\n", p.Month, numFr(p.Value, ind.Unit), ind.Unit, t, indicatorStatusFr[p.Status])
	}
	return tw.Flush()
}

var moisFr = []string{"janvier", "février", "mars", "avril", "mai", "juin", "juillet", "août", "septembre", "octobre", "novembre", "décembre"}

func monthFr(m engine.Month) string { return fmt.Sprintf("%s %d", moisFr[m.Month-1], m.Year) }

// numFr rounds for reading: percentages to 1 decimal, per-capita rates to 2, counts to integers; French
// decimal comma and thousands grouping. Unrounded values are in JSON and CSV.
func numFr(v *float64, unit string) string {
	if v == nil {
		return "—"
	}
	decimals := 0
	switch {
	case unit == "%":
		decimals = 1
	case strings.HasPrefix(unit, "pour "):
		decimals = 2
	case *v != math.Trunc(*v):
		decimals = 1
	}
	s := strconv.FormatFloat(*v, 'f', decimals, 64)
	intPart, frac, _ := strings.Cut(s, ".")
	neg := strings.HasPrefix(intPart, "-")
	n, _ := strconv.ParseInt(strings.TrimPrefix(intPart, "-"), 10, 64)
	out := thousands(n)
	if neg && (n != 0 || strings.Trim(frac, "0") != "") {
		out = "-" + out
	}
	if frac != "" {
		out += "," + frac
	}
	return out
}
