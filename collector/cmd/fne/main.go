// Command fne ingests the roadmap's sources into ClickHouse and computes its indicators.
package main

import (
	"context"
	"os"
	"os/signal"
	"runtime/debug"
	"syscall"

	"github.com/sdaasp-rhone/fne/collector/cli"
)

// ingestMemoryLimit is the soft limit of `fne ingest` (GOMEMLIMIT, when set, wins): the collector
// streams any file in bounded memory, but the heap's slack between two collections took its resident
// memory anywhere from 200 to 270 MB on 1 M activities; the limit makes the collector collect sooner
// when it nears 300 MB rather than let it pass. Not for the daemon, whose engine holds the aggregates
// of a whole region.
const ingestMemoryLimit = 220 << 20

func main() {
	if len(os.Args) > 1 && os.Args[1] == "ingest" && os.Getenv("GOMEMLIMIT") == "" {
		debug.SetMemoryLimit(ingestMemoryLimit)
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := cli.Main(ctx, os.Args[1:], os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}
