// Command reference-france regenerates the national territorial reference shipped in
// schemas/reference/france from the npm package @etalab/decoupage-administratif (COG and DGCL data,
// Licence Ouverte). `make reference-france` fetches the package tarball with `npm pack` and runs:
//
//	go run ./internal/reference/cmd/reference-france -tgz etalab-decoupage-administratif-6.0.0.tgz -out schemas/reference/france
//
// The tarball's SHA-256 is pinned: another vintage is a deliberate change of this file. The output is
// reproducible byte for byte: rows sorted by code, fixed column order, gzip without name or timestamp.
package main

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"crypto/sha256"
	"encoding/csv"
	"encoding/hex"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
)

// pinnedSHA256 is the SHA-256 of @etalab/decoupage-administratif-6.0.0.tgz as served by the npm registry.
const pinnedSHA256 = "c189ffd5b33fe40c2f19e1a923ce557f190622f39228745d3195d746dfe00c4a"

type commune struct {
	Code        string `json:"code"`
	Nom         string `json:"nom"`
	Type        string `json:"type"`
	Zone        string `json:"zone"`
	Departement string `json:"departement"`
	Region      string `json:"region"`
	Siren       string `json:"siren"`
	Population  *int   `json:"population"`
}

type epci struct {
	Code    string `json:"code"`
	Nom     string `json:"nom"`
	Type    string `json:"type"`
	Membres []struct {
		Code string `json:"code"`
	} `json:"membres"`
}

type named struct {
	Code   string `json:"code"`
	Nom    string `json:"nom"`
	Region string `json:"region"`
	Zone   string `json:"zone"`
}

func main() {
	tgz := flag.String("tgz", "", "tarball of @etalab/decoupage-administratif (npm pack)")
	out := flag.String("out", "schemas/reference/france", "output folder")
	flag.Parse()
	if err := run(*tgz, *out); err != nil {
		fmt.Fprintln(os.Stderr, "reference-france :", err)
		os.Exit(1)
	}
}

func run(tgz, out string) error {
	raw, err := os.ReadFile(tgz)
	if err != nil {
		return err
	}
	sum := sha256.Sum256(raw)
	if got := hex.EncodeToString(sum[:]); got != pinnedSHA256 {
		return fmt.Errorf("SHA-256 du paquet %s, attendu %s (version différente de 6.0.0 ?)", got, pinnedSHA256)
	}
	files, err := untar(raw)
	if err != nil {
		return err
	}
	return generate(files, out)
}

// generate writes the three files from the package's data files (by their path in the tarball).
func generate(files map[string][]byte, out string) error {
	var (
		communes []commune
		epcis    []epci
		deps     []named
		regions  []named
	)
	for name, dst := range map[string]any{"package/data/communes.json": &communes, "package/data/epci.json": &epcis,
		"package/data/departements.json": &deps, "package/data/regions.json": &regions} {
		b, ok := files[name]
		if !ok {
			return fmt.Errorf("%s absent du paquet", name)
		}
		if err := json.Unmarshal(b, dst); err != nil {
			return fmt.Errorf("%s : %w", name, err)
		}
	}

	// The COG communes: current communes of metropolitan France and the overseas départements. The
	// collectivités d'outre-mer (zone "com") are not départements and have no EPCI; municipal
	// arrondissements (Paris, Lyon, Marseille) and delegated or associated communes are not communes.
	var cs []commune
	depOf := map[string]string{}
	for _, c := range communes {
		if c.Type == "commune-actuelle" && (c.Zone == "metro" || c.Zone == "drom") {
			if c.Population == nil {
				return fmt.Errorf("commune %s sans population", c.Code)
			}
			cs = append(cs, c)
			depOf[c.Code] = c.Departement
		}
	}
	sort.Slice(cs, func(i, j int) bool { return cs[i].Code < cs[j].Code })
	epciOf := map[string]string{}
	sort.Slice(epcis, func(i, j int) bool { return epcis[i].Code < epcis[j].Code })
	for _, e := range epcis {
		for _, m := range e.Membres {
			if _, ok := depOf[m.Code]; !ok {
				return fmt.Errorf("EPCI %s : membre %s absent des communes", e.Code, m.Code)
			}
			if prev, dup := epciOf[m.Code]; dup {
				return fmt.Errorf("commune %s membre de deux EPCI (%s, %s)", m.Code, prev, e.Code)
			}
			epciOf[m.Code] = e.Code
		}
	}
	if err := os.MkdirAll(out, 0o755); err != nil {
		return err
	}

	regNom := map[string]string{}
	for _, r := range regions {
		regNom[r.Code] = r.Nom
	}
	sort.Slice(deps, func(i, j int) bool { return deps[i].Code < deps[j].Code })
	var rows [][]string
	for _, d := range deps {
		if d.Zone == "metro" || d.Zone == "drom" {
			rows = append(rows, []string{d.Code, d.Nom, d.Region, regNom[d.Region]})
		}
	}
	if err := writeCSV(filepath.Join(out, "departements.csv"), []string{"code", "nom", "region", "region_nom"}, rows, false); err != nil {
		return err
	}

	rows = rows[:0]
	for _, e := range epcis {
		perDep := map[string]int{}
		for _, m := range e.Membres {
			perDep[depOf[m.Code]]++
		}
		var ds, counts []string
		for d := range perDep {
			ds = append(ds, d)
		}
		sort.Strings(ds)
		for _, d := range ds {
			counts = append(counts, d+":"+strconv.Itoa(perDep[d]))
		}
		rows = append(rows, []string{e.Code, e.Nom, e.Type, strconv.Itoa(len(e.Membres)), strings.Join(ds, "|"), strings.Join(counts, "|")})
	}
	if err := writeCSV(filepath.Join(out, "epci.csv"), []string{"epci_siren", "epci_nom", "nature_juridique", "nb_communes_total", "departements", "communes_par_departement"}, rows, false); err != nil {
		return err
	}

	rows = rows[:0]
	for _, c := range cs {
		rows = append(rows, []string{c.Code, c.Nom, c.Departement, c.Region, c.Siren, epciOf[c.Code], strconv.Itoa(*c.Population)})
	}
	if err := writeCSV(filepath.Join(out, "communes.csv.gz"), []string{"code_insee", "nom", "departement", "region", "siren", "epci_siren", "population"}, rows, true); err != nil {
		return err
	}
	fmt.Printf("%d départements, %d EPCI, %d communes écrits dans %s\n", countDeps(deps), len(epcis), len(cs), out)
	return nil
}

func countDeps(deps []named) int {
	n := 0
	for _, d := range deps {
		if d.Zone == "metro" || d.Zone == "drom" {
			n++
		}
	}
	return n
}

func untar(raw []byte) (map[string][]byte, error) {
	zr, err := gzip.NewReader(bytes.NewReader(raw))
	if err != nil {
		return nil, err
	}
	tr := tar.NewReader(zr)
	out := map[string][]byte{}
	for {
		h, err := tr.Next()
		if err == io.EOF {
			return out, nil
		}
		if err != nil {
			return nil, err
		}
		if strings.HasPrefix(h.Name, "package/data/") {
			b, err := io.ReadAll(tr)
			if err != nil {
				return nil, err
			}
			out[h.Name] = b
		}
	}
}

func writeCSV(path string, header []string, rows [][]string, gz bool) error {
	var buf bytes.Buffer
	var w io.Writer = &buf
	var zw *gzip.Writer
	if gz {
		// No name and a zero modification time in the header: the same input gives the same bytes.
		zw, _ = gzip.NewWriterLevel(&buf, gzip.BestCompression)
		w = zw
	}
	cw := csv.NewWriter(w)
	_ = cw.Write(header)
	_ = cw.WriteAll(rows)
	if err := cw.Error(); err != nil {
		return err
	}
	if zw != nil {
		if err := zw.Close(); err != nil {
			return err
		}
	}
	return os.WriteFile(path, buf.Bytes(), 0o644)
}
