package territory

import "testing"

func TestNameKey(t *testing.T) {
	tests := []struct{ a, b string }{
		{"Saint-Didier-au-Mont-d'Or", "ST DIDIER AU MONT D OR"},
		{"Saint-Didier-au-Mont-d'Or", "saint didier au mont d’or"},
		{"Sainte-Foy-l'Argentière", "Ste Foy l Argentiere"},
		{"Ambérieux", "AMBERIEUX"},
		{"Œuilly", "oeuilly"},
		{"Lacenas", "  lacenas  "},
	}
	for _, tt := range tests {
		if NameKey(tt.a) != NameKey(tt.b) {
			t.Errorf("NameKey(%q) = %q, NameKey(%q) = %q: want equal", tt.a, NameKey(tt.a), tt.b, NameKey(tt.b))
		}
	}
	if got := NameKey("Saint-Didier-au-Mont-d'Or"); got != "saintdidieraumontdor" {
		t.Errorf("key = %q", got)
	}
	if NameKey("Saint-Genis-les-Ollières") == NameKey("Saint-Genis-Laval") {
		t.Error("different communes must not share a key")
	}
}
