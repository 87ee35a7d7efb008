//go:build integration

package engine

import (
	"context"
	"testing"

	"github.com/sdaasp-rhone/fne/internal/catalogue"
	"github.com/sdaasp-rhone/fne/internal/chtest"
	"github.com/sdaasp-rhone/fne/internal/reference"
	"github.com/sdaasp-rhone/fne/internal/territory"
)

// A commune without centroid (the national reference has none) makes the distance indicator sans
// données for every territory that contains it, instead of a figure computed from a 0,0 centroid.
// Reference: E1 = {A 100 inh. at 45.0 N 4.0 E, B 300 inh. at 45.5 N 4.0 E}, E2 = {C 600 inh., no
// centroid}; one place at A. B is 0.5° of latitude from it, 6371 × 0.5 × π/180 = 55.6 km > 10 km.
//   - E1: B is far: 300 × 100 / 400 = 75 %; A 0 %, B 100 %;
//   - C, E2 and the département (which contains C): sans données. The old computation put C at 0,0,
//     far from everything: the département would have read (300 + 600) × 100 / 1000 = 90 %.
func TestZoneBlancheWithoutCentroids(t *testing.T) {
	ctx := context.Background()
	db := chtest.Migrated(t)
	ref := territory.NewReference("99", "Test", []territory.Commune{
		{Code: "99001", Nom: "A", EPCI: "111111111", EPCINom: "E1", Population: 100, Latitude: 45, Longitude: 4},
		{Code: "99002", Nom: "B", EPCI: "111111111", EPCINom: "E1", Population: 300, Latitude: 45.5, Longitude: 4},
		{Code: "99003", Nom: "C", EPCI: "222222222", EPCINom: "E2", Population: 600, NoCentroid: true},
	}, []territory.EPCIInfo{{Siren: "111111111", Nom: "E1"}, {Siren: "222222222", Nom: "E2"}})
	if _, err := reference.Load(ctx, db.Conn, &reference.Parsed{Ref: ref, Checksum: "zone-blanche"}); err != nil {
		t.Fatal(err)
	}
	chtest.Insert(t, db.Conn, insLieu, []any{"L1", uint64(1), uint8(0), "99001", f64(45), f64(4), chtest.Day("2026-09-01")})
	cat, err := catalogue.Load()
	if err != nil {
		t.Fatal(err)
	}
	e := New(db.Conn, cat)
	e.noWarm, e.noPersist = true, true
	got, err := e.Reference(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if c, _ := got.Commune("99003"); !c.NoCentroid {
		t.Fatalf("C read back with a centroid: %+v", c)
	}
	tests := []struct {
		terr string
		want *float64
	}{
		{"epci:111111111", ptr(75)}, {"com:99001", ptr(0)}, {"com:99002", ptr(100)},
		{"com:99003", nil}, {"epci:222222222", nil}, {"dep:99", nil},
	}
	for _, tt := range tests {
		rs, err := e.Evaluate(ctx, territory.MustParse(tt.terr), Month{2026, 10}, "a2.population_zone_blanche")
		if err != nil {
			t.Fatal(err)
		}
		v := rs[0].Value
		if (v == nil) != (tt.want == nil) || (v != nil && *v != *tt.want) {
			t.Errorf("%s: %s, want %s", tt.terr, show(v), show(tt.want))
		}
		if tt.want == nil && rs[0].Status != StatusSansDonnees {
			t.Errorf("%s: status %s, want sans_donnees", tt.terr, rs[0].Status)
		}
		reason := reference.NoCentroidReason(got, territory.MustParse(tt.terr))
		if (reason != "") != (tt.want == nil) {
			t.Errorf("%s: reason %q", tt.terr, reason)
		}
	}
	if r := reference.NoCentroidReason(got, territory.MustParse("dep:99")); r != "1 commune sur 3 sans centroïde : distance aux lieux non calculable (fne migrate --centroids FICHIER)" {
		t.Errorf("reason for the département: %q", r)
	}
}
