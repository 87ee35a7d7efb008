package cli

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/sdaasp-rhone/fne/collector/ingest"
	"github.com/sdaasp-rhone/fne/collector/sources"
)

func init() {
	register(&command{name: "ingest", summary: "importe un fichier ou une URL d'une source (lieux, rencontres…, ou « classeur » pour un .xlsx multi-feuilles)", run: runIngest})
}

// workbookSource is the pseudo-source that ingests every sheet of an .xlsx named after a source.
const workbookSource = "classeur"

// optionFlags collects repeated --option clé=valeur.
type optionFlags map[string]string

func (o optionFlags) String() string { return "" }
func (o optionFlags) Set(v string) error {
	k, val, ok := strings.Cut(v, "=")
	if !ok || strings.TrimSpace(k) == "" {
		return fmt.Errorf("« %s » : clé=valeur attendu", v)
	}
	o[strings.TrimSpace(k)] = val
	return nil
}

// progressEvery throttles progress lines on stderr.
var progressEvery = 2 * time.Second

func runIngest(ctx context.Context, env *Env, args []string) error {
	const usage = "<source> <fichier|url> [--strict] [--option clé=valeur …] [--sheet NOM] [--encoding auto|utf-8|utf-16|windows-1252]"
	var cf connFlags
	fs := flagSet("ingest", usage, env)
	cf.register(fs)
	strict := fs.Bool("strict", false, "code de sortie 5 si des lignes sont rejetées")
	opts := optionFlags{}
	fs.Var(opts, "option", "réglage de la source clé=valeur (répétable), ex. --option base_url=https://…")
	sheet := fs.String("sheet", "", "feuille du classeur .xlsx à lire (défaut : celle qui porte le nom de la source, ou la seule)")
	encoding := fs.String("encoding", "", "encodage d'un fichier texte : auto (défaut), utf-8, utf-16 ou windows-1252")
	// Flags may follow the positional arguments: parse until everything is consumed.
	var pos []string
	rest := args
	for {
		if err := parse(fs, usage, env, rest); err != nil {
			if errors.Is(err, flag.ErrHelp) {
				printSources(env.Stdout)
			}
			return err
		}
		if fs.NArg() == 0 {
			break
		}
		pos = append(pos, fs.Arg(0))
		rest = fs.Args()[1:]
	}
	reg := sources.Registry()
	if len(pos) != 2 {
		return usagef("« fne ingest » attend une source et un fichier ou une URL : fne ingest %s (sources : %s, %s)", usage, strings.Join(reg.Names(), ", "), workbookSource)
	}
	source, location := pos[0], pos[1]
	if *sheet != "" {
		opts["sheet"] = *sheet
	}
	if *encoding != "" {
		opts["encoding"] = *encoding
	}
	if *sheet != "" && !isWorkbook(location) {
		return usagef("--sheet ne s'applique qu'à un classeur .xlsx, pas à %s", location)
	}
	if e, ok := opts["encoding"]; ok {
		if _, valid := sources.NormalizeEncoding(e); !valid {
			return usagef("encodage « %s » inconnu (valeurs admises : %s)", e, strings.Join(sources.Encodings, ", "))
		}
	}
	var runs []ingest.Collector
	var sheetOf []string
	if source == workbookSource {
		sheets, err := sources.WorkbookSheets(ctx, location)
		if err != nil {
			return err
		}
		byName := map[string]string{}
		for _, s := range sheets {
			byName[strings.ToLower(strings.TrimSpace(s))] = s
		}
		for _, c := range sources.All() {
			if s, ok := byName[c.Name()]; ok {
				runs = append(runs, c)
				sheetOf = append(sheetOf, s)
			}
		}
		if len(runs) == 0 {
			return fmt.Errorf("aucune feuille du classeur %s ne porte le nom d'une source (feuilles : %s ; sources : %s)",
				location, strings.Join(sheets, ", "), strings.Join(reg.Names(), ", "))
		}
	} else {
		c, err := reg.Get(source)
		if err != nil {
			return usagef("%v", err)
		}
		if err := ingest.CheckOptions(c, opts); err != nil {
			return usagef("%v", err)
		}
		runs, sheetOf = []ingest.Collector{c}, []string{*sheet}
	}
	conn, _, err := cf.open(ctx)
	if err != nil {
		return err
	}
	defer conn.Close()
	runner := &ingest.Runner{Conn: conn, Progress: progressPrinter(env.Stderr)}
	var rejected uint64
	var failed error
	for i, c := range runs {
		in := ingest.Input{Location: location, Options: map[string]string{}}
		for k, v := range opts {
			in.Options[k] = v
		}
		if sheetOf[i] != "" {
			in.Options["sheet"] = sheetOf[i]
		}
		t0 := time.Now()
		sum, err := runner.Run(ctx, c, in)
		printSummary(env.Stdout, sum, sheetOf[i], time.Since(t0))
		rejected += sum.Rejected
		if err != nil && failed == nil {
			failed = err
		}
	}
	if failed != nil {
		return exitError{code: ingestExitCode(failed), err: fmt.Errorf("import en échec : %w", failed)}
	}
	if *strict && rejected > 0 {
		return exitError{code: ExitRejects, err: fmt.Errorf("%d ligne(s) rejetée(s) avec --strict (voir « fne rejects »)", rejected)}
	}
	return nil
}

func printSources(w io.Writer) {
	fmt.Fprintln(w, "\nSources :")
	for _, c := range sources.All() {
		fmt.Fprintf(w, "  %-16s %s\n", c.Name(), c.Description())
	}
	fmt.Fprintf(w, "  %-16s %s\n", workbookSource, "classeur .xlsx : chaque feuille nommée comme une source est importée par cette source")
}

// ingestExitCode: ClickHouse lost or refusing access during the run is 3 (the Sink classifies every
// storage error, store.Classify), a whole input refused for its content 4, anything else 1.
func ingestExitCode(err error) int {
	switch {
	case ingest.IsStorage(err):
		return ExitUnreachable
	case errors.Is(err, ingest.ErrInvalidInput):
		return ExitInvalidData
	}
	return ExitError
}

// progressPrinter prints at most one progress line per progressEvery.
func progressPrinter(w io.Writer) func(source string, read, written, rejected uint64) {
	var mu sync.Mutex
	last := time.Now() // short runs print no progress at all
	return func(source string, read, written, rejected uint64) {
		mu.Lock()
		defer mu.Unlock()
		if time.Since(last) < progressEvery {
			return
		}
		last = time.Now()
		fmt.Fprintf(w, "%s : %s lignes lues, %s écrites, %s rejetées…\n", source, thousands(read), thousands(written), thousands(rejected))
	}
}

var statusFr = map[string]string{
	ingest.StatusOK:      "succès",
	ingest.StatusPartial: "succès avec rejets",
	ingest.StatusFailed:  "échec",
	ingest.StatusRunning: "en cours",
}

// printSummary writes the French summary of a run.
func printSummary(w io.Writer, s ingest.Summary, sheet string, took time.Duration) {
	what := s.Input
	if sheet != "" {
		what += " (feuille " + sheet + ")"
	}
	fmt.Fprintf(w, "Import %s — %s\n", s.Source, what)
	fmt.Fprintf(w, "  Statut          : %s\n", statusFr[s.Status])
	fmt.Fprintf(w, "  Lignes lues     : %s\n", thousands(s.Read))
	fmt.Fprintf(w, "  Lignes écrites  : %s\n", thousands(s.Written))
	fmt.Fprintf(w, "  Lignes rejetées : %s\n", thousands(s.Rejected))
	fmt.Fprintf(w, "  Durée           : %s\n", durationFr(took))
	fmt.Fprintf(w, "  Lancement       : %s\n", s.ID)
	for _, n := range s.Notes {
		fmt.Fprintf(w, "  Lecture         : %s\n", n)
	}
	if s.Err != nil {
		fmt.Fprintf(w, "  Erreur          : %v\n", s.Err)
	}
	if len(s.RejectsByReason) > 0 {
		type rc struct {
			reason string
			n      uint64
		}
		var rs []rc
		for r, n := range s.RejectsByReason {
			rs = append(rs, rc{r, n})
		}
		sort.Slice(rs, func(i, j int) bool {
			if rs[i].n != rs[j].n {
				return rs[i].n > rs[j].n
			}
			return rs[i].reason < rs[j].reason
		})
		fmt.Fprintln(w, "  Principaux motifs de rejet :")
		for i, r := range rs {
			if i == 5 {
				fmt.Fprintf(w, "    … et %d autre(s) motif(s)\n", len(rs)-5)
				break
			}
			fmt.Fprintf(w, "    %6s × %s\n", thousands(r.n), truncate(r.reason, 110))
		}
		fmt.Fprintf(w, "  Détail : fne rejects --run %s\n", s.ID)
	}
}

func durationFr(d time.Duration) string {
	if d < time.Minute {
		return strings.Replace(fmt.Sprintf("%.1f s", d.Seconds()), ".", ",", 1)
	}
	return fmt.Sprintf("%d min %02d s", int(d.Minutes()), int(d.Seconds())%60)
}

// isWorkbook tells an .xlsx input by its name, or a local file by its first bytes (a zip archive).
func isWorkbook(location string) bool {
	if strings.EqualFold(filepath.Ext(strings.SplitN(location, "?", 2)[0]), ".xlsx") {
		return true
	}
	f, err := os.Open(location)
	if err != nil {
		return true // let the source say what is wrong with the file
	}
	defer f.Close()
	head := make([]byte, 4)
	n, _ := io.ReadFull(f, head)
	return string(head[:n]) == "PK\x03\x04"
}
