package daemon

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/robfig/cron/v3"
	"gopkg.in/yaml.v3"
)

// ErrConfig wraps every configuration error; messages name the file, line and field.
var ErrConfig = errors.New("configuration invalide")

// Config is the daemon's YAML configuration: which sources to collect, from where, and when. The
// ClickHouse connection is not here on purpose: it comes from flags or FNE_CLICKHOUSE_* variables, like
// every other subcommand, so that secrets stay out of a file that is often committed.
type Config struct {
	// Timezone of the cron schedules (IANA name); empty means the machine's local time.
	Timezone string
	Location *time.Location
	// RunAtStart runs every source once when the daemon starts (default true), unless the entry says
	// otherwise.
	RunAtStart bool
	Sources    []SourceConfig
	Reports    []ReportConfig // monthly review packs (report.go)
}

// SourceConfig is one entry of `sources:`: one scheduled job.
type SourceConfig struct {
	Source   string
	Location string
	// Exactly one of Schedule (5-field cron) and Every is set.
	Schedule string
	Every    time.Duration
	// RunAtStart, resolved from the entry or the global default.
	RunAtStart bool
	// StaleAfter is how long without a successful run before /healthz reports the source stale; zero
	// means three scheduling periods.
	StaleAfter time.Duration
	Options    map[string]string
	// Line of the entry in the file, for messages.
	Line int
}

// Period is the nominal interval between two runs: Every, or the gap between the next two cron
// activations after now.
func (s SourceConfig) Period(now time.Time, loc *time.Location) time.Duration {
	if s.Every > 0 {
		return s.Every
	}
	sched, err := parseCron(s.Schedule)
	if err != nil {
		return 0
	}
	if loc != nil {
		now = now.In(loc)
	}
	a := sched.Next(now)
	return sched.Next(a).Sub(a)
}

// EffectiveStaleAfter is StaleAfter or three periods.
func (s SourceConfig) EffectiveStaleAfter(now time.Time, loc *time.Location) time.Duration {
	if s.StaleAfter > 0 {
		return s.StaleAfter
	}
	return 3 * s.Period(now, loc)
}

var cronParser = cron.NewParser(cron.Minute | cron.Hour | cron.Dom | cron.Month | cron.Dow | cron.Descriptor)

func parseCron(expr string) (cron.Schedule, error) {
	return cronParser.Parse(expr)
}

// LoadConfig reads and validates a configuration file; known lists the source names the binary has.
func LoadConfig(path string, known []string) (*Config, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("%w : lecture de %s : %v", ErrConfig, path, err)
	}
	return ParseConfig(filepath.Base(path), b, known)
}

type cfgErr struct{ file string }

func (c cfgErr) at(n *yaml.Node, field, format string, args ...any) error {
	where := c.file
	if n != nil && n.Line > 0 {
		where = fmt.Sprintf("%s, ligne %d", c.file, n.Line)
	}
	if field != "" {
		where += " (" + field + ")"
	}
	return fmt.Errorf("%w : %s : %s", ErrConfig, where, fmt.Sprintf(format, args...))
}

// ParseConfig validates data (named file in messages) and returns the configuration; every error names
// the line and the field.
func ParseConfig(file string, data []byte, known []string) (*Config, error) {
	e := cfgErr{file}
	var doc yaml.Node
	dec := yaml.NewDecoder(bytes.NewReader(data))
	if err := dec.Decode(&doc); err != nil && !errors.Is(err, io.EOF) {
		msg := strings.TrimPrefix(err.Error(), "yaml: ")
		if strings.HasPrefix(msg, "line ") {
			msg = "ligne " + strings.TrimPrefix(msg, "line ")
		}
		return nil, fmt.Errorf("%w : %s : YAML illisible (%s)", ErrConfig, file, msg)
	}
	if len(doc.Content) == 0 {
		return nil, e.at(nil, "", "fichier vide : la clé « sources » est obligatoire")
	}
	root := doc.Content[0]
	if root.Kind != yaml.MappingNode {
		return nil, e.at(root, "", "un dictionnaire est attendu à la racine (clés timezone, run_at_start, sources)")
	}
	cfg := &Config{RunAtStart: true}
	var sourcesNode *yaml.Node
	var err error
	for i := 0; i+1 < len(root.Content); i += 2 {
		k, v := root.Content[i], root.Content[i+1]
		switch k.Value {
		case "timezone":
			cfg.Timezone = v.Value
			loc, err := time.LoadLocation(v.Value)
			if err != nil || v.Kind != yaml.ScalarNode {
				return nil, e.at(v, "timezone", "fuseau horaire inconnu « %s » (ex. Europe/Paris)", v.Value)
			}
			cfg.Location = loc
		case "run_at_start":
			b, err := boolOf(v)
			if err != nil {
				return nil, e.at(v, "run_at_start", "%v", err)
			}
			cfg.RunAtStart = b
		case "sources":
			sourcesNode = v
		case "reports":
			if cfg.Reports, err = parseReports(e, v); err != nil {
				return nil, err
			}
		default:
			return nil, e.at(k, k.Value, "clé inconnue « %s » (clés admises : timezone, run_at_start, sources, reports)", k.Value)
		}
	}
	if sourcesNode == nil {
		return nil, e.at(root, "sources", "la clé « sources » est obligatoire")
	}
	if sourcesNode.Kind != yaml.SequenceNode || len(sourcesNode.Content) == 0 {
		return nil, e.at(sourcesNode, "sources", "une liste non vide de sources est attendue")
	}
	knownSet := map[string]bool{}
	for _, n := range known {
		knownSet[n] = true
	}
	seen := map[string]int{}
	for idx, item := range sourcesNode.Content {
		path := fmt.Sprintf("sources[%d]", idx+1)
		if item.Kind != yaml.MappingNode {
			return nil, e.at(item, path, "un dictionnaire est attendu (source, location, schedule ou every, options)")
		}
		sc := SourceConfig{RunAtStart: cfg.RunAtStart, Line: item.Line}
		var hasSchedule, hasEvery bool
		for i := 0; i+1 < len(item.Content); i += 2 {
			k, v := item.Content[i], item.Content[i+1]
			field := path + "." + k.Value
			if k.Value != "options" && v.Kind != yaml.ScalarNode {
				return nil, e.at(v, field, "une valeur simple est attendue")
			}
			switch k.Value {
			case "source":
				sc.Source = strings.TrimSpace(v.Value)
				if !knownSet[sc.Source] {
					return nil, e.at(v, field, "source inconnue « %s » (sources : %s)", sc.Source, strings.Join(known, ", "))
				}
			case "location":
				sc.Location = strings.TrimSpace(v.Value)
			case "schedule":
				hasSchedule = true
				sc.Schedule = strings.TrimSpace(v.Value)
				if _, err := parseCron(sc.Schedule); err != nil || sc.Schedule == "" {
					return nil, e.at(v, field, "expression cron invalide « %s » (5 champs : minute heure jour mois jour-de-semaine, ex. « */30 * * * * »)", sc.Schedule)
				}
			case "every":
				hasEvery = true
				d, err := time.ParseDuration(strings.TrimSpace(v.Value))
				if err != nil || d <= 0 {
					return nil, e.at(v, field, "durée positive attendue (ex. 15m, 1h30m), trouvé « %s »", v.Value)
				}
				sc.Every = d
			case "stale_after":
				d, err := time.ParseDuration(strings.TrimSpace(v.Value))
				if err != nil || d <= 0 {
					return nil, e.at(v, field, "durée positive attendue (ex. 2h), trouvé « %s »", v.Value)
				}
				sc.StaleAfter = d
			case "run_at_start":
				b, err := boolOf(v)
				if err != nil {
					return nil, e.at(v, field, "%v", err)
				}
				sc.RunAtStart = b
			case "options":
				if v.Kind != yaml.MappingNode {
					return nil, e.at(v, field, "un dictionnaire est attendu (ex. token_file: /chemin)")
				}
				sc.Options = map[string]string{}
				for j := 0; j+1 < len(v.Content); j += 2 {
					ok, ov := v.Content[j], v.Content[j+1]
					if ov.Kind != yaml.ScalarNode {
						return nil, e.at(ov, field+"."+ok.Value, "une valeur simple est attendue")
					}
					sc.Options[ok.Value] = ov.Value
				}
			default:
				return nil, e.at(k, field, "clé inconnue « %s » (clés admises : source, location, schedule, every, run_at_start, stale_after, options)", k.Value)
			}
		}
		switch {
		case sc.Source == "":
			return nil, e.at(item, path+".source", "la clé « source » est obligatoire")
		case sc.Location == "":
			return nil, e.at(item, path+".location", "la clé « location » (fichier ou URL) est obligatoire pour %s", sc.Source)
		case hasSchedule && hasEvery:
			return nil, e.at(item, path, "« schedule » et « every » s'excluent : choisissez l'un des deux")
		case !hasSchedule && !hasEvery:
			return nil, e.at(item, path, "« schedule » (cron) ou « every » (durée) est obligatoire")
		}
		key := sc.Source + "\x00" + sc.Location
		if prev, dup := seen[key]; dup {
			return nil, e.at(item, path, "%s depuis %s figure déjà ligne %d", sc.Source, sc.Location, prev)
		}
		seen[key] = item.Line
		cfg.Sources = append(cfg.Sources, sc)
	}
	return cfg, nil
}

func boolOf(v *yaml.Node) (bool, error) {
	b, err := strconv.ParseBool(v.Value)
	if v.Kind != yaml.ScalarNode || err != nil {
		return false, fmt.Errorf("true ou false attendu, trouvé « %s »", v.Value)
	}
	return b, nil
}
