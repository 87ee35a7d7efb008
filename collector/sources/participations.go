package sources

import (
	"context"
	"fmt"
	"strconv"

	"github.com/sdaasp-rhone/fne/collector/ingest"
)

// Structure types of docs/regles.md « Sources ».
var participationStructureTypes = []string{"collectivite", "association", "france_services", "mediatheque", "ccas",
	"education_nationale", "operateur_public", "entreprise", "etat", "autre"}

var participationColumns = []string{"rencontre_id", "structure_id", "structure_nom", "structure_type", "personnes", "relais", "connait_offre"}

type participations struct{}

// NewParticipations reads the attendance sheet of the meetings (CSV or XLSX, docs/regles.md « Sources »).
func NewParticipations() ingest.Collector { return participations{} }

func (participations) Name() string { return "participations" }
func (participations) Description() string {
	return "participations des structures aux rencontres (CSV ou XLSX : rencontre_id, structure_id, structure_nom, structure_type, personnes, relais, connait_offre)"
}

// Collect writes one row per (meeting, structure). A participation to a meeting not ingested yet is
// kept: it counts as soon as the meeting arrives (docs/regles.md « Territoires »).
func (c participations) Collect(ctx context.Context, in ingest.Input, sink *ingest.Sink) error {
	w := sink.Writer("participations", "rencontre_id", "structure_id", "version", "deleted", "structure_nom", "structure_type",
		"personnes", "relais", "connait_offre")
	return tabCollect(ctx, in, sink, c.Name(), participationColumns, w, func(r tabRow) ([]any, string, string) {
		return parseParticipation(r, in.IngestVersion)
	})
}

func parseParticipation(r tabRow, ingestVersion uint64) ([]any, string, string) {
	rid := r.get("rencontre_id")
	if rid == "" {
		return nil, "rencontre_id", "identifiant de la rencontre absent"
	}
	sid := r.get("structure_id")
	if sid == "" {
		return nil, "structure_id", "identifiant de la structure absent"
	}
	typ := r.get("structure_type")
	if reason := tabEnum("structure_type", typ, participationStructureTypes); reason != "" {
		return nil, "structure_type", reason
	}
	p := r.get("personnes")
	n, err := strconv.ParseUint(p, 10, 32)
	if err != nil && r.XLSX {
		// A workbook stores whole numbers typed in a cell as "2" but computed ones may read "2.0".
		if f, ferr := tabNumber(p); ferr == nil && f == float64(uint32(f)) {
			n, err = uint64(f), nil
		}
	}
	if err != nil || n == 0 {
		if p == "" {
			return nil, "personnes", "nombre de personnes absent"
		}
		return nil, "personnes", fmt.Sprintf("nombre de personnes « %s » invalide (entier supérieur ou égal à 1 attendu)", p)
	}
	relais, ok := tabYesNo(r.get("relais"))
	if !ok {
		return nil, "relais", fmt.Sprintf("relais « %s » invalide (oui ou non attendu)", r.get("relais"))
	}
	var connait *uint8
	if v := r.get("connait_offre"); v != "" {
		b, ok := tabYesNo(v)
		if !ok {
			return nil, "connait_offre", fmt.Sprintf("connait_offre « %s » invalide (oui, non ou vide attendu)", v)
		}
		connait = &b
	}
	return []any{rid, sid, ingestVersion + uint64(r.Line), uint8(0), r.get("structure_nom"), typ, uint32(n), relais, connait}, "", ""
}
