package main

import (
	"fmt"

	"github.com/grafana/grafana-foundation-sdk/go/dashboard"
	"github.com/grafana/grafana-foundation-sdk/go/table"

	"github.com/sdaasp-rhone/fne/plugin/pkg/plugin"
)

// cotech is « Revue mensuelle », in the order the monthly meeting runs: what changed since last month,
// each axis's trends against their trajectories, the EPCI compared, the territories under target (EPCI
// and communes apart), the milestones, the freshness of the data. The whole review follows the month
// chosen in « Mois examiné ».
func cotech(c *catalogueView) (dashboard.Dashboard, error) {
	l, err := newDashboard("fne-cotech", "Revue mensuelle",
		"Revue mensuelle du comité technique : ce qui a changé depuis le mois précédent, tendances de chaque axe face aux trajectoires, comparaison des EPCI, territoires sous leurs cibles, jalons et fraîcheur des données.",
		"cotech", "now-24M/M", "now-1M/M", "",
		dsVar(), monthVar(), c.indicatorVar("a2.accompagnements_1000_hab", "Indicateur de la comparaison des EPCI."))
	if err != nil {
		return dashboard.Dashboard{}, err
	}
	l.add(textPanel("Lire ce tableau de bord",
		"Choisissez le **mois examiné** en haut de page (par défaut le dernier mois complet) : toute la revue le suit. "+
			"D'abord ce qui a changé depuis le mois précédent, puis les courbes de chaque axe face à leur trajectoire (pointillés), "+
			"la comparaison des EPCI pour l'indicateur choisi, les territoires sous leurs cibles, les jalons et la fraîcheur des sources."), 18, 4)
	l.add(shifted(monthStat("Mois examiné", q("A", "axes"))), 6, 4)

	l.row("Ce qui a changé depuis le mois précédent")
	l.add(shifted(changesPanel()), 14, 9)
	l.add(shifted(axesTable()), 10, 9)
	l.add(shifted(trafficLights("Tous les indicateurs du mois examiné",
		"Tous les indicateurs de la feuille de route pour le mois examiné : valeur, cible ou référence, avancement (la barre s'arrête à 100 %, le chiffre dit la valeur réelle), "+
			"statut, sens de l'évolution sur un mois et date de la donnée la plus récente. "+statusRule,
		q("A", "scorecard").axis(0), true)), 24, 14)

	for a := 1; a <= 3; a++ {
		l.row(fmt.Sprintf("%s — %s : tendances face aux trajectoires", plugin.AxisLabel(a), plugin.AxisTitles[a]))
		for _, i := range c.ofAxis(a) {
			l.add(shifted(c.seriesPanel(i.ID, q("A", "series"), " Pointillés : la trajectoire de la valeur de départ vers la cible (ou, pour un indicateur « en hausse », la valeur un an plus tôt).")), 8, 7)
		}
	}

	l.row("Comparaison des EPCI")
	l.add(shifted(epciComparison(c)), 12, 12)
	l.add(shifted(gapsPanel("EPCI sous leur cible",
		"EPCI (et non communes) dont la valeur du mois examiné n'atteint pas la cible d'un indicateur qui a une cible au niveau EPCI, les plus peuplés d'abord.",
		"EPCI", q("A", "gaps").level("epci"))), 12, 12)
	l.add(shifted(gapsPanel("Communes sous leur cible",
		"Communes dont la valeur du mois examiné n'atteint pas la cible (point wifi, lieu à moins de 10 km, fiches de lieux à jour…), les plus peuplées d'abord.",
		"Commune", q("A", "gaps").level("commune"))), 24, 10)

	l.row("Jalons de la feuille de route")
	l.add(milestonesPanel("Jalons des actions",
		"Jalons des actions de la feuille de route dans leur état actuel : « En retard » si la date prévue est passée sans réalisation, « Échéance sous 3 mois » s'il reste moins de trois mois.",
		q("A", "milestones").axis(0), false), 24, 9)

	l.row("Fraîcheur des données")
	l.add(freshnessPanel("Fraîcheur des sources",
		"Par source : dernière exécution, dernier passage et dernier succès du collecteur, date de la donnée la plus récente (jamais dans le futur : une rencontre prévue ne compte pas), "+
			"lignes rejetées au dernier passage (détail : « fne rejects » ou le tableau « Collecte des données »), « Données anciennes » si la source n'a pas été mise à jour dans le délai attendu."), 24, 9)
	return *l.d, nil
}

// monthVar shifts the whole review by whole months: 0M is the last complete month.
func monthVar() cogVar {
	choices := [][2]string{{"Dernier mois complet", "0M"}, {"Un mois plus tôt", "1M"}}
	for n := 2; n <= 12; n++ {
		choices = append(choices, [2]string{fmt.Sprintf("%d mois plus tôt", n), fmt.Sprintf("%dM", n)})
	}
	return customVar("mois", "Mois examiné", "Décale toute la revue : les tableaux évaluent le mois choisi, les courbes finissent avec lui.", choices)
}

// timeShifter is what every panel builder has for the month picker.
type timeShifter[B any] interface {
	TimeShift(string) B
	HideTimeOverride(bool) B
}

func shifted[B timeShifter[B]](b B) B { return b.TimeShift("$mois").HideTimeOverride(true) }

// changesPanel lists the indicators whose status changed, degradations first.
func changesPanel() *table.PanelBuilder {
	keep := []string{"axis", "label", "direction", "previous_status", "status", "previous_value_text", "value_text"}
	return tablePanel("Statuts qui ont changé depuis le mois précédent",
		"Indicateurs dont le statut du mois examiné diffère de celui du mois précédent, ceux qui se dégradent d'abord, avec les deux valeurs. "+
			"Un indicateur qui n'a plus de données apparaît aussi.").
		Targets(q("A", "changes").axis(0).targets()).
		WithTransformation(organize(keep, "action", "id")).
		NoValue("Aucun changement de statut").
		OverrideByName("axis", rename("Axe", width(70))).
		OverrideByName("label", rename("Indicateur", minWidth(220))).
		OverrideByName("direction", rename("Sens", width(130), mappings(directionMap()), cell("color-text"))).
		OverrideByName("previous_status", rename("Mois précédent", width(130), mappings(statusMap()), cell("color-background"))).
		OverrideByName("status", rename("Mois examiné", width(130), mappings(statusMap()), cell("color-background"))).
		OverrideByName("previous_value_text", rename("Valeur avant", width(120), prop("custom.align", "right"))).
		OverrideByName("value_text", rename("Valeur", width(120), prop("custom.align", "right")))
}

// axesTable counts, per axis, the indicators in each status.
func axesTable() *table.PanelBuilder {
	keep := append([]string{"axis", "title"}, statusesWorstFirst...)
	b := tablePanel("Statuts par axe",
		"Nombre d'indicateurs de chaque axe dans chaque statut pour le mois examiné, du plus préoccupant au meilleur.").
		Targets(q("A", "axes").axis(0).targets()).
		WithTransformation(organize(keep, "territory_name")).
		OverrideByName("axis", rename("Axe", width(60))).
		OverrideByName("title", rename("Intitulé", minWidth(160)))
	for _, st := range statusesWorstFirst {
		b = b.OverrideByName(st, rename(plugin.StatusLabels[st], decimals(0), width(70), fixedColor(plugin.StatusColors[st]), cell("color-text")))
	}
	return b
}

// epciComparison is a table with bars, sorted: one row per EPCI, readable whatever the names' length.
func epciComparison(c *catalogueView) *table.PanelBuilder {
	keep := []string{"name", "value", "value_text", "status", "population"}
	return tablePanel("${indicateur:text} par EPCI",
		"Une ligne par EPCI pour le mois examiné et l'indicateur choisi en haut de page, triée de la plus forte à la plus faible valeur ; la barre compare les EPCI entre eux.").
		Targets(q("A", "breakdown").ind("$indicateur").level("epci").targets()).
		WithTransformation(organize(keep, "territory", "latitude", "longitude")).
		OverrideByName("name", rename("EPCI", minWidth(220))).
		OverrideByName("value", rename("Comparaison", prop("custom.cellOptions", map[string]any{"type": "gauge", "mode": "basic", "valueDisplayMode": "hidden"}),
			fixedColor("blue"), prop("min", 0), minWidth(160))).
		OverrideByName("value_text", rename("Valeur", width(140), prop("custom.align", "right"))).
		OverrideByName("status", rename("Statut", width(130), mappings(statusMap()), cell("color-background"))).
		OverrideByName("population", rename("Population", decimals(0), width(110))).
		SortBy([]sortBuilder{sortState("Comparaison", true)})
}
