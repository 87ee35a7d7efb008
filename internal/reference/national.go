package reference

import (
	"bytes"
	"compress/gzip"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"

	"github.com/sdaasp-rhone/fne/internal/territory"
	"github.com/sdaasp-rhone/fne/schemas"
)

// Scope codes with a rule of their own (see schemas/reference/SOURCE.md).
const (
	// MetropoleLyon is the EPCI SIREN of the Métropole de Lyon: a collectivité with the powers of a
	// département, so its 58 communes are outside the Département du Rhône « 69 ».
	MetropoleLyon = "200046977"
	// CodeMetropoleLyon selects the Métropole on its own: 69M is the INSEE code of its collectivité
	// (CTCD of the COG), as 69D is the Département's.
	CodeMetropoleLyon = "69M"
	// natureIsolee is the nature of the stand-in EPCI of a commune that belongs to none (four island
	// communes: Île-de-Bréhat, Île-de-Sein, Ouessant, L'Île-d'Yeu).
	natureIsolee = "COMMUNE_ISOLEE"
)

// ErrUnknownDepartement means a code that the national reference does not cover.
var ErrUnknownDepartement = errors.New("département inconnu")

// Departement is one entry of the national list.
type Departement struct {
	Code, Nom, Region, RegionNom string
}

// National is the national reference as shipped: every commune of the COG with its EPCI.
type National struct {
	Departements []Departement
	communes     []natCommune
	epci         map[string]natEPCI
	checksum     []byte // SHA-256 of the shipped files
}

type natCommune struct {
	code, nom, dep, siren, epci string
	pop                         uint32
}

type natEPCI struct {
	siren, nom, nature string
	total              uint32
	deps               []string
}

var nationalCache struct {
	once sync.Once
	n    *National
	err  error
}

// LoadNational reads the national reference embedded in the binary, once per process (it is never
// modified: Scope builds new references).
func LoadNational() (*National, error) {
	nationalCache.once.Do(func() { nationalCache.n, nationalCache.err = readNational(schemas.France, "reference/france") })
	return nationalCache.n, nationalCache.err
}

func readNational(fsys fs.FS, dir string) (*National, error) {
	h := sha256.New()
	n := &National{epci: map[string]natEPCI{}}
	read := func(name string, cols []string, each func(r row) error) error {
		b, err := fs.ReadFile(fsys, dir+"/"+name)
		if err != nil {
			return fmt.Errorf("%w : référentiel national : %v", ErrInvalid, err)
		}
		h.Write(b)
		if strings.HasSuffix(name, ".gz") {
			zr, err := gzip.NewReader(bytes.NewReader(b))
			if err != nil {
				return fmt.Errorf("%w : %s : %v", ErrInvalid, name, err)
			}
			if b, err = io.ReadAll(zr); err != nil {
				return fmt.Errorf("%w : %s : %v", ErrInvalid, name, err)
			}
		}
		rows, err := readCSVBytes(strings.TrimSuffix(name, ".gz"), b, cols)
		if err != nil {
			return err
		}
		for _, r := range rows {
			if err := each(r); err != nil {
				return err
			}
		}
		return nil
	}
	err := read("departements.csv", []string{"code", "nom", "region", "region_nom"}, func(r row) error {
		n.Departements = append(n.Departements, Departement{r.get("code"), r.get("nom"), r.get("region"), r.get("region_nom")})
		return nil
	})
	if err != nil {
		return nil, err
	}
	err = read("epci.csv", []string{"epci_siren", "epci_nom", "nature_juridique", "nb_communes_total", "departements"}, func(r row) error {
		total, err := r.uint("nb_communes_total")
		if err != nil {
			return err
		}
		n.epci[r.get("epci_siren")] = natEPCI{siren: r.get("epci_siren"), nom: r.get("epci_nom"), nature: r.get("nature_juridique"),
			total: total, deps: strings.Split(r.get("departements"), "|")}
		return nil
	})
	if err != nil {
		return nil, err
	}
	err = read("communes.csv.gz", []string{"code_insee", "nom", "departement", "siren", "epci_siren", "population"}, func(r row) error {
		pop, err := r.uint("population")
		if err != nil {
			return err
		}
		n.communes = append(n.communes, natCommune{code: r.get("code_insee"), nom: r.get("nom"), dep: r.get("departement"),
			siren: r.get("siren"), epci: r.get("epci_siren"), pop: pop})
		return nil
	})
	if err != nil {
		return nil, err
	}
	n.checksum = h.Sum(nil)
	return n, nil
}

// NormalizeCode reads a département code as users type it: "1" is "01", "2a" is "2A", "69m" is "69M".
func NormalizeCode(code string) string {
	c := strings.ToUpper(strings.TrimSpace(code))
	if len(c) == 1 && c[0] >= '0' && c[0] <= '9' {
		c = "0" + c
	}
	return c
}

// Scope builds the reference of one département from the national reference. The rules:
//   - « 69 » is the Département du Rhône without the Métropole de Lyon (the members of EPCI 200046977),
//     « 69M » the Métropole alone;
//   - « 20 » is refused: Corsica has two départements, 2A and 2B;
//   - an EPCI that straddles départements keeps only its communes in scope (its nb_communes_total and
//     departements still describe the whole EPCI);
//   - a commune in no EPCI (four island communes) stands for its own EPCI, under its own SIREN.
//
// The Rhône « 69 » also takes the extra columns of the shipped Rhône reference (centroids, population
// totale 2023, population municipale 2021): it is then the same reference as the default one.
func (n *National) Scope(code string) (*Parsed, error) {
	code = NormalizeCode(code)
	var dep Departement
	switch code {
	case CodeMetropoleLyon:
		dep = Departement{Code: CodeMetropoleLyon, Nom: "Métropole de Lyon", Region: "84"}
	case "20":
		return nil, fmt.Errorf("%w : la Corse compte deux départements, 2A (Corse-du-Sud) et 2B (Haute-Corse)", ErrUnknownDepartement)
	default:
		found := false
		for _, d := range n.Departements {
			if d.Code == code {
				dep, found = d, true
			}
		}
		if !found {
			if strings.HasPrefix(code, "97") || strings.HasPrefix(code, "98") {
				return nil, fmt.Errorf("%w : %s n'est pas un département (collectivité d'outre-mer, sans EPCI) : décrivez son périmètre avec « fne migrate --reference DOSSIER »", ErrUnknownDepartement, code)
			}
			return nil, fmt.Errorf("%w : « %s » (codes attendus : 01 à 95, 2A, 2B, 971 à 974, 976, ou 69M pour la Métropole de Lyon)", ErrUnknownDepartement, code)
		}
		if code == "69" {
			dep.Nom = "Rhône (hors Métropole de Lyon)"
		}
	}
	in := func(c natCommune) bool {
		switch code {
		case "69":
			return c.dep == "69" && c.epci != MetropoleLyon
		case CodeMetropoleLyon:
			return c.epci == MetropoleLyon
		}
		return c.dep == code
	}
	var communes []territory.Commune
	epcis := map[string]territory.EPCIInfo{}
	for _, c := range n.communes {
		if !in(c) {
			continue
		}
		tc := territory.Commune{Code: c.code, Nom: c.nom, EPCI: c.epci, Population: c.pop, NoCentroid: true}
		if e, ok := n.epci[c.epci]; ok {
			tc.EPCINom = e.nom
			epcis[e.siren] = territory.EPCIInfo{Siren: e.siren, Nom: e.nom, Nature: e.nature, NbCommunesTotal: e.total, Departements: e.deps}
		} else {
			tc.EPCI, tc.EPCINom = c.siren, c.nom
			epcis[c.siren] = territory.EPCIInfo{Siren: c.siren, Nom: c.nom, Nature: natureIsolee, NbCommunesTotal: 1, Departements: []string{c.dep}}
		}
		communes = append(communes, tc)
	}
	sirens := make([]string, 0, len(epcis))
	for s := range epcis {
		sirens = append(sirens, s)
	}
	sort.Strings(sirens)
	list := make([]territory.EPCIInfo, 0, len(sirens))
	for _, s := range sirens {
		list = append(list, epcis[s])
	}
	h := sha256.New()
	fmt.Fprintf(h, "national:%s:", code)
	h.Write(n.checksum)
	if code == "69" {
		rh, err := ParseDir("")
		if err != nil {
			return nil, err
		}
		own := map[string]territory.Commune{}
		for _, c := range rh.Ref.Communes {
			own[c.Code] = c
		}
		for i, c := range communes {
			if o, ok := own[c.Code]; ok {
				communes[i].PopulationTotale, communes[i].Population2021 = o.PopulationTotale, o.Population2021
				communes[i].Latitude, communes[i].Longitude, communes[i].NoCentroid = o.Latitude, o.Longitude, o.NoCentroid
			}
		}
		h.Write([]byte(rh.Checksum))
	}
	return &Parsed{Ref: territory.NewReference(dep.Code, dep.Nom, communes, list), Checksum: hex.EncodeToString(h.Sum(nil))}, nil
}

// CentroidStats says what ApplyCentroids did.
type CentroidStats struct {
	Applied   int // communes of the scope that received a centroid
	Outside   int // rows of the file for communes outside the scope (ignored)
	Missing   int // communes of the scope still without centroid
	Checksum  string
	LineCount int
}

// ApplyCentroids reads a CSV file `code_insee,latitude,longitude` (WGS84 decimal degrees, one row per
// commune, header required) and gives those centroids to the communes of p. Rows for communes outside
// the scope are ignored, so one national file serves every département; a malformed row refuses the
// whole file with its line and column. The checksum of p changes with the file.
func ApplyCentroids(p *Parsed, path string) (CentroidStats, error) {
	var st CentroidStats
	b, err := os.ReadFile(path)
	if err != nil {
		return st, fmt.Errorf("%w : centroïdes : %v", ErrInvalid, err)
	}
	rows, err := readCSVBytes(filepath.Base(path), b, []string{"code_insee", "latitude", "longitude"})
	if err != nil {
		return st, err
	}
	idx := map[string]int{}
	for i, c := range p.Ref.Communes {
		idx[c.Code] = i
	}
	communes := append([]territory.Commune(nil), p.Ref.Communes...)
	seen := map[string]bool{}
	for _, r := range rows {
		code := r.get("code_insee")
		if !inseeRe.MatchString(code) {
			return st, r.fail("code_insee", "code INSEE attendu sur 5 caractères, trouvé %q", code)
		}
		if seen[code] {
			return st, r.fail("code_insee", "commune %s en double", code)
		}
		seen[code] = true
		lat, err := r.float("latitude", -90, 90)
		if err != nil {
			return st, err
		}
		lon, err := r.float("longitude", -180, 180)
		if err != nil {
			return st, err
		}
		i, ok := idx[code]
		if !ok {
			st.Outside++
			continue
		}
		communes[i].Latitude, communes[i].Longitude, communes[i].NoCentroid = lat, lon, false
		st.Applied++
	}
	for _, c := range communes {
		if c.NoCentroid {
			st.Missing++
		}
	}
	st.LineCount = len(rows)
	h := sha256.New()
	h.Write([]byte(p.Checksum))
	h.Write(b)
	p.Checksum = hex.EncodeToString(h.Sum(nil))
	st.Checksum = p.Checksum
	p.Ref = territory.NewReference(p.Ref.Departement, p.Ref.DepartementNom, communes, p.Ref.EPCIs)
	return st, nil
}

func readCSVBytes(name string, b []byte, cols []string) ([]row, error) {
	return readCSVFrom(bytes.NewReader(b), name, cols)
}

// NoCentroidReason explains, in French, why the distance indicator (a2.population_zone_blanche) is
// sans données for territory id: some of its communes have no centroid. Empty when they all have one.
// The CLI and the plugin show it next to « sans données ».
func NoCentroidReason(ref *territory.Reference, id territory.ID) string {
	missing, total := ref.MissingCentroids(id)
	if missing == 0 {
		return ""
	}
	if total == 1 {
		return "la commune n'a pas de centroïde : distance aux lieux non calculable (fne migrate --centroids FICHIER)"
	}
	if missing == total {
		return fmt.Sprintf("aucune des %d communes du territoire n'a de centroïde : distance aux lieux non calculable (fne migrate --centroids FICHIER)", total)
	}
	if missing == 1 {
		return fmt.Sprintf("1 commune sur %d sans centroïde : distance aux lieux non calculable (fne migrate --centroids FICHIER)", total)
	}
	return fmt.Sprintf("%d communes sur %d sans centroïde : distance aux lieux non calculable (fne migrate --centroids FICHIER)", missing, total)
}
