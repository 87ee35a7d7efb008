// Command fne ingests the roadmap's sources into ClickHouse and computes its indicators.
package main

import (
	"context"
	"os"
	"os/signal"
	"syscall"

	"github.com/sdaasp-rhone/fne/collector/cli"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := cli.Main(ctx, os.Args[1:], os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}
