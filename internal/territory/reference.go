package territory

import (
	"errors"
	"fmt"
	"sort"
)

// ErrUnknown means a well-formed id that is not in the loaded reference.
var ErrUnknown = errors.New("territoire inconnu")

// Commune is one commune of the reference.
type Commune struct {
	Code             string
	Nom              string
	EPCI             string // SIREN
	EPCINom          string
	Population       uint32 // population municipale, latest millésime
	PopulationTotale uint32
	Population2021   uint32
	Latitude         float64
	Longitude        float64
	// NoCentroid marks a commune whose centroid is unknown (the national reference has none): its
	// Latitude and Longitude are 0 and mean nothing, distances from it cannot be computed.
	NoCentroid bool
}

// EPCIInfo is one EPCI of the reference; Communes lists only its communes in scope.
type EPCIInfo struct {
	Siren           string
	Nom             string
	Nature          string
	NbCommunesTotal uint32
	Departements    []string
	Communes        []string
}

// Reference is a complete territory reference: the département's scope, its EPCI and communes.
type Reference struct {
	LoadID         uint64
	Departement    string
	DepartementNom string
	Communes       []Commune  // sorted by code
	EPCIs          []EPCIInfo // sorted by name

	byCode map[string]int
	byEPCI map[string]int
}

// NewReference indexes communes and EPCI; EPCIInfo.Communes is recomputed from the communes.
func NewReference(dep, depNom string, communes []Commune, epcis []EPCIInfo) *Reference {
	r := &Reference{Departement: dep, DepartementNom: depNom, Communes: append([]Commune(nil), communes...), EPCIs: append([]EPCIInfo(nil), epcis...)}
	sort.Slice(r.Communes, func(i, j int) bool { return r.Communes[i].Code < r.Communes[j].Code })
	sort.Slice(r.EPCIs, func(i, j int) bool { return r.EPCIs[i].Nom < r.EPCIs[j].Nom })
	r.byCode = make(map[string]int, len(r.Communes))
	r.byEPCI = make(map[string]int, len(r.EPCIs))
	for i, e := range r.EPCIs {
		r.byEPCI[e.Siren] = i
		r.EPCIs[i].Communes = nil
	}
	for i, c := range r.Communes {
		r.byCode[c.Code] = i
		if j, ok := r.byEPCI[c.EPCI]; ok {
			r.EPCIs[j].Communes = append(r.EPCIs[j].Communes, c.Code)
		}
	}
	return r
}

// Territory is a resolved territory: its communes in scope and its totals.
type Territory struct {
	ID         ID
	Name       string
	Communes   []string // INSEE codes in scope, sorted
	Population uint64
	Latitude   float64 // centroid: population-weighted mean of its located communes' centroids
	Longitude  float64
	NoCentroid bool // none of its communes has a centroid: Latitude and Longitude mean nothing
}

// Root is the département's own territory id.
func (r *Reference) Root() ID { return ID{LevelDep, r.Departement} }

// Commune returns the commune with that code.
func (r *Reference) Commune(code string) (Commune, bool) {
	i, ok := r.byCode[code]
	if !ok {
		return Commune{}, false
	}
	return r.Communes[i], true
}

// EPCI returns the EPCI with that SIREN.
func (r *Reference) EPCI(siren string) (EPCIInfo, bool) {
	i, ok := r.byEPCI[siren]
	if !ok {
		return EPCIInfo{}, false
	}
	return r.EPCIs[i], true
}

// Resolve checks id against the reference and returns its communes and totals.
func (r *Reference) Resolve(id ID) (Territory, error) {
	t := Territory{ID: id}
	switch id.Level {
	case LevelDep:
		if id.Code != r.Departement {
			return t, fmt.Errorf("%w : %s (le référentiel chargé couvre dep:%s)", ErrUnknown, id, r.Departement)
		}
		t.Name = r.DepartementNom
		for _, c := range r.Communes {
			t.Communes = append(t.Communes, c.Code)
		}
	case LevelEPCI:
		e, ok := r.EPCI(id.Code)
		if !ok {
			return t, fmt.Errorf("%w : %s n'est pas un EPCI du référentiel", ErrUnknown, id)
		}
		t.Name = e.Nom
		t.Communes = append(t.Communes, e.Communes...)
	case LevelCommune:
		c, ok := r.Commune(id.Code)
		if !ok {
			return t, fmt.Errorf("%w : %s n'est pas une commune du référentiel", ErrUnknown, id)
		}
		t.Name = c.Nom
		t.Communes = []string{c.Code}
	default:
		return t, fmt.Errorf("%w : %s", ErrInvalidID, id)
	}
	var wlat, wlon, w float64
	for _, code := range t.Communes {
		c := r.Communes[r.byCode[code]]
		t.Population += uint64(c.Population)
		if c.NoCentroid {
			continue
		}
		p := float64(c.Population)
		if p == 0 {
			p = 1
		}
		wlat += c.Latitude * p
		wlon += c.Longitude * p
		w += p
	}
	if w > 0 {
		t.Latitude, t.Longitude = wlat/w, wlon/w
	} else {
		t.NoCentroid = true
	}
	return t, nil
}

// Children lists the territories one level below id: the EPCI of the département, the communes of an
// EPCI; a commune has none. level forces communes of the département (level "com" under dep:).
func (r *Reference) Children(id ID, level Level) ([]Territory, error) {
	if _, err := r.Resolve(id); err != nil {
		return nil, err
	}
	var ids []ID
	switch {
	case id.Level == LevelDep && level != LevelCommune:
		for _, e := range r.EPCIs {
			ids = append(ids, ID{LevelEPCI, e.Siren})
		}
	case id.Level == LevelDep || id.Level == LevelEPCI:
		t, _ := r.Resolve(id)
		for _, c := range t.Communes {
			ids = append(ids, ID{LevelCommune, c})
		}
	}
	out := make([]Territory, 0, len(ids))
	for _, cid := range ids {
		t, err := r.Resolve(cid)
		if err != nil {
			return nil, err
		}
		out = append(out, t)
	}
	return out, nil
}

// Contains reports whether territory id covers the commune code.
func (r *Reference) Contains(id ID, code string) bool {
	c, ok := r.Commune(code)
	if !ok {
		return false
	}
	switch id.Level {
	case LevelDep:
		return id.Code == r.Departement
	case LevelEPCI:
		return c.EPCI == id.Code
	case LevelCommune:
		return c.Code == id.Code
	}
	return false
}

// Within reports whether inner is inner to (or equal to) outer: the scope check of a datasource.
func (r *Reference) Within(inner, outer ID) bool {
	if inner == outer {
		return true
	}
	switch outer.Level {
	case LevelDep:
		_, err := r.Resolve(inner)
		return outer.Code == r.Departement && err == nil
	case LevelEPCI:
		return inner.Level == LevelCommune && r.Contains(outer, inner.Code)
	}
	return false
}

// MissingCentroids counts the communes of territory id that have no centroid, and its communes.
func (r *Reference) MissingCentroids(id ID) (missing, total int) {
	t, err := r.Resolve(id)
	if err != nil {
		return 0, 0
	}
	for _, code := range t.Communes {
		if c, _ := r.Commune(code); c.NoCentroid {
			missing++
		}
	}
	return missing, len(t.Communes)
}
