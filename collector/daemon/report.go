package daemon

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/go-co-op/gocron/v2"
	"github.com/wneessen/go-mail"
	"gopkg.in/yaml.v3"

	"github.com/sdaasp-rhone/fne/collector/ingest"
	"github.com/sdaasp-rhone/fne/internal/catalogue"
	"github.com/sdaasp-rhone/fne/internal/engine"
	"github.com/sdaasp-rhone/fne/internal/report"
	"github.com/sdaasp-rhone/fne/internal/territory"
)

// ReportConfig is one entry of `reports:`: monthly review packs (internal/report) produced on a day and
// hour of every month for the last complete month, written to a folder and optionally e-mailed.
type ReportConfig struct {
	Day, Hour, Minute int
	// Territories: "departement" (the reference's département), "epci" (each EPCI) or territory ids.
	Territories []string
	Output      string
	Format      string // pdf (default) or html
	Catalogue   string // target override file; empty: FNE_CATALOGUE, else the embedded catalogue
	RunAtStart  bool
	StaleAfter  time.Duration // default 35 days: one month and a margin
	Mail        *MailConfig
	Line        int
}

// MailConfig sends the packs of a run through an SMTP relay, in one message.
type MailConfig struct {
	Relay        string // host:port
	TLS          string // starttls (default), tls, none
	From         string
	To           []string
	Username     string
	PasswordFile string // the password never sits in the YAML
	// Auth is the SMTP authentication mechanism: auto (the strongest the relay offers over TLS), plain,
	// login or cram-md5.
	Auth    string
	Subject string
}

// Schedule is the 5-field cron expression of the entry.
func (r ReportConfig) Schedule() string { return fmt.Sprintf("%d %d %d * *", r.Minute, r.Hour, r.Day) }

const defaultReportStale = 35 * 24 * time.Hour

func parseReports(e cfgErr, node *yaml.Node) ([]ReportConfig, error) {
	if node.Kind != yaml.SequenceNode {
		return nil, e.at(node, "reports", "une liste de rapports est attendue")
	}
	var out []ReportConfig
	for idx, item := range node.Content {
		path := fmt.Sprintf("reports[%d]", idx+1)
		if item.Kind != yaml.MappingNode {
			return nil, e.at(item, path, "un dictionnaire est attendu (day, hour, territories, output, mail…)")
		}
		rc := ReportConfig{Day: -1, Hour: -1, Format: report.FormatPDF, Line: item.Line, StaleAfter: defaultReportStale}
		for i := 0; i+1 < len(item.Content); i += 2 {
			k, v := item.Content[i], item.Content[i+1]
			field := path + "." + k.Value
			scalar := func() (string, error) {
				if v.Kind != yaml.ScalarNode {
					return "", e.at(v, field, "une valeur simple est attendue")
				}
				return strings.TrimSpace(v.Value), nil
			}
			intIn := func(lo, hi int) (int, error) {
				s, err := scalar()
				if err != nil {
					return 0, err
				}
				n, err := strconv.Atoi(s)
				if err != nil || n < lo || n > hi {
					return 0, e.at(v, field, "entier de %d à %d attendu, trouvé « %s »", lo, hi, s)
				}
				return n, nil
			}
			var err error
			switch k.Value {
			case "day":
				// 1..28: every month has that day, so no month is skipped.
				rc.Day, err = intIn(1, 28)
			case "hour":
				rc.Hour, err = intIn(0, 23)
			case "minute":
				rc.Minute, err = intIn(0, 59)
			case "output":
				rc.Output, err = scalar()
			case "format":
				if rc.Format, err = scalar(); err == nil && rc.Format != report.FormatPDF && rc.Format != report.FormatHTML {
					err = e.at(v, field, "format « %s » inconnu (pdf ou html)", rc.Format)
				}
			case "catalogue":
				rc.Catalogue, err = scalar()
			case "run_at_start":
				if rc.RunAtStart, err = boolOf(v); err != nil {
					err = e.at(v, field, "%v", err)
				}
			case "stale_after":
				var s string
				if s, err = scalar(); err == nil {
					if rc.StaleAfter, err = time.ParseDuration(s); err != nil || rc.StaleAfter <= 0 {
						err = e.at(v, field, "durée positive attendue (ex. 840h), trouvé « %s »", s)
					}
				}
			case "territories":
				rc.Territories, err = stringList(e, v, field)
				for _, t := range rc.Territories {
					if t == "departement" || t == "epci" {
						continue
					}
					if _, perr := territory.Parse(t); perr != nil {
						return nil, e.at(v, field, "territoire « %s » invalide : departement, epci ou un identifiant (dep:69, epci:<SIREN>, com:<INSEE>)", t)
					}
				}
			case "mail":
				rc.Mail, err = parseMail(e, v, field)
			default:
				err = e.at(k, field, "clé inconnue « %s » (clés admises : day, hour, minute, territories, output, format, catalogue, run_at_start, stale_after, mail)", k.Value)
			}
			if err != nil {
				return nil, err
			}
		}
		switch {
		case rc.Day < 0:
			return nil, e.at(item, path+".day", "la clé « day » (jour du mois, 1 à 28) est obligatoire")
		case rc.Hour < 0:
			return nil, e.at(item, path+".hour", "la clé « hour » (0 à 23) est obligatoire")
		case rc.Output == "":
			return nil, e.at(item, path+".output", "la clé « output » (dossier des rapports) est obligatoire")
		}
		if len(rc.Territories) == 0 {
			rc.Territories = []string{"departement"}
		}
		out = append(out, rc)
	}
	return out, nil
}

func stringList(e cfgErr, v *yaml.Node, field string) ([]string, error) {
	if v.Kind == yaml.ScalarNode {
		return []string{strings.TrimSpace(v.Value)}, nil
	}
	if v.Kind != yaml.SequenceNode || len(v.Content) == 0 {
		return nil, e.at(v, field, "une liste non vide est attendue")
	}
	var out []string
	for _, n := range v.Content {
		if n.Kind != yaml.ScalarNode {
			return nil, e.at(n, field, "une valeur simple est attendue")
		}
		out = append(out, strings.TrimSpace(n.Value))
	}
	return out, nil
}

func parseMail(e cfgErr, v *yaml.Node, path string) (*MailConfig, error) {
	if v.Kind != yaml.MappingNode {
		return nil, e.at(v, path, "un dictionnaire est attendu (relay, from, to, username, password_file)")
	}
	m := &MailConfig{TLS: "starttls", Auth: "auto"}
	for i := 0; i+1 < len(v.Content); i += 2 {
		k, val := v.Content[i], v.Content[i+1]
		field := path + "." + k.Value
		if k.Value == "to" {
			l, err := stringList(e, val, field)
			if err != nil {
				return nil, err
			}
			m.To = l
			continue
		}
		if val.Kind != yaml.ScalarNode {
			return nil, e.at(val, field, "une valeur simple est attendue")
		}
		s := strings.TrimSpace(val.Value)
		switch k.Value {
		case "relay":
			if _, port, err := net.SplitHostPort(s); err != nil || port == "" {
				return nil, e.at(val, field, "hôte:port attendu (ex. smtp.example.fr:587), trouvé « %s »", s)
			}
			m.Relay = s
		case "tls":
			if s != "starttls" && s != "tls" && s != "none" {
				return nil, e.at(val, field, "starttls, tls ou none attendu, trouvé « %s »", s)
			}
			m.TLS = s
		case "from":
			m.From = s
		case "username":
			m.Username = s
		case "password_file":
			m.PasswordFile = s
		case "password":
			return nil, e.at(k, field, "le mot de passe ne s'écrit pas dans ce fichier : password_file (chemin d'un fichier lisible par le démon)")
		case "subject":
			m.Subject = s
		case "auth":
			if _, ok := smtpAuths[s]; !ok {
				return nil, e.at(val, field, "auto, plain, login ou cram-md5 attendu, trouvé « %s »", s)
			}
			m.Auth = s
		default:
			return nil, e.at(k, field, "clé inconnue « %s » (clés admises : relay, tls, auth, from, to, username, password_file, subject)", k.Value)
		}
	}
	switch {
	case m.Relay == "":
		return nil, e.at(v, path+".relay", "la clé « relay » (hôte:port du relais SMTP) est obligatoire")
	case m.From == "" || len(m.To) == 0:
		return nil, e.at(v, path, "les clés « from » et « to » sont obligatoires")
	case m.Username != "" && m.PasswordFile == "":
		return nil, e.at(v, path+".password_file", "« username » demande « password_file »")
	}
	return m, nil
}

// reportEntry is one scheduled `reports:` entry and its state for /healthz.
type reportEntry struct {
	cfg  ReportConfig
	name string
	job  gocron.Job

	mu          sync.Mutex
	running     bool
	runs        int
	last        *ingest.Summary
	lastSuccess time.Time
}

// newReports prepares the `reports:` entries (called by New).
func (d *Daemon) newReports() {
	for i, rc := range d.opts.Config.Reports {
		name := report.SourceReport
		if len(d.opts.Config.Reports) > 1 {
			name = fmt.Sprintf("%s#%d", report.SourceReport, i+1)
		}
		d.reports = append(d.reports, &reportEntry{cfg: rc, name: name})
	}
	if len(d.reports) > 0 {
		d.metrics.declare(report.SourceReport)
	}
}

// scheduleReports adds one monthly job per entry (called by Start).
func (d *Daemon) scheduleReports(s gocron.Scheduler) error {
	for _, r := range d.reports {
		jopts := []gocron.JobOption{gocron.WithName(r.name), gocron.WithSingletonMode(gocron.LimitModeReschedule)}
		if r.cfg.RunAtStart {
			jopts = append(jopts, gocron.WithStartAt(gocron.WithStartImmediately()))
		}
		r := r
		j, err := s.NewJob(gocron.CronJob(r.cfg.Schedule(), false), gocron.NewTask(func() { d.runReport(r) }), jopts...)
		if err != nil {
			return fmt.Errorf("%w : ligne %d : planification de %s impossible : %v", ErrConfig, r.cfg.Line, r.name, err)
		}
		r.job = j
		d.log.Info("rapport planifié", "rapport", r.name, "jour", r.cfg.Day, "heure", fmt.Sprintf("%02d:%02d", r.cfg.Hour, r.cfg.Minute),
			"territoires", strings.Join(r.cfg.Territories, ","), "dossier", r.cfg.Output, "courriel", r.cfg.Mail != nil)
	}
	return nil
}

// runReport produces the packs of one entry and records the run in ingestion_runs (source « rapport »:
// rows_read = packs asked, rows_written = packs written, rows_rejected = packs or mail that failed), in
// the metrics and in /healthz, as a collection run.
func (d *Daemon) runReport(r *reportEntry) {
	d.mu.Lock()
	if d.stopping {
		d.mu.Unlock()
		return
	}
	d.wg.Add(1)
	d.mu.Unlock()
	defer d.wg.Done()
	r.mu.Lock()
	r.running = true
	r.mu.Unlock()

	ctx := d.runCtx
	t0 := time.Now()
	start := d.opts.Now().UTC().Truncate(time.Second)
	b := make([]byte, 4)
	_, _ = rand.Read(b)
	sum := ingest.Summary{RunInfo: ingest.RunInfo{ID: "rapport-" + start.Format("20060102T150405") + "-" + hex.EncodeToString(b),
		Source: report.SourceReport, Input: r.cfg.Output, Started: start}, Status: ingest.StatusRunning, RejectsByReason: map[string]uint64{}}
	d.writeReportRun(ctx, sum)
	d.log.Info("rapports démarrés", "rapport", r.name, "dossier", r.cfg.Output)

	files, asked, errs := d.producePacks(ctx, r.cfg)
	sum.Read, sum.Written = uint64(asked), uint64(len(files))
	if len(errs) > 0 {
		sum.RejectsByReason["rapport non produit"] = uint64(len(errs))
	}
	if r.cfg.Mail != nil && len(files) > 0 {
		if err := sendPacks(ctx, *r.cfg.Mail, files, d.opts.Now()); err != nil {
			errs = append(errs, fmt.Errorf("envoi du courriel : %w", err))
			sum.RejectsByReason["courriel non envoyé"]++
		}
	}
	sum.Rejected = uint64(len(errs))
	sum.Ended = d.opts.Now().UTC().Truncate(time.Second)
	switch {
	case len(files) == 0:
		sum.Status = ingest.StatusFailed
		if len(errs) == 0 {
			errs = append(errs, errors.New("aucun rapport produit"))
		}
	case len(errs) > 0:
		sum.Status = ingest.StatusPartial
	default:
		sum.Status = ingest.StatusOK
	}
	sum.Err = errors.Join(errs...)
	d.writeReportRun(context.WithoutCancel(ctx), sum)
	d.metrics.observe(sum, time.Since(t0))

	r.mu.Lock()
	r.running = false
	r.runs++
	r.last = &sum
	if sum.Status != ingest.StatusFailed {
		r.lastSuccess = d.opts.Now()
	}
	r.mu.Unlock()
	attrs := []any{"rapport", r.name, "statut", sum.Status, "rapports", len(files), "demandes", asked, "duree", time.Since(t0).Round(time.Millisecond).String()}
	if sum.Err != nil {
		d.log.Error("rapports en échec", append(attrs, "erreur", sum.Err.Error())...)
		return
	}
	d.log.Info("rapports terminés", attrs...)
}

// producePacks writes the packs of cfg for the last complete month; it returns the files written, the
// number of packs asked and the errors.
func (d *Daemon) producePacks(ctx context.Context, cfg ReportConfig) ([]string, int, []error) {
	if d.opts.Conn == nil {
		return nil, 0, []error{errors.New("aucune connexion ClickHouse")}
	}
	path := cfg.Catalogue
	if path == "" {
		path = os.Getenv("FNE_CATALOGUE")
	}
	var cat *catalogue.Catalogue
	var err error
	if path == "" {
		cat, err = catalogue.Load()
	} else {
		cat, err = catalogue.LoadFile(path)
	}
	if err != nil {
		return nil, 0, []error{err}
	}
	eng := engine.New(d.opts.Conn, cat).OneShot()
	ref, err := eng.Reference(ctx)
	if err != nil {
		return nil, 0, []error{err}
	}
	now := d.opts.Now()
	month, err := report.LastCompleteMonth(ctx, eng, now)
	if err != nil {
		return nil, 0, []error{err}
	}
	var targets []territory.ID
	for _, t := range cfg.Territories {
		switch t {
		case "departement":
			targets = append(targets, ref.Root())
		case "epci":
			for _, e := range ref.EPCIs {
				targets = append(targets, territory.ID{Level: territory.LevelEPCI, Code: e.Siren})
			}
		default:
			targets = append(targets, territory.MustParse(t)) // validated with the configuration
		}
	}
	if err := os.MkdirAll(cfg.Output, 0o755); err != nil {
		return nil, len(targets), []error{fmt.Errorf("dossier %s : %v", cfg.Output, err)}
	}
	var files []string
	var errs []error
	builder := report.NewBuilder(eng, now)
	var pr report.Printer // WriteAll starts one Chromium for the packs of the run
	jobs := make([]report.Job, len(targets))
	for i, t := range targets {
		jobs[i] = report.Job{Territory: t, Path: filepath.Join(cfg.Output, report.FileName(t, month, cfg.Format))}
	}
	report.WriteAll(ctx, builder, pr, month, cfg.Format, jobs, func(d report.Done) {
		if d.Err != nil {
			errs = append(errs, fmt.Errorf("%s : %w", d.Territory, d.Err))
			return
		}
		files = append(files, d.Path)
	})
	return files, len(targets), errs
}

var smtpAuths = map[string]mail.SMTPAuthType{
	"auto": mail.SMTPAuthAutoDiscover, "plain": mail.SMTPAuthPlain, "login": mail.SMTPAuthLogin, "cram-md5": mail.SMTPAuthCramMD5,
}

// sendPacks e-mails the files in one message through the relay.
func sendPacks(ctx context.Context, mc MailConfig, files []string, now time.Time) error {
	host, portS, _ := net.SplitHostPort(mc.Relay)
	port, _ := strconv.Atoi(portS)
	opts := []mail.Option{mail.WithPort(port), mail.WithTimeout(30 * time.Second)}
	switch mc.TLS {
	case "tls":
		opts = append(opts, mail.WithSSL())
	case "none":
		opts = append(opts, mail.WithTLSPolicy(mail.NoTLS))
	default:
		opts = append(opts, mail.WithTLSPolicy(mail.TLSMandatory))
	}
	if mc.Username != "" {
		pw, err := os.ReadFile(mc.PasswordFile)
		if err != nil {
			return fmt.Errorf("lecture de password_file : %v", err)
		}
		auth, ok := smtpAuths[mc.Auth]
		if !ok {
			auth = mail.SMTPAuthAutoDiscover
		}
		opts = append(opts, mail.WithSMTPAuth(auth), mail.WithUsername(mc.Username),
			mail.WithPassword(strings.TrimRight(string(pw), "\r\n")))
	}
	c, err := mail.NewClient(host, opts...)
	if err != nil {
		return err
	}
	m := mail.NewMsg()
	if err := m.From(mc.From); err != nil {
		return fmt.Errorf("expéditeur « %s » invalide : %v", mc.From, err)
	}
	if err := m.To(mc.To...); err != nil {
		return fmt.Errorf("destinataires invalides : %v", err)
	}
	subject := mc.Subject
	if subject == "" {
		subject = "Revue mensuelle de la feuille de route France Numérique Ensemble"
	}
	m.Subject(subject)
	m.SetDate()
	var names []string
	for _, f := range files {
		names = append(names, "- "+filepath.Base(f))
		m.AttachFile(f)
	}
	m.SetBodyString(mail.TypeTextPlain, fmt.Sprintf("Bonjour,\n\nVeuillez trouver ci-joints les rapports mensuels produits le %s :\n%s\n\nCes documents sont produits automatiquement par « fne run » à partir des indicateurs de la feuille de route.\n",
		now.Format("02/01/2006 à 15:04"), strings.Join(names, "\n")))
	return c.DialAndSendWithContext(ctx, m)
}

func (d *Daemon) writeReportRun(ctx context.Context, s ingest.Summary) {
	if d.opts.Conn == nil {
		return
	}
	version := uint64(1)
	if s.Status != ingest.StatusRunning {
		version = 2
	}
	ended, msg := s.Ended, ""
	if ended.IsZero() {
		ended = s.Started
	}
	if s.Err != nil {
		msg = s.Err.Error()
	}
	wctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	b, err := d.opts.Conn.PrepareBatch(wctx, "INSERT INTO ingestion_runs (run_id, version, source, input, started_at, ended_at, rows_read, rows_written, rows_rejected, status, error)")
	if err == nil {
		if err = b.Append(s.ID, version, s.Source, s.Input, s.Started, ended, s.Read, s.Written, s.Rejected, s.Status, msg); err == nil {
			err = b.Send()
		}
	}
	if err != nil {
		d.log.Warn("exécution des rapports non enregistrée", "erreur", err.Error())
	}
}

// reportHealth adds the report entries to /healthz (called by Health).
func (d *Daemon) reportHealth(now time.Time, rep *HealthReport) {
	for _, r := range d.reports {
		r.mu.Lock()
		hs := HealthSource{Source: r.name, Emplacement: r.cfg.Output, EnCours: r.running, Executions: r.runs, PerimeApres: r.cfg.StaleAfter.String()}
		since := hs.setLastRun(r.last, r.lastSuccess, d.started)
		switch {
		case r.last != nil && r.last.Status == ingest.StatusFailed:
			hs.Probleme = "derniers rapports en échec : " + hs.DerniereErreur
		case r.last != nil && r.last.Status == ingest.StatusPartial:
			hs.Probleme = "rapports incomplets : " + hs.DerniereErreur
		case now.Sub(since) > r.cfg.StaleAfter:
			hs.Probleme = fmt.Sprintf("aucun rapport produit depuis %s", now.Sub(since).Round(time.Hour))
		}
		r.mu.Unlock()
		rep.add(hs, r.job)
	}
}
