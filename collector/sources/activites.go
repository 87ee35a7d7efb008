package sources

import (
	"bytes"
	stdjson "encoding/json"
	"slices"
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
		newColumns:  newActiviteChunk,
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

// activiteJSON is the typed form of an activity for the fast path. A field is a pointer only where
// absent or null must stay distinguishable from "" or 0 (accompagnements is required, oriente_vers_structure
// is nullable, list items may not be null); everywhere else the fast path treats absent, null and the
// zero value alike, so a plain field gives the same answer for one allocation less.
type activiteJSON struct {
	Type       string `json:"type"`
	ID         string `json:"id"`
	Attributes struct {
		Type                 string    `json:"type"`
		MediateurID          string    `json:"mediateur_id"`
		Date                 string    `json:"date"`
		Duree                int64     `json:"duree"`
		Accompagnements      *int64    `json:"accompagnements"`
		TypeLieu             string    `json:"type_lieu"`
		StructureID          string    `json:"structure_id"`
		LieuCodeInsee        string    `json:"lieu_code_insee"`
		LieuCodePostal       string    `json:"lieu_code_postal"`
		LieuCommune          string    `json:"lieu_commune"`
		Thematiques          []*string `json:"thematiques"`
		Materiel             []*string `json:"materiel"`
		Autonomie            string    `json:"autonomie"`
		OrienteVersStructure *bool     `json:"oriente_vers_structure"`
		NiveauAtelier        string    `json:"niveau_atelier"`
		Creation             string    `json:"creation"`
		Modification         string    `json:"modification"`
		Suppression          string    `json:"suppression"`
		Beneficiaires        struct {
			Total int64 `json:"total"`
			// Raw, read by fastCounters: decoded as maps they cost 16 keys, 16 boxed counters and
			// 3 maps per activity, a sixth of the collector's CPU.
			Genres      stdjson.RawMessage `json:"genres"`
			TranchesAge stdjson.RawMessage `json:"tranches_age"`
			Statuts     stdjson.RawMessage `json:"statuts"`
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
	rec, mod, ok := activiteFastRec(raw, now)
	if !ok {
		return nil, time.Time{}, false
	}
	return rec.values(), mod, true
}

// activiteRec is one activity row, typed, in the order of activitesColumns.
type activiteRec struct {
	id                                                string
	version                                           uint64
	deleted                                           uint8
	modification, creation                            time.Time
	typ, mediateur                                    string
	date                                              time.Time
	duree, acc                                        uint32
	typeLieu, structureID, insee, codePostal, commune string
	thematiques, materiel                             []string
	autonomie                                         string
	oriente                                           *uint8
	niveau                                            string
	total                                             uint32
	keys                                              []string
	vals                                              []uint32
}

// values is the row as the writer's Append takes it.
func (a *activiteRec) values() []any {
	return []any{
		a.id, a.version, a.deleted, a.modification, a.creation, a.typ, a.mediateur, a.date, a.duree, a.acc,
		a.typeLieu, a.structureID, a.insee, a.codePostal, a.commune, a.thematiques, a.materiel, a.autonomie,
		a.oriente, a.niveau, a.total, a.keys, a.vals,
	}
}

// activiteFastRec is activiteFast's row, typed.
func activiteFastRec(raw []byte, now time.Time) (activiteRec, time.Time, bool) {
	var r activiteJSON
	// json v2 semantics: case-sensitive names, duplicate names and invalid UTF-8 are errors; null
	// leaves a plain field at its zero value.
	if err := gojsonv2.UnmarshalOf(raw, &r); err != nil {
		return activiteRec{}, time.Time{}, false
	}
	a := &r.Attributes
	if r.Type != "activite" || r.ID == "" || utf8.RuneCountInString(r.ID) > 200 ||
		!activiteTypes[a.Type] || a.MediateurID == "" || !datePrefix(a.Date) || a.Accompagnements == nil ||
		!activiteTypesLieu[a.TypeLieu] || a.Modification == "" {
		return activiteRec{}, time.Time{}, false
	}
	duree, ok1 := fastUint32(a.Duree)
	acc, ok2 := fastUint32(*a.Accompagnements)
	thematiques, ok3 := fastStrings(a.Thematiques)
	materiel, ok4 := fastStrings(a.Materiel)
	if !ok1 || !ok2 || !ok3 || !ok4 {
		return activiteRec{}, time.Time{}, false
	}
	modification, ok := fastTime(a.Modification)
	if !ok || modification.IsZero() {
		return activiteRec{}, time.Time{}, false
	}
	creation, ok5 := fastTime(a.Creation)
	suppression, ok6 := fastTime(a.Suppression)
	date, ok7 := parseISODate(strings.TrimSpace(a.Date))
	if !ok5 || !ok6 || !ok7 {
		return activiteRec{}, time.Time{}, false
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
	typeLieu, structureID, insee := a.TypeLieu, strings.TrimSpace(a.StructureID), strings.TrimSpace(a.LieuCodeInsee)
	if (typeLieu == "lieu_activite" && structureID == "") || (insee != "" && !inseeCode.MatchString(insee)) {
		return activiteRec{}, time.Time{}, false
	}
	var oriente *uint8
	if a.OrienteVersStructure != nil {
		v := uint8(0)
		if *a.OrienteVersStructure {
			v = 1
		}
		oriente = &v
	}
	b := &a.Beneficiaires
	total, ok := fastUint32(b.Total)
	if !ok {
		return activiteRec{}, time.Time{}, false
	}
	keys, vals := make([]string, 0, 4), make([]uint32, 0, 4) // one non-zero counter per group, usually
	for i, raw := range [3]stdjson.RawMessage{b.Genres, b.TranchesAge, b.Statuts} {
		if keys, vals, ok = fastCounters(raw, beneficiaryGroups[i], keys, vals); !ok {
			return activiteRec{}, time.Time{}, false
		}
	}
	return activiteRec{
		r.ID, store.Version(versionAt, now), deleted, modification, creation, a.Type,
		strings.TrimSpace(a.MediateurID), date, duree, acc, typeLieu, structureID, insee,
		strings.TrimSpace(a.LieuCodePostal), strings.TrimSpace(a.LieuCommune), thematiques, materiel,
		strings.TrimSpace(a.Autonomie), oriente, strings.TrimSpace(a.NiveauAtelier), total, keys, vals,
	}, modification, true
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

func fastUint32(v int64) (uint32, bool) {
	if v < 0 || v > 1<<32-1 {
		return 0, false
	}
	return uint32(v), true
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
func fastTime(s string) (time.Time, bool) {
	v := strings.TrimSpace(s)
	if v == "" {
		return time.Time{}, true
	}
	t, ok := parseUTCStamp(v)
	if !ok {
		var err error
		if t, err = time.Parse(time.RFC3339Nano, v); err != nil {
			return time.Time{}, false
		}
		t = t.UTC()
	}
	if t.Before(minStoredTime) || t.After(maxStoredTime) {
		return time.Time{}, false
	}
	return t, true
}

// counterNames holds the "group.key" names of the counters the Coop sends today (testdata/activites/page-exemple.json),
// built once and only read, so that the fast path shares them instead of building one string per
// counter and activity; any other key is still taken, built on the fly.
var counterNames = func() map[string]map[string]string {
	known := map[string][]string{
		"genres":       {"masculin", "feminin", "non_communique"},
		"tranches_age": {"moins_de_douze", "douze_dix_huit", "dix_huit_vingt_quatre", "vingt_cinq_trente_neuf", "quarante_cinquante_neuf", "soixante_soixante_neuf", "soixante_dix_plus", "non_communique"},
		"statuts":      {"scolarise", "sans_emploi", "en_emploi", "retraite", "non_communique"},
	}
	out := map[string]map[string]string{}
	for g, ks := range known {
		out[g] = map[string]string{}
		for _, k := range ks {
			out[g][k] = g + "." + k
		}
	}
	return out
}()

// fastCounters appends to keys/vals the non-zero counters of one group of beneficiaires ("group.key",
// keys sorted), as flattenBeneficiaires does, from the raw JSON object. It reads only the plain form —
// ASCII keys without escapes, counters written as digits or null — and answers ok=false on anything else
// (escape, fraction, exponent, sign, duplicate key, counter above 2³²−1), leaving the record to the
// schema path.
func fastCounters(raw []byte, group string, keys []string, vals []uint32) ([]string, []uint32, bool) {
	if len(raw) == 0 || string(raw) == "null" { // absent or null: no counters
		return keys, vals, true
	}
	type counter struct {
		key []byte
		v   uint64
	}
	var buf [16]counter
	cs := buf[:0]
	i := 0
	ws := func() {
		for i < len(raw) && (raw[i] == ' ' || raw[i] == '\t' || raw[i] == '\n' || raw[i] == '\r') {
			i++
		}
	}
	ws()
	if i == len(raw) || raw[i] != '{' {
		return keys, vals, false
	}
	i++
	ws()
	if i < len(raw) && raw[i] == '}' {
		i++
	} else {
		for {
			if i == len(raw) || raw[i] != '"' {
				return keys, vals, false
			}
			start := i + 1
			for i = start; i < len(raw) && raw[i] != '"'; i++ {
				if c := raw[i]; c == '\\' || c < 0x20 || c >= 0x80 {
					return keys, vals, false
				}
			}
			if i == len(raw) {
				return keys, vals, false
			}
			key := raw[start:i]
			i++
			ws()
			if i == len(raw) || raw[i] != ':' {
				return keys, vals, false
			}
			i++
			ws()
			var v uint64
			switch {
			case bytes.HasPrefix(raw[i:], []byte("null")):
				i += 4
			case i < len(raw) && raw[i] >= '0' && raw[i] <= '9':
				if raw[i] == '0' && i+1 < len(raw) && raw[i+1] >= '0' && raw[i+1] <= '9' {
					return keys, vals, false // leading zero: not JSON
				}
				for ; i < len(raw) && raw[i] >= '0' && raw[i] <= '9'; i++ {
					if v = v*10 + uint64(raw[i]-'0'); v > 1<<32-1 {
						return keys, vals, false
					}
				}
			default:
				return keys, vals, false
			}
			for _, c := range cs {
				if bytes.Equal(c.key, key) {
					return keys, vals, false
				}
			}
			cs = append(cs, counter{key, v})
			ws()
			if i == len(raw) {
				return keys, vals, false
			}
			if raw[i] == '}' {
				i++
				break
			}
			if raw[i] != ',' {
				return keys, vals, false
			}
			i++
			ws()
		}
	}
	ws()
	if i != len(raw) {
		return keys, vals, false
	}
	// Only the non-zero counters are kept, usually one per group: they alone are sorted.
	var nzBuf [16]counter
	nz := nzBuf[:0]
	for _, c := range cs {
		if c.v > 0 {
			nz = append(nz, c)
		}
	}
	if len(nz) > 1 {
		slices.SortFunc(nz, func(a, b counter) int { return bytes.Compare(a.key, b.key) })
	}
	for _, c := range nz {
		name, known := counterNames[group][string(c.key)] // no allocation for the lookup
		if !known {
			name = group + "." + string(c.key)
		}
		keys = append(keys, name)
		vals = append(vals, uint32(c.v))
	}
	return keys, vals, true
}

// parseUTCStamp reads the one form the Coop writes, 2006-01-02T15:04:05[.fraction]Z, three times
// faster than time.Parse; ok=false on anything else (offsets, lower-case letters, out-of-range fields),
// which time.Parse then judges. TestParseUTCStamp holds it to time.Parse's result.
func parseUTCStamp(s string) (time.Time, bool) {
	if len(s) < 20 || s[4] != '-' || s[7] != '-' || s[10] != 'T' || s[13] != ':' || s[16] != ':' || s[len(s)-1] != 'Z' {
		return time.Time{}, false
	}
	num := func(i, n int) int {
		v := 0
		for _, c := range []byte(s[i : i+n]) {
			if c < '0' || c > '9' {
				return -1
			}
			v = v*10 + int(c-'0')
		}
		return v
	}
	y, mo, d, h, mi, se := num(0, 4), num(5, 2), num(8, 2), num(11, 2), num(14, 2), num(17, 2)
	if y < 0 || mo < 1 || mo > 12 || d < 1 || h < 0 || h > 23 || mi < 0 || mi > 59 || se < 0 || se > 59 {
		return time.Time{}, false
	}
	if d > time.Date(y, time.Month(mo)+1, 0, 0, 0, 0, 0, time.UTC).Day() {
		return time.Time{}, false
	}
	ns := 0
	if frac := s[19 : len(s)-1]; frac != "" {
		if frac[0] != '.' || len(frac) < 2 || len(frac) > 10 {
			return time.Time{}, false
		}
		if ns = num(20, len(frac)-1); ns < 0 {
			return time.Time{}, false
		}
		for k := len(frac) - 1; k < 9; k++ {
			ns *= 10
		}
	}
	return time.Date(y, time.Month(mo), d, h, mi, se, ns, time.UTC), true
}

// activiteChunk holds, as typed columns, the activities of one chunk of records that took the fast
// path: the writer receives them whole (ingest.ColumnChunk), without a boxed value per cell.
type activiteChunk struct {
	id, typ, mediateur, typeLieu, structureID, insee, codePostal, commune, autonomie, niveau []string
	version                                                                                  []uint64
	deleted                                                                                  []uint8
	modification, creation, date                                                             []time.Time
	duree, acc, total                                                                        []uint32
	thematiques, materiel, keys                                                              [][]string
	oriente                                                                                  []*uint8
	vals                                                                                     [][]uint32
}

func newActiviteChunk() coopColumns { return &activiteChunk{} }

func (c *activiteChunk) Len() int { return len(c.id) }

// Columns returns the columns in the order of activitesColumns.
func (c *activiteChunk) Columns() []any {
	return []any{
		c.id, c.version, c.deleted, c.modification, c.creation, c.typ, c.mediateur, c.date, c.duree, c.acc,
		c.typeLieu, c.structureID, c.insee, c.codePostal, c.commune, c.thematiques, c.materiel, c.autonomie,
		c.oriente, c.niveau, c.total, c.keys, c.vals,
	}
}

func (c *activiteChunk) add(a *activiteRec) {
	c.id, c.version, c.deleted = append(c.id, a.id), append(c.version, a.version), append(c.deleted, a.deleted)
	c.modification, c.creation = append(c.modification, a.modification), append(c.creation, a.creation)
	c.typ, c.mediateur, c.date = append(c.typ, a.typ), append(c.mediateur, a.mediateur), append(c.date, a.date)
	c.duree, c.acc = append(c.duree, a.duree), append(c.acc, a.acc)
	c.typeLieu, c.structureID, c.insee = append(c.typeLieu, a.typeLieu), append(c.structureID, a.structureID), append(c.insee, a.insee)
	c.codePostal, c.commune = append(c.codePostal, a.codePostal), append(c.commune, a.commune)
	c.thematiques, c.materiel = append(c.thematiques, a.thematiques), append(c.materiel, a.materiel)
	c.autonomie, c.oriente, c.niveau = append(c.autonomie, a.autonomie), append(c.oriente, a.oriente), append(c.niveau, a.niveau)
	c.total, c.keys, c.vals = append(c.total, a.total), append(c.keys, a.keys), append(c.vals, a.vals)
}

// parse takes raw into the chunk when the fast path accepts it; a record whose dates lie outside the
// admitted range is a reject (with its id), as parse words it; ok=false leaves the record to the
// generic path.
func (c *activiteChunk) parse(s *coopSpec, raw []byte, now time.Time) (mod time.Time, id string, rerr *recordError, ok bool) {
	a, mod, ok := activiteFastRec(raw, now)
	if !ok {
		return time.Time{}, "", nil, false
	}
	if rerr := a.checkDates(now); rerr != nil {
		return time.Time{}, a.id, rerr, true
	}
	c.add(&a)
	return mod, "", nil, true
}

// checkDates is coopSpec.checkDates for a typed activity: the observed dates in column order
// (modification, creation, date), then the version's suppression. TestActiviteChunk holds them equal.
func (a *activiteRec) checkDates(now time.Time) *recordError {
	for _, d := range []struct {
		col string
		v   time.Time
	}{{"modification", a.modification}, {"creation", a.creation}, {"date", a.date}} {
		if reason := checkDate(d.col, d.v, observed, d.col != "date", now); reason != "" {
			return &recordError{field: d.col, reason: reason}
		}
	}
	if reason := checkDate("suppression", time.Unix(int64(a.version>>32), 0).UTC(), observed, true, now); reason != "" {
		return &recordError{field: "suppression", reason: reason}
	}
	return nil
}
