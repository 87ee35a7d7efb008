package demo

import (
	"bytes"
	"fmt"
	"os"
	"strconv"
	"time"
)

type jalon struct {
	action, id, libelle, statut string
	prevue, realisee            int // months relative to the end of the period (negative: before); realisee 99 = none
}

// jalons writes the roadmap milestones in YAML: mixed statuses, with action 2.1 (needs diagnosis) only
// partly done and one milestone of it overdue.
func (g *gen) jalons() error {
	const none = 99
	js := []jalon{
		{"1.1", "instance_installee", "Instance départementale de coordination installée", "realise", -20, -21},
		{"1.1", "charte_gouvernance", "Charte de gouvernance adoptée", "realise", -16, -15},
		{"1.2", "rencontre_annuelle", "Rencontre départementale annuelle organisée", "realise", -8, -8},
		{"1.2", "annuaire_acteurs", "Annuaire des acteurs de l'inclusion numérique", "en_cours", 2, none},
		{"2.1", "cahier_des_charges", "Cahier des charges du diagnostic co-construit", "realise", -17, -16},
		{"2.1", "enquete_usagers", "Enquête auprès des usagers et des aidants", "realise", -10, -9},
		{"2.1", "diagnostic_partage", "Diagnostic partagé des besoins produit", "en_cours", -2, none},
		{"2.1", "restitution_epci", "Restitution du diagnostic dans chaque EPCI", "a_lancer", 3, none},
		{"2.1", "plan_actions_local", "Plans d'actions locaux issus du diagnostic", "a_lancer", 8, none},
		{"2.2", "filiere_reconditionnement", "Filière départementale de reconditionnement", "realise", -6, -4},
		{"2.2", "recensement_hotspots", "Recensement des points wifi libres d'accès", "en_cours", 1, none},
		{"2.2", "tarif_social_box", "Offre de box à tarif social négociée", "abandonne", -3, none},
		{"3.1", "referents_cartographie", "Référents de la cartographie désignés", "realise", -12, -12},
		{"3.1", "mise_a_jour_fiches", "Campagne annuelle de mise à jour des fiches", "en_cours", 0, none},
		{"3.2", "kit_communication", "Kit de communication pour les relais", "realise", -7, -5},
		{"3.2", "tournee_information", "Tournée d'information des relais de proximité", "en_cours", 4, none},
	}
	end := g.months[len(g.months)-1]
	date := func(rel int, day int) string {
		m := end.AddDate(0, rel, 0)
		return time.Date(m.Year(), m.Month(), day, 0, 0, 0, 0, time.UTC).Format("2006-01-02")
	}
	var buf bytes.Buffer
	buf.WriteString("# Jalons de la feuille de route (données de démonstration)\n")
	for i, j := range js {
		fmt.Fprintf(&buf, "- action: %s\n  jalon: %s\n  libelle: %s\n  statut: %s\n  date_prevue: %s\n  date_realisee:",
			strconv.Quote(j.action), j.id, j.libelle, j.statut, date(j.prevue, 28))
		if j.realisee != none {
			fmt.Fprintf(&buf, " %s", date(j.realisee, 5+i))
		}
		buf.WriteString("\n")
	}
	// Planted invalid milestone: a status outside the list.
	fmt.Fprintf(&buf, "- action: \"3.2\"\n  jalon: guide_relais\n  libelle: Guide pratique des relais\n  statut: termine\n  date_prevue: %s\n  date_realisee:\n", date(-1, 15))
	return os.WriteFile(g.add("jalons", "jalons.yaml", len(js), 1), buf.Bytes(), 0o644)
}
