package daemon

import (
	"strings"
	"testing"
	"time"
)

func TestReportConfig(t *testing.T) {
	const head = "sources:\n  - source: essai\n    location: x\n    every: 1h\n"
	cfg, err := ParseConfig("fne.yaml", []byte(head+`reports:
  - day: 2
    hour: 6
    minute: 30
    territories: [departement, epci]
    output: /srv/rapports
    mail:
      relay: smtp.example.fr:587
      from: fne@example.fr
      to: cotech@example.fr
      username: fne
      password_file: /run/secrets/smtp
`), []string{"essai"})
	if err != nil {
		t.Fatal(err)
	}
	r := cfg.Reports[0]
	// Defaults: PDF, STARTTLS, automatic authentication, stale after 35 days, not at start.
	if r.Schedule() != "30 6 2 * *" || r.Format != "pdf" || r.RunAtStart || r.StaleAfter != 35*24*time.Hour ||
		r.Mail.TLS != "starttls" || r.Mail.Auth != "auto" || len(r.Mail.To) != 1 || strings.Join(r.Territories, ",") != "departement,epci" {
		t.Errorf("%+v %+v", r, r.Mail)
	}
	for _, c := range []struct{ yaml, want string }{
		{"reports:\n  - day: 31\n    hour: 7\n    output: o\n", "ligne 6 (reports[1].day) : entier de 1 à 28 attendu, trouvé « 31 »"},
		{"reports:\n  - day: 3\n    output: o\n", "(reports[1].hour) : la clé « hour » (0 à 23) est obligatoire"},
		{"reports:\n  - day: 3\n    hour: 7\n", "(reports[1].output) : la clé « output » (dossier des rapports) est obligatoire"},
		{"reports:\n  - day: 3\n    hour: 7\n    output: o\n    format: docx\n", "format « docx » inconnu (pdf ou html)"},
		{"reports:\n  - day: 3\n    hour: 7\n    output: o\n    territories: [canton:1]\n", "territoire « canton:1 » invalide"},
		{"reports:\n  - day: 3\n    hour: 7\n    output: o\n    mail:\n      relay: smtp\n      from: a@b\n      to: c@d\n", "hôte:port attendu (ex. smtp.example.fr:587), trouvé « smtp »"},
		{"reports:\n  - day: 3\n    hour: 7\n    output: o\n    mail:\n      relay: h:25\n      from: a@b\n      to: c@d\n      password: x\n", "le mot de passe ne s'écrit pas dans ce fichier : password_file"},
		{"reports:\n  - day: 3\n    hour: 7\n    output: o\n    mail:\n      relay: h:25\n      from: a@b\n      to: c@d\n      username: u\n", "« username » demande « password_file »"},
		{"reports:\n  - day: 3\n    hour: 7\n    output: o\n    quand: lundi\n", "clé inconnue « quand »"},
	} {
		_, err := ParseConfig("fne.yaml", []byte(head+c.yaml), []string{"essai"})
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%q : %v, attendu %q", c.yaml, err, c.want)
		}
	}
}
