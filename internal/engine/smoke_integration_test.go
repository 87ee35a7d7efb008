//go:build integration

package engine

import (
	"context"
	"fmt"
	"testing"

	"github.com/sdaasp-rhone/fne/internal/territory"
)

func TestSmoke(t *testing.T) {
	e, conn, _ := newTestEngine(t)
	loadFixture(t, conn)
	loadLateArrivals(t, conn)
	for _, tid := range []string{dep, e1, c1} {
		rs, err := e.Evaluate(context.Background(), territory.MustParse(tid), Month{2026, 10})
		if err != nil {
			t.Fatal(err)
		}
		for _, r := range rs {
			v := "nil"
			if r.Value != nil {
				v = fmt.Sprint(*r.Value)
			}
			tg := "nil"
			if r.Target != nil {
				tg = fmt.Sprint(*r.Target)
			}
			t.Logf("%s %-30s %-10s target=%s %s", tid, r.ID, v, tg, r.Status)
		}
	}
}
