package plugin

import (
	"testing"

	"github.com/grafana/grafana-plugin-sdk-go/data"

	"github.com/sdaasp-rhone/fne/internal/territory"
)

// A territory with a commune without centroid: the frames of the distance indicator (scorecard, its
// series, its breakdown) carry a notice with the reason; other indicators' frames and located
// territories do not.
func TestCentroidNotice(t *testing.T) {
	ref := territory.NewReference("99", "Test", []territory.Commune{
		{Code: "99001", Nom: "A", EPCI: "111111111", Population: 100, Latitude: 45, Longitude: 4},
		{Code: "99002", Nom: "B", EPCI: "222222222", Population: 300, NoCentroid: true},
	}, []territory.EPCIInfo{{Siren: "111111111", Nom: "E1"}, {Siren: "222222222", Nom: "E2"}})
	tests := []struct {
		terr, qt, ind string
		want          string
	}{
		{"dep:99", TypeScorecard, "", "Population éloignée d'un lieu d'accompagnement : sans données, 1 commune sur 2 sans centroïde : distance aux lieux non calculable (fne migrate --centroids FICHIER)."},
		{"epci:222222222", TypeSeries, distanceIndicator, "Population éloignée d'un lieu d'accompagnement : sans données, la commune n'a pas de centroïde : distance aux lieux non calculable (fne migrate --centroids FICHIER)."},
		{"dep:99", TypeBreakdown, distanceIndicator, "Population éloignée d'un lieu d'accompagnement : sans données, 1 commune sur 2 sans centroïde : distance aux lieux non calculable (fne migrate --centroids FICHIER)."},
		{"epci:111111111", TypeScorecard, "", ""},
		{"dep:99", TypeSeries, "a2.accompagnements", ""},
		{"dep:99", TypeGaps, "", ""},
	}
	for _, tt := range tests {
		f := data.NewFrame("x")
		addCentroidNotice(f, ref, territory.MustParse(tt.terr), tt.qt, tt.ind)
		got := ""
		if f.Meta != nil && len(f.Meta.Notices) > 0 {
			got = f.Meta.Notices[0].Text
		}
		if got != tt.want {
			t.Errorf("%s %s %s: notice %q, want %q", tt.terr, tt.qt, tt.ind, got, tt.want)
		}
	}
}
