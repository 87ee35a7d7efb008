// Command gpx_fneindicateurs is the backend executable of the Grafana datasource plugin
// sdaasp-fneindicateurs-datasource; Grafana starts it and talks to it over gRPC.
package main

import (
	"os"

	"github.com/grafana/grafana-plugin-sdk-go/backend/datasource"
	"github.com/grafana/grafana-plugin-sdk-go/backend/log"

	"github.com/sdaasp-rhone/fne/plugin/pkg/plugin"
)

func main() {
	if err := datasource.Manage(plugin.PluginID, plugin.NewFactory(plugin.Open), datasource.ManageOpts{}); err != nil {
		log.DefaultLogger.Error("arrêt du plugin", "error", err)
		os.Exit(1)
	}
}
