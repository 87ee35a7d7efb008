package sources

import (
	"context"
	"fmt"
	"regexp"

	"github.com/sdaasp-rhone/fne/collector/ingest"
	"github.com/sdaasp-rhone/fne/internal/territory"
)

// Meeting types and formats of docs/regles.md « Sources ».
var (
	rencontreTypes = []string{"rencontre_departementale", "echange_pratiques", "atelier_thematique", "petit_dejeuner",
		"demi_journee_information", "instance_coordination", "comite_technique", "comite_pilotage"}
	rencontreFormats = []string{"presentiel", "distanciel", "hybride"}
	rencontreAction  = regexp.MustCompile(`^\d+(\.\d+)*$`)
)

var rencontreColumns = []string{"id", "date", "type", "titre", "territoire", "action", "format"}

type rencontres struct{}

// NewRencontres reads the coordinators' meetings sheet (CSV or XLSX, docs/regles.md « Sources »).
func NewRencontres() ingest.Collector { return rencontres{} }

func (rencontres) Name() string { return "rencontres" }
func (rencontres) Description() string {
	return "rencontres organisées par la coordination (CSV ou XLSX : id, date, type, titre, territoire, action, format)"
}

// Collect writes one row per meeting; the later file, and within a file the later line, wins.
func (c rencontres) Collect(ctx context.Context, in ingest.Input, sink *ingest.Sink) error {
	w := sink.Writer("rencontres", "id", "version", "deleted", "date", "type", "titre", "territoire", "action", "format")
	return tabCollect(ctx, in, sink, c.Name(), rencontreColumns, w, func(r tabRow) ([]any, string, string) {
		return parseRencontre(r, in.IngestVersion)
	})
}

// parseRencontre validates one meeting row: the values of the writer's columns, or the field and the
// French reason of the reject.
func parseRencontre(r tabRow, ingestVersion uint64) ([]any, string, string) {
	id := r.get("id")
	if id == "" {
		return nil, "id", "identifiant de la rencontre absent"
	}
	if r.get("date") == "" {
		return nil, "date", "date de la rencontre absente"
	}
	d, reason := r.date("date", planned)
	if reason != "" {
		return nil, "date", reason
	}
	typ := r.get("type")
	if reason := tabEnum("type", typ, rencontreTypes); reason != "" {
		return nil, "type", reason
	}
	titre := r.get("titre")
	if titre == "" {
		return nil, "titre", "titre de la rencontre absent"
	}
	terr, err := territory.Parse(r.get("territoire"))
	if err != nil {
		return nil, "territoire", fmt.Sprintf("territoire « %s » invalide (attendu dep:<code>, epci:<SIREN> ou com:<code INSEE>)", r.get("territoire"))
	}
	action := r.get("action")
	if action != "" && !rencontreAction.MatchString(action) {
		return nil, "action", fmt.Sprintf("action « %s » invalide (attendu un numéro d'action, ex. 1.2)", action)
	}
	format := r.get("format")
	if reason := tabEnum("format", format, rencontreFormats); reason != "" {
		return nil, "format", reason
	}
	return []any{id, ingestVersion + uint64(r.Line), uint8(0), d, typ, titre, terr.String(), action, format}, "", ""
}
