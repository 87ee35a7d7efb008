package cli

import (
	"context"
	"log/slog"
	"time"

	"github.com/sdaasp-rhone/fne/collector/daemon"
	"github.com/sdaasp-rhone/fne/collector/ingest"
	"github.com/sdaasp-rhone/fne/collector/sources"
)

func init() {
	register(&command{name: "run", summary: "démon de collecte planifiée (config YAML), /metrics et /healthz", run: runDaemon})
}

func runDaemon(ctx context.Context, env *Env, args []string) error {
	const usage = "--config FICHIER [--listen ADRESSE] [--grace DURÉE] [--log-format text|json]"
	var cf connFlags
	fs := flagSet("run", usage, env)
	cf.register(fs)
	cfgPath := fs.String("config", "", "configuration YAML des sources et de leurs planifications (obligatoire)")
	listen := fs.String("listen", "127.0.0.1:9464", "adresse HTTP de /metrics et /healthz")
	grace := fs.Duration("grace", daemon.DefaultGrace, "délai laissé à une collecte en cours lors de l'arrêt avant de l'annuler")
	logFormat := fs.String("log-format", "text", "format des journaux : text ou json")
	if err := parse(fs, usage, env, args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return usagef("argument inattendu « %s »", fs.Arg(0))
	}
	if *cfgPath == "" {
		return usagef("l'option --config est obligatoire")
	}
	if *grace <= 0 {
		return usagef("--grace attend une durée positive, ex. 30s")
	}
	var handler slog.Handler
	switch *logFormat {
	case "text":
		handler = slog.NewTextHandler(env.Stderr, nil)
	case "json":
		handler = slog.NewJSONHandler(env.Stderr, nil)
	default:
		return usagef("--log-format attend text ou json, pas « %s »", *logFormat)
	}
	reg := sources.Registry()
	cfg, err := daemon.LoadConfig(*cfgPath, reg.Names())
	if err != nil {
		return exitError{ExitInvalidData, err}
	}
	conn, _, err := cf.open(ctx)
	if err != nil {
		return err
	}
	defer conn.Close()
	d, err := daemon.New(daemon.Options{
		Config:   cfg,
		Registry: reg,
		Runner:   &ingest.Runner{Conn: conn},
		Conn:     conn,
		Listen:   *listen,
		Grace:    *grace,
		Logger:   slog.New(handler),
		Now:      time.Now,
	})
	if err != nil {
		return exitError{ExitInvalidData, err}
	}
	return d.Run(ctx)
}
