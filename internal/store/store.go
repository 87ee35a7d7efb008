// Package store opens ClickHouse connections for the collector, the engine and the plugin, from one
// configuration shape (flags, FNE_CLICKHOUSE_* variables or the datasource settings).
package store

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"regexp"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/ClickHouse/clickhouse-go/v2"
	"github.com/ClickHouse/clickhouse-go/v2/lib/driver"
)

// Config is how to reach the database. Zero values take the defaults of the README (« Connexion à ClickHouse »).
type Config struct {
	Addr         string        // host:port of the native protocol, default 127.0.0.1:9000; several: comma-separated
	Database     string        // default "fne"
	Username     string        // default "default"
	Password     string        // never logged
	Secure       bool          // TLS
	DialTimeout  time.Duration // default 5 s
	QueryTimeout time.Duration // default 60 s (read timeout of the connection)
}

// Defaults of the README (« Connexion à ClickHouse »).
const (
	DefaultAddr     = "127.0.0.1:9000"
	DefaultDatabase = "fne"
)

var dbName = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_]{0,63}$`)

// WithDefaults fills the unset fields.
func (c Config) WithDefaults() Config {
	if c.Addr == "" {
		c.Addr = DefaultAddr
	}
	if c.Database == "" {
		c.Database = DefaultDatabase
	}
	if c.Username == "" {
		c.Username = "default"
	}
	if c.DialTimeout <= 0 {
		c.DialTimeout = 5 * time.Second
	}
	if c.QueryTimeout <= 0 {
		c.QueryTimeout = 60 * time.Second
	}
	return c
}

// Validate checks what would otherwise fail obscurely later (database names are pasted into DDL).
func (c Config) Validate() error {
	if !dbName.MatchString(c.Database) {
		return fmt.Errorf("%w : nom de base de données invalide %q (lettres, chiffres et _ uniquement)", ErrConfig, c.Database)
	}
	return nil
}

// FromEnv overlays the FNE_CLICKHOUSE_* environment variables on c: ADDR, DATABASE, USER, PASSWORD,
// PASSWORD_FILE, SECURE, DIAL_TIMEOUT and QUERY_TIMEOUT (seconds).
func (c Config) FromEnv() (Config, error) {
	get := os.Getenv
	if v := get("FNE_CLICKHOUSE_ADDR"); v != "" {
		c.Addr = v
	}
	if v := get("FNE_CLICKHOUSE_DATABASE"); v != "" {
		c.Database = v
	}
	if v := get("FNE_CLICKHOUSE_USER"); v != "" {
		c.Username = v
	}
	if v := get("FNE_CLICKHOUSE_PASSWORD"); v != "" {
		c.Password = v
	}
	if f := get("FNE_CLICKHOUSE_PASSWORD_FILE"); f != "" {
		b, err := os.ReadFile(f)
		if err != nil {
			return c, fmt.Errorf("%w : lecture de FNE_CLICKHOUSE_PASSWORD_FILE : %v", ErrConfig, err)
		}
		c.Password = trimNewline(string(b))
	}
	if v := get("FNE_CLICKHOUSE_SECURE"); v != "" {
		b, err := strconv.ParseBool(v)
		if err != nil {
			return c, fmt.Errorf("%w : FNE_CLICKHOUSE_SECURE attend true ou false, pas %q", ErrConfig, v)
		}
		c.Secure = b
	}
	for name, dst := range map[string]*time.Duration{"FNE_CLICKHOUSE_DIAL_TIMEOUT": &c.DialTimeout, "FNE_CLICKHOUSE_QUERY_TIMEOUT": &c.QueryTimeout} {
		if v := get(name); v != "" {
			n, err := strconv.Atoi(v)
			if err != nil || n <= 0 {
				return c, fmt.Errorf("%w : %s attend un nombre de secondes positif, pas %q", ErrConfig, name, v)
			}
			*dst = time.Duration(n) * time.Second
		}
	}
	return c, nil
}

func trimNewline(s string) string {
	for len(s) > 0 && (s[len(s)-1] == '\n' || s[len(s)-1] == '\r') {
		s = s[:len(s)-1]
	}
	return s
}

// Open connects to c.Database and checks the connection with a ping. The database must exist: use
// EnsureDatabase first where it may not.
func Open(ctx context.Context, c Config) (driver.Conn, error) {
	return open(ctx, c.WithDefaults(), false)
}

func open(ctx context.Context, c Config, serverDefaultDB bool) (driver.Conn, error) {
	if err := c.Validate(); err != nil {
		return nil, err
	}
	db := c.Database
	if serverDefaultDB {
		db = "default"
	}
	opts := &clickhouse.Options{
		// Several comma-separated addresses (the servers of a cluster): the driver connects to the first
		// that answers and moves to the next one when a connection breaks.
		Addr:         strings.Split(c.Addr, ","),
		Auth:         clickhouse.Auth{Database: db, Username: c.Username, Password: c.Password},
		DialTimeout:  c.DialTimeout,
		ReadTimeout:  c.QueryTimeout,
		MaxOpenConns: 8,
		MaxIdleConns: 4,
		Compression:  &clickhouse.Compression{Method: clickhouse.CompressionLZ4},
		// The engine binds the reference's communes as arrays in its queries: a national reference
		// (35 000 communes) makes a query of ≈ 600 kB, beyond the server's default 256 kB.
		Settings: clickhouse.Settings{"max_query_size": 16 << 20},
	}
	if c.Secure {
		opts.TLS = &tls.Config{MinVersion: tls.VersionTLS12}
	}
	conn, err := clickhouse.Open(opts)
	if err != nil {
		return nil, fmt.Errorf("%w (%s) : %v", ErrUnreachable, c.Addr, err)
	}
	pctx, cancel := context.WithTimeout(ctx, c.DialTimeout+2*time.Second)
	defer cancel()
	if err := conn.Ping(pctx); err != nil {
		_ = conn.Close()
		return nil, classify(c, err)
	}
	return conn, nil
}

// EnsureDatabase creates c.Database when it does not exist, then opens it.
func EnsureDatabase(ctx context.Context, c Config) (driver.Conn, error) {
	c = c.WithDefaults()
	admin, err := open(ctx, c, true)
	if err != nil {
		return nil, err
	}
	err = admin.Exec(ctx, "CREATE DATABASE IF NOT EXISTS "+c.Database)
	_ = admin.Close()
	if err != nil {
		return nil, fmt.Errorf("création de la base %s : %w", c.Database, err)
	}
	return open(ctx, c, false)
}

func classify(c Config, err error) error {
	if ex, ok := err.(*clickhouse.Exception); ok {
		switch ex.Code {
		case 81: // UNKNOWN_DATABASE
			return fmt.Errorf("%w : la base %q n'existe pas sur %s (lancez « fne migrate »)", ErrNoDatabase, c.Database, c.Addr)
		case 516, 192, 193, 194: // authentication failures
			return fmt.Errorf("%w : l'utilisateur %q est refusé par %s", ErrAuth, c.Username, c.Addr)
		}
		return fmt.Errorf("ClickHouse %s : %s", c.Addr, ex.Message)
	}
	return fmt.Errorf("%w (%s) : %v", ErrUnreachable, c.Addr, err)
}

// Classify maps an error of a query or an insert to the sentinels callers act on: ErrAuth when the
// server refuses the credentials, ErrUnreachable when the connection is lost or cannot be made, and a
// French message with the server's code for any other refusal (a missing table, a bad value), which is
// neither. An error already classified, or a cancellation, is returned as it is.
func Classify(err error) error {
	if err == nil || errors.Is(err, ErrUnreachable) || errors.Is(err, ErrAuth) || errors.Is(err, ErrNoDatabase) ||
		errors.Is(err, context.Canceled) {
		return err
	}
	var ex *clickhouse.Exception
	if errors.As(err, &ex) {
		switch ex.Code {
		case 516, 192, 193, 194, 497, 164: // authentication failed, access denied, read-only user
			return fmt.Errorf("%w (code %d)", ErrAuth, ex.Code)
		case 81:
			return fmt.Errorf("%w (code %d) : lancez « fne migrate »", ErrNoDatabase, ex.Code)
		}
		return &ServerError{Code: ex.Code, Message: ex.Message}
	}
	var ne net.Error
	if errors.As(err, &ne) || errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, syscall.ECONNREFUSED) ||
		errors.Is(err, syscall.ECONNRESET) || errors.Is(err, syscall.EPIPE) || errors.Is(err, context.DeadlineExceeded) ||
		errors.Is(err, clickhouse.ErrAcquireConnTimeout) {
		return fmt.Errorf("%w : %v", ErrUnreachable, err)
	}
	return err
}

// ServerError is a query the server refused: not a connection problem.
type ServerError struct {
	Code    int32
	Message string
}

// serverErrorsFr says in French what the codes a user may meet mean; the server's English message is
// kept in ServerError.Message for the logs.
var serverErrorsFr = map[int32]string{
	60:  "table inconnue : schéma absent ou ancien (lancez « fne migrate »)",
	16:  "colonne inconnue : schéma ancien (lancez « fne migrate »)",
	47:  "colonne inconnue : schéma ancien (lancez « fne migrate »)",
	53:  "valeur d'un type inattendu pour une colonne",
	159: "délai de la requête dépassé",
	202: "trop de requêtes simultanées sur le serveur",
	241: "mémoire du serveur insuffisante pour la requête",
	252: "trop de parts en attente de fusion : le serveur ralentit les écritures, réessayez",
	394: "requête annulée",
}

func (e *ServerError) Error() string {
	if fr, ok := serverErrorsFr[e.Code]; ok {
		return fmt.Sprintf("ClickHouse a refusé la requête (code %d) : %s", e.Code, fr)
	}
	return fmt.Sprintf("ClickHouse a refusé la requête (code %d, voir le journal du serveur)", e.Code)
}
