package demo

import (
	"bytes"
	"encoding/csv"
	"fmt"
	"math"
	"os"
	"strconv"
)

// equipment writes the equipment and connectivity figures (long format). Reporting started fifteen
// months before the end and runs to the last month, so that the flows have a value at the default
// month and a year-before value for their last three months; every EPCI reports household flows, some
// from a later month.
func (g *gen) equipment() error {
	r := g.rng(5)
	var buf bytes.Buffer
	cw := csv.NewWriter(&buf)
	_ = cw.Write([]string{"periode", "territoire", "indicateur", "valeur", "source", "commentaire"})
	valid := 0
	put := func(mi int, terr, ind string, v float64, src, comment string) {
		_ = cw.Write([]string{monthKey(g.months[mi]), terr, ind, strconv.FormatFloat(v, 'f', -1, 64), src, comment})
		valid++
	}
	first, last := len(g.months)-15, len(g.months)-1 // reported months: [first, last]
	cs := g.ref.Communes

	// Stocks per commune: wifi hotspots in about a third of the communes, the larger and denser ones
	// first; a few more communes join during the year; public PCs in fewer.
	for i, c := range cs {
		score := math.Log10(float64(c.Population)+10) * g.factor[i]
		p := math.Min(0.9, 0.08+0.14*score)
		x := r.Float64()
		terr := "com:" + c.Code
		switch {
		case x < p*0.75:
			put(first, terr, "hotspots_wifi_actifs", float64(1+r.IntN(2+int(score))), "Mairie", "")
			if r.IntN(6) == 0 {
				put(first+6, terr, "hotspots_wifi_actifs", float64(2+r.IntN(3)), "Mairie", "borne ajoutée")
			}
		case x < p:
			put(first+3+r.IntN(last-first-3), terr, "hotspots_wifi_actifs", 1, "Mairie", "nouveau point wifi")
		}
		if r.Float64() < p*0.6 {
			put(first+r.IntN(3), terr, "pc_libre_acces", float64(1+r.IntN(4)), "Mairie", "")
		}
	}
	// A commune reports zero hotspots after its only one was removed.
	put(last, "com:"+cs[len(cs)/2].Code, "hotspots_wifi_actifs", 0, "Mairie", "borne retirée")

	// EPCI-level stocks and flows: not every EPCI reports.
	recond := map[int]bool{}
	for e, m := range g.epcis {
		terr := "epci:" + m.info.Siren
		if r.Float64() < 0.5 {
			put(first, terr, "points_acces_mobiles", float64(1+r.IntN(3)), "EPCI", "bus et permanences itinérantes")
		}
		if r.Float64() < 0.55+0.3*m.factor {
			recond[e] = true
			put(first, terr, "structures_reconditionnement_actives", float64(1+r.IntN(3)), "Réseau du réemploi", "")
		}
		start := first + r.IntN(4)
		for mi := start; mi <= last; mi++ {
			s := season[g.months[mi].Month()-1]
			put(mi, terr, "foyers_equipes", float64(poisson(r, 6*s*m.factor+1)), "Opérateurs et associations", "")
			put(mi, terr, "foyers_connectes", float64(poisson(r, 9*s*m.factor+1)), "Opérateurs", "cartes SIM solidaires et box à prix coûtant")
			if r.IntN(2) == 0 {
				put(mi, terr, "cartes_sim_solidaires", float64(poisson(r, 5)), "Opérateurs", "")
				put(mi, terr, "box_prix_coutant", float64(poisson(r, 2)), "Opérateurs", "")
			}
		}
	}
	// At least one reconditioning chain, so that its indicator has data in a territory of few EPCI (Paris:
	// one): the densest EPCI gets it when none was drawn.
	if len(recond) == 0 {
		best := 0
		for e, m := range g.epcis {
			if m.factor > g.epcis[best].factor {
				best = e
			}
		}
		recond[best] = true
		put(first, "epci:"+g.epcis[best].info.Siren, "structures_reconditionnement_actives", 1, "Réseau du réemploi", "")
	}
	// Reconditioned PCs: flows from a few communes of the EPCI with a reconditioning structure.
	for e := range g.epcis {
		if !recond[e] {
			continue
		}
		ci := g.pickCommune(r, e, 1.2)
		terr := "com:" + cs[ci].Code
		for mi := first; mi <= last; mi++ {
			if r.IntN(5) == 0 {
				continue // some months without distribution
			}
			s := season[g.months[mi].Month()-1]
			put(mi, terr, "pc_reconditionnes_distribues", float64(poisson(r, 14*s)), "Recyclerie solidaire", "")
			put(mi, terr, "pc_dons", float64(poisson(r, 6*s)), "Recyclerie solidaire", "dons via CCAS")
			put(mi, terr, "pc_ventes_solidaires", float64(poisson(r, 7*s)), "Recyclerie solidaire", "")
			if r.IntN(3) == 0 {
				put(mi, terr, "pc_locations", float64(poisson(r, 2)), "Recyclerie solidaire", "")
			}
			put(mi, terr, "pc_reparations", float64(poisson(r, 4)), "Recyclerie solidaire", "")
		}
	}
	// A corrected figure: the later line of the same key replaces the earlier one.
	put(last-1, "epci:"+g.epcis[0].info.Siren, "foyers_connectes", 12, "Opérateurs", "correction du chiffre transmis")
	// Planted invalid rows: an unknown indicator and an impossible period.
	_ = cw.Write([]string{monthKey(g.months[last]), "com:" + cs[0].Code, "tablettes_pretees", "3", "Médiathèque", ""})
	_ = cw.Write([]string{fmt.Sprintf("%d-13", g.months[last].Year()), "com:" + cs[1%len(cs)].Code, "pc_dons", "2", "Recyclerie solidaire", ""})
	cw.Flush()
	if err := cw.Error(); err != nil {
		return err
	}
	return os.WriteFile(g.add("equipements", "equipements.csv", valid, 2), buf.Bytes(), 0o644)
}
