package sources

import (
	"context"
	"fmt"
	"strings"

	"github.com/sdaasp-rhone/fne/collector/ingest"
	"github.com/sdaasp-rhone/fne/internal/territory"
)

// Equipment indicators of docs/regles.md « Sources »: stocks (value at the end of the period) then flows.
var (
	EquipementStocks = []string{"hotspots_wifi_actifs", "pc_libre_acces", "points_acces_mobiles", "structures_reconditionnement_actives"}
	EquipementFlows  = []string{"pc_reconditionnes_distribues", "pc_dons", "pc_ventes_solidaires", "pc_locations", "pc_reparations",
		"cartes_sim_solidaires", "box_prix_coutant", "foyers_equipes", "foyers_connectes"}
)

var equipementColumns = []string{"periode", "territoire", "indicateur", "valeur"}

type equipements struct{}

// NewEquipements reads the equipment and connectivity figures (CSV or XLSX, long format, docs/regles.md « Sources »).
func NewEquipements() ingest.Collector { return equipements{} }

func (equipements) Name() string { return "equipements" }
func (equipements) Description() string {
	return "chiffres d'équipement et de connectivité (CSV ou XLSX : periode, territoire, indicateur, valeur, source, commentaire)"
}

// Collect writes one row per (periode, territoire, indicateur); a later file for the same key replaces
// the value (version = ingestion version + line).
func (c equipements) Collect(ctx context.Context, in ingest.Input, sink *ingest.Sink) error {
	w := sink.Writer("equipements", "periode", "territoire", "indicateur", "version", "deleted", "valeur", "source_donnee", "commentaire")
	return tabCollect(ctx, in, sink, c.Name(), equipementColumns, w, func(r tabRow) ([]any, string, string) {
		return parseEquipement(r, in.IngestVersion)
	})
}

func parseEquipement(r tabRow, ingestVersion uint64) ([]any, string, string) {
	periode, err := tabMonth(r.get("periode"), r.XLSX)
	if err != nil {
		return nil, "periode", err.Error()
	}
	// A figure is observed: its month may be the current one, not a later one.
	if reason := checkDate("periode", periode, observed, false, r.Now); reason != "" {
		return nil, "periode", reason
	}
	terr, err := territory.Parse(r.get("territoire"))
	if err != nil {
		return nil, "territoire", fmt.Sprintf("territoire « %s » invalide (attendu com:<code INSEE>, un code INSEE seul, epci:<SIREN> ou dep:<code>)", r.get("territoire"))
	}
	ind := r.get("indicateur")
	if !equipementKnown(ind) {
		if ind == "" {
			return nil, "indicateur", "indicateur absent"
		}
		return nil, "indicateur", fmt.Sprintf("indicateur « %s » inconnu (stocks : %s ; flux : %s)", ind,
			strings.Join(EquipementStocks, ", "), strings.Join(EquipementFlows, ", "))
	}
	raw := r.get("valeur")
	if raw == "" {
		return nil, "valeur", "valeur absente"
	}
	v, err := tabNumber(raw)
	if err != nil {
		return nil, "valeur", fmt.Sprintf("valeur « %s » invalide (nombre attendu, ex. 12 ou 3,5)", raw)
	}
	if v < 0 {
		return nil, "valeur", fmt.Sprintf("valeur « %s » négative", raw)
	}
	return []any{periode, terr.String(), ind, ingestVersion + uint64(r.Line), uint8(0), v, r.get("source"), r.get("commentaire")}, "", ""
}

func equipementKnown(ind string) bool {
	for _, l := range [][]string{EquipementStocks, EquipementFlows} {
		for _, s := range l {
			if s == ind {
				return true
			}
		}
	}
	return false
}
