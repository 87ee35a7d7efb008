package daemon

import (
	"bytes"
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/prometheus/common/expfmt"

	"github.com/sdaasp-rhone/fne/collector/ingest"
	"github.com/sdaasp-rhone/fne/collector/sources"
)

// A run whose reasons quote a 10 MB cell, thousands of distinct values: the rejected_total label is the
// reason code, so the exposition holds one series per code and stays small (it was 10.5 MB per scrape).
func TestMetricsLabelsAreReasonCodes(t *testing.T) {
	m := NewMetrics()
	m.declare("lieux")
	huge := strings.Repeat("x", 10<<20)
	s := ingest.Summary{RunInfo: ingest.RunInfo{Source: "lieux"}, Status: ingest.StatusPartial,
		RejectsByCode: map[string]uint64{ingest.ReasonCode("valeur « " + huge + " » invalide"): 3000, ingest.CodeMissing: 2}}
	m.observe(s, 0)
	fams, err := m.Registry.Gather()
	if err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	for _, f := range fams {
		if _, err := expfmt.MetricFamilyToText(&buf, f); err != nil {
			t.Fatal(err)
		}
	}
	text := buf.String()
	if !strings.Contains(text, `fne_ingest_rows_rejected_total{reason="valeur_invalide",source="lieux"} 3000`) ||
		!strings.Contains(text, `fne_ingest_rows_rejected_total{reason="champ_absent",source="lieux"} 2`) {
		t.Errorf("séries de rejets :\n%s", text)
	}
	// 8 codes × 1 source, plus the other series and the runtime's: far below 64 KiB.
	if buf.Len() > 64<<10 {
		t.Errorf("/metrics fait %d octets", buf.Len())
	}
}

// The JSON log keeps the original error under a translated one (here a joined error, as the sources
// build for a whole-file refusal: the last branch is the library's).
func TestRootError(t *testing.T) {
	orig := errors.New("zip: not a valid zip file")
	err := fmt.Errorf("rencontres : %w", &wrapped{msg: "classeur XLSX illisible", err: errors.Join(ingest.ErrInvalidInput, orig)})
	if got := rootError(err); got != orig {
		t.Errorf("origine %v", got)
	}
}

type wrapped struct {
	msg string
	err error
}

func (w *wrapped) Error() string { return w.msg }
func (w *wrapped) Unwrap() error { return w.err }

// A mistyped option key in the daemon's configuration is refused at start, with the accepted keys.
func TestUnknownOptionKeyRefused(t *testing.T) {
	reg := sources.Registry()
	cfg, err := ParseConfig("fne.yaml", []byte("sources:\n  - source: activites\n    location: https://coop.example\n    every: 5m\n    options: {tokn_file: /run/secrets/coop}\n"), reg.Names())
	if err != nil {
		t.Fatal(err)
	}
	_, err = New(Options{Config: cfg, Registry: reg})
	if !errors.Is(err, ErrConfig) || !strings.Contains(err.Error(), "option(s) inconnue(s) pour la source activites : tokn_file (options admises : page_size, token, token_file)") {
		t.Errorf("erreur %v", err)
	}
}
