package sources

import (
	"time"

	"github.com/sdaasp-rhone/fne/collector/ingest"
	"github.com/sdaasp-rhone/fne/internal/store"
)

// structuresColumns are the columns of table structures written by the collector, in row order.
var structuresColumns = []string{
	"id", "version", "deleted", "modification", "nom", "siret", "code_insee", "code_postal", "commune",
	"latitude", "longitude", "services",
}

// NewStructures reads the structures of the Coop API v1 (docs/regles.md « Sources »), which locate the activities held
// at a structure, or a file of the same JSON. A deleted structure is kept, flagged: it still locates
// its past activities.
func NewStructures() ingest.Collector { return newStructures() }

func newStructures() *coopCollector {
	return newCoopCollector(coopSpec{
		name:        "structures",
		description: "structures des conseillers numériques (API de la Coop de la médiation numérique, ou fichier JSON)",
		resource:    "structures",
		schemaFile:  "structure.schema.json",
		table:       "structures",
		columns:     structuresColumns,
		row:         structureRow,
	})
}

func structureRow(res coopResource, now time.Time) ([]any, time.Time, *recordError) {
	a := res.attrs
	deleted, versionAt, modification, rerr := coopRecordTimes(a)
	if rerr != nil {
		return nil, modification, rerr
	}
	insee := attrString(a, "code_insee")
	if insee != "" && !inseeCode.MatchString(insee) {
		return nil, modification, rejectf("code_insee", "code INSEE invalide (5 caractères, par exemple 69123 ou 2A004)")
	}
	lat, lon := attrFloat(a, "latitude"), attrFloat(a, "longitude")
	if (lat == nil) != (lon == nil) {
		return nil, modification, rejectf("latitude", "latitude et longitude vont ensemble : l'une est absente")
	}
	return []any{
		res.id, store.Version(versionAt, now), deleted, modification, attrString(a, "nom"),
		attrString(a, "siret"), insee, attrString(a, "code_postal"), attrString(a, "commune"),
		lat, lon, attrStrings(a, "services"),
	}, modification, nil
}
