package sources

import (
	"sort"
	"strings"
	"time"
	"unicode/utf8"

	gojsonv2 "github.com/goccy/go-json/v2"

	"github.com/sdaasp-rhone/fne/collector/ingest"
	"github.com/sdaasp-rhone/fne/internal/store"
)

// activitesColumns are the columns of table activites written by the collector, in row order.
var activitesColumns = []string{
	"id", "version", "deleted", "modification", "creation", "type", "mediateur_id", "date", "duree",
	"accompagnements", "type_lieu", "structure_id", "lieu_code_insee", "lieu_code_postal", "lieu_commune",
	"thematiques", "materiel", "autonomie", "oriente_vers_structure", "niveau_atelier",
	"beneficiaires_total", "beneficiaires_cles", "beneficiaires_valeurs",
}

// NewActivites reads counsellors' activities from the Coop API v1 (docs/regles.md « Sources ») or from a file of the
// same JSON. The commune of an activity is resolved at query time (structure or lieu_code_insee), so the
// collector stores structure_id and lieu_* as given.
func NewActivites() ingest.Collector { return newActivites() }

func newActivites() *coopCollector {
	return newCoopCollector(coopSpec{
		name:        "activites",
		description: "activités des conseillers numériques (API de la Coop de la médiation numérique, ou fichier JSON)",
		resource:    "activites",
		schemaFile:  "activite.schema.json",
		table:       "activites",
		columns:     activitesColumns,
		row:         activiteRow,
		fast:        activiteFast,
	})
}

func activiteRow(res coopResource, now time.Time) ([]any, time.Time, *recordError) {
	a := res.attrs
	deleted, versionAt, modification, rerr := coopRecordTimes(a)
	if rerr != nil {
		return nil, modification, rerr
	}
	creation, rerr := attrTime(a, "creation")
	if rerr != nil {
		return nil, modification, rerr
	}
	if creation.IsZero() {
		creation = modification
	}
	date, ok := parseISODate(attrString(a, "date"))
	if !ok {
		return nil, modification, rejectf("date", "date « %s » invalide ou hors de la plage admise (AAAA-MM-JJ, du 2000-01-01 à l'ingestion + 1 jour)", attrString(a, "date"))
	}
	duree, ok := attrUint32(a, "duree")
	if !ok {
		return nil, modification, rejectf("duree", "nombre trop grand")
	}
	acc, ok := attrUint32(a, "accompagnements")
	if !ok {
		return nil, modification, rejectf("accompagnements", "nombre trop grand")
	}
	typeLieu := attrString(a, "type_lieu")
	structureID := attrString(a, "structure_id")
	if typeLieu == "lieu_activite" && structureID == "" {
		return nil, modification, rejectf("structure_id", "structure_id est obligatoire quand type_lieu vaut lieu_activite")
	}
	insee := attrString(a, "lieu_code_insee")
	if insee != "" && !inseeCode.MatchString(insee) {
		return nil, modification, rejectf("lieu_code_insee", "code INSEE invalide (5 caractères, par exemple 69123 ou 2A004)")
	}
	var oriente *uint8
	if b, isBool := a["oriente_vers_structure"].(bool); isBool {
		v := uint8(0)
		if b {
			v = 1
		}
		oriente = &v
	}
	total, keys, vals, rerr := flattenBeneficiaires(a)
	if rerr != nil {
		return nil, modification, rerr
	}
	return []any{
		res.id, store.Version(versionAt, now), deleted, modification, creation, attrString(a, "type"),
		attrString(a, "mediateur_id"), date, duree, acc, typeLieu, structureID, insee,
		attrString(a, "lieu_code_postal"), attrString(a, "lieu_commune"), attrStrings(a, "thematiques"),
		attrStrings(a, "materiel"), attrString(a, "autonomie"), oriente, attrString(a, "niveau_atelier"),
		total, keys, vals,
	}, modification, nil
}

// activiteJSON is the typed form of an activity for the fast path. Every field is a pointer (or a slice
// of pointers) so that absent and null stay distinguishable from "" and 0, as the schema requires.
type activiteJSON struct {
	Type       *string `json:"type"`
	ID         *string `json:"id"`
	Attributes *struct {
		Type                 *string   `json:"type"`
		MediateurID          *string   `json:"mediateur_id"`
		Date                 *string   `json:"date"`
		Duree                *int64    `json:"duree"`
		Accompagnements      *int64    `json:"accompagnements"`
		TypeLieu             *string   `json:"type_lieu"`
		StructureID          *string   `json:"structure_id"`
		LieuCodeInsee        *string   `json:"lieu_code_insee"`
		LieuCodePostal       *string   `json:"lieu_code_postal"`
		LieuCommune          *string   `json:"lieu_commune"`
		Thematiques          []*string `json:"thematiques"`
		Materiel             []*string `json:"materiel"`
		Autonomie            *string   `json:"autonomie"`
		OrienteVersStructure *bool     `json:"oriente_vers_structure"`
		NiveauAtelier        *string   `json:"niveau_atelier"`
		Creation             *string   `json:"creation"`
		Modification         *string   `json:"modification"`
		Suppression          *string   `json:"suppression"`
		Beneficiaires        *struct {
			Total       *int64            `json:"total"`
			Genres      map[string]*int64 `json:"genres"`
			TranchesAge map[string]*int64 `json:"tranches_age"`
			Statuts     map[string]*int64 `json:"statuts"`
		} `json:"beneficiaires"`
	} `json:"attributes"`
}

var (
	activiteTypes     = map[string]bool{"individuel": true, "demarche_administrative": true, "collectif": true}
	activiteTypesLieu = map[string]bool{"lieu_activite": true, "domicile": true, "a_distance": true, "autre": true}
)

// activiteFast maps a resource without going through the generic JSON Schema validator, which costs
// ≈ 25 µs per activity (more than everything else together). It accepts a record only when every
// constraint of activite.schema.json and every typed check visibly holds, and answers ok=false on the
// slightest doubt (type mismatch, fraction, duplicate or differently-cased key, invalid UTF-8, any failed
// check): the caller then runs the schema, which is the authority and words the reject. FuzzCoopPage
// checks that whatever the fast path accepts, the schema path accepts with the very same row.
func activiteFast(raw []byte, now time.Time) ([]any, time.Time, bool) {
	var r activiteJSON
	// json v2 semantics: case-sensitive names, duplicate names and invalid UTF-8 are errors.
	if err := gojsonv2.UnmarshalOf(raw, &r); err != nil {
		return nil, time.Time{}, false
	}
	a := r.Attributes
	if r.Type == nil || *r.Type != "activite" || r.ID == nil || *r.ID == "" || utf8.RuneCountInString(*r.ID) > 200 || a == nil ||
		a.Type == nil || !activiteTypes[*a.Type] || a.MediateurID == nil || *a.MediateurID == "" ||
		a.Date == nil || !datePrefix(*a.Date) || a.Accompagnements == nil || a.TypeLieu == nil ||
		!activiteTypesLieu[*a.TypeLieu] || a.Modification == nil || *a.Modification == "" {
		return nil, time.Time{}, false
	}
	duree, ok1 := fastUint32(a.Duree)
	acc, ok2 := fastUint32(a.Accompagnements)
	thematiques, ok3 := fastStrings(a.Thematiques)
	materiel, ok4 := fastStrings(a.Materiel)
	if !ok1 || !ok2 || !ok3 || !ok4 {
		return nil, time.Time{}, false
	}
	modification, ok := fastTime(a.Modification)
	if !ok || modification.IsZero() {
		return nil, time.Time{}, false
	}
	creation, ok5 := fastTime(a.Creation)
	suppression, ok6 := fastTime(a.Suppression)
	date, ok7 := parseISODate(strings.TrimSpace(*a.Date))
	if !ok5 || !ok6 || !ok7 {
		return nil, time.Time{}, false
	}
	if creation.IsZero() {
		creation = modification
	}
	deleted, versionAt := uint8(0), modification
	if !suppression.IsZero() {
		deleted = 1
		if suppression.After(versionAt) {
			versionAt = suppression
		}
	}
	typeLieu, structureID, insee := *a.TypeLieu, trimmed(a.StructureID), trimmed(a.LieuCodeInsee)
	if (typeLieu == "lieu_activite" && structureID == "") || (insee != "" && !inseeCode.MatchString(insee)) {
		return nil, time.Time{}, false
	}
	var oriente *uint8
	if a.OrienteVersStructure != nil {
		v := uint8(0)
		if *a.OrienteVersStructure {
			v = 1
		}
		oriente = &v
	}
	total, keys, vals := uint32(0), []string{}, []uint32{}
	if b := a.Beneficiaires; b != nil {
		if total, ok = fastUint32(b.Total); !ok {
			return nil, time.Time{}, false
		}
		for i, m := range []map[string]*int64{b.Genres, b.TranchesAge, b.Statuts} {
			names := make([]string, 0, len(m))
			for k := range m {
				names = append(names, k)
			}
			sort.Strings(names)
			for _, k := range names {
				v, ok := fastUint32(m[k])
				if !ok {
					return nil, time.Time{}, false
				}
				if v > 0 {
					keys = append(keys, beneficiaryGroups[i]+"."+k)
					vals = append(vals, v)
				}
			}
		}
	}
	return []any{
		*r.ID, store.Version(versionAt, now), deleted, modification, creation, *a.Type,
		strings.TrimSpace(*a.MediateurID), date, duree, acc, typeLieu, structureID, insee,
		trimmed(a.LieuCodePostal), trimmed(a.LieuCommune), thematiques, materiel, trimmed(a.Autonomie), oriente,
		trimmed(a.NiveauAtelier), total, keys, vals,
	}, modification, true
}

func trimmed(s *string) string {
	if s == nil {
		return ""
	}
	return strings.TrimSpace(*s)
}

// datePrefix is the schema's pattern ^[0-9]{4}-[0-9]{2}-[0-9]{2}.
func datePrefix(s string) bool {
	if len(s) < 10 || s[4] != '-' || s[7] != '-' {
		return false
	}
	for _, i := range []int{0, 1, 2, 3, 5, 6, 8, 9} {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}

func fastUint32(p *int64) (uint32, bool) {
	if p == nil {
		return 0, true
	}
	if *p < 0 || *p > 1<<32-1 {
		return 0, false
	}
	return uint32(*p), true
}

func fastStrings(l []*string) ([]string, bool) {
	out := make([]string, 0, len(l))
	for _, s := range l {
		if s == nil {
			return nil, false
		}
		if *s != "" {
			out = append(out, *s)
		}
	}
	return out, true
}

// fastTime is attrTime for the fast path: nil or blank is the zero time, anything else must parse and
// lie within the stored range.
func fastTime(s *string) (time.Time, bool) {
	v := trimmed(s)
	if v == "" {
		return time.Time{}, true
	}
	t, err := time.Parse(time.RFC3339Nano, v)
	if err != nil {
		return time.Time{}, false
	}
	t = t.UTC()
	if t.Before(minStoredTime) || t.After(maxStoredTime) {
		return time.Time{}, false
	}
	return t, true
}
