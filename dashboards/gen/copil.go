package main

import (
	"github.com/grafana/grafana-foundation-sdk/go/dashboard"
)

// copil is « Feuille de route — vue d'ensemble »: one 1920×1080 screen (25 grid rows, no section to
// unfold) answering « is each axis on track? » — a tile per axis with its count of indicators per
// status, the 19 indicators as a traffic-light grid, the EPCI of the département on a map for a chosen
// indicator, and the milestones late or due within three months.
func copil(c *catalogueView) (dashboard.Dashboard, error) {
	l, err := newDashboard("fne-copil", "Feuille de route — vue d'ensemble",
		"Vue d'ensemble pour le comité de pilotage, sur un écran : chaque axe de la feuille de route et le statut de ses indicateurs, les 19 indicateurs en feux tricolores, la carte des EPCI et les jalons en retard ou proches.",
		"copil", "now-12M/M", "now-1M/M", "",
		dsVar(), c.indicatorVar("a2.accompagnements_1000_hab", "Indicateur montré sur la carte des EPCI."))
	if err != nil {
		return dashboard.Dashboard{}, err
	}
	for a := 1; a <= 3; a++ {
		l.add(axisTile(a, q("A", "axes")), 7, 4)
	}
	l.add(monthStat("Mois évalué", q("A", "axes")), 3, 4)
	l.newline()
	top := l.y
	l.put(trafficLights("Les 19 indicateurs du dernier mois",
		"Chaque indicateur de la feuille de route pour le département, évalué pour le dernier mois de la période (par défaut le dernier mois complet) : "+
			"valeur, cible ou référence (pour les indicateurs « en hausse », la valeur un an plus tôt), statut et sens de l'évolution depuis le mois précédent. "+
			statusRule, q("A", "scorecard").axis(0), false), 0, top, 13, 21)
	l.put(markerMap("${indicateur:text} — par EPCI",
		"Un cercle par EPCI, au centre de ses communes pondéré par la population : sa taille suit la population, sa couleur le statut de l'indicateur choisi en haut de page "+
			"(mêmes couleurs que le tableau). Survolez un cercle pour la valeur.",
		q("A", "breakdown").ind("$indicateur").level("epci"), 30), 13, top, 11, 13)
	l.put(milestonesPanel("Jalons en retard ou à échéance sous 3 mois",
		"Jalons des actions de la feuille de route non réalisés dont la date prévue est passée ou tombe dans les trois prochains mois, dans leur état actuel (quel que soit le mois choisi).",
		q("A", "milestones").axis(0).due(3), true), 13, top+13, 11, 8)
	return *l.d, nil
}
