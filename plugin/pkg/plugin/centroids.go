package plugin

import (
	"github.com/grafana/grafana-plugin-sdk-go/data"

	"github.com/sdaasp-rhone/fne/internal/reference"
	"github.com/sdaasp-rhone/fne/internal/territory"
)

// distanceIndicator is the indicator computed from commune centroids (compute zone_blanche).
const distanceIndicator = "a2.population_zone_blanche"

// addCentroidNotice puts, on the frames that show the distance indicator, a Grafana notice saying why it
// is sans données when the territory has communes without centroid (the national reference has none):
// the panel then tells the reason next to « Sans données ».
func addCentroidNotice(f *data.Frame, ref *territory.Reference, id territory.ID, queryType, indicator string) {
	if f == nil || ref == nil {
		return
	}
	switch queryType {
	case TypeScorecard:
		if indicator != "" && indicator != distanceIndicator {
			return
		}
	case TypeSeries, TypeBreakdown:
		if indicator != distanceIndicator {
			return
		}
	default:
		return
	}
	reason := reference.NoCentroidReason(ref, id)
	if reason == "" {
		return
	}
	if f.Meta == nil {
		f.Meta = &data.FrameMeta{}
	}
	f.Meta.Notices = append(f.Meta.Notices, data.Notice{Severity: data.NoticeSeverityInfo,
		Text: "Population éloignée d'un lieu d'accompagnement : sans données, " + reason + "."})
}
