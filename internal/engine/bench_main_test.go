//go:build integration

package engine

import (
	"context"
	"os"
	"testing"
	"time"

	"github.com/sdaasp-rhone/fne/internal/chtest"
	"github.com/sdaasp-rhone/fne/internal/store"
)

// TestMain drops the data set the benchmarks of this process shared (several GB at 10 M activities).
func TestMain(m *testing.M) {
	code := m.Run()
	if sharedBenchDB != "" {
		ctx := context.Background()
		cfg := store.Config{Addr: chtest.Addr(), Database: "system", QueryTimeout: time.Minute}.WithDefaults()
		if conn, err := store.Open(ctx, cfg); err == nil {
			_ = conn.Exec(ctx, "DROP DATABASE IF EXISTS "+sharedBenchDB)
			conn.Close()
		}
	}
	os.Exit(code)
}
