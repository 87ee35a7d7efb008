package reference

import (
	"context"
	"fmt"
	"math"
	"os"
	"time"

	"github.com/ClickHouse/clickhouse-go/v2/lib/driver"

	"github.com/sdaasp-rhone/fne/internal/territory"
	"github.com/sdaasp-rhone/fne/schemas"
)

// ErrNotLoaded means no reference was ever loaded into the database.
var ErrNotLoaded = fmt.Errorf("aucun référentiel territorial chargé (lancez « fne migrate »)")

// ParseDir parses a reference folder on disk; an empty dir means the one embedded in the binary.
func ParseDir(dir string) (*Parsed, error) {
	if dir == "" {
		return Parse(schemas.Reference, "reference")
	}
	return Parse(os.DirFS(dir), ".")
}

// LoadResult says what Load did.
type LoadResult struct {
	Changed  bool // false when the same reference was already in force
	LoadID   uint64
	Communes int
	EPCI     int
}

// Load writes p as the reference in force. The rows go in under a new load_id, and the load is recorded
// in ref_loads last: readers only see complete loads. An identical reference (same checksum) is not
// written again.
func Load(ctx context.Context, conn driver.Conn, p *Parsed) (LoadResult, error) {
	res := LoadResult{Communes: len(p.Ref.Communes), EPCI: len(p.Ref.EPCIs)}
	var cur string
	var curID uint64
	rows, err := conn.Query(ctx, "SELECT load_id, checksum FROM ref_loads ORDER BY load_id DESC LIMIT 1")
	if err != nil {
		return res, fmt.Errorf("lecture de ref_loads : %w", err)
	}
	for rows.Next() {
		if err := rows.Scan(&curID, &cur); err != nil {
			rows.Close()
			return res, err
		}
	}
	rows.Close()
	if cur == p.Checksum {
		res.LoadID = curID
		return res, nil
	}
	now := time.Now().UTC()
	id := uint64(now.UnixNano())
	if id <= curID {
		id = curID + 1
	}
	res.LoadID, res.Changed = id, true

	b, err := conn.PrepareBatch(ctx, "INSERT INTO ref_epci (load_id, epci_siren, epci_nom, nature_juridique, nb_communes_total, departements)")
	if err != nil {
		return res, err
	}
	for _, e := range p.Ref.EPCIs {
		deps := e.Departements
		if deps == nil {
			deps = []string{}
		}
		if err := b.Append(id, e.Siren, e.Nom, e.Nature, e.NbCommunesTotal, deps); err != nil {
			return res, err
		}
	}
	if err := b.Send(); err != nil {
		return res, fmt.Errorf("écriture de ref_epci : %w", err)
	}
	b, err = conn.PrepareBatch(ctx, "INSERT INTO ref_communes (load_id, code_insee, nom, epci_siren, epci_nom, population, population_totale, population_municipale_2021, latitude, longitude)")
	if err != nil {
		return res, err
	}
	for _, c := range p.Ref.Communes {
		lat, lon := c.Latitude, c.Longitude
		if c.NoCentroid {
			// NaN is the stored form of an unknown centroid: 0 would be a real place in the Gulf of Guinea.
			lat, lon = math.NaN(), math.NaN()
		}
		if err := b.Append(id, c.Code, c.Nom, c.EPCI, c.EPCINom, c.Population, c.PopulationTotale, c.Population2021, lat, lon); err != nil {
			return res, err
		}
	}
	if err := b.Send(); err != nil {
		return res, fmt.Errorf("écriture de ref_communes : %w", err)
	}
	b, err = conn.PrepareBatch(ctx, "INSERT INTO ref_loads (load_id, loaded_at, departement, departement_nom, checksum, communes, epci)")
	if err != nil {
		return res, err
	}
	if err := b.Append(id, now, p.Ref.Departement, p.Ref.DepartementNom, p.Checksum, uint32(len(p.Ref.Communes)), uint32(len(p.Ref.EPCIs))); err != nil {
		return res, err
	}
	if err := b.Send(); err != nil {
		return res, fmt.Errorf("écriture de ref_loads : %w", err)
	}
	return res, nil
}

// Current reads the reference in force from the database.
func Current(ctx context.Context, conn driver.Conn) (*territory.Reference, error) {
	var (
		id       uint64
		dep, nom string
		found    bool
	)
	rows, err := conn.Query(ctx, "SELECT load_id, departement, departement_nom FROM ref_loads ORDER BY load_id DESC LIMIT 1")
	if err != nil {
		return nil, fmt.Errorf("lecture du référentiel : %w", err)
	}
	for rows.Next() {
		if err := rows.Scan(&id, &dep, &nom); err != nil {
			rows.Close()
			return nil, err
		}
		found = true
	}
	rows.Close()
	if !found {
		return nil, ErrNotLoaded
	}
	var epcis []territory.EPCIInfo
	rows, err = conn.Query(ctx, "SELECT epci_siren, epci_nom, nature_juridique, nb_communes_total, departements FROM ref_epci WHERE load_id = ?", id)
	if err != nil {
		return nil, err
	}
	for rows.Next() {
		var e territory.EPCIInfo
		if err := rows.Scan(&e.Siren, &e.Nom, &e.Nature, &e.NbCommunesTotal, &e.Departements); err != nil {
			rows.Close()
			return nil, err
		}
		epcis = append(epcis, e)
	}
	rows.Close()
	var communes []territory.Commune
	rows, err = conn.Query(ctx, "SELECT code_insee, nom, epci_siren, epci_nom, population, population_totale, population_municipale_2021, latitude, longitude FROM ref_communes WHERE load_id = ?", id)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	for rows.Next() {
		var c territory.Commune
		if err := rows.Scan(&c.Code, &c.Nom, &c.EPCI, &c.EPCINom, &c.Population, &c.PopulationTotale, &c.Population2021, &c.Latitude, &c.Longitude); err != nil {
			return nil, err
		}
		if math.IsNaN(c.Latitude) || math.IsNaN(c.Longitude) {
			c.Latitude, c.Longitude, c.NoCentroid = 0, 0, true
		}
		communes = append(communes, c)
	}
	if err := rows.Err(); err != nil {
		return nil, err
	}
	ref := territory.NewReference(dep, nom, communes, epcis)
	ref.LoadID = id
	return ref, nil
}
