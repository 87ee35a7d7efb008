package sources

import (
	"strings"
	"testing"
	"time"

	"github.com/sdaasp-rhone/fne/internal/reference"
	"github.com/sdaasp-rhone/fne/internal/territory"
)

func TestCommuneKey(t *testing.T) {
	for _, tc := range []struct{ a, b string }{
		{"Saint-Genis-l'Argentière", "ST GENIS L ARGENTIERE"},
		{"Sainte-Foy-l'Argentière", "Ste-Foy-l’Argentiere"},
		{"Sainte-Foy-l'Argentière", "Saint Foy L'Argentière"},
		{"Chambost-Allières", "chambost alliÈres"},
		{"Saint-Didier-sur-Beaujeu", "St. Didier sur Beaujeu"},
	} {
		if territory.NameKey(tc.a) != territory.NameKey(tc.b) {
			t.Errorf("%q et %q : clés %q ≠ %q", tc.a, tc.b, territory.NameKey(tc.a), territory.NameKey(tc.b))
		}
	}
	if territory.NameKey("Chambost-Allières") == territory.NameKey("Chambost-Longessaigne") {
		t.Error("deux communes distinctes confondues")
	}
}

// Every commune of the embedded reference is found by its own name and by a sloppy spelling, and no two
// communes share a key (otherwise places there could never be located by name).
func TestLieuMatcherReference(t *testing.T) {
	p, err := reference.ParseDir("")
	if err != nil {
		t.Fatal(err)
	}
	m := newLieuMatcher(p.Ref)
	if len(p.Ref.Communes) != 208 {
		t.Fatalf("%d communes dans le référentiel intégré, attendu 208", len(p.Ref.Communes))
	}
	for _, c := range p.Ref.Communes {
		sloppy := strings.ToUpper(strings.NewReplacer("Saint-", "St ", "Sainte-", "Ste ", "-", " ", "é", "e", "è", "e").Replace(c.Nom))
		for _, name := range []string{c.Nom, sloppy} {
			if code, reason := m.match(name); code != c.Code {
				t.Errorf("%q → %q (%s), attendu %s", name, code, reason, c.Code)
			}
		}
	}
	if code, _ := m.match("Beaujeu"); code != "69018" {
		t.Errorf("Beaujeu → %s", code)
	}
	if _, reason := m.match("Villeurbanne"); !strings.Contains(reason, "introuvable") {
		t.Errorf("Villeurbanne : %q", reason)
	}
	if _, reason := newLieuMatcher(nil).match("Tarare"); !strings.Contains(reason, "aucun référentiel territorial chargé") {
		t.Errorf("sans référentiel : %q", reason)
	}
}

func TestParseLieuVersion(t *testing.T) {
	rec := lieuRecord{fields: map[string]string{"id": "X", "pivot": "1", "nom": "N", "commune": "Tarare", "code_postal": "69170",
		"adresse": "r", "date_maj": "2026-06-12", "code_insee": "com:69243"}}
	now := time.Date(2026, 11, 30, 6, 0, 0, 0, time.UTC)
	vals, _, reason := parseLieu(rec, newLieuMatcher(nil), now)
	if reason != "" {
		t.Fatal(reason)
	}
	// version = date_maj (Unix seconds) << 32 | ingestion time: 1781222400<<32 | 1796018400.
	if v := vals[1].(uint64); v != 1781222400<<32|1796018400 {
		t.Errorf("version %d", v)
	}
	if vals[7] != "69243" {
		t.Errorf("code_insee %v", vals[7])
	}
}
