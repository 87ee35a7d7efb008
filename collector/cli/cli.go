// Package cli implements the `fne` command line: one file per subcommand, French messages, English
// flags, and exit codes scripts can rely on (see Exit* constants).
package cli

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"regexp"
	"sort"
	"strings"
	"time"

	"github.com/ClickHouse/clickhouse-go/v2/lib/driver"

	"github.com/sdaasp-rhone/fne/collector/ingest"
	"github.com/sdaasp-rhone/fne/internal/migrate"
	"github.com/sdaasp-rhone/fne/internal/reference"
	"github.com/sdaasp-rhone/fne/internal/store"
	"github.com/sdaasp-rhone/fne/internal/territory"
)

// Exit codes.
const (
	ExitOK          = 0 // success (an ingestion with rejects is a success: rejects are reported and stored)
	ExitError       = 1 // the command failed
	ExitUsage       = 2 // unknown subcommand, bad flag or argument
	ExitUnreachable = 3 // ClickHouse unreachable or refused the credentials
	ExitInvalidData = 4 // invalid input refused whole (reference, config), or schema newer than the binary
	ExitRejects     = 5 // --strict ingestion that rejected rows
)

// Env is what a command may use: its output streams and the process environment.
type Env struct {
	Stdout, Stderr io.Writer
	Getenv         func(string) string
}

// command is one subcommand.
type command struct {
	name    string
	summary string
	run     func(ctx context.Context, env *Env, args []string) error
}

var commands = map[string]*command{}

func register(c *command) { commands[c.name] = c }

func init() { register(reportCommand()) } // fne report (report.go)

// usageError is a mistake in the command line (exit 2).
type usageError struct{ msg string }

func (e usageError) Error() string { return e.msg }

func usagef(format string, args ...any) error { return usageError{fmt.Sprintf(format, args...)} }

// exitError carries an explicit exit code.
type exitError struct {
	code int
	err  error
}

func (e exitError) Error() string { return e.err.Error() }
func (e exitError) Unwrap() error { return e.err }

// Main runs the CLI and returns the process exit code.
func Main(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	env := &Env{Stdout: stdout, Stderr: stderr, Getenv: os.Getenv}
	if len(args) == 0 || args[0] == "help" || args[0] == "-h" || args[0] == "--help" || args[0] == "-help" {
		if len(args) > 1 {
			if c, ok := commands[args[1]]; ok {
				return code(env, c.run(ctx, env, []string{"-h"}))
			}
			fmt.Fprintf(stderr, "fne : aide demandée pour une sous-commande inconnue « %s ».\n\n", sanitize(args[1]))
			printUsage(stderr)
			return ExitUsage
		}
		printUsage(stdout)
		if len(args) == 0 {
			return ExitUsage
		}
		return ExitOK
	}
	c, ok := commands[args[0]]
	if !ok {
		fmt.Fprintf(stderr, "fne : sous-commande inconnue « %s ».\n\n", sanitize(args[0]))
		printUsage(stderr)
		return ExitUsage
	}
	return code(env, c.run(ctx, env, args[1:]))
}

func code(env *Env, err error) int {
	if err == nil {
		return ExitOK
	}
	if errors.Is(err, flag.ErrHelp) {
		return ExitOK
	}
	fmt.Fprintf(env.Stderr, "fne : %s\n", sanitize(systemFr.Replace(err.Error())))
	var ue usageError
	var ee exitError
	switch {
	case errors.As(err, &ue):
		fmt.Fprintln(env.Stderr, "Voir « fne help » pour l'aide.")
		return ExitUsage
	case errors.As(err, &ee):
		return ee.code
	case errors.Is(err, store.ErrUnreachable), errors.Is(err, store.ErrAuth):
		return ExitUnreachable
	case errors.Is(err, ingest.ErrInvalidInput):
		return ExitInvalidData
	case errors.Is(err, reference.ErrInvalid), errors.Is(err, migrate.ErrSchemaTooNew), errors.Is(err, store.ErrConfig),
		errors.Is(err, store.ErrNoDatabase), errors.Is(err, reference.ErrNotLoaded):
		return ExitInvalidData
	case errors.Is(err, territory.ErrInvalidID), errors.Is(err, territory.ErrUnknown):
		return ExitUsage
	}
	return ExitError
}

func printUsage(w io.Writer) {
	fmt.Fprintln(w, `fne — indicateurs de pilotage de la feuille de route France Numérique Ensemble

Usage : fne <sous-commande> [options]

Sous-commandes :`)
	names := make([]string, 0, len(commands))
	for n := range commands {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		fmt.Fprintf(w, "  %-12s %s\n", n, commands[n].summary)
	}
	fmt.Fprintln(w, `
Connexion à ClickHouse (toutes les sous-commandes) : options --addr, --database, --user, --password-file,
--secure, ou variables FNE_CLICKHOUSE_ADDR (défaut 127.0.0.1:9000), FNE_CLICKHOUSE_DATABASE (défaut fne),
FNE_CLICKHOUSE_USER, FNE_CLICKHOUSE_PASSWORD ou FNE_CLICKHOUSE_PASSWORD_FILE, FNE_CLICKHOUSE_SECURE,
FNE_CLICKHOUSE_DIAL_TIMEOUT et FNE_CLICKHOUSE_QUERY_TIMEOUT (secondes).

Codes de sortie : 0 succès, 1 échec, 2 usage incorrect, 3 ClickHouse injoignable ou accès refusé,
4 données ou schéma invalides, 5 rejets avec --strict.

« fne help <sous-commande> » détaille ses options.`)
}

// flagSet builds a FlagSet whose errors and help are in French.
func flagSet(name, usage string, env *Env) *flag.FlagSet {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	fs.Usage = func() {}
	fs.Init(name, flag.ContinueOnError)
	_ = usage
	return fs
}

// parse parses args, translating the standard library's English errors.
func parse(fs *flag.FlagSet, usage string, env *Env, args []string) error {
	err := fs.Parse(args)
	if err == nil {
		return nil
	}
	if errors.Is(err, flag.ErrHelp) {
		fmt.Fprintf(env.Stdout, "Usage : fne %s %s\n\nOptions :\n", fs.Name(), usage)
		fs.VisitAll(func(f *flag.Flag) {
			def := ""
			if f.DefValue != "" && f.DefValue != "false" && f.DefValue != "0" && f.DefValue != "0s" {
				def = fmt.Sprintf(" (défaut %s)", f.DefValue)
			}
			fmt.Fprintf(env.Stdout, "  --%-16s %s%s\n", f.Name, f.Usage, def)
		})
		return flag.ErrHelp
	}
	msg := err.Error()
	switch {
	case strings.HasPrefix(msg, "flag provided but not defined: "):
		return usagef("option inconnue %s pour « fne %s »", strings.TrimPrefix(msg, "flag provided but not defined: "), fs.Name())
	case strings.HasPrefix(msg, "flag needs an argument: "):
		return usagef("l'option %s attend une valeur", strings.TrimPrefix(msg, "flag needs an argument: "))
	case flagInvalid.MatchString(msg):
		m := flagInvalid.FindStringSubmatch(msg)
		want := m[3] // a Var of ours explains itself in French
		if f := fs.Lookup(m[2]); f != nil {
			switch fmt.Sprintf("%T", f.Value) {
			case "*flag.intValue", "*flag.int64Value", "*flag.uintValue", "*flag.uint64Value":
				want = "nombre entier attendu"
			case "*flag.float64Value":
				want = "nombre attendu"
			case "*flag.durationValue":
				want = "durée attendue, ex. 5s, 2m ou 1h"
			case "*flag.boolValue":
				want = "true ou false attendu"
			}
		}
		return usagef("valeur « %s » invalide pour l'option --%s (%s)", m[1], m[2], want)
	case strings.HasPrefix(msg, "invalid boolean value "):
		return usagef("valeur booléenne invalide : %s (true ou false attendu)", strings.TrimPrefix(msg, "invalid boolean value "))
	}
	return usagef("option invalide")
}

// systemFr translates, at the boundary, the English of system and library errors that a message may
// still carry (the sources and the store translate what they know; this is the safety net).
var systemFr = strings.NewReplacer(
	"context canceled", "opération interrompue",
	"context deadline exceeded", "délai dépassé",
	"is a directory", "est un dossier",
	"permission denied", "permission refusée",
	"no such file or directory", "fichier ou dossier introuvable",
	"zip: not a valid zip file", "archive zip invalide",
	"unexpected EOF", "fin de fichier inattendue",
	"connection refused", "connexion refusée",
	"connection reset by peer", "connexion coupée par le serveur",
	"i/o timeout", "délai dépassé",
	"no such host", "serveur inconnu",
	"invalid character", "caractère invalide",
)

// flagInvalid is the standard library's message for a value that does not parse.
var flagInvalid = regexp.MustCompile(`^invalid value "(.*)" for flag -(\S+): (.*)$`)

// sanitize makes a message safe for a terminal: control characters (an escape sequence in a file name
// or a cell) are shown as \xNN, never sent raw; line breaks inside a message are kept.
func sanitize(s string) string {
	clean := true
	for _, r := range s {
		if (r < 0x20 && r != '\n' && r != '\t') || (r >= 0x7f && r < 0xa0) {
			clean = false
			break
		}
	}
	if clean {
		return s
	}
	var b strings.Builder
	for _, r := range s {
		if (r < 0x20 && r != '\n' && r != '\t') || (r >= 0x7f && r < 0xa0) {
			fmt.Fprintf(&b, "\\x%02x", r)
			continue
		}
		b.WriteRune(r)
	}
	return b.String()
}

// connFlags are the connection options every subcommand accepts.
type connFlags struct {
	addr, database, user, passwordFile string
	secure                             bool
	dialTimeout, queryTimeout          time.Duration
}

func (c *connFlags) register(fs *flag.FlagSet) {
	fs.StringVar(&c.addr, "addr", "", "adresse native hôte:port de ClickHouse, plusieurs séparées par des virgules pour un cluster (FNE_CLICKHOUSE_ADDR, défaut 127.0.0.1:9000)")
	fs.StringVar(&c.database, "database", "", "base de données (FNE_CLICKHOUSE_DATABASE, défaut fne)")
	fs.StringVar(&c.user, "user", "", "utilisateur ClickHouse (FNE_CLICKHOUSE_USER)")
	fs.StringVar(&c.passwordFile, "password-file", "", "fichier contenant le mot de passe (FNE_CLICKHOUSE_PASSWORD_FILE)")
	fs.BoolVar(&c.secure, "secure", false, "connexion TLS (FNE_CLICKHOUSE_SECURE)")
	fs.DurationVar(&c.dialTimeout, "dial-timeout", 0, "délai de connexion, ex. 5s")
	fs.DurationVar(&c.queryTimeout, "query-timeout", 0, "délai maximal d'une requête, ex. 60s")
}

// config merges environment then flags (flags win).
func (c *connFlags) config() (store.Config, error) {
	cfg, err := store.Config{}.FromEnv()
	if err != nil {
		return cfg, err
	}
	if c.addr != "" {
		cfg.Addr = c.addr
	}
	if c.database != "" {
		cfg.Database = c.database
	}
	if c.user != "" {
		cfg.Username = c.user
	}
	if c.passwordFile != "" {
		b, err := os.ReadFile(c.passwordFile)
		if err != nil {
			return cfg, fmt.Errorf("%w : lecture de --password-file : %v", store.ErrConfig, err)
		}
		cfg.Password = strings.TrimRight(string(b), "\r\n")
	}
	if c.secure {
		cfg.Secure = true
	}
	if c.dialTimeout > 0 {
		cfg.DialTimeout = c.dialTimeout
	}
	if c.queryTimeout > 0 {
		cfg.QueryTimeout = c.queryTimeout
	}
	cfg = cfg.WithDefaults()
	return cfg, cfg.Validate()
}

// open connects and checks that the schema is the binary's (read and write commands after migrate).
func (c *connFlags) open(ctx context.Context) (driver.Conn, store.Config, error) {
	cfg, err := c.config()
	if err != nil {
		return nil, cfg, err
	}
	conn, err := store.Open(ctx, cfg)
	if err != nil {
		return nil, cfg, err
	}
	cur, latest, err := migrate.Check(ctx, conn)
	if err != nil {
		_ = conn.Close()
		if errors.Is(err, migrate.ErrSchemaTooNew) {
			return nil, cfg, err
		}
		return nil, cfg, fmt.Errorf("%w : la base %s n'est pas initialisée (lancez « fne migrate ») : %v", store.ErrNoDatabase, cfg.Database, err)
	}
	if cur < latest {
		_ = conn.Close()
		return nil, cfg, fmt.Errorf("%w : la base %s est en version %d, ce binaire attend la version %d : lancez « fne migrate »", store.ErrNoDatabase, cfg.Database, cur, latest)
	}
	return conn, cfg, nil
}
