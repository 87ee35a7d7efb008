package cli

import (
	"context"
	"fmt"

	"github.com/sdaasp-rhone/fne/internal/migrate"
	"github.com/sdaasp-rhone/fne/internal/reference"
	"github.com/sdaasp-rhone/fne/internal/store"
)

func init() {
	register(&command{name: "migrate", summary: "crée ou met à jour le schéma ClickHouse et charge le référentiel territorial", run: runMigrate})
	register(&command{name: "reference", summary: "affiche le référentiel territorial en vigueur (EPCI, communes, populations)", run: runReference})
}

func runMigrate(ctx context.Context, env *Env, args []string) error {
	const usage = "[--reference DOSSIER] [--cluster NOM] [--skip-reference]"
	var cf connFlags
	fs := flagSet("migrate", usage, env)
	cf.register(fs)
	refDir := fs.String("reference", "", "dossier du référentiel (territoire.yaml + CSV) ; défaut : celui intégré au binaire")
	cluster := fs.String("cluster", "", "nom du cluster ClickHouse : tables répliquées + distribuées, DDL ON CLUSTER")
	skipRef := fs.Bool("skip-reference", false, "ne pas charger le référentiel")
	if err := parse(fs, usage, env, args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return usagef("argument inattendu « %s »", fs.Arg(0))
	}
	// Parse the reference before touching the database: an invalid file changes nothing.
	var parsed *reference.Parsed
	if !*skipRef {
		p, err := reference.ParseDir(*refDir)
		if err != nil {
			return err
		}
		parsed = p
	}
	cfg, err := cf.config()
	if err != nil {
		return err
	}
	conn, err := store.EnsureDatabase(ctx, cfg)
	if err != nil {
		return err
	}
	defer conn.Close()
	ms, err := migrate.Load()
	if err != nil {
		return err
	}
	res, err := migrate.Apply(ctx, conn, ms, migrate.Options{Cluster: *cluster})
	if err != nil {
		return err
	}
	if len(res.Applied) == 0 {
		fmt.Fprintf(env.Stdout, "Schéma à jour (version %d) dans la base %s.\n", res.Current, cfg.Database)
	}
	for _, m := range res.Applied {
		fmt.Fprintf(env.Stdout, "Migration %04d_%s appliquée.\n", m.Version, m.Name)
	}
	if parsed == nil {
		return nil
	}
	lr, err := reference.Load(ctx, conn, parsed)
	if err != nil {
		return err
	}
	if lr.Changed {
		fmt.Fprintf(env.Stdout, "Référentiel chargé : %s — %d EPCI, %d communes.\n", parsed.Ref.DepartementNom, lr.EPCI, lr.Communes)
	} else {
		fmt.Fprintf(env.Stdout, "Référentiel inchangé : %s — %d EPCI, %d communes.\n", parsed.Ref.DepartementNom, lr.EPCI, lr.Communes)
	}
	return nil
}

func runReference(ctx context.Context, env *Env, args []string) error {
	const usage = ""
	var cf connFlags
	fs := flagSet("reference", usage, env)
	cf.register(fs)
	if err := parse(fs, usage, env, args); err != nil {
		return err
	}
	conn, _, err := cf.open(ctx)
	if err != nil {
		return err
	}
	defer conn.Close()
	ref, err := reference.Current(ctx, conn)
	if err != nil {
		return err
	}
	root, _ := ref.Resolve(ref.Root())
	var pop2021 uint64
	for _, c := range ref.Communes {
		pop2021 += uint64(c.Population2021)
	}
	fmt.Fprintf(env.Stdout, "%s (%s) : %d EPCI, %d communes, population %s (millésime 2021 : %s)\n\n",
		ref.DepartementNom, ref.Root(), len(ref.EPCIs), len(ref.Communes), thousands(root.Population), thousands(pop2021))
	fmt.Fprintf(env.Stdout, "%-16s %-44s %9s %11s\n", "EPCI", "Nom", "Communes", "Population")
	for _, e := range ref.EPCIs {
		t, _ := ref.Resolve(idOf("epci", e.Siren))
		fmt.Fprintf(env.Stdout, "%-16s %-44s %9d %11s\n", "epci:"+e.Siren, truncate(e.Nom, 44), len(e.Communes), thousands(t.Population))
	}
	return nil
}
