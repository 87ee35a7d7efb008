package catalogue

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/sdaasp-rhone/fne/internal/territory"
)

func TestLoadDefault(t *testing.T) {
	c, err := Load()
	if err != nil {
		t.Fatal(err)
	}
	// The roadmap lists 17 indicators and 2 context ones.
	if got := len(c.Indicators); got != 19 {
		t.Fatalf("%d indicateurs, attendu 19", got)
	}
	want := []string{"a1.instances_actives", "a1.conseillers_actifs", "a1.rencontre_annuelle", "a1.epci_rencontre_locale",
		"a1.diversite_structures", "a2.jalons_diagnostic", "a2.accompagnements", "a2.accompagnements_1000_hab",
		"a2.foyers_equipes_connectes", "a2.communes_hotspot", "a2.reconditionnement", "a2.population_zone_blanche",
		"a3.fiches_a_jour", "a3.consultations", "a3.epci_deux_rencontres", "a3.relais_informes",
		"a3.relais_connaissent_offre", "ctx.lieux", "ctx.lieux_10000_hab"}
	for k, id := range want {
		if c.Indicators[k].ID != id {
			t.Errorf("position %d : %s, attendu %s", k, c.Indicators[k].ID, id)
		}
	}
	i, ok := c.Get("a1.conseillers_actifs")
	if !ok || *i.Target != 14 || i.TargetAt(territory.LevelEPCI) != nil || *i.TargetAt(territory.LevelDep) != 14 {
		t.Errorf("a1.conseillers_actifs : cible 14 au niveau départemental seulement, obtenu %+v", i)
	}
	if i, _ := c.Get("a1.rencontre_annuelle"); i.HasLevel(territory.LevelCommune) || !i.HasLevel(territory.LevelDep) {
		t.Errorf("a1.rencontre_annuelle est départemental uniquement")
	}
	if _, ok := c.Get("a9.inconnu"); ok {
		t.Error("indicateur inconnu trouvé")
	}
}

func TestOverrides(t *testing.T) {
	dir := t.TempDir()
	p := filepath.Join(dir, "cibles.yaml")
	os.WriteFile(p, []byte(`overrides:
  - id: a1.conseillers_actifs
    target: 20
    deadline: "2028-06"
  - id: a1.instances_actives
    target: null
`), 0o644)
	c, err := LoadFile(p)
	if err != nil {
		t.Fatal(err)
	}
	i, _ := c.Get("a1.conseillers_actifs")
	if *i.Target != 20 || i.Deadline != "2028-06" || i.Direction != AuMoins {
		t.Errorf("surcharge non appliquée : %+v", i)
	}
	if i, _ := c.Get("a1.instances_actives"); i.Target != nil {
		t.Errorf("target: null doit retirer la cible, obtenu %v", *i.Target)
	}
	// The default is untouched.
	d, _ := Load()
	if i, _ := d.Get("a1.conseillers_actifs"); *i.Target != 14 {
		t.Errorf("le catalogue par défaut a changé : %v", *i.Target)
	}
	c2, err := d.WithOverrides(p)
	if err != nil {
		t.Fatal(err)
	}
	if i, _ := c2.Get("a1.conseillers_actifs"); *i.Target != 20 {
		t.Errorf("WithOverrides : %v", *i.Target)
	}

	for name, body := range map[string]string{
		"inconnu":  "overrides:\n  - id: a1.nexiste_pas\n    target: 3\n",
		"echeance": "overrides:\n  - id: a1.conseillers_actifs\n    deadline: 2028\n",
		"sens":     "overrides:\n  - id: a1.conseillers_actifs\n    direction: vers_le_haut\n",
		"cle":      "overrides:\n  - id: a1.conseillers_actifs\n    cible: 3\n",
	} {
		os.WriteFile(p, []byte(body), 0o644)
		if _, err := LoadFile(p); !errors.Is(err, ErrInvalid) {
			t.Errorf("%s : erreur attendue, obtenu %v", name, err)
		}
	}
}

// TestTargetOrigins pins who set each target: the roadmap commits to the meetings, hotspots, equipped
// households, reconditioning, relays' knowledge and zones blanches; it sets no number for counsellors,
// accompaniments, place records, consultations (nor governance meetings, milestones, relay counts).
func TestTargetOrigins(t *testing.T) {
	c, err := Load()
	if err != nil {
		t.Fatal(err)
	}
	roadmap := map[string]bool{"a1.rencontre_annuelle": true, "a1.epci_rencontre_locale": true, "a1.diversite_structures": true,
		"a2.foyers_equipes_connectes": true, "a2.communes_hotspot": true, "a2.reconditionnement": true,
		"a2.population_zone_blanche": true, "a3.epci_deux_rencontres": true, "a3.relais_connaissent_offre": true}
	n := map[string]int{}
	for _, i := range c.Indicators {
		want := TargetCopil
		switch {
		case i.IsContext():
			want = ""
		case roadmap[i.ID]:
			want = TargetFeuilleDeRoute
		}
		if i.TargetOrigin != want {
			t.Errorf("%s : origine %q, attendu %q", i.ID, i.TargetOrigin, want)
		}
		n[i.TargetOrigin]++
	}
	// 9 commitments + 8 COPIL defaults + 2 context indicators = 19
	if n[TargetFeuilleDeRoute] != 9 || n[TargetCopil] != 8 || n[""] != 2 {
		t.Errorf("répartition %v", n)
	}

	// A deployment that changes a roadmap number makes it a COPIL default, unless it says otherwise.
	p := filepath.Join(t.TempDir(), "cibles.yaml")
	os.WriteFile(p, []byte(`overrides:
  - id: a2.communes_hotspot
    target: 80
  - id: a3.epci_deux_rencontres
    target: 50
    target_origin: feuille_de_route
  - id: a1.conseillers_actifs
    target_origin: feuille_de_route
`), 0o644)
	o, err := LoadFile(p)
	if err != nil {
		t.Fatal(err)
	}
	for id, want := range map[string]string{"a2.communes_hotspot": TargetCopil, "a3.epci_deux_rencontres": TargetFeuilleDeRoute,
		"a1.conseillers_actifs": TargetFeuilleDeRoute, "a2.reconditionnement": TargetFeuilleDeRoute} {
		if i, _ := o.Get(id); i.TargetOrigin != want {
			t.Errorf("surcharge %s : origine %q, attendu %q", id, i.TargetOrigin, want)
		}
	}

	for name, c := range map[string]struct{ body, msg string }{
		"inconnue": {"overrides:\n  - id: a1.conseillers_actifs\n    target_origin: prefecture\n", `origine de la cible "prefecture" inconnue`},
		"contexte": {"overrides:\n  - id: ctx.lieux\n    target_origin: copil\n", "un indicateur de contexte n'a pas de cible"},
		"manquante": {`indicators:
  - {id: a1.x, axis: 1, action: "1.1", label: X, definition: X, unit: nombre, levels: [dep], target: 1, direction: au_moins, window: mois, compute: lieux}
`, "origine de la cible manquante"},
	} {
		os.WriteFile(p, []byte(c.body), 0o644)
		if _, err := LoadFile(p); !errors.Is(err, ErrInvalid) || !strings.Contains(err.Error(), c.msg) {
			t.Errorf("%s : erreur %q attendue, obtenu %v", name, c.msg, err)
		}
	}
}
