package plugin

import (
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/grafana/grafana-plugin-sdk-go/backend"
	"github.com/grafana/grafana-plugin-sdk-go/data"

	"github.com/sdaasp-rhone/fne/internal/engine"
)

// alertRows reads a numeric-long alert frame as "label|label…" → value.
func alertRows(t *testing.T, fr *data.Frame) map[string]float64 {
	t.Helper()
	if fr.Meta == nil || fr.Meta.Type != data.FrameTypeNumericLong {
		t.Fatalf("meta %+v", fr.Meta)
	}
	out := map[string]float64{}
	for i := 0; i < fr.Rows(); i++ {
		key := ""
		var v float64
		for _, f := range fr.Fields {
			switch x := f.At(i).(type) {
			case string:
				if key != "" {
					key += "|"
				}
				key += x
			case float64:
				v = x
			}
		}
		out[key] = v
	}
	return out
}

// An EPCI's datasource alerts on its EPCI and the EPCI's communes, at the newest collected month, and
// refuses any other territory.
func TestAlertLateScoped(t *testing.T) {
	d, eng, err := newTestDatasource("epci:200000001")
	if err != nil {
		t.Fatal(err)
	}
	resp := run(t, d, dq("A", `{"queryType":"alert_late"}`), dq("X", `{"queryType":"alert_late","territory":"epci:200000002"}`))
	if r := resp.Responses["A"]; r.Error != nil {
		t.Fatal(r.Error)
	}
	// fake engine: the EPCI's counsellors a_surveiller (0), hotspots en_retard (1); its communes
	// (Breakdown, level commune) en_retard for the counsellors (1); hotspots do not apply to a commune,
	// the zone blanche indicator applies to no level, context indicators are never alerted on.
	got := alertRows(t, resp.Responses["A"].Frames[0])
	want := map[string]float64{
		"epci:200000001|CC Alpha|a1.conseillers_actifs|Conseillers numériques en activité":               0,
		"epci:200000001|CC Alpha|a2.communes_hotspot|Communes avec au moins un point wifi libre d'accès": 1,
		"com:99001|Alpha-Ville|a1.conseillers_actifs|Conseillers numériques en activité":                 1,
		"com:99002|Bourg|a1.conseillers_actifs|Conseillers numériques en activité":                       1,
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("séries %v", got)
	}
	// the range ends in October 2026 and October is the newest collected month
	if eng.calls[0] != "Evaluate epci:200000001 2026-10 [a1.conseillers_actifs a2.communes_hotspot a2.population_zone_blanche]" {
		t.Errorf("appels %q", eng.calls)
	}
	if e := resp.Responses["X"]; e.Error == nil || e.Status != backend.StatusForbidden {
		t.Errorf("hors périmètre : %+v", e)
	}
}

func TestAlertStale(t *testing.T) {
	d, eng, err := newTestDatasource("")
	if err != nil {
		t.Fatal(err)
	}
	now := d.now() // 2026-11-15 12:00
	ago := func(h int) *time.Time { x := now.Add(-time.Duration(h) * time.Hour); return &x }
	eng.fresh = []engine.Freshness{{Source: "activites", LastSuccess: ago(2)}, {Source: "lieux", LastSuccess: ago(20)}, {Source: "jalons"}}
	resp := run(t, d, dq("A", `{"queryType":"alert_stale","staleAfter":{"activites":"90m","lieux":"1d","jalons":"96h"}}`),
		dq("B", `{"queryType":"alert_stale","staleAfter":{"activites":"3h","lieux":"24h","jalons":"96h"}}`))
	// "1d" is not a Go duration: refused in French, the other query still answers
	if e := resp.Responses["A"].Error; e == nil || !strings.Contains(e.Error(), `délai "1d" de la source lieux invalide`) || resp.Responses["A"].Status != backend.StatusBadRequest {
		t.Errorf("délai invalide : %+v", resp.Responses["A"])
	}
	// activites 2 h ≤ 3h → 0; lieux 20 h ≤ 24h → 0; jalons never collected → 1
	got := alertRows(t, resp.Responses["B"].Frames[0])
	if want := map[string]float64{"activites|3h": 0, "lieux|24h": 0, "jalons|96h": 1}; !reflect.DeepEqual(got, want) {
		t.Errorf("séries %v", got)
	}
}
