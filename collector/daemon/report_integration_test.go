//go:build integration

package daemon

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"mime"
	"net"
	"net/http"
	netmail "net/mail"
	"net/textproto"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/sdaasp-rhone/fne/collector/ingest"
	"github.com/sdaasp-rhone/fne/internal/chtest"
)

// smtpServer is a minimal in-process SMTP relay (RFC 5321 subset: EHLO, AUTH PLAIN, MAIL, RCPT, DATA,
// RSET, NOOP, QUIT) that records what it receives.
type smtpServer struct {
	ln       net.Listener
	user, pw string

	mu    sync.Mutex
	auth  []string
	from  []string
	rcpt  []string
	datas []string
}

func newSMTPServer(t *testing.T, user, pw string) *smtpServer {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	s := &smtpServer{ln: ln, user: user, pw: pw}
	t.Cleanup(func() { ln.Close() })
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			go s.serve(c)
		}
	}()
	return s
}

func (s *smtpServer) serve(c net.Conn) {
	defer c.Close()
	tp := textproto.NewConn(c)
	_ = tp.PrintfLine("220 relais-essai ESMTP")
	for {
		line, err := tp.ReadLine()
		if err != nil {
			return
		}
		verb, arg, _ := strings.Cut(line, " ")
		switch strings.ToUpper(verb) {
		case "EHLO", "HELO":
			_ = tp.PrintfLine("250-relais-essai")
			_ = tp.PrintfLine("250-AUTH PLAIN")
			_ = tp.PrintfLine("250 8BITMIME")
		case "AUTH":
			mech, resp, _ := strings.Cut(arg, " ")
			b, _ := base64.StdEncoding.DecodeString(resp)
			s.mu.Lock()
			s.auth = append(s.auth, mech+":"+string(b))
			s.mu.Unlock()
			if string(b) == "\x00"+s.user+"\x00"+s.pw {
				_ = tp.PrintfLine("235 2.7.0 authentification acceptée")
			} else {
				_ = tp.PrintfLine("535 5.7.8 authentification refusée")
			}
		case "MAIL":
			s.mu.Lock()
			s.from = append(s.from, arg)
			s.mu.Unlock()
			_ = tp.PrintfLine("250 OK")
		case "RCPT":
			s.mu.Lock()
			s.rcpt = append(s.rcpt, arg)
			s.mu.Unlock()
			_ = tp.PrintfLine("250 OK")
		case "DATA":
			_ = tp.PrintfLine("354 fin par <CRLF>.<CRLF>")
			b, err := tp.ReadDotBytes()
			if err != nil {
				return
			}
			s.mu.Lock()
			s.datas = append(s.datas, string(b))
			s.mu.Unlock()
			_ = tp.PrintfLine("250 OK message reçu")
		case "RSET", "NOOP":
			_ = tp.PrintfLine("250 OK")
		case "QUIT":
			_ = tp.PrintfLine("221 au revoir")
			return
		default:
			_ = tp.PrintfLine("502 commande inconnue")
		}
	}
}

func (s *smtpServer) messages() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]string(nil), s.datas...)
}

// TestScheduledReports: a `reports:` entry run at start writes the packs of the département and one EPCI
// for the last complete month, mails them through the relay with the credentials of password_file, and
// is recorded in ingestion_runs, /metrics and /healthz like a collection run; a second entry whose relay
// refuses connections is partial and makes /healthz degraded.
func TestScheduledReports(t *testing.T) {
	db, _ := chtest.WithReference(t)
	// October 2026: Villefranche (epci:200040590) 3 + 4 accompagnements, Tarare 5 → dep:69 12, E1 7.
	chtest.Insert(t, db.Conn, "INSERT INTO activites (id, version, deleted, date, mediateur_id, accompagnements, type_lieu, lieu_code_insee)",
		[]any{"A1", uint64(1), uint8(0), chtest.Day("2026-10-05"), "m1", uint32(3), "domicile", "69264"},
		[]any{"A2", uint64(1), uint8(0), chtest.Day("2026-10-06"), "m1", uint32(4), "domicile", "69264"},
		[]any{"A3", uint64(1), uint8(0), chtest.Day("2026-10-07"), "m2", uint32(5), "domicile", "69243"})
	dir := t.TempDir()
	relay := newSMTPServer(t, "fne", "s3cret")
	closed, _ := net.Listen("tcp", "127.0.0.1:0")
	closedAddr := closed.Addr().String()
	closed.Close() // nothing listens there any more: the relay is down
	pwFile := filepath.Join(dir, "smtp.pw")
	if err := os.WriteFile(pwFile, []byte("s3cret\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	input := filepath.Join(dir, "lignes.txt")
	_ = os.WriteFile(input, []byte("ok\n"), 0o644)
	out1, out2 := filepath.Join(dir, "rapports"), filepath.Join(dir, "rapports-2")
	yml := `sources:
  - source: essai
    location: ` + input + `
    every: 1h
    run_at_start: false
reports:
  - day: 3
    hour: 7
    territories: [departement, epci:200040590]
    output: ` + out1 + `
    format: pdf
    run_at_start: true
    mail:
      relay: ` + relay.ln.Addr().String() + `
      tls: none
      from: fne@departement.example
      to: [cotech@departement.example, copil@prefecture.example]
      auth: plain
      username: fne
      password_file: ` + pwFile + `
  - day: 3
    hour: 7
    output: ` + out2 + `
    format: html
    run_at_start: true
    mail:
      relay: ` + closedAddr + `
      tls: none
      from: fne@departement.example
      to: cotech@departement.example
`
	cfg, err := ParseConfig("fne.yaml", []byte(yml), []string{"essai"})
	if err != nil {
		t.Fatal(err)
	}
	if got := cfg.Reports[0].Schedule(); got != "0 7 3 * *" {
		t.Errorf("planification %q, attendu « 0 7 3 * * »", got)
	}
	// The clock of the daemon: 5 November 2026, so the last complete month is October 2026.
	now := time.Date(2026, 11, 5, 8, 0, 0, 0, time.UTC)
	d, err := New(Options{Config: cfg, Registry: ingest.NewRegistry(&lineCollector{name: "essai"}), Runner: &ingest.Runner{Conn: db.Conn},
		Listen: "127.0.0.1:0", Now: func() time.Time { return now }})
	if err != nil {
		t.Fatal(err)
	}
	if err := d.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	defer d.Stop()
	waitFor(t, "les deux exécutions de rapports", 90*time.Second, func() bool {
		for _, r := range d.reports {
			r.mu.Lock()
			n := r.runs
			r.mu.Unlock()
			if n == 0 {
				return false
			}
		}
		return true
	})

	// PDF packs printed by one shared Chromium: their text says the month and the figures.
	for f, want := range map[string]string{"rapport-dep-69-2026-10.pdf": "Accompagnements réalisés 12", "rapport-epci-200040590-2026-10.pdf": "Accompagnements réalisés 7"} {
		txt, err := exec.Command("pdftotext", "-raw", filepath.Join(out1, f), "-").Output()
		if err != nil {
			t.Fatalf("%s : %v", f, err)
		}
		flat := strings.Join(strings.Fields(string(txt)), " ")
		if !strings.Contains(flat, "octobre 2026") || !strings.Contains(flat, want) {
			t.Errorf("%s : « octobre 2026 » ou « %s » absent", f, want)
		}
		checkTOC(t, filepath.Join(out1, f))
	}
	// One message, both packs attached, to both recipients, after AUTH PLAIN with the file's password.
	msgs := relay.messages()
	if len(msgs) != 1 {
		d.reports[0].mu.Lock()
		last := d.reports[0].last
		d.reports[0].mu.Unlock()
		t.Fatalf("%d courriels reçus, attendu 1 (%v)", len(msgs), last.Err)
	}
	relay.mu.Lock()
	auth, rcpt, from := relay.auth, relay.rcpt, relay.from
	relay.mu.Unlock()
	if len(auth) != 1 || auth[0] != "PLAIN:\x00fne\x00s3cret" {
		t.Errorf("authentification %q", auth)
	}
	if len(from) != 1 || !strings.Contains(from[0], "<fne@departement.example>") || len(rcpt) != 2 ||
		!strings.Contains(rcpt[0], "cotech@departement.example") || !strings.Contains(rcpt[1], "copil@prefecture.example") {
		t.Errorf("enveloppe : de %q à %q", from, rcpt)
	}
	for _, want := range []string{`filename="rapport-dep-69-2026-10.pdf"`, `filename="rapport-epci-200040590-2026-10.pdf"`} {
		if !strings.Contains(msgs[0], want) {
			t.Errorf("le courriel ne contient pas %q", want)
		}
	}
	if m, err := netmail.ReadMessage(strings.NewReader(msgs[0])); err != nil {
		t.Error(err)
	} else if subj, _ := new(mime.WordDecoder).DecodeHeader(m.Header.Get("Subject")); subj != "Revue mensuelle de la feuille de route France Numérique Ensemble" {
		t.Errorf("objet %q", subj)
	}

	// ingestion_runs: one finished run per entry, source « rapport ».
	type runRow struct {
		input, status, errMsg string
		read, written, rej    uint64
	}
	rows, err := db.Conn.Query(context.Background(), `SELECT argMax(input, version), argMax(toString(status), version), argMax(error, version),
    argMax(rows_read, version), argMax(rows_written, version), argMax(rows_rejected, version)
FROM ingestion_runs WHERE source = 'rapport' GROUP BY run_id`)
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]runRow{}
	for rows.Next() {
		var r runRow
		if err := rows.Scan(&r.input, &r.status, &r.errMsg, &r.read, &r.written, &r.rej); err != nil {
			t.Fatal(err)
		}
		got[r.input] = r
	}
	rows.Close()
	if r := got[out1]; r.status != "succes" || r.read != 2 || r.written != 2 || r.rej != 0 {
		t.Errorf("exécution 1 : %+v", r)
	}
	// Second entry: the département pack is written (read 1, written 1), the mail fails (1 rejected).
	if r := got[out2]; r.status != "partiel" || r.read != 1 || r.written != 1 || r.rej != 1 || !strings.Contains(r.errMsg, "envoi du courriel") {
		t.Errorf("exécution 2 : %+v", r)
	}
	if _, err := os.Stat(filepath.Join(out2, "rapport-dep-69-2026-10.html")); err != nil {
		t.Errorf("rapport de l'entrée 2 absent : %v", err)
	}

	fams := scrape(t, d.Addr())
	if v := value(t, fams, "fne_ingest_runs_total", map[string]string{"source": "rapport", "status": "succes"}); v != 1 {
		t.Errorf("fne_ingest_runs_total{rapport,succes} = %v", v)
	}
	if v := value(t, fams, "fne_ingest_runs_total", map[string]string{"source": "rapport", "status": "partiel"}); v != 1 {
		t.Errorf("fne_ingest_runs_total{rapport,partiel} = %v", v)
	}
	if v := value(t, fams, "fne_ingest_rows_written_total", map[string]string{"source": "rapport"}); v != 3 {
		t.Errorf("fne_ingest_rows_written_total{rapport} = %v, attendu 3 (2 + 1 rapports)", v)
	}

	resp, err := http.Get("http://" + d.Addr() + "/healthz")
	if err != nil {
		t.Fatal(err)
	}
	var rep HealthReport
	_ = json.NewDecoder(resp.Body).Decode(&rep)
	resp.Body.Close()
	if resp.StatusCode != http.StatusServiceUnavailable || rep.Statut != "degrade" {
		t.Errorf("/healthz %d %s, attendu 503 degrade (relais injoignable)", resp.StatusCode, rep.Statut)
	}
	var seen int
	for _, s := range rep.Sources {
		switch s.Source {
		case "rapport#1":
			seen++
			if s.DernierStatut != "succes" || s.Probleme != "" || s.ProchaineExecution == "" || s.Executions != 1 {
				t.Errorf("/healthz rapport#1 : %+v", s)
			}
		case "rapport#2":
			seen++
			if s.DernierStatut != "partiel" || !strings.Contains(s.Probleme, "envoi du courriel") {
				t.Errorf("/healthz rapport#2 : %+v", s)
			}
		}
	}
	if seen != 2 || len(rep.Raisons) != 1 || !strings.HasPrefix(rep.Raisons[0], "rapport#2 : rapports incomplets") {
		t.Errorf("/healthz : %+v", rep)
	}
}

// checkTOC: every chapter of the table of contents starts on the page it gives (the second pack of a run
// is first printed with the first pack's numbers, kept only when they hold).
func checkTOC(t *testing.T, pdf string) {
	t.Helper()
	txt, err := exec.Command("pdftotext", "-layout", pdf, "-").Output()
	if err != nil {
		t.Fatal(err)
	}
	pages := strings.Split(string(txt), "\f")
	toc := regexp.MustCompile(`(?m)^\s*(\d\. [^\n]*?)\s{2,}(\d+)\s*$`).FindAllStringSubmatch(pages[1], -1)
	if len(toc) != 7 {
		t.Fatalf("%s : sommaire de %d chapitres, attendu 7 :\n%s", pdf, len(toc), pages[1])
	}
	for _, c := range toc {
		n, _ := strconv.Atoi(c[2])
		found := false
		for _, line := range strings.Split(pages[n-1], "\n") {
			if strings.TrimSpace(line) == c[1] {
				found = true
			}
		}
		if !found {
			t.Errorf("%s : « %s » n'est pas en page %d", filepath.Base(pdf), c[1], n)
		}
	}
}
