// Package clustertest gives the cluster tests (build tags integration and cluster, `make test-cluster`)
// a throw-away database on the loopback cluster of deploy/clickhouse/cluster (2 shards × 2 replicas,
// started by `make cluster-up`), migrated with `fne migrate --cluster`'s code, and the means to kill and
// restart one of its servers. Like chtest, there is no skip: without the cluster the tests fail.
package clustertest

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/ClickHouse/clickhouse-go/v2/lib/driver"

	"github.com/sdaasp-rhone/fne/internal/migrate"
	"github.com/sdaasp-rhone/fne/internal/store"
)

// Name is the cluster of deploy/clickhouse/cluster/config.xml.
const Name = "fne_cluster"

// Nodes is the number of servers: n1, n2 (shard 01) and n3, n4 (shard 02).
const Nodes = 4

// Addr is the native address of node n (1-based).
func Addr(n int) string { return fmt.Sprintf("127.0.0.1:%d", 9100+n) }

// Addrs is every node's address, comma-separated, starting with node first (what store.Config.Addr
// accepts: the driver falls back to the next one).
func Addrs(first int) string {
	var out []string
	for i := 0; i < Nodes; i++ {
		out = append(out, Addr((first-1+i)%Nodes+1))
	}
	return strings.Join(out, ",")
}

// DB is a database created on every node of the cluster, dropped when the test ends.
type DB struct {
	Name string
}

// Config is the connection configuration of node n (0: every node, n1 first).
func (d *DB) Config(n int) store.Config {
	addr := Addrs(1)
	if n > 0 {
		addr = Addr(n)
	}
	return store.Config{Addr: addr, Database: d.Name, QueryTimeout: 120 * time.Second}.WithDefaults()
}

// Conn opens a connection to node n (0: every node), closed when the test ends.
func (d *DB) Conn(t testing.TB, n int) driver.Conn {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	c, err := store.Open(ctx, d.Config(n))
	if err != nil {
		t.Fatalf("nœud %d du cluster : %v", n, err)
	}
	t.Cleanup(func() { _ = c.Close() })
	return c
}

// Empty names a fresh database and drops it ON CLUSTER at the end, without creating it (fne migrate
// --cluster does).
func Empty(t testing.TB) *DB {
	t.Helper()
	b := make([]byte, 5)
	_, _ = rand.Read(b)
	d := &DB{Name: "fne_c_" + hex.EncodeToString(b)}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	admin, err := store.Open(ctx, store.Config{Addr: Addr(1), Database: "default"})
	if err != nil {
		t.Fatalf("cluster de test injoignable sur %s (lancez « make cluster-up ») : %v", Addr(1), err)
	}
	t.Cleanup(func() {
		defer admin.Close()
		if os.Getenv("FNE_TEST_KEEP_DB") != "" {
			return
		}
		if err := admin.Exec(context.Background(), fmt.Sprintf("DROP DATABASE IF EXISTS %s ON CLUSTER '%s'", d.Name, Name)); err != nil {
			t.Logf("suppression de %s : %v", d.Name, err)
		}
	})
	return d
}

// Migrated is Empty plus every migration applied ON CLUSTER through node 1.
func Migrated(t testing.TB) *DB {
	t.Helper()
	d := Empty(t)
	ctx := context.Background()
	conn, err := store.EnsureDatabase(ctx, d.Config(1))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	ms, err := migrate.Load()
	if err != nil {
		t.Fatal(err)
	}
	if _, err := migrate.Apply(ctx, conn, ms, migrate.Options{Cluster: Name}); err != nil {
		t.Fatalf("migrations sur le cluster : %v", err)
	}
	return d
}

// Sync waits until every replica of every node has fetched every part of d's replicated tables: a read
// through a Distributed table may be served by either replica of a shard, and a replica catches up
// asynchronously (replication is eventual; see README « Mode cluster »).
func (d *DB) Sync(t testing.TB) {
	t.Helper()
	ctx := context.Background()
	for n := 1; n <= Nodes; n++ {
		c := d.Conn(t, n)
		rows, err := c.Query(ctx, "SELECT name FROM system.tables WHERE database = ? AND engine LIKE 'Replicated%'", d.Name)
		if err != nil {
			t.Fatal(err)
		}
		var tables []string
		for rows.Next() {
			var s string
			if err := rows.Scan(&s); err != nil {
				t.Fatal(err)
			}
			tables = append(tables, s)
		}
		rows.Close()
		for _, tb := range tables {
			if err := c.Exec(ctx, fmt.Sprintf("SYSTEM SYNC REPLICA %s.%s", d.Name, tb)); err != nil {
				t.Fatalf("n%d SYSTEM SYNC REPLICA %s : %v", n, tb, err)
			}
		}
	}
}

// Kill sends SIGKILL to node n; Start restarts it (deploy/clickhouse/cluster/cluster.sh kill|start).
func Kill(t testing.TB, n int)  { t.Helper(); script(t, "kill", fmt.Sprint(n)) }
func Start(t testing.TB, n int) { t.Helper(); script(t, "start", fmt.Sprint(n)) }

func script(t testing.TB, args ...string) {
	t.Helper()
	_, file, _, _ := runtime.Caller(0)
	sh := filepath.Join(filepath.Dir(file), "..", "..", "deploy", "clickhouse", "cluster", "cluster.sh")
	out, err := exec.Command(sh, args...).CombinedOutput()
	if err != nil {
		t.Fatalf("cluster.sh %v : %v\n%s", args, err, out)
	}
}

// RoundRobin is a connection whose batches (every insert of the product and of chtest.Insert) go to the
// nodes in turn; queries go to the first.
type RoundRobin struct {
	driver.Conn
	conns []driver.Conn
	mu    sync.Mutex
	next  int
}

// NewRoundRobin opens one connection per node of d.
func NewRoundRobin(t testing.TB, d *DB) *RoundRobin {
	r := &RoundRobin{}
	for n := 1; n <= Nodes; n++ {
		r.conns = append(r.conns, d.Conn(t, n))
	}
	r.Conn = r.conns[0]
	return r
}

// PrepareBatch starts the batch on the next node.
func (r *RoundRobin) PrepareBatch(ctx context.Context, query string, opts ...driver.PrepareBatchOption) (driver.Batch, error) {
	r.mu.Lock()
	c := r.conns[r.next%len(r.conns)]
	r.next++
	r.mu.Unlock()
	return c.PrepareBatch(ctx, query, opts...)
}

// Batches is how many batches went through r.
func (r *RoundRobin) Batches() int { r.mu.Lock(); defer r.mu.Unlock(); return r.next }
