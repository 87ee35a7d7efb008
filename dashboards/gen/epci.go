package main

import (
	"github.com/grafana/grafana-foundation-sdk/go/common"
	"github.com/grafana/grafana-foundation-sdk/go/dashboard"
	"github.com/grafana/grafana-foundation-sdk/go/stat"
	"github.com/grafana/grafana-foundation-sdk/go/table"
)

// epci is « Couverture locale »: one EPCI at a time — the datasource's scope in an EPCI's
// organisation, else the EPCI chosen at the top, else the first EPCI (every query says defaultLevel
// epci, so an empty choice never shows the whole département). The map shows one indicator at a time.
func epci(c *catalogueView) (dashboard.Dashboard, error) {
	layers := [][2]string{}
	for _, id := range []string{"a2.communes_hotspot", "a2.population_zone_blanche", "a3.fiches_a_jour"} {
		layers = append(layers, [2]string{c.get(id).Label, id})
	}
	l, err := newDashboard("fne-epci", "Couverture locale",
		"Couverture d'un EPCI : carte de ses communes pour un indicateur à la fois, lieux, activité des conseillers, rencontres, indicateurs de l'EPCI et communes sous leurs cibles.",
		"epci", "now-12M/M", "now-1M/M", "",
		dsVar(),
		pluginVar("epci", "EPCI", "epci", "EPCI examiné (dans l'organisation d'un EPCI, seul le sien est proposé ; sans choix, le premier EPCI).", nil),
		customVar("couche", "Carte", "Indicateur montré sur la carte des communes (un à la fois).", layers))
	if err != nil {
		return dashboard.Dashboard{}, err
	}
	l.add(territoryStat(), 5, 4)
	l.add(monthStat("Mois évalué", q("A", "axes").epci()), 3, 4)
	l.add(c.statPanel("ctx.lieux", "Lieux d'accompagnement", q("A", "series").epci(), ""), 4, 4)
	l.add(c.statPanel("ctx.lieux_10000_hab", "Lieux pour 10 000 hab.", q("A", "series").epci(), ""), 4, 4)
	l.add(c.statPanel("a2.population_zone_blanche", "Population à plus de 10 km", q("A", "series").epci(), ""), 4, 4)
	l.add(c.statPanel("a2.communes_hotspot", "Communes avec wifi libre", q("A", "series").epci(), ""), 4, 4)

	l.row("Carte des communes")
	l.add(markerMap("Communes : ${couche:text}",
		"Un cercle par commune de l'EPCI (centroïde), de taille proportionnelle à la population, coloré par le statut de la commune pour l'indicateur choisi en haut de page (« Carte ») : "+
			"vert atteint, rouge en retard (mêmes couleurs que les tableaux). Survolez un cercle pour la valeur. "+
			c.method("a2.communes_hotspot", "")+" "+c.method("a2.population_zone_blanche", "")+" "+c.method("a3.fiches_a_jour", ""),
		q("A", "breakdown").ind("$couche").epci().level("commune"), 26), 14, 14)
	l.add(communeTable("Communes : ${couche:text}",
		"Une ligne par commune de l'EPCI pour l'indicateur de la carte, au dernier mois de la période : valeur, statut, population ; les plus peuplées d'abord.",
		q("A", "breakdown").ind("$couche").epci().level("commune"), false), 10, 14)

	l.row("Activité des conseillers numériques")
	for _, id := range []string{"a1.conseillers_actifs", "a2.accompagnements", "a2.accompagnements_1000_hab"} {
		l.add(c.seriesPanel(id, q("A", "series").epci(), ""), 8, 8)
	}
	l.add(communeTable("Accompagnements par commune",
		c.method("a2.accompagnements", " Une ligne par commune de l'EPCI, pour le dernier mois de la période ; le total est celui de l'EPCI."),
		q("A", "breakdown").ind("a2.accompagnements").epci().level("commune"), true), 12, 10)
	l.add(communeTable("Lieux par commune",
		c.method("ctx.lieux", " Une ligne par commune de l'EPCI ; le total est celui de l'EPCI."),
		q("A", "breakdown").ind("ctx.lieux").epci().level("commune"), true), 12, 10)

	l.row("Rencontres")
	l.add(c.statPanel("a3.epci_deux_rencontres", "Deux rencontres d'information", q("A", "series").epci(),
		" Pour un EPCI : 100 % si au moins deux rencontres d'information (petit-déjeuner, demi-journée) se sont tenues depuis le 1er janvier, sinon 0 %."), 6, 5)
	l.add(c.statPanel("a1.epci_rencontre_locale", "Rencontre locale dans l'année", q("A", "series").epci(),
		" Pour un EPCI : 100 % si au moins une rencontre locale (échange de pratiques, atelier thématique) s'est tenue depuis le 1er janvier, sinon 0 %."), 6, 5)
	l.add(c.statPanel("a1.instances_actives", "Réunions des instances", q("A", "series").epci(), ""), 6, 5)
	l.add(c.statPanel("a1.diversite_structures", "Diversité des structures", q("A", "series").epci(), ""), 6, 5)
	l.add(c.seriesPanel("a3.relais_informes", q("A", "series").epci(), ""), 12, 8)
	l.add(c.seriesPanel("a3.relais_connaissent_offre", q("A", "series").epci(), ""), 12, 8)

	l.row("Indicateurs de l'EPCI et communes sous leurs cibles")
	l.add(trafficLights("Indicateurs de l'EPCI",
		"Tous les indicateurs évalués pour l'EPCI et le dernier mois de la période (les indicateurs départementaux y sont « sans données »). "+statusRule,
		q("A", "scorecard").epci().axis(0), true), 24, 14)
	l.add(gapsPanel("Communes sous leurs cibles",
		"Couples commune × indicateur de l'EPCI dont la valeur n'atteint pas la cible au dernier mois de la période, les plus peuplées d'abord.",
		"Commune", q("A", "gaps").epci().level("commune")), 24, 10)
	return *l.d, nil
}

// territoryStat names the EPCI every figure of the page is about.
func territoryStat() *stat.PanelBuilder {
	return textStat("EPCI affiché",
		"Le territoire de toutes les valeurs de la page : l'EPCI choisi en haut de page, celui de l'organisation, ou à défaut le premier EPCI du département.",
		"territory_name", q("A", "axes").epci().axis(1), "Aucun EPCI")
}

// communeTable is a breakdown by commune; bars compare communes (total in the footer for counts).
func communeTable(title, desc string, query fneQuery, total bool) *table.PanelBuilder {
	keep := []string{"name", "value", "value_text", "status", "population"}
	drop := []string{"territory", "latitude", "longitude"}
	if total {
		keep = []string{"name", "value", "population"}
		drop = append(drop, "value_text", "status")
	}
	b := tablePanel(title, desc).Targets(query.targets()).
		WithTransformation(organize(keep, drop...)).
		OverrideByName("name", rename("Commune", minWidth(160))).
		OverrideByName("value_text", rename("Valeur", width(110), prop("custom.align", "right"))).
		OverrideByName("status", rename("Statut", width(130), mappings(statusMap()), cell("color-background"))).
		OverrideByName("population", rename("Population", decimals(0), width(110)))
	if total {
		return b.OverrideByName("value", rename("Nombre", decimals(0), cell("gauge"), fixedColor("blue"), prop("min", 0), minWidth(160))).
			Footer(common.NewTableFooterOptionsBuilder().Show(true).Reducer([]string{"sum"}).Fields([]string{"Nombre"})).
			SortBy([]sortBuilder{sortState("Nombre", true)})
	}
	return b.OverrideByName("value", rename("Barre", prop("custom.cellOptions", map[string]any{"type": "gauge", "mode": "basic", "valueDisplayMode": "hidden"}),
		fixedColor("blue"), width(120))).
		SortBy([]sortBuilder{sortState("Population", true)})
}
