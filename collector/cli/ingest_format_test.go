package cli

import (
	"bytes"
	"errors"
	"fmt"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/sdaasp-rhone/fne/collector/ingest"
	"github.com/sdaasp-rhone/fne/internal/store"
)

func TestPrintSummary(t *testing.T) {
	reasons := map[string]uint64{}
	for i := 1; i <= 7; i++ {
		reasons[fmt.Sprintf("motif %d", i)] = uint64(i * 1000)
	}
	s := ingest.Summary{RunInfo: ingest.RunInfo{ID: "R1", Source: "equipements", Input: "eq.xlsx"}, Read: 1234567, Written: 1206567,
		Rejected: 28000, RejectsByReason: reasons, Status: ingest.StatusPartial}
	var b bytes.Buffer
	printSummary(&b, s, "equipements", 83*time.Second)
	want := "Import equipements — eq.xlsx (feuille equipements)\n" +
		"  Statut          : succès avec rejets\n" +
		"  Lignes lues     : 1\u202f234\u202f567\n" +
		"  Lignes écrites  : 1\u202f206\u202f567\n" +
		"  Lignes rejetées : 28\u202f000\n" +
		"  Durée           : 1 min 23 s\n" +
		"  Lancement       : R1\n" +
		"  Principaux motifs de rejet :\n" +
		// the 5 most frequent, most frequent first: 7000 … 3000; 2 more reasons not shown.
		"     7\u202f000 × motif 7\n     6\u202f000 × motif 6\n     5\u202f000 × motif 5\n     4\u202f000 × motif 4\n     3\u202f000 × motif 3\n" +
		"    … et 2 autre(s) motif(s)\n" +
		"  Détail : fne rejects --run R1\n"
	if b.String() != want {
		t.Errorf("résumé :\n%s\nattendu :\n%s", b.String(), want)
	}
	if got := durationFr(1500 * time.Millisecond); got != "1,5 s" {
		t.Errorf("durée %q", got)
	}
}

func TestProgressThrottle(t *testing.T) {
	old := progressEvery
	defer func() { progressEvery = old }()
	var b bytes.Buffer
	progressEvery = time.Hour
	p := progressPrinter(&b)
	p("lieux", 20000, 20000, 0)
	if b.Len() != 0 {
		t.Errorf("progression affichée pour un import court : %q", b.String())
	}
	progressEvery = 0
	p = progressPrinter(&b)
	p("lieux", 40000, 39990, 10)
	if b.String() != "lieux : 40\u202f000 lignes lues, 39\u202f990 écrites, 10 rejetées…\n" {
		t.Errorf("progression %q", b.String())
	}
}

func TestOptionFlagsAndExitCodes(t *testing.T) {
	o := optionFlags{}
	if err := o.Set("regexp=/lieux/(?P<id>[^/]+)"); err != nil || o["regexp"] != "/lieux/(?P<id>[^/]+)" {
		t.Errorf("option : %v %v", err, o)
	}
	if err := o.Set("=x"); err == nil || !strings.Contains(err.Error(), "clé=valeur attendu") {
		t.Errorf("option sans clé : %v", err)
	}
	netErr := &net.OpError{Op: "dial", Net: "tcp", Err: errors.New("connection refused")}
	// The Sink classifies its ClickHouse errors: a lost connection there is 3; the same network error
	// from a source's server (the Coop API down) is not ClickHouse: 1.
	if c := ingestExitCode(fmt.Errorf("écriture dans lieux : %w", store.Classify(netErr))); c != ExitUnreachable {
		t.Errorf("ClickHouse perdu : %d", c)
	}
	if c := ingestExitCode(fmt.Errorf("activites : %w", netErr)); c != ExitError {
		t.Errorf("API injoignable : %d", c)
	}
	if c := ingestExitCode(fmt.Errorf("x : %w", ingest.InvalidInput("fichier vide"))); c != ExitInvalidData {
		t.Errorf("fichier vide : %d", c)
	}
	if c := ingestExitCode(errors.New("fichier introuvable : x.csv")); c != ExitError {
		t.Errorf("fichier absent : %d", c)
	}
}
