package daemon

import (
	"errors"
	"os"
	"strings"
	"testing"
	"time"
)

var known = []string{"activites", "consultations", "equipements", "jalons", "lieux", "participations", "rencontres", "structures"}

func TestParseConfigValid(t *testing.T) {
	src := `timezone: Europe/Paris
run_at_start: false
sources:
  - source: activites
    location: https://coop.example/api/v1/activites
    schedule: "*/30 * * * *"
    options: {token_file: /run/secrets/coop}
  - source: lieux
    location: /data/lieux.csv
    every: 15m
    run_at_start: true
    stale_after: 2h
  - source: equipements
    location: /data/a.csv
    every: 1h
  - source: equipements
    location: /data/b.csv
    every: 1h
`
	cfg, err := ParseConfig("fne.yaml", []byte(src), known)
	if err != nil {
		t.Fatal(err)
	}
	if cfg.Location == nil || cfg.Location.String() != "Europe/Paris" || cfg.RunAtStart {
		t.Fatalf("global settings: %+v", cfg)
	}
	if len(cfg.Sources) != 4 {
		t.Fatalf("%d sources, want 4", len(cfg.Sources))
	}
	a, l := cfg.Sources[0], cfg.Sources[1]
	if a.Source != "activites" || a.Schedule != "*/30 * * * *" || a.Every != 0 || a.RunAtStart || a.Options["token_file"] != "/run/secrets/coop" || a.Line != 4 {
		t.Errorf("activites entry: %+v", a)
	}
	if l.Every != 15*time.Minute || !l.RunAtStart || l.StaleAfter != 2*time.Hour || l.Line != 8 {
		t.Errorf("lieux entry: %+v", l)
	}
	now := time.Date(2026, 11, 30, 10, 7, 0, 0, time.UTC)
	// */30: next activations 10:30 and 11:00 → period 30 min → stale after 3 × 30 min = 1h30.
	if got := a.EffectiveStaleAfter(now, cfg.Location); got != 90*time.Minute {
		t.Errorf("activites stale after %s, want 1h30m", got)
	}
	if got := l.EffectiveStaleAfter(now, cfg.Location); got != 2*time.Hour {
		t.Errorf("lieux stale after %s, want 2h (explicit)", got)
	}
	// every 1h → 3h.
	if got := cfg.Sources[2].EffectiveStaleAfter(now, nil); got != 3*time.Hour {
		t.Errorf("equipements stale after %s, want 3h", got)
	}
}

func TestParseConfigErrors(t *testing.T) {
	cases := []struct {
		name, src string
		want      []string
	}{
		{"unknown source", "sources:\n  - source: activite\n    location: x\n    every: 1m\n",
			[]string{"fne.yaml, ligne 2 (sources[1].source)", "source inconnue « activite »", "activites, consultations"}},
		{"bad cron", "sources:\n  - source: lieux\n    location: x\n    schedule: \"*/30 * * *\"\n",
			[]string{"ligne 4 (sources[1].schedule)", "expression cron invalide « */30 * * * »"}},
		{"bad every", "sources:\n  - source: lieux\n    location: x\n    every: 15 minutes\n",
			[]string{"ligne 4 (sources[1].every)", "durée positive attendue", "« 15 minutes »"}},
		{"negative every", "sources:\n  - source: lieux\n    location: x\n    every: -5m\n",
			[]string{"ligne 4 (sources[1].every)"}},
		{"both", "sources:\n  - source: lieux\n    location: x\n    every: 5m\n    schedule: \"* * * * *\"\n",
			[]string{"ligne 2 (sources[1])", "s'excluent"}},
		{"neither", "sources:\n  - source: lieux\n    location: x\n",
			[]string{"ligne 2 (sources[1])", "« schedule » (cron) ou « every » (durée) est obligatoire"}},
		{"no location", "sources:\n  - source: jalons\n    every: 5m\n",
			[]string{"ligne 2 (sources[1].location)", "obligatoire pour jalons"}},
		{"no source", "sources:\n  - location: x\n    every: 5m\n",
			[]string{"ligne 2 (sources[1].source)", "« source » est obligatoire"}},
		{"unknown key", "sources:\n  - source: lieux\n    location: x\n    every: 5m\n    shedule: x\n",
			[]string{"ligne 5 (sources[1].shedule)", "clé inconnue « shedule »"}},
		{"unknown root key", "source:\n  - source: lieux\n",
			[]string{"ligne 1 (source)", "clé inconnue"}},
		{"no sources", "timezone: UTC\n", []string{"« sources » est obligatoire"}},
		{"empty list", "sources: []\n", []string{"ligne 1 (sources)", "liste non vide"}},
		{"bad tz", "timezone: Europe/Lyon\nsources:\n  - source: lieux\n    location: x\n    every: 5m\n",
			[]string{"ligne 1 (timezone)", "fuseau horaire inconnu « Europe/Lyon »"}},
		{"bad bool", "sources:\n  - source: lieux\n    location: x\n    every: 5m\n    run_at_start: peut-être\n",
			[]string{"ligne 5 (sources[1].run_at_start)", "true ou false"}},
		{"options not a map", "sources:\n  - source: lieux\n    location: x\n    every: 5m\n    options: [a]\n",
			[]string{"ligne 5 (sources[1].options)"}},
		{"duplicate", "sources:\n  - source: lieux\n    location: x\n    every: 5m\n  - source: lieux\n    location: x\n    every: 1h\n",
			[]string{"ligne 5 (sources[2])", "figure déjà ligne 2"}},
		{"yaml syntax", "sources:\n  - source: lieux\n   location: x\n", []string{"fne.yaml : YAML illisible (ligne "}},
		{"empty file", "", []string{"fichier vide"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, err := ParseConfig("fne.yaml", []byte(c.src), known)
			if err == nil {
				t.Fatal("no error")
			}
			if !errors.Is(err, ErrConfig) {
				t.Errorf("error does not wrap ErrConfig: %v", err)
			}
			for _, w := range c.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q does not contain %q", err, w)
				}
			}
		})
	}
}

// The shipped example must stay valid.
func TestDeployExampleConfig(t *testing.T) {
	b, err := os.ReadFile("../../deploy/collector/fne.yaml")
	if err != nil {
		t.Fatal(err)
	}
	cfg, err := ParseConfig("fne.yaml", b, known)
	if err != nil {
		t.Fatal(err)
	}
	if len(cfg.Sources) != 8 {
		t.Errorf("%d sources in the example, want 8 (one per source)", len(cfg.Sources))
	}
}
