package reference

import (
	"errors"
	"io/fs"
	"strings"
	"testing"
	"testing/fstest"

	"github.com/sdaasp-rhone/fne/internal/territory"
	"github.com/sdaasp-rhone/fne/schemas"
)

// embeddedCopy returns the embedded reference as a writable in-memory FS, so tests can corrupt it.
func embeddedCopy(t *testing.T) fstest.MapFS {
	t.Helper()
	m := fstest.MapFS{}
	for _, name := range []string{"territoire.yaml", "rhone_communes.csv", "rhone_epci.csv"} {
		b, err := fs.ReadFile(schemas.Reference, "reference/"+name)
		if err != nil {
			t.Fatal(err)
		}
		m[name] = &fstest.MapFile{Data: b}
	}
	return m
}

func TestParseEmbeddedReference(t *testing.T) {
	p, err := ParseDir("")
	if err != nil {
		t.Fatal(err)
	}
	ref := p.Ref
	if ref.Departement != "69" || len(ref.Communes) != 208 || len(ref.EPCIs) != 12 {
		t.Fatalf("dep=%s communes=%d epci=%d, want 69, 208, 12", ref.Departement, len(ref.Communes), len(ref.EPCIs))
	}
	root, err := ref.Resolve(territory.MustParse("dep:69"))
	if err != nil {
		t.Fatal(err)
	}
	var pop2021 uint64
	for _, c := range ref.Communes {
		pop2021 += uint64(c.Population2021)
	}
	// SOURCE.md: 478 313 (millésime 2023) and the roadmap's 469 623 (millésime 2021).
	if root.Population != 478313 || pop2021 != 469623 {
		t.Errorf("population %d / 2021 %d, want 478313 / 469623", root.Population, pop2021)
	}
	// CA Vienne Condrieu straddles the Isère: only its 12 Rhône communes (20 415 inhabitants) count.
	vc, err := ref.Resolve(territory.MustParse("epci:200077014"))
	if err != nil {
		t.Fatal(err)
	}
	if len(vc.Communes) != 12 || vc.Population != 20415 {
		t.Errorf("CA Vienne Condrieu: %d communes, %d inhabitants, want 12 and 20415", len(vc.Communes), vc.Population)
	}
	if len(p.Checksum) != 64 {
		t.Errorf("checksum %q is not a SHA-256", p.Checksum)
	}
}

func TestParseRefusesCorruptedCopies(t *testing.T) {
	tests := []struct {
		name    string
		file    string
		mutate  func(string) string
		wantMsg string
	}{
		{"population not a number", "rhone_communes.csv",
			func(s string) string {
				return strings.Replace(s, "69001,Affoux,200040566,CA de l'Ouest Rhodanien,398,", "69001,Affoux,200040566,CA de l'Ouest Rhodanien,trois cents,", 1)
			},
			"rhone_communes.csv, ligne 2, colonne 5 (population)"},
		{"latitude out of range", "rhone_communes.csv",
			func(s string) string { return strings.Replace(s, ",45.844,4.414", ",145.844,4.414", 1) },
			"ligne 2, colonne 8 (latitude)"},
		{"bad INSEE code", "rhone_communes.csv",
			func(s string) string { return strings.Replace(s, "\n69002,Aigueperse", "\n6900X,Aigueperse", 1) },
			"ligne 3, colonne 1 (code_insee)"},
		{"duplicate commune", "rhone_communes.csv",
			func(s string) string { return strings.Replace(s, "\n69002,Aigueperse", "\n69001,Aigueperse", 1) },
			"commune 69001 en double"},
		{"unknown EPCI", "rhone_communes.csv",
			func(s string) string {
				return strings.Replace(s, "69001,Affoux,200040566", "69001,Affoux,999999999", 1)
			},
			"colonne 3 (epci_siren) : EPCI \"999999999\" absent"},
		{"missing column", "rhone_communes.csv",
			func(s string) string { return strings.Replace(s, ",latitude,", ",lat,", 1) },
			"ligne 1 : colonne obligatoire \"latitude\" absente"},
		{"short row", "rhone_communes.csv",
			func(s string) string { return strings.Replace(s, ",45.844,4.414", ",45.844", 1) },
			"ligne 2 : 8 colonnes au lieu de 9"},
		{"bad SIREN in EPCI file", "rhone_epci.csv",
			func(s string) string { return strings.Replace(s, "\n200040590,", "\n20004059,", 1) },
			"rhone_epci.csv, ligne 2, colonne 1 (epci_siren)"},
		{"unterminated quote", "rhone_epci.csv",
			func(s string) string { return strings.Replace(s, "CA Villefranche", "\"CA Villefranche", 1) },
			"CSV mal formé"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m := embeddedCopy(t)
			m[tt.file] = &fstest.MapFile{Data: []byte(tt.mutate(string(m[tt.file].Data)))}
			_, err := Parse(m, ".")
			if !errors.Is(err, ErrInvalid) {
				t.Fatalf("err = %v, want ErrInvalid", err)
			}
			if !strings.Contains(err.Error(), tt.wantMsg) {
				t.Errorf("message %q does not contain %q", err, tt.wantMsg)
			}
		})
	}
}

// Another département is only another folder: nothing in the code names the Rhône.
func TestParseAnotherDepartement(t *testing.T) {
	m := fstest.MapFS{
		"territoire.yaml": {Data: []byte("code: \"01\"\nnom: Ain\ncommunes: c.csv\nepci: e.csv\n")},
		"e.csv":           {Data: []byte("epci_siren,epci_nom,nature_juridique,nb_communes_total,departements\n200040590,CA Villefranche Beaujolais Saône,CA,18,01|69\n")},
		"c.csv":           {Data: []byte("code_insee,nom,epci_siren,epci_nom,population,population_totale,population_municipale_2021,latitude,longitude\n01201,Jassans-Riottier,200040590,CA Villefranche Beaujolais Saône,6500,6600,6400,45.98,4.76\n")},
	}
	p, err := Parse(m, ".")
	if err != nil {
		t.Fatal(err)
	}
	tr, err := p.Ref.Resolve(territory.MustParse("dep:01"))
	if err != nil || len(tr.Communes) != 1 || tr.Population != 6500 {
		t.Fatalf("dep:01 = %+v, %v", tr, err)
	}
	if _, err := p.Ref.Resolve(territory.MustParse("dep:69")); !errors.Is(err, territory.ErrUnknown) {
		t.Errorf("dep:69 in an Ain reference: err = %v, want ErrUnknown", err)
	}
}

// A custom folder may leave latitude and longitude empty (centroid unknown), not one of them.
func TestParseEmptyCentroid(t *testing.T) {
	m := embeddedCopy(t)
	b := string(m["rhone_communes.csv"].Data)
	// Affoux (69001) loses its centroid: 45.844,4.414 → empty.
	m["rhone_communes.csv"] = &fstest.MapFile{Data: []byte(strings.Replace(b, ",395,45.844,4.414", ",395,,", 1))}
	p, err := Parse(m, ".")
	if err != nil {
		t.Fatal(err)
	}
	if c, _ := p.Ref.Commune("69001"); !c.NoCentroid {
		t.Errorf("69001: %+v, want no centroid", c)
	}
	if c, _ := p.Ref.Commune("69002"); c.NoCentroid {
		t.Errorf("69002 lost its centroid")
	}
	m["rhone_communes.csv"] = &fstest.MapFile{Data: []byte(strings.Replace(b, ",395,45.844,4.414", ",395,,4.414", 1))}
	if _, err := Parse(m, "."); !errors.Is(err, ErrInvalid) || !strings.Contains(err.Error(), "ligne 2, colonne 8 (latitude)") {
		t.Errorf("latitude alone empty: %v", err)
	}
}
