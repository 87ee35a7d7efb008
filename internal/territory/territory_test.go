package territory

import (
	"errors"
	"reflect"
	"testing"
)

func TestParse(t *testing.T) {
	tests := []struct {
		in      string
		want    ID
		wantErr bool
	}{
		{"dep:69", ID{LevelDep, "69"}, false},
		{"DEP:2a", ID{LevelDep, "2A"}, false},
		{"epci:200040566", ID{LevelEPCI, "200040566"}, false},
		{"com:69243", ID{LevelCommune, "69243"}, false},
		{" com:2B033 ", ID{LevelCommune, "2B033"}, false},
		{"69243", ID{LevelCommune, "69243"}, false}, // bare INSEE code = commune (docs/regles.md « Sources »)
		{"epci:20004056", ID{}, true},
		{"com:6924", ID{}, true},
		{"region:84", ID{}, true},
		{"Tarare", ID{}, true},
		{"", ID{}, true},
		{"com:69243' OR 1=1", ID{}, true},
	}
	for _, tt := range tests {
		got, err := Parse(tt.in)
		if (err != nil) != tt.wantErr {
			t.Errorf("Parse(%q) err = %v, wantErr %v", tt.in, err, tt.wantErr)
			continue
		}
		if err != nil && !errors.Is(err, ErrInvalidID) {
			t.Errorf("Parse(%q) err = %v, want ErrInvalidID", tt.in, err)
		}
		if got != tt.want {
			t.Errorf("Parse(%q) = %v, want %v", tt.in, got, tt.want)
		}
	}
}

// A small two-EPCI reference: E1 = {A (100 inh.), B (300 inh.)}, E2 = {C (600 inh.)}.
func smallRef() *Reference {
	return NewReference("99", "Test", []Commune{
		{Code: "99002", Nom: "B", EPCI: "111111111", Population: 300, Latitude: 46, Longitude: 5},
		{Code: "99001", Nom: "A", EPCI: "111111111", Population: 100, Latitude: 45, Longitude: 4},
		{Code: "99003", Nom: "C", EPCI: "222222222", Population: 600, Latitude: 44, Longitude: 3},
	}, []EPCIInfo{{Siren: "222222222", Nom: "E2"}, {Siren: "111111111", Nom: "E1"}})
}

func TestResolve(t *testing.T) {
	r := smallRef()
	e1, err := r.Resolve(MustParse("epci:111111111"))
	if err != nil {
		t.Fatal(err)
	}
	// Population 100+300 = 400; centroid weighted: lat (45*100+46*300)/400 = 45.75.
	if !reflect.DeepEqual(e1.Communes, []string{"99001", "99002"}) || e1.Population != 400 || e1.Latitude != 45.75 || e1.Name != "E1" {
		t.Errorf("E1 = %+v", e1)
	}
	dep, _ := r.Resolve(r.Root())
	if len(dep.Communes) != 3 || dep.Population != 1000 {
		t.Errorf("dep = %+v", dep)
	}
	for _, bad := range []string{"dep:01", "epci:333333333", "com:99009"} {
		if _, err := r.Resolve(MustParse(bad)); !errors.Is(err, ErrUnknown) {
			t.Errorf("Resolve(%s) err = %v, want ErrUnknown", bad, err)
		}
	}
}

func TestChildrenAndWithin(t *testing.T) {
	r := smallRef()
	kids, _ := r.Children(r.Root(), "")
	if len(kids) != 2 || kids[0].ID.String() != "epci:111111111" || kids[1].ID.String() != "epci:222222222" {
		t.Errorf("children of dep = %+v", kids)
	}
	kids, _ = r.Children(r.Root(), LevelCommune)
	if len(kids) != 3 {
		t.Errorf("communes of dep: %d, want 3", len(kids))
	}
	kids, _ = r.Children(MustParse("epci:111111111"), "")
	if len(kids) != 2 || kids[1].Name != "B" {
		t.Errorf("children of E1 = %+v", kids)
	}
	tests := []struct {
		inner, outer string
		want         bool
	}{
		{"com:99001", "epci:111111111", true},
		{"com:99003", "epci:111111111", false},
		{"epci:222222222", "epci:111111111", false},
		{"dep:99", "epci:111111111", false},
		{"epci:111111111", "epci:111111111", true},
		{"epci:222222222", "dep:99", true},
		{"com:99009", "dep:99", false},
	}
	for _, tt := range tests {
		if got := r.Within(MustParse(tt.inner), MustParse(tt.outer)); got != tt.want {
			t.Errorf("Within(%s, %s) = %v, want %v", tt.inner, tt.outer, got, tt.want)
		}
	}
}
