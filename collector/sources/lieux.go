package sources

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"sync"
	"time"
	"unicode"

	"github.com/santhosh-tekuri/jsonschema/v6"
	"github.com/santhosh-tekuri/jsonschema/v6/kind"

	"github.com/sdaasp-rhone/fne/collector/ingest"
	"github.com/sdaasp-rhone/fne/internal/store"
	"github.com/sdaasp-rhone/fne/internal/territory"
	"github.com/sdaasp-rhone/fne/schemas"
)

// Fields of the national standard the collector reads (docs/regles.md « Sources »).
var (
	lieuRequired = []string{"id", "pivot", "nom", "commune", "code_postal", "adresse", "date_maj"}
	lieuMulti    = []string{"typologie", "services", "publics_specifiquement_adresses", "modalites_accompagnement", "itinerance",
		"dispositif_programmes_nationaux", "frais_a_charge"}
	lieuPostcode = regexp.MustCompile(`^\d{5}$`)
)

type lieux struct{}

// NewLieux reads places of the "lieux de médiation numérique" national data standard, CSV or JSON.
func NewLieux() ingest.Collector { return lieux{} }

func (lieux) Name() string { return "lieux" }
func (lieux) Description() string {
	return "lieux de médiation numérique (standard national, CSV ou JSON)"
}

// lieuRecord is one place as read, whatever the format: scalar fields and multi-valued fields.
type lieuRecord struct {
	fields map[string]string
	multi  map[string][]string
	xlsx   bool
}

func (r lieuRecord) get(k string) string { return strings.TrimSpace(r.fields[k]) }

// Collect writes one row per place; its version is date_maj then the ingestion time, so the most
// recently updated record of a place wins and re-reading the same file changes nothing.
func (c lieux) Collect(ctx context.Context, in ingest.Input, sink *ingest.Sink) error {
	rc, err := tabOpen(ctx, in)
	if err != nil {
		return err
	}
	defer rc.Close()
	br := skipBOM(bufio.NewReaderSize(rc, 64<<10))
	w := sink.Writer("lieux", "id", "version", "deleted", "pivot", "nom", "commune", "code_postal", "code_insee", "code_insee_resolu",
		"adresse", "latitude", "longitude", "typologie", "services", "publics_specifiquement_adresses", "modalites_accompagnement",
		"itinerance", "dispositif_programmes_nationaux", "frais_a_charge", "date_maj")
	m := newLieuMatcher(in.Reference)
	emit := func(pos, raw string, rec lieuRecord) error {
		vals, field, reason := parseLieu(rec, m, in.Now)
		if reason != "" {
			sink.Reject(pos, field, reason, raw)
			return nil
		}
		return w.Append(ctx, vals...)
	}
	head, _ := br.Peek(4)
	ext := strings.ToLower(filepath.Ext(strings.SplitN(in.Location, "?", 2)[0]))
	if !tabIsXLSX(head) && (ext == ".json" || in.Option("format", "") == "json" || lieuLooksJSON(br)) {
		return lieuEachJSON(ctx, br, sink, func(pos, raw string, rec lieuRecord, field, reason string) error {
			if reason != "" {
				sink.Reject(pos, field, reason, raw)
				return nil
			}
			return emit(pos, raw, rec)
		})
	}
	t, err := tabTableFrom(br, in, c.Name())
	if err != nil {
		return err
	}
	if err := t.require(lieuRequired...); err != nil {
		return err
	}
	return tabRows(ctx, t, sink, func(row tabRow) error { return emit(row.Pos, row.Raw, lieuFromRow(row)) })
}

func lieuLooksJSON(br *bufio.Reader) bool {
	head, _ := br.Peek(512)
	head = bytes.TrimPrefix(head, []byte("\xef\xbb\xbf"))
	head = bytes.TrimLeftFunc(head, unicode.IsSpace)
	return len(head) > 0 && (head[0] == '[' || head[0] == '{')
}

func lieuFromRow(r tabRow) lieuRecord {
	rec := lieuRecord{fields: map[string]string{}, multi: map[string][]string{}, xlsx: r.XLSX}
	for _, f := range append(append([]string{}, lieuRequired...), "code_insee", "latitude", "longitude") {
		rec.fields[f] = r.get(f)
	}
	for _, f := range lieuMulti {
		rec.multi[f] = r.multi(f)
	}
	return rec
}

var (
	lieuSchemaOnce sync.Once
	lieuSchema     *jsonschema.Schema
	lieuSchemaErr  error
)

func lieuJSONSchema() (*jsonschema.Schema, error) {
	lieuSchemaOnce.Do(func() {
		b, err := schemas.Sources.ReadFile("sources/lieu.schema.json")
		if err != nil {
			lieuSchemaErr = err
			return
		}
		doc, err := jsonschema.UnmarshalJSON(bytes.NewReader(b))
		if err != nil {
			lieuSchemaErr = err
			return
		}
		c := jsonschema.NewCompiler()
		if err := c.AddResource("lieu.schema.json", doc); err != nil {
			lieuSchemaErr = err
			return
		}
		lieuSchema, lieuSchemaErr = c.Compile("lieu.schema.json")
	})
	return lieuSchema, lieuSchemaErr
}

// lieuEachJSON streams a JSON array of places; each element is checked against lieu.schema.json. A
// file that is not a JSON array, or whose syntax breaks, stops the run (what follows cannot be read).
func lieuEachJSON(ctx context.Context, r io.Reader, sink *ingest.Sink, fn func(pos, raw string, rec lieuRecord, field, reason string) error) error {
	sch, err := lieuJSONSchema()
	if err != nil {
		return fmt.Errorf("schéma lieu.schema.json : %w", err)
	}
	br := bufio.NewReader(r)
	if b, _ := br.Peek(3); bytes.Equal(b, []byte("\xef\xbb\xbf")) {
		_, _ = br.Discard(3)
	}
	dec := json.NewDecoder(br)
	tok, err := dec.Token()
	if err != nil {
		return brokenJSON("lieux", 0, dec.InputOffset(), err, "")
	}
	if d, ok := tok.(json.Delim); !ok || d != '[' {
		return ingest.InvalidInput("JSON inattendu : un tableau de lieux est attendu ([{\"id\": …}, …])")
	}
	n := 0
	for dec.More() {
		if err := ctx.Err(); err != nil {
			return err
		}
		var raw json.RawMessage
		if err := dec.Decode(&raw); err != nil {
			return brokenJSON("lieux", n, dec.InputOffset(), err, "")
		}
		n++
		sink.Read(1)
		rec, field, reason := lieuFromJSON(sch, raw)
		if err := fn(fmt.Sprintf("enregistrement %d", n), string(raw), rec, field, reason); err != nil {
			return err
		}
	}
	if _, err := dec.Token(); err != nil {
		return brokenJSON("lieux", n, dec.InputOffset(), err, "")
	}
	return nil
}

// lieuFromJSON validates one JSON place against the schema and converts it to a record; on failure it
// returns the field and a French reason.
func lieuFromJSON(sch *jsonschema.Schema, raw []byte) (lieuRecord, string, string) {
	v, err := jsonschema.UnmarshalJSON(bytes.NewReader(raw))
	if err != nil {
		return lieuRecord{}, "", fmt.Sprintf("enregistrement JSON illisible : %v", err)
	}
	if err := sch.Validate(v); err != nil {
		field, reason := lieuSchemaReason(err)
		return lieuRecord{}, field, reason
	}
	obj := v.(map[string]any)
	rec := lieuRecord{fields: map[string]string{}, multi: map[string][]string{}}
	for _, f := range append(append([]string{}, lieuRequired...), "code_insee", "latitude", "longitude") {
		switch x := obj[f].(type) {
		case string:
			rec.fields[f] = x
		case json.Number:
			rec.fields[f] = x.String()
		}
	}
	for _, f := range lieuMulti {
		switch x := obj[f].(type) {
		case string:
			rec.multi[f] = tabSplitMulti(x)
		case []any:
			vals := []string{}
			for _, e := range x {
				if s, ok := e.(string); ok && strings.TrimSpace(s) != "" {
					vals = append(vals, strings.TrimSpace(s))
				}
			}
			rec.multi[f] = vals
		default:
			rec.multi[f] = []string{}
		}
	}
	return rec, "", ""
}

// lieuSchemaReason translates the first schema violation into French.
func lieuSchemaReason(err error) (string, string) {
	var ve *jsonschema.ValidationError
	if !errors.As(err, &ve) {
		return "", "non conforme au schéma : " + err.Error()
	}
	for len(ve.Causes) > 0 {
		ve = ve.Causes[0]
	}
	field := strings.Join(ve.InstanceLocation, "/")
	switch k := ve.ErrorKind.(type) {
	case *kind.Required:
		return k.Missing[0], "champ obligatoire absent : " + strings.Join(k.Missing, ", ")
	case *kind.Type:
		return field, fmt.Sprintf("%s : type %s au lieu de %s", field, lieuTypeFr(k.Got), strings.Join(lieuTypesFr(k.Want), " ou "))
	case *kind.MinLength:
		return field, fmt.Sprintf("champ obligatoire « %s » vide", field)
	}
	if field == "" {
		return "", "enregistrement non conforme au schéma : " + ve.Error()
	}
	return field, fmt.Sprintf("%s non conforme au schéma : %s", field, ve.Error())
}

func lieuTypeFr(t string) string {
	switch t {
	case "string":
		return "texte"
	case "number", "integer":
		return "nombre"
	case "array":
		return "liste"
	case "object":
		return "objet"
	case "boolean":
		return "booléen"
	case "null":
		return "null"
	}
	return t
}

func lieuTypesFr(ts []string) []string {
	out := make([]string, len(ts))
	for i, t := range ts {
		out[i] = lieuTypeFr(t)
	}
	return out
}

// parseLieu checks a place and returns the values of the lieux writer, or a field and a French reason.
func parseLieu(rec lieuRecord, m *lieuMatcher, now time.Time) ([]any, string, string) {
	for _, f := range lieuRequired {
		if rec.get(f) == "" {
			return nil, f, fmt.Sprintf("champ obligatoire « %s » vide", f)
		}
	}
	cp := rec.get("code_postal")
	if !lieuPostcode.MatchString(cp) {
		return nil, "code_postal", fmt.Sprintf("code postal « %s » invalide (5 chiffres attendus)", cp)
	}
	dateMaj, err := tabDate(rec.get("date_maj"), rec.xlsx)
	if err != nil {
		return nil, "date_maj", "date_maj : " + err.Error()
	}
	// date_maj is the high half of the version: checked, so that it is never clamped (after 2106).
	if reason := checkDate("date_maj", dateMaj, observed, false, now); reason != "" {
		return nil, "date_maj", reason
	}
	commune := rec.get("commune")
	insee, resolved := rec.get("code_insee"), uint8(0)
	if insee != "" {
		id, err := territory.Parse(insee)
		if err != nil || id.Level != territory.LevelCommune {
			return nil, "code_insee", fmt.Sprintf("code INSEE « %s » invalide (5 caractères, ex. 69243)", insee)
		}
		insee = id.Code
	} else {
		code, reason := m.match(commune)
		if reason != "" {
			return nil, "commune", reason
		}
		insee, resolved = code, 1
	}
	lat, lon, field, reason := lieuCoordinates(rec.get("latitude"), rec.get("longitude"))
	if reason != "" {
		return nil, field, reason
	}
	vals := []any{rec.get("id"), store.Version(dateMaj, now), uint8(0), rec.get("pivot"), rec.get("nom"), commune, cp, insee, resolved,
		rec.get("adresse"), lat, lon}
	for _, f := range lieuMulti {
		v := rec.multi[f]
		if v == nil {
			v = []string{}
		}
		vals = append(vals, v)
	}
	return append(vals, dateMaj), "", ""
}

func lieuCoordinates(la, lo string) (*float64, *float64, string, string) {
	if la == "" && lo == "" {
		return nil, nil, "", ""
	}
	if la == "" {
		return nil, nil, "latitude", "longitude sans latitude"
	}
	if lo == "" {
		return nil, nil, "longitude", "latitude sans longitude"
	}
	lat, err := tabNumber(la)
	if err != nil || lat < -90 || lat > 90 {
		return nil, nil, "latitude", fmt.Sprintf("latitude « %s » invalide (nombre entre -90 et 90 attendu)", la)
	}
	lon, err := tabNumber(lo)
	if err != nil || lon < -180 || lon > 180 {
		return nil, nil, "longitude", fmt.Sprintf("longitude « %s » invalide (nombre entre -180 et 180 attendu)", lo)
	}
	return &lat, &lon, "", ""
}

// lieuMatcher finds a commune of the reference by its name, ignoring case, accents, punctuation and the
// Saint/St/Sainte/Ste spellings.
type lieuMatcher struct {
	ref    *territory.Reference
	byName map[string][]string
}

func newLieuMatcher(ref *territory.Reference) *lieuMatcher {
	m := &lieuMatcher{ref: ref, byName: map[string][]string{}}
	if ref == nil {
		return m
	}
	for _, c := range ref.Communes {
		k := territory.NameKey(c.Nom)
		m.byName[k] = append(m.byName[k], c.Code)
	}
	return m
}

// match returns the INSEE code of the commune named name, or a French reason.
func (m *lieuMatcher) match(name string) (string, string) {
	if m.ref == nil {
		return "", fmt.Sprintf("code_insee absent et commune « %s » non localisable : aucun référentiel territorial chargé (lancez « fne migrate »)", name)
	}
	codes := m.byName[territory.NameKey(name)]
	switch len(codes) {
	case 1:
		return codes[0], ""
	case 0:
		return "", fmt.Sprintf("code_insee absent et commune « %s » introuvable dans le référentiel (%s) : renseignez code_insee", name, m.ref.DepartementNom)
	}
	sorted := append([]string(nil), codes...)
	sort.Strings(sorted)
	return "", fmt.Sprintf("code_insee absent et commune « %s » ambiguë dans le référentiel (%s) : renseignez code_insee", name, strings.Join(sorted, ", "))
}
