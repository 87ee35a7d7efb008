package demo

import (
	"strconv"
)

// The activity pages hold tens of thousands of records: they are encoded by hand (encoding/json spends
// most of the generation time in reflection and map-key sorting). The output is the same JSON shape.

func appendString(b []byte, s string) []byte {
	const hex = "0123456789abcdef"
	b = append(b, '"')
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c == '"' || c == '\\':
			b = append(b, '\\', c)
		case c < 0x20:
			b = append(b, '\\', 'u', '0', '0', hex[c>>4], hex[c&0xf])
		default:
			b = append(b, c)
		}
	}
	return append(b, '"')
}

func appendOptString(b []byte, s *string) []byte {
	if s == nil {
		return append(b, "null"...)
	}
	return appendString(b, *s)
}

func appendStrings(b []byte, ss []string) []byte {
	b = append(b, '[')
	for i, s := range ss {
		if i > 0 {
			b = append(b, ',')
		}
		b = appendString(b, s)
	}
	return append(b, ']')
}

// appendCounts writes keys (in the given order) with their counts.
func appendCounts(b []byte, keys []string, counts []int) []byte {
	b = append(b, '{')
	for i, k := range keys {
		if i > 0 {
			b = append(b, ',')
		}
		b = appendString(b, k)
		b = append(b, ':')
		b = strconv.AppendInt(b, int64(counts[i]), 10)
	}
	return append(b, '}')
}

func (a *activite) appendJSON(b []byte) []byte {
	field := func(name string) {
		if b[len(b)-1] != '{' {
			b = append(b, ',')
		}
		b = appendString(b, name)
		b = append(b, ':')
	}
	b = append(b, '{')
	field("type")
	b = appendString(b, a.Type)
	field("mediateur_id")
	b = appendString(b, a.MediateurID)
	field("user_id")
	b = appendString(b, a.UserID)
	field("accompagnements")
	b = strconv.AppendInt(b, int64(a.Accompagnements), 10)
	field("date")
	b = appendString(b, a.Date)
	field("duree")
	b = strconv.AppendInt(b, int64(a.Duree), 10)
	field("type_lieu")
	b = appendString(b, a.TypeLieu)
	field("structure_id")
	b = appendOptString(b, a.StructureID)
	field("lieu_code_postal")
	b = appendOptString(b, a.LieuCodePostal)
	field("lieu_commune")
	b = appendOptString(b, a.LieuCommune)
	field("lieu_code_insee")
	b = appendOptString(b, a.LieuCodeInsee)
	field("creation")
	b = appendString(b, a.Creation)
	field("modification")
	b = appendString(b, a.Modification)
	field("suppression")
	b = appendOptString(b, a.Suppression)
	field("autonomie")
	b = appendOptString(b, a.Autonomie)
	field("oriente_vers_structure")
	switch {
	case a.OrienteVersStructure == nil:
		b = append(b, "null"...)
	case *a.OrienteVersStructure:
		b = append(b, "true"...)
	default:
		b = append(b, "false"...)
	}
	field("structure_de_redirection")
	b = appendOptString(b, a.StructureDeRedirection)
	field("materiel")
	b = appendStrings(b, a.Materiel)
	field("thematiques")
	b = appendStrings(b, a.Thematiques)
	field("tags")
	b = appendStrings(b, a.Tags)
	field("precisions_demarche")
	b = appendOptString(b, a.PrecisionsDemarche)
	field("titre_atelier")
	b = appendOptString(b, a.TitreAtelier)
	field("niveau_atelier")
	b = appendOptString(b, a.NiveauAtelier)
	field("beneficiaires")
	ben := a.Beneficiaires
	b = append(b, `{"total":`...)
	b = strconv.AppendInt(b, int64(ben.Total), 10)
	b = append(b, `,"genres":`...)
	b = appendCounts(b, genres, ben.Genres)
	b = append(b, `,"tranches_age":`...)
	b = appendCounts(b, tranches, ben.TranchesAge)
	b = append(b, `,"statuts":`...)
	b = appendCounts(b, statuts, ben.Statuts)
	b = append(b, "}}"...)
	return b
}

// appendActivity writes one JSON:API activity resource.
func appendActivity(b []byte, r resource) []byte {
	a := r.Attributes.(*activite)
	b = append(b, `{"type":"activite","id":`...)
	b = appendString(b, r.ID)
	b = append(b, `,"attributes":`...)
	b = a.appendJSON(b)
	b = append(b, `,"relationships":{"mediateur":{"data":{"type":"mediateur","id":`...)
	b = appendString(b, a.MediateurID)
	return append(b, "}}}}"...)
}
