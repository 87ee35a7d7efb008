package main

import (
	"bytes"
	"compress/gzip"
	"io"
	"os"
	"path/filepath"
	"testing"
)

// A miniature package: three communes of 01 and 69 (one in no EPCI), a municipal arrondissement and a
// commune of a collectivité d'outre-mer (both left out), an EPCI straddling 01 and 69.
var miniature = map[string][]byte{
	"package/data/communes.json": []byte(`[
 {"code":"69002","nom":"B","type":"commune-actuelle","zone":"metro","departement":"69","region":"84","siren":"216900027","population":235},
 {"code":"01001","nom":"A","type":"commune-actuelle","zone":"metro","departement":"01","region":"84","siren":"210100012","population":860},
 {"code":"69001","nom":"C","type":"commune-actuelle","zone":"metro","departement":"69","region":"84","siren":"216900019","population":398},
 {"code":"69381","nom":"Lyon 1er","type":"arrondissement-municipal","zone":"metro","departement":"69","region":"84","population":30000},
 {"code":"97501","nom":"Miquelon","type":"commune-actuelle","zone":"com","departement":"975","region":"975","population":596}]`),
	"package/data/epci.json":         []byte(`[{"code":"200000001","nom":"CC \"Deux, rives\"","type":"CC","membres":[{"code":"69002"},{"code":"01001"}]}]`),
	"package/data/departements.json": []byte(`[{"code":"69","nom":"Rhône","region":"84","zone":"metro"},{"code":"01","nom":"Ain","region":"84","zone":"metro"},{"code":"975","nom":"SPM","region":"975","zone":"com"}]`),
	"package/data/regions.json":      []byte(`[{"code":"84","nom":"Auvergne-Rhône-Alpes","zone":"metro"}]`),
}

func read(t *testing.T, dir, name string) string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(dir, name))
	if err != nil {
		t.Fatal(err)
	}
	if filepath.Ext(name) == ".gz" {
		zr, err := gzip.NewReader(bytes.NewReader(b))
		if err != nil {
			t.Fatal(err)
		}
		if b, err = io.ReadAll(zr); err != nil {
			t.Fatal(err)
		}
	}
	return string(b)
}

// The files are sorted by code, leave out arrondissements and collectivités d'outre-mer, count the
// straddling EPCI per département, and two runs give the same bytes (gzip included).
func TestGenerate(t *testing.T) {
	a, b := t.TempDir(), t.TempDir()
	if err := generate(miniature, a); err != nil {
		t.Fatal(err)
	}
	if err := generate(miniature, b); err != nil {
		t.Fatal(err)
	}
	want := map[string]string{
		"departements.csv": "code,nom,region,region_nom\n01,Ain,84,Auvergne-Rhône-Alpes\n69,Rhône,84,Auvergne-Rhône-Alpes\n",
		"epci.csv":         "epci_siren,epci_nom,nature_juridique,nb_communes_total,departements,communes_par_departement\n200000001,\"CC \"\"Deux, rives\"\"\",CC,2,01|69,01:1|69:1\n",
		"communes.csv.gz": "code_insee,nom,departement,region,siren,epci_siren,population\n" +
			"01001,A,01,84,210100012,200000001,860\n69001,C,69,84,216900019,,398\n69002,B,69,84,216900027,200000001,235\n",
	}
	for name, w := range want {
		if got := read(t, a, name); got != w {
			t.Errorf("%s:\n%s\nwant\n%s", name, got, w)
		}
		x, _ := os.ReadFile(filepath.Join(a, name))
		y, _ := os.ReadFile(filepath.Join(b, name))
		if !bytes.Equal(x, y) {
			t.Errorf("%s differs between two runs", name)
		}
	}
}
