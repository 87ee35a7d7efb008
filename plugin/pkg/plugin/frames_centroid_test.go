package plugin

import (
	"testing"

	"github.com/sdaasp-rhone/fne/internal/engine"
	"github.com/sdaasp-rhone/fne/internal/territory"
)

// A territory whose reference has no centroid (a département loaded from the national reference
// without --centroids) must not be drawn at 0,0: its coordinates are null, the others are kept.
func TestBreakdownFrameLeavesTerritoriesWithoutCentroidOffTheMap(t *testing.T) {
	ind := Indicator{ID: "ctx.lieux", Label: "Lieux", Unit: "nombre"}
	a, _ := territory.Parse("epci:200000001")
	b, _ := territory.Parse("epci:200000002")
	f := BreakdownFrame("b", ind, territory.LevelEPCI, []engine.Child{
		{Territory: a, Name: "A", Latitude: 45.5, Longitude: 4.25, Population: 10},
		{Territory: b, Name: "B", NoCentroid: true, Population: 20},
	}, "")
	lat, _ := f.FieldByName("latitude")
	lon, _ := f.FieldByName("longitude")
	if lat == nil || lon == nil {
		t.Fatal("champs latitude/longitude absents")
	}
	if v, ok := lat.ConcreteAt(0); !ok || v.(float64) != 45.5 {
		t.Errorf("latitude de A = %v, %v ; attendu 45.5", v, ok)
	}
	if v, ok := lon.ConcreteAt(0); !ok || v.(float64) != 4.25 {
		t.Errorf("longitude de A = %v, %v ; attendu 4.25", v, ok)
	}
	if _, ok := lat.ConcreteAt(1); ok {
		t.Error("latitude de B (sans centroïde) devrait être nulle")
	}
	if _, ok := lon.ConcreteAt(1); ok {
		t.Error("longitude de B (sans centroïde) devrait être nulle")
	}
}
