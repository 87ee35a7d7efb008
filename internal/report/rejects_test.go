package report

import (
	"reflect"
	"testing"

	"github.com/sdaasp-rhone/fne/internal/engine"
)

// Reasons are folded into the collector's fixed codes: 5 + 2 rows of two "introuvable" reasons of
// lieux are one valeur_inconnue group of 7 (example: the most frequent one), ahead of the 3 rows of an
// empty required field; the same code in another source stays apart.
func TestGroupRejectsByCode(t *testing.T) {
	got := groupRejects([]engine.RejectCount{
		{Source: "lieux", Reason: "commune « X » introuvable", Rows: 5},
		{Source: "lieux", Reason: "champ obligatoire « nom » vide", Rows: 3},
		{Source: "lieux", Reason: "code INSEE « 99999 » inconnu", Rows: 2},
		{Source: "rencontres", Reason: "commune « Y » introuvable", Rows: 1},
	})
	want := []RejectGroup{
		{Source: "lieux", Code: "valeur_inconnue", Example: "commune « X » introuvable", Rows: 7},
		{Source: "lieux", Code: "champ_absent", Example: "champ obligatoire « nom » vide", Rows: 3},
		{Source: "rencontres", Code: "valeur_inconnue", Example: "commune « Y » introuvable", Rows: 1},
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("groupRejects = %+v\nattendu %+v", got, want)
	}
}
