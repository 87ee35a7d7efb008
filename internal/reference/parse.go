// Package reference reads a territory reference folder (territoire.yaml + communes and EPCI CSV files of
// the shape of schemas/reference), validates it whole, and loads it into ClickHouse atomically.
package reference

import (
	"crypto/sha256"
	"encoding/csv"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"math"
	"path"
	"regexp"
	"strconv"
	"strings"

	"gopkg.in/yaml.v3"

	"github.com/sdaasp-rhone/fne/internal/territory"
)

// ErrInvalid wraps every validation failure; the message names the file, line and column.
var ErrInvalid = errors.New("référentiel invalide")

// Manifest is territoire.yaml.
type Manifest struct {
	Code     string `yaml:"code"`
	Nom      string `yaml:"nom"`
	Communes string `yaml:"communes"`
	EPCI     string `yaml:"epci"`
}

// Parsed is a validated reference and the checksum of its files.
type Parsed struct {
	Ref      *territory.Reference
	Checksum string
}

var (
	communeCols = []string{"code_insee", "nom", "epci_siren", "epci_nom", "population", "population_totale", "population_municipale_2021", "latitude", "longitude"}
	epciCols    = []string{"epci_siren", "epci_nom", "nature_juridique", "nb_communes_total", "departements"}
	inseeRe     = regexp.MustCompile(`^(\d{5}|2A\d{3}|2B\d{3})$`)
	sirenRe     = regexp.MustCompile(`^\d{9}$`)
	depRe       = regexp.MustCompile(`^(\d{2,3}|2A|2B|69M)$`)
)

// Parse reads and validates the reference in dir of fsys. Nothing is returned unless every line is valid.
func Parse(fsys fs.FS, dir string) (*Parsed, error) {
	h := sha256.New()
	mb, err := fs.ReadFile(fsys, path.Join(dir, "territoire.yaml"))
	if err != nil {
		return nil, fmt.Errorf("%w : %v", ErrInvalid, err)
	}
	h.Write(mb)
	var man Manifest
	if err := yaml.Unmarshal(mb, &man); err != nil {
		return nil, fmt.Errorf("%w : territoire.yaml : %v", ErrInvalid, err)
	}
	if !depRe.MatchString(man.Code) || man.Nom == "" || man.Communes == "" || man.EPCI == "" {
		return nil, fmt.Errorf("%w : territoire.yaml doit donner code (ex. « 01 »), nom, communes et epci", ErrInvalid)
	}
	epciRows, err := readCSV(fsys, path.Join(dir, man.EPCI), epciCols, h)
	if err != nil {
		return nil, err
	}
	epcis := make([]territory.EPCIInfo, 0, len(epciRows))
	known := map[string]bool{}
	for _, r := range epciRows {
		siren := r.get("epci_siren")
		if !sirenRe.MatchString(siren) {
			return nil, r.fail("epci_siren", "SIREN attendu sur 9 chiffres, trouvé %q", siren)
		}
		if known[siren] {
			return nil, r.fail("epci_siren", "EPCI %s en double", siren)
		}
		known[siren] = true
		nb, err := r.uint("nb_communes_total")
		if err != nil {
			return nil, err
		}
		var deps []string
		for _, d := range strings.Split(r.get("departements"), "|") {
			if d = strings.TrimSpace(d); d != "" {
				deps = append(deps, d)
			}
		}
		epcis = append(epcis, territory.EPCIInfo{Siren: siren, Nom: r.get("epci_nom"), Nature: r.get("nature_juridique"), NbCommunesTotal: nb, Departements: deps})
	}
	comRows, err := readCSV(fsys, path.Join(dir, man.Communes), communeCols, h)
	if err != nil {
		return nil, err
	}
	communes := make([]territory.Commune, 0, len(comRows))
	seen := map[string]bool{}
	for _, r := range comRows {
		c := territory.Commune{Code: r.get("code_insee"), Nom: r.get("nom"), EPCI: r.get("epci_siren"), EPCINom: r.get("epci_nom")}
		if !inseeRe.MatchString(c.Code) {
			return nil, r.fail("code_insee", "code INSEE attendu sur 5 caractères, trouvé %q", c.Code)
		}
		if seen[c.Code] {
			return nil, r.fail("code_insee", "commune %s en double", c.Code)
		}
		seen[c.Code] = true
		if c.Nom == "" {
			return nil, r.fail("nom", "nom de commune vide")
		}
		if !known[c.EPCI] {
			return nil, r.fail("epci_siren", "EPCI %q absent du fichier %s", c.EPCI, man.EPCI)
		}
		if c.Population, err = r.uint("population"); err != nil {
			return nil, err
		}
		if c.PopulationTotale, err = r.uint("population_totale"); err != nil {
			return nil, err
		}
		if c.Population2021, err = r.uint("population_municipale_2021"); err != nil {
			return nil, err
		}
		if r.get("latitude") == "" && r.get("longitude") == "" {
			c.NoCentroid = true // both empty: centroid unknown, distances are not computed
		} else {
			if c.Latitude, err = r.float("latitude", -90, 90); err != nil {
				return nil, err
			}
			if c.Longitude, err = r.float("longitude", -180, 180); err != nil {
				return nil, err
			}
		}
		communes = append(communes, c)
	}
	if len(communes) == 0 {
		return nil, fmt.Errorf("%w : %s ne contient aucune commune", ErrInvalid, man.Communes)
	}
	return &Parsed{Ref: territory.NewReference(man.Code, man.Nom, communes, epcis), Checksum: hex.EncodeToString(h.Sum(nil))}, nil
}

type row struct {
	file   string
	line   int
	values map[string]string
	cols   map[string]int
}

func (r row) get(col string) string { return strings.TrimSpace(r.values[col]) }

func (r row) fail(col, format string, args ...any) error {
	return fmt.Errorf("%w : %s, ligne %d, colonne %d (%s) : %s", ErrInvalid, r.file, r.line, r.cols[col]+1, col, fmt.Sprintf(format, args...))
}

func (r row) uint(col string) (uint32, error) {
	v, err := strconv.ParseUint(r.get(col), 10, 32)
	if err != nil {
		return 0, r.fail(col, "entier positif attendu, trouvé %q", r.get(col))
	}
	return uint32(v), nil
}

func (r row) float(col string, lo, hi float64) (float64, error) {
	v, err := strconv.ParseFloat(r.get(col), 64)
	if err != nil || math.IsNaN(v) || v < lo || v > hi {
		return 0, r.fail(col, "nombre entre %g et %g attendu, trouvé %q", lo, hi, r.get(col))
	}
	return v, nil
}

func readCSV(fsys fs.FS, name string, required []string, h io.Writer) ([]row, error) {
	f, err := fsys.Open(name)
	if err != nil {
		return nil, fmt.Errorf("%w : %v", ErrInvalid, err)
	}
	defer f.Close()
	return readCSVFrom(io.TeeReader(f, h), path.Base(name), required)
}

func readCSVFrom(in io.Reader, base string, required []string) ([]row, error) {
	cr := csv.NewReader(in)
	cr.FieldsPerRecord = -1
	header, err := cr.Read()
	if err != nil {
		return nil, fmt.Errorf("%w : %s : en-tête illisible : %v", ErrInvalid, base, err)
	}
	cols := map[string]int{}
	for i, c := range header {
		cols[strings.TrimPrefix(strings.TrimSpace(c), "\ufeff")] = i
	}
	for _, c := range required {
		if _, ok := cols[c]; !ok {
			return nil, fmt.Errorf("%w : %s, ligne 1 : colonne obligatoire %q absente", ErrInvalid, base, c)
		}
	}
	var rows []row
	for {
		rec, err := cr.Read()
		if err == io.EOF {
			break
		}
		line, _ := cr.FieldPos(0)
		if err != nil {
			var pe *csv.ParseError
			if errors.As(err, &pe) {
				return nil, fmt.Errorf("%w : %s, ligne %d, colonne %d : CSV mal formé (%v)", ErrInvalid, base, pe.Line, pe.Column, pe.Err)
			}
			return nil, fmt.Errorf("%w : %s : %v", ErrInvalid, base, err)
		}
		if len(rec) != len(header) {
			return nil, fmt.Errorf("%w : %s, ligne %d : %d colonnes au lieu de %d", ErrInvalid, base, line, len(rec), len(header))
		}
		vals := make(map[string]string, len(required))
		for _, c := range required {
			vals[c] = rec[cols[c]]
		}
		rows = append(rows, row{file: base, line: line, values: vals, cols: cols})
	}
	return rows, nil
}
