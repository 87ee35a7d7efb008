package cli

import (
	"fmt"
	"io"

	"github.com/sdaasp-rhone/fne/internal/catalogue"
	"github.com/sdaasp-rhone/fne/internal/reference"
	"github.com/sdaasp-rhone/fne/internal/territory"
)

// noteNoCentroid prints, under a table, why the distance indicators shown as sans données have no value
// when the territory has communes without centroid (the national reference has none).
func noteNoCentroid(w io.Writer, cat *catalogue.Catalogue, ref *territory.Reference, tid territory.ID, ids []string, empty func(id string) bool) {
	reason := reference.NoCentroidReason(ref, tid)
	if reason == "" {
		return
	}
	for _, id := range ids {
		ind, ok := cat.Get(id)
		if ok && ind.Compute == "zone_blanche" && empty(id) {
			fmt.Fprintf(w, "\n%s — sans données : %s.\n", ind.Label, reason)
		}
	}
}

// nCommunes is "1 commune" or "N communes" (Paris is one commune).
func nCommunes(n int) string {
	if n == 1 {
		return "1 commune"
	}
	return fmt.Sprintf("%d communes", n)
}
