package reference

import (
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"sort"
	"strings"
	"testing"

	"github.com/sdaasp-rhone/fne/internal/territory"
)

// The expected figures below were computed from the package JSON of @etalab/decoupage-administratif
// 6.0.0 (data/communes.json, data/epci.json) with an independent Python script, not with this code:
// communes = type "commune-actuelle" of the département, population = their "population" field, EPCI =
// the epci.json entries listing them in "membres":
//
//	act = {c["code"]: c for c in communes if c["type"] == "commune-actuelle"}
//	scope = [k for k, c in act.items() if c["departement"] == D]
//	sum(act[k]["population"] for k in scope)

func national(t *testing.T) *National {
	t.Helper()
	n, err := LoadNational()
	if err != nil {
		t.Fatal(err)
	}
	return n
}

type epciFigure struct {
	communes, total int
	pop             uint64
}

func scopeFigures(t *testing.T, n *National, code string) (*territory.Reference, map[string]epciFigure, uint64) {
	t.Helper()
	p, err := n.Scope(code)
	if err != nil {
		t.Fatalf("Scope(%s): %v", code, err)
	}
	out := map[string]epciFigure{}
	var pop uint64
	for _, e := range p.Ref.EPCIs {
		f := epciFigure{communes: len(e.Communes), total: int(e.NbCommunesTotal)}
		for _, c := range e.Communes {
			cm, _ := p.Ref.Commune(c)
			f.pop += uint64(cm.Population)
		}
		pop += f.pop
		out[e.Siren] = f
	}
	return p.Ref, out, pop
}

// The whole file: 101 départements (96 metropolitan + 5 overseas), 34,875 communes of the COG 2026,
// 1,255 EPCI à fiscalité propre.
func TestNationalCounts(t *testing.T) {
	n := national(t)
	if len(n.Departements) != 101 || len(n.communes) != 34875 || len(n.epci) != 1255 {
		t.Fatalf("%d départements, %d communes, %d EPCI; want 101, 34875, 1255", len(n.Departements), len(n.communes), len(n.epci))
	}
}

// The Rhône « 69 » built from the national reference is the shipped Rhône reference, field by field:
// 208 communes, 12 EPCI, 478,313 inhabitants (millésime 2023) and 469,623 (millésime 2021), same
// centroids, same EPCI totals (Villefranche 18, Monts du Lyonnais 32, Vienne Condrieu 30 communes).
func TestScopeRhoneIsTheShippedReference(t *testing.T) {
	n := national(t)
	p, err := n.Scope("69")
	if err != nil {
		t.Fatal(err)
	}
	own, err := ParseDir("")
	if err != nil {
		t.Fatal(err)
	}
	if p.Ref.Departement != "69" || p.Ref.DepartementNom != own.Ref.DepartementNom {
		t.Errorf("département %s %q, want 69 %q", p.Ref.Departement, p.Ref.DepartementNom, own.Ref.DepartementNom)
	}
	if !reflect.DeepEqual(p.Ref.Communes, own.Ref.Communes) {
		for i := range own.Ref.Communes {
			if i < len(p.Ref.Communes) && p.Ref.Communes[i] != own.Ref.Communes[i] {
				t.Fatalf("commune %d: national %+v, shipped %+v", i, p.Ref.Communes[i], own.Ref.Communes[i])
			}
		}
		t.Fatalf("%d communes from the national reference, %d shipped", len(p.Ref.Communes), len(own.Ref.Communes))
	}
	if !reflect.DeepEqual(p.Ref.EPCIs, own.Ref.EPCIs) {
		t.Fatalf("EPCI differ:\nnational %+v\nshipped  %+v", p.Ref.EPCIs, own.Ref.EPCIs)
	}
	var pop, pop21 uint64
	for _, c := range p.Ref.Communes {
		pop += uint64(c.Population)
		pop21 += uint64(c.Population2021)
		if c.NoCentroid {
			t.Errorf("commune %s without centroid", c.Code)
		}
	}
	if len(p.Ref.Communes) != 208 || len(p.Ref.EPCIs) != 12 || pop != 478313 || pop21 != 469623 {
		t.Errorf("Rhône: %d communes, %d EPCI, %d, %d", len(p.Ref.Communes), len(p.Ref.EPCIs), pop, pop21)
	}
	// The shipped files are still those of the acceptance (when the shared copy is at hand).
	for _, name := range []string{"rhone_communes.csv", "rhone_epci.csv"} {
		ref, err := os.ReadFile(filepath.Join("/work/shared/reference", name))
		if err != nil {
			continue
		}
		got, _ := os.ReadFile(filepath.Join("..", "..", "schemas", "reference", name))
		if string(got) != string(ref) {
			t.Errorf("schemas/reference/%s differs from the acceptance copy", name)
		}
	}
}

// Creuse, rural: 255 communes, 10 EPCI. CC Haute-Corrèze Communauté (200066744) straddles Corrèze and
// Creuse: 70 communes, 11 of them in the Creuse, only those count. Population by EPCI (sorted by SIREN):
// 28583 + 6635 + 11488 + 1940 + 13409 + 16493 + 12988 + 10219 + 6778 + 6994 = 115527;
// communes 25 + 16 + 26 + 11 + 43 + 41 + 50 + 10 + 16 + 17 = 255.
func TestScopeCreuse(t *testing.T) {
	ref, figs, pop := scopeFigures(t, national(t), "23")
	want := map[string]epciFigure{
		"200034825": {25, 25, 28583}, "200041556": {16, 16, 6635}, "200044014": {26, 26, 11488},
		"200066744": {11, 70, 1940}, "200067189": {43, 43, 13409}, "200067544": {41, 41, 16493},
		"200067593": {50, 50, 12988}, "242300135": {10, 10, 10219}, "242320000": {16, 16, 6778},
		"242320109": {17, 17, 6994},
	}
	if !reflect.DeepEqual(figs, want) || pop != 115527 || len(ref.Communes) != 255 || ref.DepartementNom != "Creuse" {
		t.Errorf("Creuse: %d communes, population %d, %q, EPCI %+v", len(ref.Communes), pop, ref.DepartementNom, figs)
	}
	if e, _ := ref.EPCI("200066744"); !reflect.DeepEqual(e.Departements, []string{"19", "23"}) {
		t.Errorf("Haute-Corrèze départements %v, want [19 23]", e.Departements)
	}
}

// Isère, with two EPCI straddling its border: CA Vienne Condrieu (200077014) has 30 communes, 18 in the
// Isère and the other 12 in the Rhône (the 12 of rhone_epci.csv: 18 + 12 = 30); CC Coeur de Chartreuse
// (200040111) has 17, 7 in the Isère, 10 in the Savoie. 512 communes, 18 EPCI; population by EPCI
// (sorted by SIREN): 103962 + 10394 + 11803 + 19040 + 450608 + 56504 + 79129 + 64955 + 45296 + 75451 +
// 70574 + 112896 + 9938 + 30293 + 97384 + 11973 + 23069 + 25721 = 1298990.
func TestScopeIsereStraddlingEPCI(t *testing.T) {
	ref, figs, pop := scopeFigures(t, national(t), "38")
	if len(ref.Communes) != 512 || len(figs) != 18 || pop != 1298990 {
		t.Errorf("Isère: %d communes, %d EPCI, population %d; want 512, 18, 1298990", len(ref.Communes), len(figs), pop)
	}
	if f := figs["200077014"]; f.communes != 18 || f.total != 30 || f.pop != 75451 {
		t.Errorf("Vienne Condrieu in the Isère: %+v, want 18 of 30, 75451", f)
	}
	if f := figs["200040111"]; f.communes != 7 || f.total != 17 || f.pop != 11803 {
		t.Errorf("Coeur de Chartreuse in the Isère: %+v, want 7 of 17, 11803", f)
	}
	_, rh, _ := scopeFigures(t, national(t), "69")
	if f := rh["200077014"]; f.communes+figs["200077014"].communes != 30 || f.pop != 20415 {
		t.Errorf("Vienne Condrieu in the Rhône: %+v, want the other 12 and 20415 (rhone_epci.csv)", f)
	}
}

// La Réunion, overseas: 24 communes in 5 EPCI; the population is the sum of the 24 below.
func TestScopeReunion(t *testing.T) {
	pops := map[string]uint32{
		"97401": 11536, "97402": 13012, "97403": 7176, "97404": 14464, "97405": 13067, "97406": 6936,
		"97407": 33969, "97408": 36568, "97409": 58885, "97410": 38604, "97411": 155634, "97412": 39207,
		"97413": 36163, "97414": 54941, "97415": 108088, "97416": 85038, "97417": 5082, "97418": 37093,
		"97419": 6557, "97420": 25551, "97421": 7268, "97422": 82579, "97423": 7221, "97424": 5040,
	}
	var sum uint64
	for _, p := range pops {
		sum += uint64(p)
	}
	// 11536 + 13012 + … + 5040 = 889679; by EPCI 184086 + 134044 + 131262 + 222009 + 218278 = 889679.
	if sum != 889679 {
		t.Fatalf("hand sum %d", sum)
	}
	ref, figs, pop := scopeFigures(t, national(t), "974")
	want := map[string]epciFigure{"249740077": {6, 6, 184086}, "249740085": {4, 4, 134044}, "249740093": {6, 6, 131262},
		"249740101": {5, 5, 222009}, "249740119": {3, 3, 218278}}
	if !reflect.DeepEqual(figs, want) || pop != sum || ref.DepartementNom != "La Réunion" {
		t.Errorf("Réunion: population %d, %q, EPCI %+v", pop, ref.DepartementNom, figs)
	}
	for _, c := range ref.Communes {
		if pops[c.Code] != c.Population {
			t.Errorf("%s %s: %d, want %d", c.Code, c.Nom, c.Population, pops[c.Code])
		}
	}
}

// The special cases of the scope rule.
func TestScopeSpecialCases(t *testing.T) {
	n := national(t)
	// Métropole de Lyon alone: its 58 communes, one EPCI, 1,436,354 inhabitants; with the Rhône « 69 »
	// they make the 208 + 58 = 266 communes of the département 69, with no commune in both.
	ref, figs, pop := scopeFigures(t, n, "69m")
	if ref.Departement != "69M" || len(ref.Communes) != 58 || pop != 1436354 || len(figs) != 1 || figs[MetropoleLyon].total != 58 {
		t.Errorf("69M: %s, %d communes, %d, %+v", ref.Departement, len(ref.Communes), pop, figs)
	}
	rh, _, _ := scopeFigures(t, n, "69")
	all := 0
	for _, c := range n.communes {
		if c.dep == "69" {
			all++
		}
	}
	for _, c := range rh.Communes {
		if _, both := ref.Commune(c.Code); both {
			t.Errorf("%s in both 69 and 69M", c.Code)
		}
	}
	if len(rh.Communes)+len(ref.Communes) != all || all != 266 {
		t.Errorf("69 + 69M = %d + %d, département 69 has %d", len(rh.Communes), len(ref.Communes), all)
	}
	// Paris: one commune (its arrondissements are not communes), in the Métropole du Grand Paris, an
	// EPCI of 130 communes over several départements.
	ref, figs, pop = scopeFigures(t, n, "75")
	if len(ref.Communes) != 1 || ref.Communes[0].Code != "75056" || pop != 2103778 || figs["200054781"] != (epciFigure{1, 130, 2103778}) {
		t.Errorf("Paris: %+v, %d, %+v", ref.Communes, pop, figs)
	}
	// Corsica: 2A has 124 communes, 2B 236; « 20 » is refused with both codes named.
	for code, want := range map[string]int{"2A": 124, "2b": 236} {
		ref, _, _ := scopeFigures(t, n, code)
		if len(ref.Communes) != want || !strings.HasPrefix(ref.Communes[0].Code, strings.ToUpper(code)) {
			t.Errorf("%s: %d communes, want %d", code, len(ref.Communes), want)
		}
	}
	for _, bad := range []string{"20", "975", "988", "96", "abc"} {
		if _, err := n.Scope(bad); !errors.Is(err, ErrUnknownDepartement) {
			t.Errorf("Scope(%s) err = %v, want ErrUnknownDepartement", bad, err)
		}
	}
	// Côtes-d'Armor: Île-de-Bréhat (22016, 429 inhabitants) belongs to no EPCI; it stands for its own
	// EPCI under its commune SIREN 212200166. The other communes of 22 are in 11 EPCI: 12 in all.
	ref, figs, _ = scopeFigures(t, n, "22")
	e, ok := ref.EPCI("212200166")
	if !ok || e.Nature != natureIsolee || e.Nom != "Île-de-Bréhat" || !reflect.DeepEqual(e.Communes, []string{"22016"}) || len(figs) != 12 {
		t.Errorf("Île-de-Bréhat: %+v (%v), %d EPCI", e, ok, len(figs))
	}
	if NormalizeCode(" 1") != "01" || NormalizeCode("2a") != "2A" {
		t.Error("NormalizeCode")
	}
}

// A centroid file gives coordinates to the communes of the scope, ignores the others, and a malformed
// row refuses the file with its line and column.
func TestApplyCentroids(t *testing.T) {
	n := national(t)
	p, _ := n.Scope("23")
	before := p.Checksum
	dir := t.TempDir()
	f := filepath.Join(dir, "centroides.csv")
	// 23096 Guéret and 23176 La Souterraine are in the Creuse; 69264 Villefranche is not.
	_ = os.WriteFile(f, []byte("code_insee,latitude,longitude\n23096,46.171,1.872\n23176,46.238,1.487\n69264,45.988,4.732\n"), 0o644)
	st, err := ApplyCentroids(p, f)
	if err != nil {
		t.Fatal(err)
	}
	if st.Applied != 2 || st.Outside != 1 || st.Missing != 253 || p.Checksum == before {
		t.Errorf("stats %+v (255 - 2 = 253 missing), checksum changed: %v", st, p.Checksum != before)
	}
	c, _ := p.Ref.Commune("23096")
	if c.NoCentroid || c.Latitude != 46.171 || c.Longitude != 1.872 {
		t.Errorf("Guéret %+v", c)
	}
	if c, _ := p.Ref.Commune("23001"); !c.NoCentroid {
		t.Errorf("23001 should have no centroid: %+v", c)
	}
	// An EPCI whose communes have no centroid at all has no centroid either.
	e, _ := p.Ref.Resolve(territory.MustParse("epci:242320109"))
	if !e.NoCentroid {
		t.Errorf("Pays Dunois has no located commune: %+v", e)
	}
	_ = os.WriteFile(f, []byte("code_insee,latitude,longitude\n23096,46.171,1.872\n23176,146.2,1.487\n"), 0o644)
	if _, err := ApplyCentroids(p, f); !errors.Is(err, ErrInvalid) || !strings.Contains(err.Error(), "ligne 3, colonne 2 (latitude)") {
		t.Errorf("bad latitude: %v", err)
	}
}

// Regenerating the national files is deterministic: the shipped EPCI file is sorted by SIREN and the
// communes by code.
func TestNationalSorted(t *testing.T) {
	n := national(t)
	if !sort.SliceIsSorted(n.communes, func(i, j int) bool { return n.communes[i].code < n.communes[j].code }) {
		t.Error("communes not sorted by code")
	}
}
