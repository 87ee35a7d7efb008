package ingest

import (
	"strings"
	"testing"
	"unicode/utf8"
)

// TestRedactURL: no user info, no fragment and no query value survive, whatever the key or its case;
// keys stay so that the location can still be recognised.
func TestRedactURL(t *testing.T) {
	for in, want := range map[string]string{
		"https://u:p@api.example/v1?Token=abc&apiKey=K1&sig=S&X-Amz-Signature=deadbeef&private_token=pt&auth=a": "https://api.example/v1?Token=***&apiKey=***&sig=***&X-Amz-Signature=***&private_token=***&auth=***",
		"https://matomo.example/index.php?module=API&TOKEN_AUTH=t0k&idSite=3":                                   "https://matomo.example/index.php?module=***&TOKEN_AUTH=***&idSite=***",
		"https://carte.example/export.csv#access_token=xyz":                                                     "https://carte.example/export.csv",
		"https://coop.example/api/v1/activites":                                                                 "https://coop.example/api/v1/activites",
		"/data/lieux.csv":                                                                                       "/data/lieux.csv",
		"https://bad host/x?token=abc":                                                                          "https://bad host/x?***",
	} {
		if got := RedactURL(in); got != want {
			t.Errorf("RedactURL(%q)\n = %q\nattendu %q", in, got, want)
		}
	}
}

// TestBoundedReject: a 10 MB cell quoted in a reason, and as the raw record. The reason keeps 80
// characters of the value (77 + the 3 of « […] ») and stays ≤ 300 characters; the raw record keeps
// 64 KiB and says how long it was; the code is valeur_invalide.
func TestBoundedReject(t *testing.T) {
	huge := strings.Repeat("é", 5<<20) // 10 MiB of 2-byte characters
	reason := BoundReason("valeur « " + huge + " » invalide (nombre attendu)")
	want := "valeur « " + strings.Repeat("é", 77) + "[…] » invalide (nombre attendu)"
	if reason != want {
		t.Errorf("motif de %d caractères : %.120q…", utf8.RuneCountInString(reason), reason)
	}
	if n := utf8.RuneCountInString(BoundReason(strings.Repeat("a", 1000))); n != MaxReasonRunes {
		t.Errorf("motif sans valeur citée : %d caractères, attendu %d", n, MaxReasonRunes)
	}
	raw := BoundRaw(huge)
	// 64 KiB = 65536 bytes = 32768 « é » exactly, then the mark.
	if want := strings.Repeat("é", 32768) + "[…] (tronqué : 10485760 octets au total)"; raw != want || !utf8.ValidString(raw) {
		t.Errorf("brut : %d octets, fin %q", len(raw), raw[len(raw)-60:])
	}
	if c := ReasonCode(reason); c != CodeInvalidValue {
		t.Errorf("code %s", c)
	}
}
