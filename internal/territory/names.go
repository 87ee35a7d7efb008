package territory

import (
	"strings"
	"unicode"

	"golang.org/x/text/runes"
	"golang.org/x/text/transform"
	"golang.org/x/text/unicode/norm"
)

// ligatures are the letters that Unicode decomposition does not split.
var ligatures = strings.NewReplacer("œ", "oe", "æ", "ae", "ß", "ss")

// NameKey is the comparison key of a commune name (docs/regles.md « Territoires »: "case, accents, hyphens and Saint/St
// ignored"): lower case, accents removed, words joined without hyphens, apostrophes or spaces, and
// St/Ste/Sainte written "saint". "Saint-Didier-au-Mont-d'Or", "ST DIDIER AU MONT D OR" and
// "saint didier au mont d’or" share one key.
func NameKey(name string) string {
	s := ligatures.Replace(strings.ToLower(name))
	if folded, _, err := transform.String(transform.Chain(norm.NFD, runes.Remove(runes.In(unicode.Mn)), norm.NFC), s); err == nil {
		s = folded
	}
	words := strings.FieldsFunc(s, func(r rune) bool { return !unicode.IsLetter(r) && !unicode.IsDigit(r) })
	for i, w := range words {
		switch w {
		case "st", "ste", "sainte":
			words[i] = "saint"
		}
	}
	return strings.Join(words, "")
}
