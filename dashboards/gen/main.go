// Command gen writes the four provisioned dashboards (dashboards/*.json) from Go code built on the
// Grafana Foundation SDK, the indicator catalogue and the plugin's display rules, so that a panel's
// description always carries its indicator's French label and method, and every colour, unit and
// mapping comes from the one place the plugin backend also uses. Run `make dashboards` (or `go run
// ./dashboards/gen -out dashboards`); `go test ./dashboards/gen` fails when the committed JSON is not
// what this code generates.
package main

import (
	"bytes"
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"sort"

	"github.com/grafana/grafana-foundation-sdk/go/dashboard"
)

func main() {
	out := flag.String("out", "dashboards", "dossier où écrire les tableaux de bord")
	flag.Parse()
	files, err := Render()
	if err != nil {
		fmt.Fprintln(os.Stderr, "gen :", err)
		os.Exit(1)
	}
	names := make([]string, 0, len(files))
	for n := range files {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		if err := os.WriteFile(filepath.Join(*out, n), files[n], 0o644); err != nil {
			fmt.Fprintln(os.Stderr, "gen :", err)
			os.Exit(1)
		}
		fmt.Println("écrit", filepath.Join(*out, n))
	}
}

// Render builds every dashboard and returns its JSON by file name.
func Render() (map[string][]byte, error) {
	cat, err := loadCatalogue()
	if err != nil {
		return nil, err
	}
	out := map[string][]byte{}
	for name, build := range map[string]func(*catalogueView) (dashboard.Dashboard, error){
		"copil.json": copil, "cotech.json": cotech, "epci.json": epci, "collecte.json": collecte,
	} {
		d, err := build(cat)
		if err != nil {
			return nil, fmt.Errorf("%s : %w", name, err)
		}
		b, err := encode(d)
		if err != nil {
			return nil, fmt.Errorf("%s : %w", name, err)
		}
		out[name] = b
	}
	return out, nil
}

// encode writes indented JSON without HTML escaping (« < » stays readable in descriptions).
func encode(v any) ([]byte, error) {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	enc.SetIndent("", "  ")
	if err := enc.Encode(v); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}
