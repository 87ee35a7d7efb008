package ingest

// Reject reasons are French sentences that name the offending value; they are bounded here, and each is
// classified into one of a fixed set of codes (documented in the README, « Codes de motif de rejet »),
// which is what metrics use as a label: a label must not carry free text, whose cardinality is
// unbounded.

import (
	"fmt"
	"strings"
	"unicode/utf8"
)

// Bounds of what a reject keeps.
const (
	MaxReasonRunes = 300      // a reason, with the values it quotes
	maxQuotedRunes = 80       // one quoted value « … » inside a reason
	MaxRawBytes    = 64 << 10 // the raw record
	// maxDistinctReasons bounds the per-run count by reason (the summary's « principaux motifs »): past
	// it, reasons are counted under their code.
	maxDistinctReasons = 1000
)

// Reason codes, from the most specific pattern to the most general.
const (
	CodeFileTruncated  = "fichier_tronque"
	CodeMalformedLine  = "ligne_mal_formee"
	CodeDateOutOfRange = "date_hors_plage"
	CodeMissing        = "champ_absent"
	CodeUnknownValue   = "valeur_inconnue"
	CodeInvalidValue   = "valeur_invalide"
	CodeSchema         = "non_conforme_schema"
	CodeOther          = "autre"
)

// ReasonCodes lists every code, for the documentation and the metrics.
var ReasonCodes = []string{CodeFileTruncated, CodeMalformedLine, CodeDateOutOfRange, CodeMissing, CodeUnknownValue,
	CodeInvalidValue, CodeSchema, CodeOther}

// reasonPatterns map a fragment of a reason to its code; the first match wins.
var reasonPatterns = []struct{ fragment, code string }{
	{"reste du fichier illisible", CodeFileTruncated},
	{"cellule(s) au lieu des", CodeMalformedLine},
	{"guillemet", CodeMalformedLine},
	{"cellule trop longue", CodeMalformedLine},
	{"entrée YAML", CodeMalformedLine},
	{"valeur simple attendue", CodeMalformedLine},
	{"hors de la plage", CodeDateOutOfRange},
	{"non conforme au schéma", CodeSchema},
	{"inconnu", CodeUnknownValue},
	{"introuvable", CodeUnknownValue},
	{"ambigu", CodeUnknownValue},
	{"non localisable", CodeUnknownValue},
	{"absent", CodeMissing},
	{"obligatoire", CodeMissing},
	{"vide", CodeMissing},
	{"sans longitude", CodeMissing},
	{"sans latitude", CodeMissing},
	{"invalide", CodeInvalidValue},
	{"attendu", CodeInvalidValue},
	{"négati", CodeInvalidValue},
	{"trop grand", CodeInvalidValue},
}

// ReasonCode classifies a reason.
func ReasonCode(reason string) string {
	for _, p := range reasonPatterns {
		if strings.Contains(reason, p.fragment) {
			return p.code
		}
	}
	return CodeOther
}

// BoundReason cuts each quoted value « … » longer than maxQuotedRunes, then the whole reason at
// MaxReasonRunes, each time with the mark « […] ».
func BoundReason(reason string) string {
	if utf8.RuneCountInString(reason) <= MaxReasonRunes {
		return reason
	}
	var b strings.Builder
	rest := reason
	for {
		i := strings.Index(rest, "« ")
		if i < 0 {
			b.WriteString(rest)
			break
		}
		b.WriteString(rest[:i+len("« ")])
		rest = rest[i+len("« "):]
		j := strings.Index(rest, " »")
		if j < 0 {
			j = len(rest)
		}
		b.WriteString(cutRunes(rest[:j], maxQuotedRunes))
		rest = rest[j:]
	}
	return cutRunes(b.String(), MaxReasonRunes)
}

// BoundRaw keeps at most MaxRawBytes of a raw record (on a character boundary) with a mark saying how
// long it was.
func BoundRaw(raw string) string {
	if len(raw) <= MaxRawBytes {
		return raw
	}
	cut := MaxRawBytes
	for cut > 0 && !utf8.RuneStart(raw[cut]) {
		cut--
	}
	return raw[:cut] + fmt.Sprintf("[…] (tronqué : %d octets au total)", len(raw))
}

// cutRunes keeps the first n characters of s, the last of them replaced by the mark « […] ».
func cutRunes(s string, n int) string {
	if utf8.RuneCountInString(s) <= n {
		return s
	}
	const mark = "[…]"
	keep := n - utf8.RuneCountInString(mark)
	i := 0
	for k := 0; k < keep; k++ {
		_, size := utf8.DecodeRuneInString(s[i:])
		i += size
	}
	return s[:i] + mark
}
