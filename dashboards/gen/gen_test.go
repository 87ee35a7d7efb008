package main

import (
	"bytes"
	"os"
	"path/filepath"
	"testing"
)

// The committed dashboards are exactly what the code generates: an edit of the JSON by hand (or an
// export from Grafana pasted over it) fails here until it is ported to the Go code.
func TestCommittedDashboardsAreGenerated(t *testing.T) {
	files, err := Render()
	if err != nil {
		t.Fatal(err)
	}
	if len(files) != 4 {
		t.Fatalf("%d tableaux de bord générés, 4 attendus", len(files))
	}
	committed, _ := filepath.Glob("../*.json")
	if len(committed) != len(files) {
		t.Errorf("%d fichiers JSON dans dashboards/, %d générés : un tableau de bord sans code ou non écrit", len(committed), len(files))
	}
	for name, want := range files {
		got, err := os.ReadFile(filepath.Join("..", name))
		if err != nil {
			t.Errorf("%s : %v (lancez make dashboards)", name, err)
			continue
		}
		if !bytes.Equal(got, want) {
			t.Errorf("%s diffère de ce que génère dashboards/gen : lancez « make dashboards » et committez, ou reportez la modification dans le code Go", name)
		}
	}
}

// Rendering twice gives the same bytes (no map order leaks into the files).
func TestRenderIsDeterministic(t *testing.T) {
	a, err := Render()
	if err != nil {
		t.Fatal(err)
	}
	for i := 0; i < 3; i++ {
		b, _ := Render()
		for name := range a {
			if !bytes.Equal(a[name], b[name]) {
				t.Fatalf("%s : deux rendus différents", name)
			}
		}
	}
}
