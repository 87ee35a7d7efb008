// Package dashboards holds the Grafana dashboards provisioned with the product, one JSON file per
// audience: COPIL (copil.json), COTECH (cotech.json), EPCI (epci.json) and data collection
// (collecte.json). The JSON files are what Grafana loads (deploy/grafana mounts this folder); they are
// embedded here so that tests, and any tool that needs them, read exactly the provisioned files.
//
// Every dashboard reaches its data through datasource variables (${ds} for the indicators plugin,
// ${prom} for Prometheus) so that the same file works in the département's organisation and in each
// EPCI's organisation, whose datasource is scoped to the EPCI.
package dashboards

import (
	"embed"
	"io/fs"
	"sort"
)

// FS holds the dashboard files (*.json at the root).
//
//go:embed *.json
var FS embed.FS

// PluginType is the type id of the indicators datasource plugin the dashboards query.
const PluginType = "sdaasp-fneindicateurs-datasource"

// Files lists the dashboard file names, sorted.
func Files() []string {
	names, _ := fs.Glob(FS, "*.json")
	sort.Strings(names)
	return names
}
