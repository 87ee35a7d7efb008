package demo

import (
	"fmt"
	"sort"
	"time"

	"github.com/xuri/excelize/v2"
)

type partStructure struct {
	id, nom, typ string
}

type meeting struct {
	date            time.Time
	id, typ, titre  string
	territoire, act string
	format          string
	epci            int // -1 for the département
	monthIndex      int
	invalid         bool
}

var (
	partTypes   = []string{"collectivite", "association", "france_services", "mediatheque", "ccas", "education_nationale", "operateur_public", "entreprise", "etat", "autre"}
	partWeights = []float64{3, 2.5, 1, 1.5, 1, 1, 0.6, 0.4, 0.2, 0.5}
	partNames   = map[string]string{
		"collectivite": "Mairie de %s", "association": "Association Familles rurales de %s", "france_services": "France Services de %s",
		"mediatheque": "Médiathèque de %s", "ccas": "CCAS de %s", "education_nationale": "Collège de %s",
		"operateur_public": "Agence France Travail de %s", "entreprise": "Recyclerie solidaire de %s", "etat": "Sous-préfecture (antenne de %s)",
		"autre": "Tiers-lieu de %s",
	}
	localTitles = []string{"Échange de pratiques des aidants numériques", "Atelier : accompagner les démarches en ligne",
		"Atelier thématique : santé en ligne", "Échange de pratiques : publics éloignés"}
	infoTitles = []string{"Petit déj' : où orienter les habitants ?", "Demi-journée d'information : l'offre d'accompagnement",
		"Petit déj' : la cartographie des lieux", "Demi-journée d'information des relais de proximité"}
	formats = []string{"presentiel", "distanciel", "hybride"}
)

// meetings writes rencontres and participations as two sheets of one workbook, as coordinators do.
func (g *gen) meetings() error {
	r := g.rng(4)
	root := g.ref.Root().String()
	// Structures that attend: a pool per EPCI and one for the département's partners.
	pools := make([][]partStructure, len(g.epcis))
	for e := range g.epcis {
		for k, n := 0, 10+r.IntN(5); k < n; k++ {
			com := g.ref.Communes[g.pickCommune(r, e, 0.6)]
			t := partTypes[weighted(r, partWeights)]
			id := digits(r, 14)
			if t == "collectivite" {
				id = "21" + com.Code + digits(r, 7)
			} else if t == "association" {
				id = "W" + digits(r, 9)
			}
			pools[e] = append(pools[e], partStructure{id, fmt.Sprintf(partNames[t], com.Nom), t})
		}
	}
	depPool := []partStructure{
		{digits(r, 14), "Conseil départemental", "collectivite"}, {digits(r, 14), "Préfecture", "etat"},
		{digits(r, 14), "Caisse d'allocations familiales", "operateur_public"}, {digits(r, 14), "Caisse primaire d'assurance maladie", "operateur_public"},
		{digits(r, 14), "France Travail (direction territoriale)", "operateur_public"}, {digits(r, 14), "Banque des Territoires", "operateur_public"},
		{digits(r, 14), "Hub pour un numérique inclusif", "association"},
	}

	var ms []meeting
	add := func(mi int, typ, titre, terr, act string, epci int) {
		m := g.months[mi]
		day := 2 + r.IntN(m.AddDate(0, 1, -1).Day()-2)
		d := withinMonth(time.Date(m.Year(), m.Month(), day, 0, 0, 0, 0, time.UTC), time.Saturday, time.Sunday)
		ms = append(ms, meeting{date: d, typ: typ, titre: titre, territoire: terr, act: act, epci: epci, monthIndex: mi,
			format: formats[weighted(r, []float64{0.7, 0.15, 0.15})]})
	}
	byYear := map[int][]int{}
	var years []int
	for i, m := range g.months {
		if _, ok := byYear[m.Year()]; !ok {
			years = append(years, m.Year())
		}
		byYear[m.Year()] = append(byYear[m.Year()], i)
	}
	for _, y := range years {
		mis := byYear[y]
		share := float64(len(mis)) / 12
		dep := mis[0]
		for _, mi := range mis {
			if g.months[mi].Month() == time.March {
				dep = mi
			}
		}
		add(dep, "rencontre_departementale", fmt.Sprintf("Rencontre départementale de l'inclusion numérique %d", y), root, "1.2", -1)
		for _, mi := range mis {
			switch g.months[mi].Month() {
			case time.June, time.December:
				add(mi, "comite_pilotage", "Comité de pilotage de la feuille de route", root, "1.1", -1)
			case time.February, time.May, time.September, time.November:
				add(mi, "comite_technique", "Comité technique", root, "1.1", -1)
			}
		}
		// Local meetings in three EPCI out of four; information meetings uneven; coordination bodies in some.
		order := r.Perm(len(g.epcis))
		withLocal := (3*len(g.epcis) + 3) / 4
		for rank, e := range order {
			terr := "epci:" + g.epcis[e].info.Siren
			if rank < withLocal && r.Float64() < share+0.2 {
				for k, n := 0, 1+r.IntN(3); k < n; k++ {
					t := []string{"echange_pratiques", "atelier_thematique"}[r.IntN(2)]
					tt := terr
					if r.IntN(3) == 0 {
						tt = "com:" + g.ref.Communes[g.pickCommune(r, e, 1)].Code
					}
					add(mis[r.IntN(len(mis))], t, localTitles[r.IntN(len(localTitles))], tt, "1.2", e)
				}
			}
			for k, n := 0, int(float64(weighted(r, []float64{0.25, 0.25, 0.3, 0.2}))*share+0.5); k < n; k++ {
				t := []string{"petit_dejeuner", "demi_journee_information"}[r.IntN(2)]
				add(mis[r.IntN(len(mis))], t, infoTitles[r.IntN(len(infoTitles))], terr, "3.2", e)
			}
			if r.Float64() < 0.4*share {
				add(mis[r.IntN(len(mis))], "instance_coordination", "Instance locale de coordination France Numérique Ensemble", terr, "1.1", e)
			}
		}
	}
	sort.SliceStable(ms, func(i, j int) bool {
		if !ms[i].date.Equal(ms[j].date) {
			return ms[i].date.Before(ms[j].date)
		}
		if ms[i].typ != ms[j].typ {
			return ms[i].typ < ms[j].typ
		}
		return ms[i].territoire < ms[j].territoire
	})
	seq := map[int]int{}
	for i := range ms {
		y := ms[i].date.Year()
		seq[y]++
		ms[i].id = fmt.Sprintf("R-%d-%03d", y, seq[y])
	}

	f := excelize.NewFile()
	defer f.Close()
	const rs, ps = "rencontres", "participations"
	if err := f.SetSheetName("Sheet1", rs); err != nil {
		return err
	}
	if _, err := f.NewSheet(ps); err != nil {
		return err
	}
	row := 1
	put := func(sheet string, n *int, vals ...any) error {
		cell, _ := excelize.CoordinatesToCellName(1, *n)
		*n++
		return f.SetSheetRow(sheet, cell, &vals)
	}
	if err := put(rs, &row, "id", "date", "type", "titre", "territoire", "action", "format"); err != nil {
		return err
	}
	for _, m := range ms {
		if err := put(rs, &row, m.id, m.date.Format("2006-01-02"), m.typ, m.titre, m.territoire, m.act, m.format); err != nil {
			return err
		}
	}
	// Planted invalid meeting: a type outside the list.
	last := ms[len(ms)-1]
	if err := put(rs, &row, fmt.Sprintf("R-%d-900", last.date.Year()), last.date.Format("2006-01-02"), "pique_nique", "Pique-nique des aidants",
		last.territoire, "1.2", "presentiel"); err != nil {
		return err
	}

	prow := 1
	if err := put(ps, &prow, "rencontre_id", "structure_id", "structure_nom", "structure_type", "personnes", "relais", "connait_offre"); err != nil {
		return err
	}
	parts := 0
	for _, m := range ms {
		var pool []partStructure
		var n int
		info := m.typ == "petit_dejeuner" || m.typ == "demi_journee_information"
		switch {
		case m.typ == "rencontre_departementale":
			pool = append(pool, depPool...)
			for _, p := range pools {
				pool = append(pool, p...)
			}
			n = 25 + r.IntN(16)
		case m.epci < 0:
			pool = depPool
			for _, p := range pools {
				for _, s := range p {
					if s.typ == "collectivite" {
						pool = append(pool, s)
						break
					}
				}
			}
			n = 6 + r.IntN(5)
		case info:
			pool, n = pools[m.epci], 5+r.IntN(8)
		default:
			pool, n = pools[m.epci], 4+r.IntN(7)
		}
		n = min(n, len(pool))
		for _, k := range r.Perm(len(pool))[:n] {
			s := pool[k]
			relais := "non"
			if (info && r.Float64() < 0.75) || (!info && r.Float64() < 0.45) {
				relais = "oui"
			}
			connait := ""
			if relais == "oui" && r.Float64() < 0.85 {
				connait = "non"
				if r.Float64() < 0.45+0.3*float64(m.monthIndex)/float64(len(g.months)) {
					connait = "oui"
				}
			} else if r.Float64() < 0.2 {
				connait = []string{"oui", "non"}[r.IntN(2)]
			}
			if err := put(ps, &prow, m.id, s.id, s.nom, s.typ, 1+r.IntN(3)*r.IntN(2), relais, connait); err != nil {
				return err
			}
			parts++
		}
	}
	// A participation in a meeting not entered yet (kept, counted once the meeting arrives) and a
	// planted invalid one (a structure type outside the list).
	s0 := pools[0][0]
	if err := put(ps, &prow, fmt.Sprintf("R-%d-999", last.date.Year()), s0.id, s0.nom, s0.typ, 1, "oui", "oui"); err != nil {
		return err
	}
	parts++
	if err := put(ps, &prow, ms[0].id, "W000000000", "Club informatique", "club_sportif", 2, "oui", "non"); err != nil {
		return err
	}
	// Fixed workbook metadata: excelize would otherwise stamp the current time and break determinism.
	stamp := g.endTS.Format(time.RFC3339)
	if err := f.SetDocProps(&excelize.DocProperties{Creator: "fne demo", LastModifiedBy: "fne demo", Created: stamp, Modified: stamp,
		Title: "Rencontres et participations (démonstration)", Language: "fr-FR"}); err != nil {
		return err
	}
	path := g.add("rencontres", "rencontres.xlsx", len(ms), 1)
	g.files = append(g.files, File{Source: "participations", Path: path, Valid: parts, Invalid: 1})
	if err := f.SaveAs(path); err != nil {
		return fmt.Errorf("écriture de rencontres.xlsx : %w", err)
	}
	return nil
}
