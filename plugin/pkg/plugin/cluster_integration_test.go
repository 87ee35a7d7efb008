//go:build integration && cluster

package plugin

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"testing"

	"github.com/grafana/grafana-plugin-sdk-go/backend"

	"github.com/sdaasp-rhone/fne/internal/chtest"
	"github.com/sdaasp-rhone/fne/internal/clustertest"
	"github.com/sdaasp-rhone/fne/internal/reference"
)

// The datasource pointed at any server of the cluster answers every query type exactly as it does on the
// single server holding the same fixture (whose figures TestIntegrationQueries checks by hand: e.g.
// a2.accompagnements dep:69 in October 2026 = 3+2+4 = 9), and its health check is OK.
func TestClusterQueryData(t *testing.T) {
	ctx := context.Background()
	single := newFixtureEnv(t)
	cdb := clustertest.Migrated(t)
	rr := clustertest.NewRoundRobin(t, cdb)
	p, err := reference.ParseDir("")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := reference.Load(ctx, rr, p); err != nil {
		t.Fatal(err)
	}
	loadFixture(t, rr)
	cdb.Sync(t)
	queries := []backend.DataQuery{
		fxQuery("C", `{"queryType":"scorecard"}`),
		fxQuery("E1", `{"queryType":"scorecard","territory":"`+fxE1+`","axis":2}`),
		fxQuery("C1", `{"queryType":"scorecard","territory":"`+fxC1+`"}`),
		fxQuery("S", `{"queryType":"series","indicator":"a2.accompagnements"}`),
		fxQuery("B", `{"queryType":"breakdown","indicator":"a1.conseillers_actifs"}`),
		fxQuery("BC", `{"queryType":"breakdown","indicator":"a2.accompagnements","territory":"`+fxE1+`"}`),
		fxQuery("G", `{"queryType":"gaps"}`),
		fxQuery("M", `{"queryType":"milestones"}`),
		fxQuery("F", `{"queryType":"freshness"}`),
	}
	frames := func(d *Datasource) map[string]string {
		resp, err := d.QueryData(ctx, &backend.QueryDataRequest{Queries: queries})
		if err != nil {
			t.Fatal(err)
		}
		out := map[string]string{}
		for ref, r := range resp.Responses {
			if r.Error != nil {
				t.Fatalf("%s : %v", ref, r.Error)
			}
			b, err := json.Marshal(r.Frames)
			if err != nil {
				t.Fatal(err)
			}
			out[ref] = string(b)
		}
		return out
	}
	want := frames(single.datasource(t, ""))
	if !strings.Contains(want["C"], "a2.accompagnements") {
		t.Fatalf("single-server scorecard lacks a2.accompagnements: %s", want["C"])
	}
	for n := 1; n <= clustertest.Nodes; n++ {
		cl := fixtureEnv{db: &chtest.DB{Conn: rr, Config: cdb.Config(n)}}
		d := cl.datasource(t, "")
		got := frames(d)
		for _, q := range queries {
			if got[q.RefID] != want[q.RefID] {
				t.Errorf("n%d %s : cluster\n%s\nsingle server\n%s", n, q.RefID, got[q.RefID], want[q.RefID])
			}
		}
		res, err := d.CheckHealth(ctx, &backend.CheckHealthRequest{})
		if err != nil {
			t.Fatal(err)
		}
		if res.Status != backend.HealthStatusOk || !strings.Contains(res.Message, "de 208 communes et 12 EPCI") {
			t.Errorf("n%d health: %v %s", n, res.Status, fmt.Sprint(res.Message))
		}
	}
}
