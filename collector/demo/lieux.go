package demo

import (
	"bytes"
	"encoding/csv"
	"fmt"
	"math"
	"math/rand/v2"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/sdaasp-rhone/fne/internal/territory"
)

// lieuxHeader is the full header of the national "lieux de médiation numérique" standard, as in
// examples/lieux.csv.
var lieuxHeader = []string{"id", "pivot", "nom", "commune", "code_postal", "code_insee", "adresse", "complement_adresse",
	"latitude", "longitude", "typologie", "telephone", "courriels", "site_web", "horaires", "presentation_resume",
	"presentation_detail", "source", "structure_parente", "date_maj", "services", "publics_specifiquement_adresses",
	"prise_en_charge_specifique", "frais_a_charge", "itinerance", "modalites_acces", "modalites_accompagnement",
	"fiche_acces_libre", "prise_rdv", "autres_formations_labels", "dispositif_programmes_nationaux"}

type placeKind struct {
	nom, typologie, services, dispositifs string
	weight                                float64
}

var placeKinds = []placeKind{
	{"France Services de %s", "MUNI|PIMMS", "Aide aux démarches administratives|Accès internet et matériel informatique", "France Services|Conseillers numériques", 1},
	{"Médiathèque de %s", "BIB", "Maîtrise des outils numériques du quotidien|Loisirs et créations numériques", "", 1.6},
	{"Mairie de %s", "MUNI", "Aide aux démarches administratives", "", 1.4},
	{"CCAS de %s", "CCAS", "Aide aux démarches administratives|Accès internet et matériel informatique", "Conseillers numériques", 0.8},
	{"Centre social de %s", "CS", "Maîtrise des outils numériques du quotidien|Compréhension et utilisation des sites d'accès aux droits", "Conseillers numériques", 0.9},
	{"Espace numérique de %s", "TIERS_LIEUX", "Accès internet et matériel informatique|Maîtrise des outils numériques du quotidien", "", 0.6},
	{"Association Entraide numérique de %s", "ASSO", "Maîtrise des outils numériques du quotidien|Acquisition de matériel informatique à prix solidaire", "", 0.5},
}

var (
	publics    = []string{"Seniors", "Familles et/ou enfants", "Jeunes", "Personnes en situation de handicap", "Étudiants", ""}
	modalites  = []string{"Accompagnement individuel", "Dans un atelier collectif", "En autonomie", "Accompagnement individuel|En autonomie"}
	frais      = []string{"Gratuit", "Gratuit", "Gratuit", "Gratuit sous condition", "Payant"}
	placeStart = []string{"Se présenter", "Téléphoner", "Se présenter|Téléphoner", "Prendre un RDV en ligne"}
)

type place struct {
	id         string
	commune    int
	popularity float64 // mean daily consultations of its map page
}

// lieux writes the places file: g.nPlaces valid places spread by population and density (so the north
// and west are thinner), about a third not updated for more than a year, a few without code_insee
// (located by their commune name), and two invalid rows.
func (g *gen) lieux() error {
	r := g.rng(2)
	cs := g.ref.Communes
	w := make([]float64, len(cs))
	for i, c := range cs {
		w[i] = math.Pow(float64(c.Population)+1, 0.8) * g.factor[i] * g.factor[i]
	}
	// Commune names that match exactly one commune once normalised can be given without code_insee.
	keys := map[string]int{}
	for _, c := range cs {
		keys[territory.NameKey(c.Nom)]++
	}
	var buf bytes.Buffer
	cw := csv.NewWriter(&buf)
	_ = cw.Write(lieuxHeader)
	periodEnd := g.endTS
	byName := 0
	for n := 0; n < g.nPlaces; n++ {
		ci := weighted(r, w)
		com := cs[ci]
		k := placeKinds[weighted(r, []float64{1, 1.6, 1.4, 0.8, 0.9, 0.6, 0.5})]
		p := place{id: fmt.Sprintf("lieu-%s", uuid(r)[:13]), commune: ci, popularity: 0.3 + 4*r.Float64()*r.Float64()}
		g.places = append(g.places, p)
		// 64 % updated within the last year, the rest between 1 and 3 years ago.
		var age int
		if r.Float64() < 0.64 {
			age = r.IntN(360)
		} else {
			age = 370 + r.IntN(730)
		}
		dateMaj := periodEnd.AddDate(0, 0, -age).Format("2006-01-02")
		insee := com.Code
		communeName := com.Nom
		if byName < 12 && keys[territory.NameKey(com.Nom)] == 1 && r.IntN(12) == 0 {
			insee = ""
			byName++
			communeName = strings.Replace(communeName, "Saint-", "St ", 1)
		}
		itin := "Fixe"
		if r.IntN(25) == 0 {
			itin = "Itinérant"
		}
		row := []string{p.id, digits(r, 14), fmt.Sprintf(k.nom, com.Nom), communeName, postcode(com.Code), insee,
			fmt.Sprintf("%d rue de la République", 1+r.IntN(80)), "",
			coord(r, com.Latitude, com.NoCentroid), coord(r, com.Longitude, com.NoCentroid),
			k.typologie, "+33" + digits(r, 9), "", "", "Mo-Fr 09:00-12:00", "Accompagnement au numérique", "",
			[]string{"dora", "cartographie-nationale", "coop-numerique"}[r.IntN(3)], "", dateMaj, k.services,
			publics[r.IntN(len(publics))], "", frais[r.IntN(len(frais))], itin, placeStart[r.IntN(len(placeStart))],
			modalites[r.IntN(len(modalites))], "", "", "", k.dispositifs}
		_ = cw.Write(row)
	}
	// Planted invalid rows: a place without a name, a commune that is not in the reference.
	c0 := cs[0]
	_ = cw.Write([]string{"lieu-sans-nom", digits(r, 14), "", c0.Nom, postcode(c0.Code), c0.Code, "1 place de l'Église", "", "", "", "MUNI",
		"", "", "", "", "", "", "dora", "", periodEnd.AddDate(0, -2, 0).Format("2006-01-02"), "Aide aux démarches administratives", "", "", "Gratuit", "Fixe", "", "", "", "", "", ""})
	_ = cw.Write([]string{"lieu-commune-inconnue", digits(r, 14), "Point numérique de Villeneuve-Imaginaire", "Villeneuve-Imaginaire", postcode(c0.Code), "",
		"2 rue Haute", "", "", "", "ASSO", "", "", "", "", "", "", "dora", "", periodEnd.AddDate(0, -1, 0).Format("2006-01-02"), "", "", "", "Gratuit", "Fixe", "", "", "", "", "", ""})
	cw.Flush()
	if err := cw.Error(); err != nil {
		return err
	}
	return os.WriteFile(g.add("lieux", "lieux.csv", g.nPlaces, 2), buf.Bytes(), 0o644)
}

// consultations writes the daily map consultations per place. The map statistics only start ten months
// before the end of the period: earlier months have no data at all.
func (g *gen) consultations() error {
	r := g.rng(3)
	var buf bytes.Buffer
	buf.WriteString("date,lieu_id,consultations\n")
	start := g.months[len(g.months)-10]
	valid := 0
	for d := start; !d.After(g.endTS); d = d.AddDate(0, 0, 1) {
		weekday := 1.0
		if d.Weekday() == 0 || d.Weekday() == 6 {
			weekday = 0.4
		}
		growth := 1 + 0.04*float64(monthsBetween(start, d))
		ds := d.Format("2006-01-02")
		for _, p := range g.places {
			if n := poisson(r, p.popularity*weekday*growth*season[d.Month()-1]*g.scale); n > 0 {
				fmt.Fprintf(&buf, "%s,%s,%d\n", ds, p.id, n)
				valid++
			}
		}
		// A page of a place removed from the map is still visited now and then: kept, counted nowhere.
		if d.Day() == 15 {
			fmt.Fprintf(&buf, "%s,lieu-retire-0001,%d\n", ds, 1+r.IntN(3))
			valid++
		}
	}
	// Planted invalid rows: an impossible date and a negative count.
	fmt.Fprintf(&buf, "%d-02-30,%s,4\n", g.endTS.Year(), g.places[0].id)
	fmt.Fprintf(&buf, "%s,%s,-3\n", g.endTS.Format("2006-01-02"), g.places[1].id)
	return os.WriteFile(g.add("consultations", "consultations.csv", valid, 2), buf.Bytes(), 0o644)
}

func monthsBetween(a, b time.Time) int {
	return (b.Year()-a.Year())*12 + int(b.Month()) - int(a.Month())
}

// coord is one coordinate of a place near its commune's centroid, empty when the commune has none (the
// draw is made either way, so that the rest of the file does not depend on it).
func coord(r *rand.Rand, v float64, none bool) string {
	j := jitter(r, v)
	if none {
		return ""
	}
	return strconv.FormatFloat(j, 'f', 5, 64)
}
