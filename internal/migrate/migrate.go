// Package migrate applies the numbered SQL migrations of schemas/clickhouse to a database, records them in
// schema_migrations, and refuses to touch a schema newer than the binary. Every migration statement is
// idempotent (IF NOT EXISTS), so a migration interrupted half-way is simply applied again.
package migrate

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"path"
	"regexp"
	"sort"
	"strconv"
	"time"

	"github.com/ClickHouse/clickhouse-go/v2/lib/driver"

	"github.com/sdaasp-rhone/fne/schemas"
)

// ErrSchemaTooNew means the database was migrated by a newer binary: running older code against it could
// corrupt data, so every command refuses.
var ErrSchemaTooNew = errors.New("schéma de base plus récent que ce binaire")

// Migration is one numbered SQL file.
type Migration struct {
	Version    int
	Name       string
	Statements []string
	Checksum   string
}

var fileName = regexp.MustCompile(`^(\d{4})_([a-z0-9_]+)\.sql$`)

// Load reads the migrations embedded in the binary, ordered by version.
func Load() ([]Migration, error) { return LoadFS(schemas.ClickHouse, "clickhouse") }

// LoadFS reads NNNN_name.sql files from dir of fsys.
func LoadFS(fsys fs.FS, dir string) ([]Migration, error) {
	entries, err := fs.ReadDir(fsys, dir)
	if err != nil {
		return nil, err
	}
	var out []Migration
	seen := map[int]string{}
	for _, e := range entries {
		m := fileName.FindStringSubmatch(e.Name())
		if m == nil {
			return nil, fmt.Errorf("fichier de migration mal nommé : %s (attendu NNNN_nom.sql)", e.Name())
		}
		v, _ := strconv.Atoi(m[1])
		if prev, dup := seen[v]; dup {
			return nil, fmt.Errorf("deux migrations portent le numéro %d : %s et %s", v, prev, e.Name())
		}
		seen[v] = e.Name()
		body, err := fs.ReadFile(fsys, path.Join(dir, e.Name()))
		if err != nil {
			return nil, err
		}
		sum := sha256.Sum256(body)
		out = append(out, Migration{Version: v, Name: m[2], Statements: SplitStatements(string(body)), Checksum: hex.EncodeToString(sum[:])})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Version < out[j].Version })
	return out, nil
}

// Options change how statements are generated.
type Options struct {
	// Cluster, when set, creates every table ON CLUSTER with Replicated engines and a Distributed table
	// in front (see Rewrite). Empty: a single server.
	Cluster string
	// Database is the database the statements create tables in; in cluster mode Apply fills it with the
	// connection's database when empty (DDL run ON CLUSTER must name it: each server executes it in its
	// own default database otherwise).
	Database string
}

const historyDDL = `CREATE TABLE IF NOT EXISTS schema_migrations (
    version UInt32,
    name String,
    checksum String,
    applied_at DateTime
) ENGINE = ReplacingMergeTree ORDER BY version`

// Result says what Apply did.
type Result struct {
	Applied []Migration // newly applied, in order
	Current int         // schema version after the run
}

// Apply brings the database conn points at up to the newest migration.
func Apply(ctx context.Context, conn driver.Conn, migrations []Migration, opts Options) (Result, error) {
	var res Result
	if opts.Cluster != "" {
		if opts.Database == "" {
			if err := conn.QueryRow(ctx, "SELECT currentDatabase()").Scan(&opts.Database); err != nil {
				return res, err
			}
		}
		if err := conn.Exec(ctx, CreateDatabase(opts)); err != nil {
			return res, fmt.Errorf("création de la base %s sur le cluster %s : %w", opts.Database, opts.Cluster, err)
		}
	}
	for _, stmt := range Rewrite(historyDDL, opts) {
		if err := conn.Exec(ctx, stmt); err != nil {
			return res, fmt.Errorf("création de la table schema_migrations : %w", err)
		}
	}
	current, err := CurrentVersion(ctx, conn)
	if err != nil {
		return res, err
	}
	latest := 0
	if len(migrations) > 0 {
		latest = migrations[len(migrations)-1].Version
	}
	if current > latest {
		return res, fmt.Errorf("%w : la base est en version %d, ce binaire connaît jusqu'à la version %d ; mettez fne à jour", ErrSchemaTooNew, current, latest)
	}
	res.Current = current
	for _, m := range migrations {
		if m.Version <= current {
			continue
		}
		for i, stmt := range m.Statements {
			for _, s := range Rewrite(stmt, opts) {
				if err := conn.Exec(ctx, s); err != nil {
					return res, fmt.Errorf("migration %04d_%s, instruction %d : %w", m.Version, m.Name, i+1, err)
				}
			}
			if table, ok := alteredColumns(stmt); ok && opts.Cluster != "" {
				if err := recreateDistributed(ctx, conn, opts, table); err != nil {
					return res, fmt.Errorf("migration %04d_%s, instruction %d : %w", m.Version, m.Name, i+1, err)
				}
			}
		}
		batch, err := conn.PrepareBatch(ctx, "INSERT INTO schema_migrations (version, name, checksum, applied_at)")
		if err != nil {
			return res, err
		}
		if err := batch.Append(uint32(m.Version), m.Name, m.Checksum, time.Now().UTC()); err != nil {
			return res, err
		}
		if err := batch.Send(); err != nil {
			return res, fmt.Errorf("enregistrement de la migration %04d : %w", m.Version, err)
		}
		res.Applied = append(res.Applied, m)
		res.Current = m.Version
	}
	return res, nil
}

// CurrentVersion is the highest applied migration, 0 on an empty database.
func CurrentVersion(ctx context.Context, conn driver.Conn) (int, error) {
	var v uint32
	row := conn.QueryRow(ctx, "SELECT toUInt32(max(version)) FROM schema_migrations")
	if err := row.Scan(&v); err != nil {
		return 0, fmt.Errorf("lecture de la version du schéma : %w", err)
	}
	return int(v), nil
}

// Check verifies, without changing anything, that the schema is exactly the binary's: the plugin's health
// check and the read-only commands use it.
func Check(ctx context.Context, conn driver.Conn) (current, latest int, err error) {
	ms, err := Load()
	if err != nil {
		return 0, 0, err
	}
	latest = ms[len(ms)-1].Version
	current, err = CurrentVersion(ctx, conn)
	if err != nil {
		return 0, latest, err
	}
	if current > latest {
		return current, latest, fmt.Errorf("%w : base en version %d, binaire en version %d", ErrSchemaTooNew, current, latest)
	}
	return current, latest, nil
}
