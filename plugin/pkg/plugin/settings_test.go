package plugin

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/grafana/grafana-plugin-sdk-go/backend"
)

func settingsJSON(js string, secure map[string]string) backend.DataSourceInstanceSettings {
	return backend.DataSourceInstanceSettings{JSONData: []byte(js), DecryptedSecureJSONData: secure}
}

func TestLoadSettings(t *testing.T) {
	for _, tc := range []struct {
		name   string
		json   string
		secure map[string]string
		addr   string
		db     string
		user   string
		pass   string
		tls    bool
		dial   time.Duration
		query  time.Duration
		scope  string
		err    string // substring of the French error; empty = valid
	}{
		{name: "complete", json: `{"host":"ch.local","port":9440,"database":"fne_prod","username":"grafana","secure":true,"dialTimeout":3,"queryTimeout":30,"scope":"epci:200000001"}`,
			secure: map[string]string{"password": "s3cret"}, addr: "ch.local:9440", db: "fne_prod", user: "grafana", pass: "s3cret", tls: true, dial: 3 * time.Second, query: 30 * time.Second, scope: "epci:200000001"},
		// defaults of plugin/README.md and of internal/store (5 s dial, 60 s query)
		{name: "defaults", json: `{"host":"clickhouse"}`, addr: "clickhouse:9000", db: "fne", user: "default", dial: 5 * time.Second, query: 60 * time.Second},
		{name: "numbers as strings", json: `{"host":"h","port":"9001","dialTimeout":"2","queryTimeout":""}`, addr: "h:9001", db: "fne", user: "default", dial: 2 * time.Second, query: 60 * time.Second},
		{name: "ipv6 host", json: `{"host":"::1"}`, addr: "[::1]:9000", db: "fne", user: "default", dial: 5 * time.Second, query: 60 * time.Second},
		// a password typed into jsonData (clear text) is never used: only secureJsonData counts
		{name: "password only from secure json", json: `{"host":"h","password":"leaked"}`, addr: "h:9000", db: "fne", user: "default", pass: "", dial: 5 * time.Second, query: 60 * time.Second},
		{name: "no host", json: `{"port":9000}`, err: "l'hôte ClickHouse est obligatoire"},
		{name: "empty json", json: ``, err: "l'hôte ClickHouse est obligatoire"},
		{name: "url as host", json: `{"host":"http://ch:8123"}`, err: "sans schéma ni chemin"},
		{name: "port too big", json: `{"host":"h","port":70000}`, err: "port 70000 hors de 1–65535"},
		{name: "port not integer", json: `{"host":"h","port":90.5}`, err: "hors de 1–65535"},
		{name: "port garbage", json: `{"host":"h","port":"abc"}`, err: "jsonData illisible"},
		{name: "negative timeout", json: `{"host":"h","queryTimeout":-1}`, err: "délai des requêtes de -1 s"},
		{name: "bad database", json: `{"host":"h","database":"fne; DROP"}`, err: "nom de base de données invalide"},
		{name: "bad scope", json: `{"host":"h","scope":"region:84"}`, err: "périmètre"},
		{name: "malformed", json: `{"host":`, err: "jsonData illisible"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s, err := LoadSettings(settingsJSON(tc.json, tc.secure))
			if tc.err != "" {
				if err == nil || !errors.Is(err, ErrSettings) || !strings.Contains(err.Error(), tc.err) {
					t.Fatalf("erreur attendue contenant %q, obtenu %v", tc.err, err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			c := s.StoreConfig()
			if c.Addr != tc.addr || c.Database != tc.db || c.Username != tc.user || c.Password != tc.pass || c.Secure != tc.tls || c.DialTimeout != tc.dial || c.QueryTimeout != tc.query {
				t.Fatalf("config = %+v", c)
			}
			got := ""
			if s.ScopeID() != nil {
				got = s.ScopeID().String()
			}
			if got != tc.scope {
				t.Fatalf("scope = %q, attendu %q", got, tc.scope)
			}
		})
	}
}

func TestFactoryRefusesInvalidSettings(t *testing.T) {
	_, err := NewFactory(nil)(t.Context(), settingsJSON(`{"port":1}`, nil))
	if !errors.Is(err, ErrSettings) {
		t.Fatalf("err = %v", err)
	}
}
