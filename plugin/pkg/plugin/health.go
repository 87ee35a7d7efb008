package plugin

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"time"

	"github.com/grafana/grafana-plugin-sdk-go/backend"
)

// healthDetails is CheckHealth's JSONDetails: what was verified, for support.
type healthDetails struct {
	Addr          string   `json:"addr"`
	Database      string   `json:"database"`
	SchemaVersion int      `json:"schemaVersion"`
	SchemaLatest  int      `json:"schemaLatest"`
	Communes      int      `json:"communes"`
	EPCI          int      `json:"epci"`
	Scope         string   `json:"scope"`
	Warnings      []string `json:"warnings"`
	// VerboseMessage is shown by Grafana under "More details".
	VerboseMessage string `json:"verboseMessage,omitempty"`
}

// CheckHealth verifies, in order, the connection, the schema version, the territory reference (and the
// scope inside it) and the freshness of every source. A stale source or a failed last run does not make
// the datasource unusable: it stays OK with an actionable warning in the message.
func (d *Datasource) CheckHealth(ctx context.Context, _ *backend.CheckHealthRequest) (*backend.CheckHealthResult, error) {
	cfg := d.settings.StoreConfig()
	det := healthDetails{Addr: cfg.Addr, Database: cfg.Database, Scope: d.settings.Scope, Warnings: []string{}}
	fail := func(msg string) (*backend.CheckHealthResult, error) {
		b, _ := json.Marshal(det)
		return &backend.CheckHealthResult{Status: backend.HealthStatusError, Message: msg, JSONDetails: b}, nil
	}
	sess, err := d.connect(ctx)
	if err != nil {
		return fail(fmt.Sprintf("Connexion impossible à ClickHouse %s (base %s) : %v. Vérifiez l'hôte, le port natif (9000, ou 9440 en TLS), l'utilisateur et le mot de passe.", cfg.Addr, cfg.Database, err))
	}
	ctx, cancel := d.withTimeout(ctx)
	defer cancel()
	if sess.Schema != nil {
		cur, latest, err := sess.Schema(ctx)
		det.SchemaVersion, det.SchemaLatest = cur, latest
		switch {
		case err != nil:
			return fail(fmt.Sprintf("Schéma de la base %s illisible ou incompatible : %v. Lancez « fne migrate » avec la même version que ce plugin.", cfg.Database, err))
		case cur == 0:
			return fail(fmt.Sprintf("La base %s n'a pas de schéma FNE. Lancez « fne migrate » puis « fne reference ».", cfg.Database))
		case cur < latest:
			return fail(fmt.Sprintf("Schéma de la base %s en version %d, ce plugin attend la version %d. Lancez « fne migrate ».", cfg.Database, cur, latest))
		}
	}
	ref, err := sess.Engine.Reference(ctx)
	if err != nil {
		return fail(fmt.Sprintf("Référentiel des territoires illisible : %v.", err))
	}
	if ref == nil || len(ref.Communes) == 0 {
		return fail("Aucun référentiel de territoires chargé. Lancez « fne reference ».")
	}
	det.Communes, det.EPCI = len(ref.Communes), len(ref.EPCIs)
	sc := scoped{ref: ref, scope: d.settings.ScopeID()}
	root, err := sc.check(sc.root())
	if err != nil {
		return fail(fmt.Sprintf("Périmètre %q inutilisable : %v. Corrigez le champ « Périmètre » de la source de données.", d.settings.Scope, err))
	}
	fs, err := sess.Engine.Freshness(ctx, d.now())
	if err != nil {
		return fail(fmt.Sprintf("Lecture de l'état des collectes impossible : %v.", err))
	}
	var never []string
	for _, f := range fs {
		switch {
		case f.LastRun == nil:
			never = append(never, f.Source)
		case f.LastStatus == "echec":
			det.Warnings = append(det.Warnings, fmt.Sprintf("la dernière collecte de « %s » a échoué le %s : consultez les journaux de « fne run » et le tableau de bord « Collecte des données »", f.Source, frDate(*f.LastRun)))
		case f.Stale:
			since := "jamais réussie"
			if f.LastSuccess != nil {
				since = "pas de succès depuis le " + frDate(*f.LastSuccess)
			}
			det.Warnings = append(det.Warnings, fmt.Sprintf("la source « %s » n'est plus à jour (%s) : vérifiez que « fne run » tourne et que la source répond", f.Source, since))
		}
	}
	switch len(never) {
	case 0:
	case 1:
		det.Warnings = append(det.Warnings, fmt.Sprintf("la source « %s » n'a jamais été collectée : importez-la (« fne ingest %s <fichier> ») ou activez-la dans la configuration de « fne run »", never[0], never[0]))
	default:
		det.Warnings = append(det.Warnings, fmt.Sprintf("les sources %s n'ont jamais été collectées : importez-les (« fne ingest <source> <fichier> ») ou activez-les dans la configuration de « fne run »", strings.Join(never, ", ")))
	}
	scope := "tout le département"
	if d.settings.ScopeID() != nil {
		scope = root.Name + " (" + root.ID.String() + ")"
	}
	msg := fmt.Sprintf("Connexion à ClickHouse %s réussie : base %s, schéma en version %d, référentiel %s de %d communes et %d EPCI, périmètre : %s.",
		cfg.Addr, cfg.Database, det.SchemaVersion, ref.DepartementNom, det.Communes, det.EPCI, scope)
	if len(det.Warnings) > 0 {
		msg += " Attention : " + strings.Join(det.Warnings, " ; ") + "."
		det.VerboseMessage = "Points à vérifier :\n- " + strings.Join(det.Warnings, "\n- ")
	}
	b, _ := json.Marshal(det)
	return &backend.CheckHealthResult{Status: backend.HealthStatusOk, Message: msg, JSONDetails: b}, nil
}

func frDate(t time.Time) string { return t.UTC().Format("02/01/2006 à 15:04 UTC") }
