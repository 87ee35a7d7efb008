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
	const usage = "[--departement CODE [--centroids FICHIER] | --reference DOSSIER] [--cluster NOM] [--skip-reference]"
	var cf connFlags
	fs := flagSet("migrate", usage, env)
	cf.register(fs)
	refDir := fs.String("reference", "", "dossier du référentiel (territoire.yaml + CSV) ; défaut : celui intégré au binaire")
	cluster := fs.String("cluster", "", "nom du cluster ClickHouse : tables répliquées + distribuées, DDL ON CLUSTER")
	skipRef := fs.Bool("skip-reference", false, "ne pas charger le référentiel")
	depFlag := fs.String("departement", "", "code du département à charger depuis le référentiel national intégré (FNE_DEPARTEMENT ; 01…95, 2A, 2B, 971…974, 976 ; 69 = Rhône hors Métropole, 69M = Métropole de Lyon)")
	centroids := fs.String("centroids", "", "CSV code_insee,latitude,longitude des centroïdes des communes, avec --departement (FNE_CENTROIDS)")
	if err := parse(fs, usage, env, args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return usagef("argument inattendu « %s »", fs.Arg(0))
	}
	// FNE_DEPARTEMENT and FNE_CENTROIDS stand for the options when no reference option is given, so that
	// a deployment's migrate service keeps its département across restarts.
	if !*skipRef && *refDir == "" && *depFlag == "" && env.Getenv != nil {
		*depFlag = env.Getenv("FNE_DEPARTEMENT")
		if *depFlag != "" && *centroids == "" {
			*centroids = env.Getenv("FNE_CENTROIDS")
		}
	}
	// Parse the reference before touching the database: an invalid file changes nothing.
	parsed, note, err := migrateReference(*skipRef, *refDir, *depFlag, *centroids)
	if err != nil {
		return err
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
	if note != "" {
		fmt.Fprintln(env.Stdout, note)
	}
	if lr.Changed {
		fmt.Fprintf(env.Stdout, "Référentiel chargé : %s — %d EPCI, %s.\n", parsed.Ref.DepartementNom, lr.EPCI, nCommunes(lr.Communes))
	} else {
		fmt.Fprintf(env.Stdout, "Référentiel inchangé : %s — %d EPCI, %s.\n", parsed.Ref.DepartementNom, lr.EPCI, nCommunes(lr.Communes))
	}
	return nil
}

// migrateReference parses the reference that migrate loads: the shipped Rhône (default), a folder, or
// one département of the national reference with an optional centroid file. note tells what the
// centroids did.
func migrateReference(skip bool, dir, dep, centroids string) (*reference.Parsed, string, error) {
	switch {
	case skip && (dir != "" || dep != "" || centroids != ""):
		return nil, "", usagef("--skip-reference exclut --reference, --departement et --centroids")
	case skip:
		return nil, "", nil
	case dir != "" && dep != "":
		return nil, "", usagef("--reference et --departement s'excluent : un dossier décrit déjà son périmètre")
	case centroids != "" && dep == "":
		return nil, "", usagef("--centroids s'utilise avec --departement (un dossier --reference porte ses propres coordonnées)")
	case dep == "":
		p, err := reference.ParseDir(dir)
		return p, "", err
	}
	nat, err := reference.LoadNational()
	if err != nil {
		return nil, "", err
	}
	p, err := nat.Scope(dep)
	if err != nil {
		return nil, "", usagef("%v", err)
	}
	missing := 0
	for _, c := range p.Ref.Communes {
		if c.NoCentroid {
			missing++
		}
	}
	note := ""
	if centroids != "" {
		st, err := reference.ApplyCentroids(p, centroids)
		if err != nil {
			return nil, "", err
		}
		missing = st.Missing
		note = fmt.Sprintf("Centroïdes : %d communes renseignées, %d lignes hors périmètre ignorées.", st.Applied, st.Outside)
	}
	if missing > 0 {
		if note != "" {
			note += "\n"
		}
		note += fmt.Sprintf("%d commune(s) sans centroïde : « Population éloignée d'un lieu d'accompagnement » y sera « sans données » (ajoutez --centroids FICHIER).", missing)
	}
	return p, note, nil
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
	fmt.Fprintf(env.Stdout, "%s (%s) : %d EPCI, %s, population %s", ref.DepartementNom, ref.Root(), len(ref.EPCIs), nCommunes(len(ref.Communes)), thousands(root.Population))
	if pop2021 > 0 {
		fmt.Fprintf(env.Stdout, " (millésime 2021 : %s)", thousands(pop2021))
	}
	located := 0
	for _, c := range ref.Communes {
		if !c.NoCentroid {
			located++
		}
	}
	switch {
	case located == 0:
		fmt.Fprint(env.Stdout, "\nAucune commune n'a de centroïde : la population éloignée d'un lieu d'accompagnement est « sans données » (fne migrate --centroids FICHIER).")
	case located < len(ref.Communes):
		fmt.Fprintf(env.Stdout, "\n%d communes sur %d ont un centroïde : la population éloignée d'un lieu d'accompagnement est « sans données » là où il manque.", located, len(ref.Communes))
	}
	fmt.Fprint(env.Stdout, "\n\n")
	fmt.Fprintf(env.Stdout, "%-16s %-44s %9s %11s\n", "EPCI", "Nom", "Communes", "Population")
	for _, e := range ref.EPCIs {
		t, _ := ref.Resolve(idOf("epci", e.Siren))
		fmt.Fprintf(env.Stdout, "%-16s %-44s %9d %11s\n", "epci:"+e.Siren, truncate(e.Nom, 44), len(e.Communes), thousands(t.Population))
	}
	return nil
}
