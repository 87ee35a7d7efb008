package sources

import (
	"bufio"
	"fmt"
	"io"
	"time"
)

// genCommunes are real INSEE codes of the reference (Lyon 1er, Villeurbanne, Tarare, Vénissieux,
// Givors, Villefranche-sur-Saône) and one outside it (Paris), for generated activities.
var genCommunes = []struct{ insee, cp, nom string }{
	{"69381", "69001", "Lyon"}, {"69266", "69100", "Villeurbanne"}, {"69243", "69170", "Tarare"},
	{"69259", "69200", "Vénissieux"}, {"69091", "69700", "Givors"}, {"69264", "69400", "Villefranche-sur-Saône"},
	{"75056", "75001", "Paris"},
}

var genTypes = []string{"individuel", "demarche_administrative", "collectif"}
var genTypesLieu = []string{"lieu_activite", "domicile", "a_distance", "autre"}

// writeGeneratedActivities writes n deterministic activities over 640 days from 2025-01-01 as one Coop JSON:API page: record i is a
// pure function of i, so tests and the benchmark can compute what must land.
func writeGeneratedActivities(w io.Writer, n int) error {
	bw := bufio.NewWriterSize(w, 1<<20)
	base := time.Date(2025, 1, 1, 8, 0, 0, 0, time.UTC)
	fmt.Fprint(bw, `{"data":[`)
	for i := 0; i < n; i++ {
		if i > 0 {
			bw.WriteByte(',')
		}
		typ := genTypes[i%3]
		tl := genTypesLieu[i%4]
		acc := 1
		if typ == "collectif" {
			acc = 2 + i%9
		}
		// Dates advance with i, as in a real export sorted by modification: a batch then touches one or two
		// monthly partitions, not all of them.
		day := base.AddDate(0, 0, int(int64(i)*640/int64(n)))
		mod := day.Add(time.Duration(i%3600) * time.Second)
		structure, insee, cp, commune := "null", "null", "null", "null"
		if tl == "lieu_activite" {
			structure = fmt.Sprintf(`"st-%04d"`, i%200)
		} else {
			c := genCommunes[i%len(genCommunes)]
			insee, cp, commune = `"`+c.insee+`"`, `"`+c.cp+`"`, `"`+c.nom+`"`
		}
		fem := acc / 2
		fmt.Fprintf(bw, `{"type":"activite","id":"a-%08d","attributes":{"type":%q,"mediateur_id":"med-%03d","user_id":"u-%03d",`+
			`"accompagnements":%d,"date":%q,"duree":%d,"type_lieu":%q,"structure_id":%s,"lieu_code_postal":%s,"lieu_commune":%s,`+
			`"lieu_code_insee":%s,"creation":%q,"modification":%q,"suppression":null,"autonomie":"partiellement_autonome",`+
			`"oriente_vers_structure":false,"structure_de_redirection":null,"materiel":["ordinateur"],`+
			`"thematiques":["email","aide_aux_demarches_administratives"],"tags":[],"precisions_demarche":null,"titre_atelier":null,`+
			`"niveau_atelier":null,"beneficiaires":{"total":%d,"genres":{"masculin":%d,"feminin":%d,"non_communique":0},`+
			`"tranches_age":{"moins_de_douze":0,"douze_dix_huit":0,"dix_huit_vingt_quatre":0,"vingt_cinq_trente_neuf":0,"quarante_cinquante_neuf":0,"soixante_soixante_neuf":%d,"soixante_dix_plus":0,"non_communique":0},`+
			`"statuts":{"scolarise":0,"sans_emploi":0,"en_emploi":0,"retraite":%d,"non_communique":0}}},`+
			`"relationships":{"mediateur":{"data":{"type":"mediateur","id":"med-%03d"}}}}`,
			i, typ, i%40, i%40, acc, day.Format("2006-01-02"), 30+i%90, tl, structure, cp, commune, insee,
			mod.Format("2006-01-02T15:04:05.000Z"), mod.Format("2006-01-02T15:04:05.000Z"),
			acc, acc-fem, fem, acc, acc, i%40)
	}
	fmt.Fprintf(bw, `],"links":{"self":{"href":"https://coop.example/api/v1/activites"}},"meta":{"total_count":%d}}`, n)
	return bw.Flush()
}
