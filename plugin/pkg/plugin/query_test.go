package plugin

import (
	"errors"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/grafana/grafana-plugin-sdk-go/backend"

	"github.com/sdaasp-rhone/fne/internal/engine"
)

func TestParseQuery(t *testing.T) {
	for _, tc := range []struct {
		name string
		dq   backend.DataQuery
		want Query
		err  string
	}{
		{name: "series", dq: backend.DataQuery{RefID: "A", JSON: []byte(`{"queryType":"series","indicator":" a1.conseillers_actifs ","territory":"epci:200000001","axis":1}`)},
			want: Query{RefID: "A", QueryType: "series", Indicator: "a1.conseillers_actifs", Territory: "epci:200000001", Axis: 1}},
		{name: "grafana query type wins", dq: backend.DataQuery{RefID: "B", QueryType: "gaps", JSON: []byte(`{"queryType":"series"}`)},
			want: Query{RefID: "B", QueryType: "gaps"}},
		{name: "axis from a variable is a string", dq: backend.DataQuery{RefID: "C", JSON: []byte(`{"queryType":"scorecard","axis":"2","level":"Commune"}`)},
			want: Query{RefID: "C", QueryType: "scorecard", Axis: 2, Level: "commune"}},
		{name: "extra grafana fields ignored", dq: backend.DataQuery{RefID: "D", JSON: []byte(`{"queryType":"freshness","datasource":{"uid":"x"},"intervalMs":1000,"hide":false}`)},
			want: Query{RefID: "D", QueryType: "freshness"}},
		{name: "no type", dq: backend.DataQuery{JSON: []byte(`{}`)}, err: "type de requête absent"},
		{name: "unknown type", dq: backend.DataQuery{JSON: []byte(`{"queryType":"sql"}`)}, err: `type de requête inconnu "sql"`},
		{name: "series without indicator", dq: backend.DataQuery{JSON: []byte(`{"queryType":"series"}`)}, err: "choisissez un indicateur"},
		{name: "breakdown without indicator", dq: backend.DataQuery{JSON: []byte(`{"queryType":"breakdown"}`)}, err: "choisissez un indicateur"},
		{name: "bad level", dq: backend.DataQuery{JSON: []byte(`{"queryType":"breakdown","indicator":"x","level":"region"}`)}, err: `niveau "region" inconnu`},
		{name: "bad axis", dq: backend.DataQuery{JSON: []byte(`{"queryType":"scorecard","axis":1.5}`)}, err: "axe 1.5 invalide"},
		{name: "malformed", dq: backend.DataQuery{JSON: []byte(`{"queryType":`)}, err: "JSON illisible"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			q, err := ParseQuery(tc.dq)
			if tc.err != "" {
				if err == nil || !errors.Is(err, ErrQuery) || !strings.Contains(err.Error(), tc.err) {
					t.Fatalf("erreur attendue %q, obtenu %v", tc.err, err)
				}
				return
			}
			if err != nil || q != tc.want {
				t.Fatalf("got %+v, %v; want %+v", q, err, tc.want)
			}
		})
	}
}

func TestSplitTerritories(t *testing.T) {
	for in, want := range map[string][]string{
		"":                           nil,
		"epci:1":                     {"epci:1"},
		"{epci:1,com:99001}":         {"epci:1", "com:99001"},
		" epci:1 , com:99001,epci:1": {"epci:1", "com:99001"},
		"{}":                         nil,
	} {
		if got := SplitTerritories(in); !reflect.DeepEqual(got, want) {
			t.Errorf("SplitTerritories(%q) = %v, want %v", in, got, want)
		}
	}
}

func TestMonthRange(t *testing.T) {
	paris := time.FixedZone("CEST", 2*3600)
	now := time.Date(2026, 11, 15, 0, 0, 0, 0, time.UTC)
	for _, tc := range []struct {
		name     string
		tr       backend.TimeRange
		from, to string
	}{
		// "Previous month" in Paris: 1 Oct 00:00 CEST = 30 Sept 22:00 UTC; 31 Oct 23:59:59 CET = 22:59:59 UTC
		{"previous month in Paris", backend.TimeRange{From: time.Date(2026, 10, 1, 0, 0, 0, 0, paris), To: time.Date(2026, 10, 31, 22, 59, 59, 0, time.UTC)}, "2026-10", "2026-10"},
		{"last 6 months", backend.TimeRange{From: time.Date(2026, 5, 15, 9, 0, 0, 0, time.UTC), To: time.Date(2026, 11, 15, 9, 0, 0, 0, time.UTC)}, "2026-05", "2026-11"},
		{"year", backend.TimeRange{From: time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC), To: time.Date(2026, 12, 31, 23, 59, 59, 0, time.UTC)}, "2026-01", "2026-12"},
		{"no range (resource, some alert paths)", backend.TimeRange{}, "2026-11", "2026-11"},
		{"inverted", backend.TimeRange{From: time.Date(2026, 12, 10, 0, 0, 0, 0, time.UTC), To: time.Date(2026, 10, 10, 0, 0, 0, 0, time.UTC)}, "2026-10", "2026-10"},
	} {
		from, to := MonthRange(tc.tr, now)
		if from.String() != tc.from || to.String() != tc.to {
			t.Errorf("%s: %s..%s, attendu %s..%s", tc.name, from, to, tc.from, tc.to)
		}
	}
}

func TestBreakdownLevel(t *testing.T) {
	for _, tc := range []struct {
		parent, level string
		want          string
		err           bool
	}{
		{"dep:99", "", "epci", false},
		{"dep:99", "epci", "epci", false},
		{"dep:99", "commune", "com", false},
		{"epci:200000001", "", "com", false},
		{"epci:200000001", "commune", "com", false},
		{"epci:200000001", "epci", "", true},
		{"com:99001", "", "", true},
	} {
		id, _ := ParseIDForTest(tc.parent)
		got, err := breakdownLevel(id, tc.level)
		if (err != nil) != tc.err || string(got) != tc.want {
			t.Errorf("breakdownLevel(%s,%q) = %q, %v", tc.parent, tc.level, got, err)
		}
	}
}

func TestMonthsBetween(t *testing.T) {
	if n := monthsBetween(engine.Month{Year: 2025, Month: 11}, engine.Month{Year: 2026, Month: 2}); n != 4 {
		t.Fatalf("nov..feb = %d mois, attendu 4", n)
	}
}
