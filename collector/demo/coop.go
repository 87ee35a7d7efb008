package demo

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math"
	"math/rand/v2"
	"os"
	"sort"
	"time"
)

const (
	coopBase      = "https://coop-numerique.example/api/v1/"
	coopTimestamp = "2006-01-02T15:04:05.000Z"
	structurePage = 25
)

type counsellor struct {
	id       string
	epci     int // index in g.epcis
	from, to int // active month indices, inclusive
	rate     float64
	structs  []int // indices in the structures slice
}

type coopStructure struct {
	ID         string `json:"-"`
	commune    int
	deletedAt  time.Time
	Nom        string   `json:"nom"`
	Siret      string   `json:"siret"`
	Adresse    string   `json:"adresse"`
	Commune    string   `json:"commune"`
	CodePostal string   `json:"code_postal"`
	CodeInsee  string   `json:"code_insee"`
	Latitude   *float64 `json:"latitude"`
	Longitude  *float64 `json:"longitude"`
	Services   []string `json:"services"`
	Creation   string   `json:"creation"`
	Modif      string   `json:"modification"`
	Suppr      *string  `json:"suppression"`
}

// beneficiaires holds counts in the order of genres, tranches and statuts.
type beneficiaires struct {
	Total       int   `json:"total"`
	Genres      []int `json:"genres"`
	TranchesAge []int `json:"tranches_age"`
	Statuts     []int `json:"statuts"`
}

type activite struct {
	Type                   string        `json:"type"`
	MediateurID            string        `json:"mediateur_id"`
	UserID                 string        `json:"user_id"`
	Accompagnements        int           `json:"accompagnements"`
	Date                   string        `json:"date"`
	Duree                  int           `json:"duree"`
	TypeLieu               string        `json:"type_lieu"`
	StructureID            *string       `json:"structure_id"`
	LieuCodePostal         *string       `json:"lieu_code_postal"`
	LieuCommune            *string       `json:"lieu_commune"`
	LieuCodeInsee          *string       `json:"lieu_code_insee"`
	Creation               string        `json:"creation"`
	Modification           string        `json:"modification"`
	Suppression            *string       `json:"suppression"`
	Autonomie              *string       `json:"autonomie"`
	OrienteVersStructure   *bool         `json:"oriente_vers_structure"`
	StructureDeRedirection *string       `json:"structure_de_redirection"`
	Materiel               []string      `json:"materiel"`
	Thematiques            []string      `json:"thematiques"`
	Tags                   []string      `json:"tags"`
	PrecisionsDemarche     *string       `json:"precisions_demarche"`
	TitreAtelier           *string       `json:"titre_atelier"`
	NiveauAtelier          *string       `json:"niveau_atelier"`
	Beneficiaires          beneficiaires `json:"beneficiaires"`
}

type resource struct {
	Type          string `json:"type"`
	ID            string `json:"id"`
	Attributes    any    `json:"attributes"`
	Relationships any    `json:"relationships,omitempty"`
	sortKey       string
	invalid       bool
}

func str(s string) *string { return &s }

var (
	structureKinds = []struct{ prefix, service string }{
		{"France Services", "Aide aux démarches administratives"},
		{"Médiathèque", "Maîtrise des outils numériques du quotidien"},
		{"Espace numérique", "Accès internet et matériel informatique"},
		{"Centre social", "Maîtrise des outils numériques du quotidien"},
		{"Mairie", "Aide aux démarches administratives"},
		{"CCAS", "Aide aux démarches administratives"},
	}
	themesIndividuel = []string{"email", "securite_numerique", "smartphone", "navigation_internet", "sante", "emploi",
		"scolarite", "prendre_en_main_du_materiel", "transports_mobilite", "reseaux_sociaux", "banque_et_achats_en_ligne",
		"diagnostic_numerique", "gestion_des_fichiers"}
	themesDemarche = []string{"aide_aux_demarches_administratives", "argent_impots", "social_sante", "logement",
		"papiers_elections_citoyennete", "travail_formation", "famille_scolarite"}
	precisions = []string{"déclaration de revenus en ligne", "demande de carte grise", "dossier de retraite",
		"attestation CAF", "compte Ameli", "inscription France Travail", "demande de logement social", "prime d'activité"}
	ateliers = []string{"Sécuriser sa messagerie", "Prendre en main son smartphone", "Les démarches en ligne",
		"Reconnaître les arnaques", "Visioconférence en famille", "Ranger ses photos", "Découvrir l'ordinateur"}
	materiels  = []string{"ordinateur", "telephone", "tablette", "autre", "aucun"}
	autonomies = []string{"entierement_accompagne", "partiellement_autonome", "autonome"}
	niveaux    = []string{"debutant", "intermediaire", "avance"}
	genres     = []string{"feminin", "masculin", "non_communique"}
	genresW    = []float64{0.58, 0.38, 0.04}
	tranches   = []string{"moins_de_douze", "douze_dix_huit", "dix_huit_vingt_quatre", "vingt_cinq_trente_neuf",
		"quarante_cinquante_neuf", "soixante_soixante_neuf", "soixante_dix_plus", "non_communique"}
	tranchesW = []float64{0.01, 0.03, 0.05, 0.13, 0.24, 0.25, 0.24, 0.05}
	statuts   = []string{"scolarise", "sans_emploi", "en_emploi", "retraite", "non_communique"}
	statutsW  = []float64{0.05, 0.16, 0.2, 0.5, 0.09}
	// season scales activity by calendar month (January first): summer and Christmas are quiet.
	season = []float64{0.95, 1.0, 1.05, 1.0, 0.95, 1.0, 0.8, 0.45, 1.1, 1.1, 1.05, 0.8}
)

// split draws how n people fall into categories of weights w.
func split(r *rand.Rand, n int, w []float64) []int {
	out := make([]int, len(w))
	for i := 0; i < n; i++ {
		out[weighted(r, w)]++
	}
	return out
}

// pickCommune draws a commune of an EPCI, weighted by population^pow × density.
func (g *gen) pickCommune(r *rand.Rand, e int, pow float64) int {
	cs := g.epcis[e].communes
	key := weightKey{e, pow}
	w, ok := g.weights[key]
	if !ok {
		w = make([]float64, len(cs))
		for i, ci := range cs {
			w[i] = math.Pow(float64(g.ref.Communes[ci].Population)+1, pow) * g.factor[ci]
		}
		g.weights[key] = w
	}
	return cs[weighted(r, w)]
}

type weightKey struct {
	epci int
	pow  float64
}

// allocate shares n among the EPCI in proportion to population × density (largest remainders).
func (g *gen) allocate(n int) []int {
	w := make([]float64, len(g.epcis))
	var total float64
	for i, e := range g.epcis {
		w[i] = e.pop * e.factor
		total += w[i]
	}
	out := make([]int, len(w))
	type rem struct {
		i int
		r float64
	}
	rems := make([]rem, len(w))
	given := 0
	for i := range w {
		q := float64(n) * w[i] / total
		out[i] = int(q)
		given += out[i]
		rems[i] = rem{i, q - float64(out[i])}
	}
	sort.SliceStable(rems, func(a, b int) bool { return rems[a].r > rems[b].r })
	for k := 0; given < n; k++ {
		out[rems[k%len(rems)].i]++
		given++
	}
	return out
}

// coop writes the Coop structures and activities.
func (g *gen) coop() error {
	r := g.rng(1)
	alloc := g.allocate(g.posts)
	var cs []counsellor
	var structs []coopStructure
	last := len(g.months) - 1
	for e, n := range alloc {
		for k := 0; k < n; k++ {
			c := counsellor{id: uuid(r), epci: e, from: 0, to: last, rate: 0.75 + 0.5*r.Float64()}
			for s, ns := 0, 2+r.IntN(2); s < ns; s++ {
				ci := g.pickCommune(r, e, 0.9)
				com := g.ref.Communes[ci]
				kind := structureKinds[r.IntN(len(structureKinds))]
				created := g.first.AddDate(0, -6-r.IntN(30), r.IntN(28))
				st := coopStructure{ID: uuid(r), commune: ci, Nom: kind.prefix + " de " + com.Nom, Siret: digits(r, 14),
					Adresse: fmt.Sprintf("%d place de la Mairie", 1+r.IntN(30)), Commune: com.Nom, CodePostal: postcode(com.Code),
					CodeInsee: com.Code, Services: []string{kind.service, "Accompagnement individuel"}, Creation: created.Format(coopTimestamp)}
				st.Latitude, st.Longitude = position(r, com)
				st.Modif = created.AddDate(0, r.IntN(6), 0).Format(coopTimestamp)
				c.structs = append(c.structs, len(structs))
				structs = append(structs, st)
			}
			cs = append(cs, c)
		}
	}
	// One counsellor arrives in month 4; another leaves after month 17 and is replaced from month 20
	// (a new account, so a new mediateur_id, reusing the same structures).
	if len(cs) >= 4 {
		cs[len(cs)-1].from = 4
		leaving := &cs[1]
		leaving.to = min(17, last)
		repl := counsellor{id: uuid(r), epci: leaving.epci, from: min(20, last), to: last, rate: 0.7, structs: leaving.structs}
		cs = append(cs, repl)
		// The leaving counsellor's first structure closes while nobody works there: it stays in the
		// Coop as deleted and must still locate its past activities.
		st := &structs[leaving.structs[0]]
		st.deletedAt = g.months[min(18, last)].AddDate(0, 0, 9).Add(10 * time.Hour)
		st.Modif = st.deletedAt.Format(coopTimestamp)
		st.Suppr = str(st.Modif)
	}

	var acts []resource
	for mi, m := range g.months {
		days := m.AddDate(0, 1, -1).Day()
		growth := 1 + 0.012*float64(mi)
		for ci := range cs {
			c := &cs[ci]
			if mi < c.from || mi > c.to {
				continue
			}
			// In August one counsellor (a different one each year) takes the whole month off.
			if m.Month() == time.August && ci == (m.Year()%len(cs)) {
				continue
			}
			n := poisson(r, 60*season[m.Month()-1]*growth*c.rate*g.scale)
			for k := 0; k < n; k++ {
				day := 1 + r.IntN(days)
				date := withinMonth(time.Date(m.Year(), m.Month(), day, 0, 0, 0, 0, time.UTC), time.Sunday)
				acts = append(acts, g.activity(r, c, structs, date))
			}
		}
	}
	// Planted invalid records: an impossible date and an unknown activity type.
	if len(acts) > 2 {
		bad := acts[len(acts)/3]
		a := *bad.Attributes.(*activite)
		a.Date = fmt.Sprintf("%d-02-30", g.months[len(g.months)/2].Year())
		acts = append(acts, resource{Type: "activite", ID: uuid(r), Attributes: &a, sortKey: a.Modification + "~1", invalid: true})
		bad = acts[2*len(acts)/3]
		b := *bad.Attributes.(*activite)
		b.Type = "atelier_libre"
		acts = append(acts, resource{Type: "activite", ID: uuid(r), Attributes: &b, sortKey: b.Modification + "~2", invalid: true})
	}
	sort.SliceStable(acts, func(i, j int) bool {
		if acts[i].sortKey != acts[j].sortKey {
			return acts[i].sortKey < acts[j].sortKey
		}
		return acts[i].ID < acts[j].ID
	})

	var sres []resource
	for i := range structs {
		st := structs[i]
		sres = append(sres, resource{Type: "structure", ID: st.ID, Attributes: &structs[i]})
	}
	sort.SliceStable(sres, func(i, j int) bool { return sres[i].ID < sres[j].ID })
	if err := g.writePages("structures", sres, structurePage); err != nil {
		return err
	}
	return g.writePages("activites", acts, ActivityPage)
}

func (g *gen) activity(r *rand.Rand, c *counsellor, structs []coopStructure, date time.Time) resource {
	a := &activite{MediateurID: c.id, UserID: c.id, Date: date.Format("2006-01-02"), Materiel: []string{}, Tags: []string{}}
	switch x := r.Float64(); {
	case x < 0.62:
		a.Type, a.Accompagnements, a.Duree = "individuel", 1, 15*(1+r.IntN(6))
	case x < 0.84:
		a.Type, a.Accompagnements, a.Duree = "demarche_administrative", 1, 15*(1+r.IntN(4))
	default:
		a.Type, a.Accompagnements, a.Duree = "collectif", 3+r.IntN(10), 60+30*r.IntN(4)
	}
	switch a.Type {
	case "collectif":
		a.TitreAtelier = str(ateliers[r.IntN(len(ateliers))])
		a.NiveauAtelier = str(niveaux[weighted(r, []float64{0.6, 0.3, 0.1})])
		a.Thematiques = []string{themesIndividuel[r.IntN(len(themesIndividuel))]}
		a.Materiel = []string{materiels[r.IntN(3)]}
		if r.IntN(5) == 0 {
			a.Tags = []string{"atelier seniors"}
		}
	case "demarche_administrative":
		a.Thematiques = []string{themesDemarche[r.IntN(len(themesDemarche))]}
		if r.IntN(3) == 0 {
			a.Thematiques = append(a.Thematiques, themesDemarche[r.IntN(len(themesDemarche))])
		}
		a.PrecisionsDemarche = str(precisions[r.IntN(len(precisions))])
		a.Autonomie = str(autonomies[weighted(r, []float64{0.5, 0.35, 0.15})])
		a.Materiel = []string{materiels[r.IntN(len(materiels))]}
	default:
		a.Thematiques = []string{themesIndividuel[r.IntN(len(themesIndividuel))]}
		if r.IntN(2) == 0 {
			a.Thematiques = append(a.Thematiques, themesIndividuel[r.IntN(len(themesIndividuel))])
		}
		a.Autonomie = str(autonomies[weighted(r, []float64{0.3, 0.5, 0.2})])
		a.Materiel = []string{materiels[r.IntN(len(materiels))]}
	}
	if len(a.Thematiques) == 2 && a.Thematiques[0] == a.Thematiques[1] {
		a.Thematiques = a.Thematiques[:1]
	}
	if a.Type != "collectif" {
		o := r.IntN(8) == 0
		a.OrienteVersStructure = &o
	}
	// Where: mostly at one of the counsellor's structures (open on that date), else at home, remotely
	// or elsewhere in the counsellor's EPCI; a few records cannot be located or are outside the territory.
	var open []int
	for _, si := range c.structs {
		if structs[si].deletedAt.IsZero() || date.Before(structs[si].deletedAt) {
			open = append(open, si)
		}
	}
	x := r.Float64()
	switch {
	case x < 0.003:
		a.TypeLieu, a.StructureID = "lieu_activite", str(uuid(r)) // structure unknown to the Coop export
	case x < 0.007:
		code := g.outsideCode()
		a.TypeLieu, a.LieuCodeInsee, a.LieuCodePostal, a.LieuCommune = "domicile", str(code), str(postcode(code)), str("Commune hors territoire")
	case x < 0.70 && len(open) > 0:
		a.TypeLieu, a.StructureID = "lieu_activite", str(structs[open[r.IntN(len(open))]].ID)
	default:
		a.TypeLieu = []string{"domicile", "a_distance", "autre"}[weighted(r, []float64{0.35, 0.4, 0.25})]
		com := g.ref.Communes[g.pickCommune(r, c.epci, 0.7)]
		a.LieuCodeInsee, a.LieuCodePostal, a.LieuCommune = str(com.Code), str(postcode(com.Code)), str(com.Nom)
	}
	a.Beneficiaires = beneficiaires{Total: a.Accompagnements, Genres: split(r, a.Accompagnements, genresW),
		TranchesAge: split(r, a.Accompagnements, tranchesW), Statuts: split(r, a.Accompagnements, statutsW)}

	created := date.Add(time.Duration(9*3600+r.IntN(9*3600)) * time.Second)
	if r.IntN(5) == 0 {
		created = created.AddDate(0, 0, 1+r.IntN(3)) // entered a few days later
	}
	created = minTime(created, g.endTS)
	modified := created
	switch x := r.Float64(); {
	case x < 0.015:
		modified = minTime(created.Add(time.Duration(1+r.IntN(10*24))*time.Hour), g.endTS)
		a.Suppression = str(modified.Format(coopTimestamp))
	case x < 0.075:
		modified = minTime(created.Add(time.Duration(1+r.IntN(20*24))*time.Hour), g.endTS)
		a.Duree += 15
	}
	a.Creation, a.Modification = created.Format(coopTimestamp), modified.Format(coopTimestamp)
	return resource{Type: "activite", ID: uuid(r), Attributes: a, sortKey: a.Modification,
		Relationships: map[string]any{"mediateur": map[string]any{"data": map[string]string{"type": "mediateur", "id": c.id}}}}
}

func minTime(a, b time.Time) time.Time {
	if a.After(b) {
		return b
	}
	return a
}

type href struct {
	Href string `json:"href"`
}

// writePages writes res as JSON:API pages of size items, linked by links.next like the API.
func (g *gen) writePages(resource string, res []resource, size int) error {
	pages := (len(res) + size - 1) / size
	for p := 0; p < pages; p++ {
		chunk := res[p*size : min(len(res), (p+1)*size)]
		var buf bytes.Buffer
		buf.WriteString("{\"data\": [\n")
		invalid := 0
		var b []byte
		for i, rs := range chunk {
			if _, ok := rs.Attributes.(*activite); ok {
				b = appendActivity(b[:0], rs)
			} else {
				var err error
				if b, err = json.Marshal(rs); err != nil {
					return err
				}
			}
			buf.Write(b)
			if i < len(chunk)-1 {
				buf.WriteString(",")
			}
			buf.WriteString("\n")
			if rs.invalid {
				invalid++
			}
		}
		self := fmt.Sprintf("%s%s?page%%5Bsize%%5D=%d", coopBase, resource, size)
		if p > 0 {
			self += "&page%5Bafter%5D=" + cursor(res[p*size-1])
		}
		links := map[string]href{"self": {self}}
		if p < pages-1 {
			links["next"] = href{fmt.Sprintf("%s%s?page%%5Bsize%%5D=%d&page%%5Bafter%%5D=%s", coopBase, resource, size, cursor(chunk[len(chunk)-1]))}
		}
		meta := map[string]any{"total_count": len(res), "items_per_page": size, "total_pages": pages,
			"has_next_page": p < pages-1, "has_prev_page": p > 0}
		lb, _ := json.Marshal(links)
		mb, _ := json.Marshal(meta)
		fmt.Fprintf(&buf, "], \"links\": %s, \"meta\": %s}\n", lb, mb)
		name := fmt.Sprintf("%s-%03d.json", resource, p+1)
		path := g.add(resource, name, len(chunk)-invalid, invalid)
		if err := os.WriteFile(path, buf.Bytes(), 0o644); err != nil {
			return fmt.Errorf("écriture de %s : %w", name, err)
		}
	}
	return nil
}

// cursor is an opaque page[after] cursor, like the API's (base64 of the last key, here its id).
func cursor(r resource) string {
	return fmt.Sprintf("%x", []byte(r.ID))[:24]
}
