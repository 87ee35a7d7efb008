// Package chtest gives storage tests a fresh database on the real ClickHouse server started by
// `make clickhouse-up` (FNE_TEST_CLICKHOUSE_ADDR, default 127.0.0.1:9000). There is no mock and no skip:
// when the server is not reachable the test fails, so a green suite always means storage was exercised.
package chtest

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"os"
	"testing"
	"time"

	"github.com/ClickHouse/clickhouse-go/v2/lib/driver"

	"github.com/sdaasp-rhone/fne/internal/migrate"
	"github.com/sdaasp-rhone/fne/internal/reference"
	"github.com/sdaasp-rhone/fne/internal/store"
	"github.com/sdaasp-rhone/fne/internal/territory"
)

// DB is a throw-away database, dropped when the test ends.
type DB struct {
	Conn   driver.Conn
	Config store.Config
}

// Addr is the test server's native address.
func Addr() string {
	if a := os.Getenv("FNE_TEST_CLICKHOUSE_ADDR"); a != "" {
		return a
	}
	return store.DefaultAddr
}

// Empty creates an empty database (no migrations).
func Empty(t testing.TB) *DB {
	t.Helper()
	b := make([]byte, 6)
	_, _ = rand.Read(b)
	cfg := store.Config{Addr: Addr(), Database: "fne_t_" + hex.EncodeToString(b)}.WithDefaults()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	conn, err := store.EnsureDatabase(ctx, cfg)
	if err != nil {
		t.Fatalf("ClickHouse de test injoignable sur %s (lancez « make clickhouse-up ») : %v", cfg.Addr, err)
	}
	t.Cleanup(func() {
		if os.Getenv("FNE_TEST_KEEP_DB") == "" {
			_ = conn.Exec(context.Background(), "DROP DATABASE IF EXISTS "+cfg.Database)
		}
		_ = conn.Close()
	})
	return &DB{Conn: conn, Config: cfg}
}

// Migrated creates a database with every migration applied.
func Migrated(t testing.TB) *DB {
	t.Helper()
	db := Empty(t)
	ms, err := migrate.Load()
	if err != nil {
		t.Fatal(err)
	}
	if _, err := migrate.Apply(context.Background(), db.Conn, ms, migrate.Options{}); err != nil {
		t.Fatalf("migrations : %v", err)
	}
	return db
}

// WithReference creates a migrated database holding the default (embedded) reference, and returns it.
func WithReference(t testing.TB) (*DB, *territory.Reference) {
	t.Helper()
	db := Migrated(t)
	p, err := reference.ParseDir("")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := reference.Load(context.Background(), db.Conn, p); err != nil {
		t.Fatalf("chargement du référentiel : %v", err)
	}
	ref, err := reference.Current(context.Background(), db.Conn)
	if err != nil {
		t.Fatal(err)
	}
	return db, ref
}

// Insert writes rows into a table with the batch API (inline INSERT … VALUES hangs on 18.16 with this
// driver), failing the test on any error. query is "INSERT INTO table (col, …)".
func Insert(t testing.TB, conn driver.Conn, query string, rows ...[]any) {
	t.Helper()
	b, err := conn.PrepareBatch(context.Background(), query)
	if err != nil {
		t.Fatalf("%s : %v", query, err)
	}
	for _, r := range rows {
		if err := b.Append(r...); err != nil {
			t.Fatalf("%s %v : %v", query, r, err)
		}
	}
	if err := b.Send(); err != nil {
		t.Fatalf("%s : %v", query, err)
	}
}

// Day parses "YYYY-MM-DD" as midnight UTC, for fixtures.
func Day(s string) time.Time {
	t, err := time.Parse("2006-01-02", s)
	if err != nil {
		panic(err)
	}
	return t
}
