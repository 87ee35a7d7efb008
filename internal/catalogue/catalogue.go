// Package catalogue reads the declarative indicator catalogue (schemas/indicators/catalogue.yaml, DESIGN
// §3): what each indicator is, its French label and method, and its default target. Deployments change
// targets, deadlines and baselines with an override file instead of code; the engine (internal/engine)
// is the only consumer that turns an entry into numbers.
package catalogue

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"regexp"
	"strings"

	"gopkg.in/yaml.v3"

	"github.com/sdaasp-rhone/fne/internal/territory"
	"github.com/sdaasp-rhone/fne/schemas"
)

// Directions of a target.
const (
	AuMoins = "au_moins" // the value must reach the target or more
	AuPlus  = "au_plus"  // the value must stay at or below the target
	Hausse  = "hausse"   // the value must rise compared with the same month a year before
)

// Windows: which months an evaluation for month M covers.
const (
	WindowMois      = "mois"      // M
	WindowAnnee     = "annee"     // 1 January of M's year .. end of M
	Window12Mois    = "12_mois"   // the 12 months ending with M
	WindowTrimestre = "trimestre" // M and the 2 months before
	WindowCourant   = "courant"   // current state at the end of M (stocks, places, milestones)
)

// Origins of a target.
const (
	TargetFeuilleDeRoute = "feuille_de_route" // written in the roadmap
	TargetCopil          = "copil"            // default value, set by the COPIL
)

// Indicator is one catalogue entry.
type Indicator struct {
	ID         string            `yaml:"id"`
	Axis       int               `yaml:"axis"`
	Action     string            `yaml:"action"`
	Label      string            `yaml:"label"`
	Definition string            `yaml:"definition"`
	Unit       string            `yaml:"unit"`
	Source     string            `yaml:"source"`
	Levels     []territory.Level `yaml:"levels"`
	// Target is nil for context indicators and for "hausse" ones (their reference is the value a year
	// before). TargetLevels restricts the levels where the target applies (empty: all of Levels);
	// TargetOf makes the target Target % of another indicator's value (a3.fiches_a_jour: all places).
	Target         *float64          `yaml:"target"`
	TargetLevels   []territory.Level `yaml:"target_levels"`
	TargetOf       string            `yaml:"target_of"`
	Deadline       string            `yaml:"deadline"` // YYYY-MM
	Direction      string            `yaml:"direction"`
	Baseline       *float64          `yaml:"baseline"`
	BaselinePeriod string            `yaml:"baseline_period"` // YYYY-MM
	Window         string            `yaml:"window"`
	Compute        string            `yaml:"compute"`
	// TargetOrigin says who set the target: TargetFeuilleDeRoute (a commitment written in the roadmap
	// itself) or TargetCopil (a default the steering committee sets and deployments override).
	TargetOrigin string `yaml:"target_origin"`
	// Parameters of the computation.
	Inputs     []string `yaml:"inputs"`      // meeting types, equipment indicators, milestone action
	MinCount   int      `yaml:"min_count"`   // per-EPCI / per-commune threshold of count computations
	Of         string   `yaml:"of"`          // per-capita: the indicator divided by the population
	Per        float64  `yaml:"per"`         // per-capita scale (1000, 10000)
	DistanceKM float64  `yaml:"distance_km"` // zone_blanche threshold (strict)
	Days       int      `yaml:"days"`        // fiches_a_jour freshness
}

// HasLevel reports whether the indicator applies to territories of level l.
func (i Indicator) HasLevel(l territory.Level) bool { return hasLevel(i.Levels, l) }

// TargetAt is the target for a territory of level l: nil when the indicator has none there.
func (i Indicator) TargetAt(l territory.Level) *float64 {
	if i.Target == nil || (len(i.TargetLevels) > 0 && !hasLevel(i.TargetLevels, l)) {
		return nil
	}
	v := *i.Target
	return &v
}

// IsContext reports a context indicator (no target, no status but sans_cible).
func (i Indicator) IsContext() bool { return i.Axis == 0 }

func hasLevel(ls []territory.Level, l territory.Level) bool {
	for _, x := range ls {
		if x == l {
			return true
		}
	}
	return false
}

// Catalogue is the ordered list of indicators (axis then action, as in the catalogue).
type Catalogue struct {
	Indicators []Indicator
}

// ErrInvalid wraps every catalogue or override problem.
var ErrInvalid = errors.New("catalogue d'indicateurs invalide")

type file struct {
	Indicators []Indicator `yaml:"indicators"`
	Overrides  []Override  `yaml:"overrides"`
}

// Override changes the target settings of one indicator; absent fields keep the catalogue value. An
// explicit `target: null` removes the target.
type Override struct {
	ID             string   `yaml:"id"`
	Target         *float64 `yaml:"target"`
	Deadline       *string  `yaml:"deadline"`
	Direction      *string  `yaml:"direction"`
	Baseline       *float64 `yaml:"baseline"`
	BaselinePeriod *string  `yaml:"baseline_period"`
	TargetOrigin   *string  `yaml:"target_origin"`

	targetSet, baselineSet bool
}

// UnmarshalYAML records which keys were present, so that `target: null` differs from no target key.
func (o *Override) UnmarshalYAML(n *yaml.Node) error {
	type plain Override
	var p plain
	if err := n.Decode(&p); err != nil {
		return err
	}
	*o = Override(p)
	for i := 0; i+1 < len(n.Content); i += 2 {
		switch n.Content[i].Value {
		case "target":
			o.targetSet = true
		case "baseline":
			o.baselineSet = true
		case "id", "deadline", "direction", "baseline_period", "target_origin":
		default:
			return fmt.Errorf("ligne %d : clé %q inconnue dans une surcharge (id, target, target_origin, deadline, direction, baseline, baseline_period)", n.Content[i].Line, n.Content[i].Value)
		}
	}
	return nil
}

// Load reads the embedded default catalogue.
func Load() (*Catalogue, error) {
	b, err := schemas.Indicators.ReadFile("indicators/catalogue.yaml")
	if err != nil {
		return nil, fmt.Errorf("%w : %v", ErrInvalid, err)
	}
	f, err := decode(b)
	if err != nil {
		return nil, err
	}
	c := &Catalogue{Indicators: f.Indicators}
	if err := c.validate(); err != nil {
		return nil, err
	}
	return c.apply(f.Overrides)
}

// LoadFile reads a deployment file: either a complete catalogue (`indicators:`, optionally with
// `overrides:`) or only `overrides:` applied to the embedded default.
func LoadFile(path string) (*Catalogue, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("%w : lecture de %s : %v", ErrInvalid, path, err)
	}
	f, err := decode(b)
	if err != nil {
		return nil, fmt.Errorf("%s : %w", path, err)
	}
	var c *Catalogue
	if len(f.Indicators) > 0 {
		c = &Catalogue{Indicators: f.Indicators}
		if err := c.validate(); err != nil {
			return nil, fmt.Errorf("%s : %w", path, err)
		}
	} else if c, err = Load(); err != nil {
		return nil, err
	}
	c, err = c.apply(f.Overrides)
	if err != nil {
		return nil, fmt.Errorf("%s : %w", path, err)
	}
	return c, nil
}

// WithOverrides returns a copy of c with the overrides of the file at path (its `overrides:` list).
func (c *Catalogue) WithOverrides(path string) (*Catalogue, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("%w : lecture de %s : %v", ErrInvalid, path, err)
	}
	f, err := decode(b)
	if err != nil {
		return nil, fmt.Errorf("%s : %w", path, err)
	}
	out, err := c.apply(f.Overrides)
	if err != nil {
		return nil, fmt.Errorf("%s : %w", path, err)
	}
	return out, nil
}

// Get returns the indicator with that id.
func (c *Catalogue) Get(id string) (Indicator, bool) {
	for _, i := range c.Indicators {
		if i.ID == id {
			return i, true
		}
	}
	return Indicator{}, false
}

// IDs lists the ids in catalogue order.
func (c *Catalogue) IDs() []string {
	out := make([]string, len(c.Indicators))
	for k, i := range c.Indicators {
		out[k] = i.ID
	}
	return out
}

func decode(b []byte) (*file, error) {
	var f file
	dec := yaml.NewDecoder(bytes.NewReader(b))
	dec.KnownFields(true)
	if err := dec.Decode(&f); err != nil {
		return nil, fmt.Errorf("%w : %v", ErrInvalid, err)
	}
	return &f, nil
}

func (c *Catalogue) apply(ovs []Override) (*Catalogue, error) {
	out := &Catalogue{Indicators: append([]Indicator(nil), c.Indicators...)}
	for _, o := range ovs {
		k := -1
		for j, i := range out.Indicators {
			if i.ID == o.ID {
				k = j
			}
		}
		if k < 0 {
			return nil, fmt.Errorf("%w : surcharge d'un indicateur inconnu %q", ErrInvalid, o.ID)
		}
		i := &out.Indicators[k]
		if o.targetSet {
			i.Target = o.Target
			// A changed number is no longer the roadmap's words unless the deployment says it is (its own
			// roadmap): it becomes a COPIL default.
			if i.Target != nil {
				i.TargetOrigin = TargetCopil
			}
		}
		if o.TargetOrigin != nil {
			i.TargetOrigin = *o.TargetOrigin
		}
		if o.baselineSet {
			i.Baseline = o.Baseline
		}
		if o.Deadline != nil {
			i.Deadline = *o.Deadline
		}
		if o.Direction != nil {
			i.Direction = *o.Direction
		}
		if o.BaselinePeriod != nil {
			i.BaselinePeriod = *o.BaselinePeriod
		}
	}
	if err := out.validate(); err != nil {
		return nil, err
	}
	return out, nil
}

var (
	idRe    = regexp.MustCompile(`^(a[1-9]|ctx)\.[a-z0-9_]+$`)
	monthRe = regexp.MustCompile(`^\d{4}-(0[1-9]|1[0-2])$`)
)

// Computations the engine knows (kept here so that a catalogue typo fails at load, not at evaluation).
var computes = map[string]bool{
	"rencontres_nombre": true, "conseillers_actifs": true, "rencontre_tenue": true, "epci_rencontres": true,
	"diversite_structures": true, "jalons_realises": true, "accompagnements": true, "par_habitant": true,
	"equipement_flux": true, "communes_stock": true, "zone_blanche": true, "fiches_a_jour": true,
	"consultations": true, "relais_informes": true, "relais_connaissent_offre": true, "lieux": true,
}

func (c *Catalogue) validate() error {
	seen := map[string]bool{}
	for _, i := range c.Indicators {
		bad := func(format string, args ...any) error {
			return fmt.Errorf("%w : indicateur %q : %s", ErrInvalid, i.ID, fmt.Sprintf(format, args...))
		}
		if !idRe.MatchString(i.ID) {
			return bad("identifiant mal formé (attendu a1.nom, a2.nom, a3.nom ou ctx.nom)")
		}
		if seen[i.ID] {
			return bad("identifiant en double")
		}
		seen[i.ID] = true
		if i.Axis < 0 || i.Axis > 9 {
			return bad("axe %d hors bornes", i.Axis)
		}
		if strings.TrimSpace(i.Label) == "" || strings.TrimSpace(i.Definition) == "" || i.Unit == "" {
			return bad("libellé, définition et unité sont obligatoires")
		}
		if len(i.Levels) == 0 {
			return bad("aucun niveau de territoire")
		}
		for _, l := range append(append([]territory.Level(nil), i.Levels...), i.TargetLevels...) {
			if l != territory.LevelDep && l != territory.LevelEPCI && l != territory.LevelCommune {
				return bad("niveau %q inconnu (dep, epci, com)", l)
			}
		}
		switch i.Direction {
		case "", AuMoins, AuPlus, Hausse:
		default:
			return bad("sens %q inconnu (au_moins, au_plus ou hausse)", i.Direction)
		}
		if i.Target != nil && i.Direction == "" {
			return bad("une cible demande un sens (au_moins ou au_plus)")
		}
		if i.IsContext() && (i.Target != nil || i.Direction != "" || i.TargetOrigin != "") {
			return bad("un indicateur de contexte n'a pas de cible (ni target, ni direction, ni target_origin)")
		}
		// Every target (a fixed number or a "hausse" reference) says whether the roadmap commits to it or
		// the COPIL chose it: the dashboards show the difference.
		if !i.IsContext() {
			switch i.TargetOrigin {
			case TargetFeuilleDeRoute, TargetCopil:
			case "":
				return bad("origine de la cible manquante (target_origin : feuille_de_route ou copil)")
			default:
				return bad("origine de la cible %q inconnue (feuille_de_route ou copil)", i.TargetOrigin)
			}
		}
		if i.Deadline != "" && !monthRe.MatchString(i.Deadline) {
			return bad("échéance %q invalide (AAAA-MM)", i.Deadline)
		}
		if i.BaselinePeriod != "" && !monthRe.MatchString(i.BaselinePeriod) {
			return bad("période de référence %q invalide (AAAA-MM)", i.BaselinePeriod)
		}
		switch i.Window {
		case WindowMois, WindowAnnee, Window12Mois, WindowTrimestre, WindowCourant:
		default:
			return bad("fenêtre %q inconnue", i.Window)
		}
		if !computes[i.Compute] {
			return bad("calcul %q inconnu", i.Compute)
		}
		if i.Compute == "par_habitant" && (i.Of == "" || i.Per <= 0) {
			return bad("un calcul par habitant demande of et per")
		}
	}
	for _, i := range c.Indicators {
		for _, ref := range []string{i.Of, i.TargetOf} {
			if ref != "" && !seen[ref] {
				return fmt.Errorf("%w : indicateur %q : renvoie à l'indicateur inconnu %q", ErrInvalid, i.ID, ref)
			}
		}
	}
	return nil
}
