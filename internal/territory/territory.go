// Package territory models the territories indicators are computed for: the département's scope, its
// EPCI and its communes (docs/regles.md, « Territoires »), identified as dep:<code>, epci:<SIREN>, com:<INSEE>. The reference
// itself (which communes, populations, centroids) is data loaded by internal/reference, never code.
package territory

import (
	"errors"
	"fmt"
	"regexp"
	"strings"
)

// Level of a territory, from the widest.
type Level string

const (
	LevelDep     Level = "dep"
	LevelEPCI    Level = "epci"
	LevelCommune Level = "com"
)

// ID is a parsed territory id.
type ID struct {
	Level Level
	Code  string
}

func (id ID) String() string { return string(id.Level) + ":" + id.Code }

// ErrInvalidID is returned by Parse.
var ErrInvalidID = errors.New("identifiant de territoire invalide")

var (
	depCode   = regexp.MustCompile(`^(\d{2,3}|2A|2B|69M)$`) // 69M: the Métropole de Lyon (INSEE code of its collectivité)
	sirenCode = regexp.MustCompile(`^\d{9}$`)
	inseeCode = regexp.MustCompile(`^(\d{5}|2A\d{3}|2B\d{3})$`)
)

// Parse reads "dep:69", "epci:200040566", "com:69243". A bare INSEE code is a commune (the equipment
// files allow it, docs/regles.md « Sources »).
func Parse(s string) (ID, error) {
	s = strings.TrimSpace(s)
	level, code, ok := strings.Cut(s, ":")
	if !ok {
		if inseeCode.MatchString(s) {
			return ID{LevelCommune, s}, nil
		}
		return ID{}, fmt.Errorf("%w : %q (attendu dep:<code>, epci:<SIREN> ou com:<code INSEE>)", ErrInvalidID, s)
	}
	code = strings.ToUpper(strings.TrimSpace(code))
	var re *regexp.Regexp
	switch Level(strings.ToLower(level)) {
	case LevelDep:
		re = depCode
	case LevelEPCI:
		re = sirenCode
	case LevelCommune:
		re = inseeCode
	default:
		return ID{}, fmt.Errorf("%w : niveau %q inconnu dans %q (dep, epci ou com)", ErrInvalidID, level, s)
	}
	if !re.MatchString(code) {
		return ID{}, fmt.Errorf("%w : code %q mal formé pour le niveau %s", ErrInvalidID, code, level)
	}
	return ID{Level(strings.ToLower(level)), code}, nil
}

// MustParse is Parse for constants in tests.
func MustParse(s string) ID {
	id, err := Parse(s)
	if err != nil {
		panic(err)
	}
	return id
}
