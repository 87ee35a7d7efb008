package cli

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/sdaasp-rhone/fne/collector/demo"
	"github.com/sdaasp-rhone/fne/collector/ingest"
	"github.com/sdaasp-rhone/fne/collector/sources"
	"github.com/sdaasp-rhone/fne/internal/reference"
	"github.com/sdaasp-rhone/fne/internal/territory"
)

func init() {
	register(&command{name: "demo", summary: "génère un jeu de données de démonstration réaliste et l'ingère", run: runDemo})
}

func runDemo(ctx context.Context, env *Env, args []string) error {
	const usage = "[--departement CODE] [--dir DOSSIER] [--end AAAA-MM] [--seed N] [--no-ingest]"
	var cf connFlags
	fs := flagSet("demo", usage, env)
	cf.register(fs)
	dir := fs.String("dir", "demo-data", "dossier où écrire les fichiers")
	endFlag := fs.String("end", "", "dernier mois des 24 mois générés (défaut : le mois précédent)")
	seed := fs.Uint64("seed", 1, "graine du générateur : même graine et même --end, mêmes fichiers")
	noIngest := fs.Bool("no-ingest", false, "générer les fichiers sans les ingérer (référentiel intégré, sans ClickHouse)")
	depFlag := fs.String("departement", "", "département du référentiel national (01…95, 2A, 2B, 971…974, 976, 69M) : chargé dans la base s'il n'y est pas déjà en vigueur")
	if err := parse(fs, usage, env, args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return usagef("argument inattendu « %s »", fs.Arg(0))
	}
	end := time.Now().UTC().AddDate(0, -1, 0)
	end = time.Date(end.Year(), end.Month(), 1, 0, 0, 0, 0, time.UTC)
	if *endFlag != "" {
		t, err := time.Parse("2006-01", *endFlag)
		if err != nil {
			return usagef("--end attend un mois AAAA-MM, pas « %s »", *endFlag)
		}
		end = t
	}

	var national *reference.Parsed
	if *depFlag != "" {
		nat, err := reference.LoadNational()
		if err != nil {
			return err
		}
		if national, err = nat.Scope(*depFlag); err != nil {
			return usagef("%v", err)
		}
	}
	var ref *territory.Reference
	var runner *ingest.Runner
	if *noIngest {
		if national != nil {
			ref = national.Ref
		} else {
			p, err := reference.ParseDir("")
			if err != nil {
				return err
			}
			ref = p.Ref
		}
	} else {
		conn, _, err := cf.open(ctx)
		if err != nil {
			return err
		}
		defer conn.Close()
		ref, err = reference.Current(ctx, conn)
		if err != nil && (national == nil || !errors.Is(err, reference.ErrNotLoaded)) {
			return err
		}
		// A département other than the one in force is loaded first (the one in force is kept as it
		// is: it may carry centroids given to fne migrate).
		if national != nil && (ref == nil || ref.Departement != national.Ref.Departement) {
			if _, err := reference.Load(ctx, conn, national); err != nil {
				return err
			}
			fmt.Fprintf(env.Stdout, "Référentiel chargé : %s — %d EPCI, %s.\n", national.Ref.DepartementNom, len(national.Ref.EPCIs), nCommunes(len(national.Ref.Communes)))
			if ref, err = reference.Current(ctx, conn); err != nil {
				return err
			}
		}
		runner = &ingest.Runner{Conn: conn}
	}

	res, err := demo.Generate(*dir, demo.Options{Ref: ref, End: end, Seed: *seed})
	if err != nil {
		return err
	}
	fmt.Fprintf(env.Stdout, "Jeu de démonstration pour %s : %d mois de %s à %s (graine %d), %d conseillers, %d lieux, %d fichiers dans %s\n",
		ref.DepartementNom, demo.Months, res.First.Format("2006-01"), res.Last.Format("2006-01"), *seed, res.Posts, res.Places, len(res.Files), res.Dir)
	if *noIngest {
		exp := res.Expected()
		fmt.Fprintf(env.Stdout, "\n%-15s %9s %9s\n", "Source", "Valides", "Invalides")
		for _, s := range sourceOrder(res) {
			fmt.Fprintf(env.Stdout, "%-15s %9s %9s\n", s, thousands(exp[s][0]), thousands(exp[s][1]))
		}
		fmt.Fprintln(env.Stdout, "\nFichiers générés sans ingestion (--no-ingest) : « fne ingest <source> <fichier> » pour les charger.")
		return nil
	}

	sums, err := demo.Ingest(ctx, runner, sources.Registry(), res, ref)
	fmt.Fprintf(env.Stdout, "\n%-15s %8s %9s %9s %9s   %s\n", "Source", "Fichiers", "Lus", "Écrits", "Rejetés", "Attendu (écrits / rejetés)")
	failed := 0
	for _, s := range sums {
		note := fmt.Sprintf("%s / %s", thousands(s.ExpectedValid), thousands(s.ExpectedInvalid))
		if s.Failed > 0 {
			failed++
			note += fmt.Sprintf(" — %d collecte(s) en échec : %s", s.Failed, truncate(s.FirstError, 120))
		}
		fmt.Fprintf(env.Stdout, "%-15s %8d %9s %9s %9s   %s\n", s.Source, s.Files, thousands(s.Read), thousands(s.Written), thousands(s.Rejected), note)
	}
	if err != nil {
		return err
	}
	fmt.Fprintf(env.Stdout, "\nLes lignes rejetées ont été glissées volontairement (voir « fne rejects »).\n")
	fmt.Fprintf(env.Stdout, "Indicateurs : fne indicators --territory %s --period %s\n", ref.Root(), res.Last.Format("2006-01"))
	if failed > 0 {
		return fmt.Errorf("%d source(s) n'ont pas pu être ingérées entièrement", failed)
	}
	return nil
}

func sourceOrder(res *demo.Result) []string {
	var out []string
	seen := map[string]bool{}
	for _, f := range res.Files {
		if !seen[f.Source] {
			seen[f.Source] = true
			out = append(out, f.Source)
		}
	}
	return out
}
