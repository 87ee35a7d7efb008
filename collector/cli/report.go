package cli

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"github.com/sdaasp-rhone/fne/internal/engine"
	"github.com/sdaasp-rhone/fne/internal/report"
	"github.com/sdaasp-rhone/fne/internal/territory"
)

func reportCommand() *command {
	return &command{name: "report", summary: "produit le rapport mensuel imprimable (PDF ou HTML) d'un territoire pour le COTECH et le COPIL", run: runReport}
}

func runReport(ctx context.Context, env *Env, args []string) error {
	const usage = "[--period AAAA-MM] [--territory ID] [--format pdf|html] [--out FICHIER] | --all-epci --out DOSSIER [--catalogue FICHIER]"
	var cf connFlags
	fs := flagSet("report", usage, env)
	cf.register(fs)
	period := fs.String("period", "", "mois du rapport AAAA-MM (défaut : le dernier mois complet de données d'activité)")
	terr := fs.String("territory", "", "territoire : dep:<code>, epci:<SIREN> ou com:<code INSEE> (défaut : le département du référentiel)")
	format := fs.String("format", report.FormatPDF, "format : pdf (A4 imprimable) ou html (fichier unique autonome)")
	out := fs.String("out", "", "fichier produit (défaut : rapport-<niveau>-<code>-<AAAA-MM>.<format> dans le dossier courant) ; avec --all-epci, le dossier")
	all := fs.Bool("all-epci", false, "un rapport pour le département et un pour chaque EPCI, dans le dossier --out")
	catFile := fs.String("catalogue", "", "fichier de surcharge des cibles, échéances et références (FNE_CATALOGUE)")
	if err := parse(fs, usage, env, args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return usagef("argument inattendu « %s »", fs.Arg(0))
	}
	if *format != report.FormatPDF && *format != report.FormatHTML {
		return usagef("format « %s » inconnu (pdf ou html)", *format)
	}
	if *all && *terr != "" {
		return usagef("--all-epci et --territory sont incompatibles")
	}
	if *all && *out == "" {
		return usagef("--all-epci demande le dossier de sortie : --out DOSSIER")
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
	now := time.Now()
	if *period == "" {
		if month, err = report.LastCompleteMonth(ctx, eng, now); err != nil {
			return err
		}
	}

	targets := []territory.ID{tid}
	if *terr == "" {
		targets[0] = ref.Root()
	}
	if *all {
		for _, e := range ref.EPCIs {
			targets = append(targets, territory.ID{Level: territory.LevelEPCI, Code: e.Siren})
		}
		if err := os.MkdirAll(*out, 0o755); err != nil {
			return fmt.Errorf("dossier de sortie %s : %v", *out, err)
		}
	} else if _, err := ref.Resolve(targets[0]); err != nil {
		return err
	}
	builder := report.NewBuilder(eng, now)
	var pr report.Printer // WriteAll starts one Chromium for the packs of --all-epci
	jobs := make([]report.Job, 0, len(targets))
	for _, t := range targets {
		path := *out
		switch {
		case *all:
			path = filepath.Join(*out, report.FileName(t, month, *format))
		case path == "":
			path = report.FileName(t, month, *format)
		}
		jobs = append(jobs, report.Job{Territory: t, Path: path})
	}
	wctx, cancel := context.WithCancel(ctx)
	defer cancel()
	var first error
	report.WriteAll(wctx, builder, pr, month, *format, jobs, func(d report.Done) {
		switch {
		case first != nil:
		case d.Err != nil:
			first = fmt.Errorf("rapport %s : %w", d.Territory, d.Err)
			if errors.Is(d.Err, report.ErrNoChromium) || errors.Is(d.Err, report.ErrNoPdftotext) {
				first = exitError{ExitError, d.Err}
			}
			cancel() // the packs after a failure are not made
		default:
			fmt.Fprintf(env.Stdout, "Rapport %s — %s écrit dans %s (%.1f s)\n", d.Territory, report.MonthFr(month), d.Path, (d.Build + d.Write).Seconds())
		}
	})
	return first
}
