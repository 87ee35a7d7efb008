package plugin

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net"
	"strconv"
	"strings"
	"time"

	"github.com/grafana/grafana-plugin-sdk-go/backend"

	"github.com/sdaasp-rhone/fne/internal/store"
	"github.com/sdaasp-rhone/fne/internal/territory"
)

// DefaultPort is ClickHouse's native protocol port.
const DefaultPort = 9000

// Settings is the datasource configuration. The JSON tags mirror the frontend's jsonData type
// (plugin/src/types.ts); Password comes only from secureJsonData, never from jsonData.
type Settings struct {
	Host         string `json:"host"`
	Port         number `json:"port"`
	Database     string `json:"database"`
	Username     string `json:"username"`
	Secure       bool   `json:"secure"`
	DialTimeout  number `json:"dialTimeout"`  // seconds, 0 = store default
	QueryTimeout number `json:"queryTimeout"` // seconds, 0 = store default
	Scope        string `json:"scope"`        // territory id; empty = the whole département

	Password string `json:"-"`

	scope *territory.ID // parsed Scope, nil when empty
}

// number accepts a JSON number, a numeric string ("9000", as older editors store inputs) or null.
type number float64

func (n *number) UnmarshalJSON(b []byte) error {
	b = bytes.TrimSpace(b)
	if bytes.Equal(b, []byte("null")) {
		*n = 0
		return nil
	}
	if len(b) > 0 && b[0] == '"' {
		var s string
		if err := json.Unmarshal(b, &s); err != nil {
			return err
		}
		s = strings.TrimSpace(s)
		if s == "" {
			*n = 0
			return nil
		}
		f, err := strconv.ParseFloat(s, 64)
		if err != nil {
			return fmt.Errorf("%q n'est pas un nombre", s)
		}
		*n = number(f)
		return nil
	}
	var f float64
	if err := json.Unmarshal(b, &f); err != nil {
		return fmt.Errorf("%s n'est pas un nombre", b)
	}
	*n = number(f)
	return nil
}

// LoadSettings reads and validates a datasource's settings. Errors are French and wrap ErrSettings.
func LoadSettings(s backend.DataSourceInstanceSettings) (Settings, error) {
	var out Settings
	if len(bytes.TrimSpace(s.JSONData)) > 0 {
		if err := json.Unmarshal(s.JSONData, &out); err != nil {
			return Settings{}, fmt.Errorf("%w : jsonData illisible : %v", ErrSettings, err)
		}
	}
	out.Password = s.DecryptedSecureJSONData["password"]
	out.Host = strings.TrimSpace(out.Host)
	out.Database = strings.TrimSpace(out.Database)
	out.Username = strings.TrimSpace(out.Username)
	out.Scope = strings.TrimSpace(out.Scope)
	if out.Port == 0 {
		out.Port = DefaultPort
	}
	if out.Database == "" {
		out.Database = store.DefaultDatabase
	}
	if err := out.validate(); err != nil {
		return Settings{}, err
	}
	return out, nil
}

func (s *Settings) validate() error {
	if s.Host == "" {
		return fmt.Errorf("%w : l'hôte ClickHouse est obligatoire (ex. clickhouse ou 10.0.0.5)", ErrSettings)
	}
	if strings.ContainsAny(s.Host, "/ ") || strings.Contains(s.Host, "://") {
		return fmt.Errorf("%w : hôte %q : indiquez seulement le nom ou l'adresse, sans schéma ni chemin", ErrSettings, s.Host)
	}
	if s.Port != number(int(s.Port)) || s.Port < 1 || s.Port > 65535 {
		return fmt.Errorf("%w : port %v hors de 1–65535 (port natif de ClickHouse : 9000, 9440 en TLS)", ErrSettings, float64(s.Port))
	}
	for name, v := range map[string]number{"délai de connexion": s.DialTimeout, "délai des requêtes": s.QueryTimeout} {
		if v < 0 || v > 3600 {
			return fmt.Errorf("%w : %s de %v s hors de 0–3600 s", ErrSettings, name, float64(v))
		}
	}
	if err := (store.Config{Database: s.Database}).Validate(); err != nil {
		return fmt.Errorf("%w : %v", ErrSettings, err)
	}
	s.scope = nil
	if s.Scope != "" {
		id, err := territory.Parse(s.Scope)
		if err != nil {
			return fmt.Errorf("%w : périmètre : %v", ErrSettings, err)
		}
		s.scope = &id
	}
	return nil
}

// ScopeID is the parsed scope, nil for the whole département.
func (s Settings) ScopeID() *territory.ID { return s.scope }

// StoreConfig is the connection configuration of internal/store.
func (s Settings) StoreConfig() store.Config {
	return store.Config{
		Addr:         net.JoinHostPort(s.Host, strconv.Itoa(int(s.Port))),
		Database:     s.Database,
		Username:     s.Username,
		Password:     s.Password,
		Secure:       s.Secure,
		DialTimeout:  seconds(s.DialTimeout),
		QueryTimeout: seconds(s.QueryTimeout),
	}.WithDefaults()
}

func seconds(n number) time.Duration { return time.Duration(float64(n) * float64(time.Second)) }
