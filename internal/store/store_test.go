package store

import (
	"errors"
	"net"
	"os"
	"path/filepath"
	"syscall"
	"testing"
	"time"

	"github.com/ClickHouse/clickhouse-go/v2"
)

func TestFromEnv(t *testing.T) {
	pw := filepath.Join(t.TempDir(), "pw")
	_ = os.WriteFile(pw, []byte("s3cret\n"), 0o600)
	t.Setenv("FNE_CLICKHOUSE_ADDR", "ch.example:9440")
	t.Setenv("FNE_CLICKHOUSE_DATABASE", "fne_69")
	t.Setenv("FNE_CLICKHOUSE_USER", "collecteur")
	t.Setenv("FNE_CLICKHOUSE_PASSWORD_FILE", pw)
	t.Setenv("FNE_CLICKHOUSE_SECURE", "true")
	t.Setenv("FNE_CLICKHOUSE_QUERY_TIMEOUT", "90")
	c, err := Config{}.FromEnv()
	if err != nil {
		t.Fatal(err)
	}
	c = c.WithDefaults()
	want := Config{Addr: "ch.example:9440", Database: "fne_69", Username: "collecteur", Password: "s3cret", Secure: true, DialTimeout: 5 * time.Second, QueryTimeout: 90 * time.Second}
	if c != want {
		t.Errorf("config %+v, want %+v", c, want)
	}
}

func TestFromEnvErrors(t *testing.T) {
	for name, val := range map[string]string{"FNE_CLICKHOUSE_SECURE": "peut-être", "FNE_CLICKHOUSE_DIAL_TIMEOUT": "-3", "FNE_CLICKHOUSE_PASSWORD_FILE": "/nonexistent/pw"} {
		t.Run(name, func(t *testing.T) {
			t.Setenv(name, val)
			if _, err := (Config{}).FromEnv(); !errors.Is(err, ErrConfig) {
				t.Errorf("%s=%s: err = %v, want ErrConfig", name, val, err)
			}
		})
	}
}

func TestDefaultsAndValidate(t *testing.T) {
	c := Config{}.WithDefaults()
	if c.Addr != "127.0.0.1:9000" || c.Database != "fne" || c.Username != "default" {
		t.Errorf("defaults %+v", c)
	}
	for _, bad := range []string{"fne-prod", "a b", "x;DROP TABLE y", "9fne"} {
		if err := (Config{Database: bad}).Validate(); !errors.Is(err, ErrConfig) {
			t.Errorf("database %q accepted", bad)
		}
	}
}

func TestVersionOrdersModificationThenIngestion(t *testing.T) {
	t0 := time.Date(2026, 10, 9, 8, 12, 40, 0, time.UTC)
	older := Version(t0, t0.Add(time.Hour))
	newer := Version(t0.Add(time.Second), t0)
	sameModLaterIngest := Version(t0, t0.Add(2*time.Hour))
	if !(newer > older) {
		t.Error("a later modification must win whatever the ingestion time")
	}
	if !(sameModLaterIngest > older) {
		t.Error("for the same modification, the later ingestion must win")
	}
	if got := Version(t0, t0) >> 32; got != uint64(t0.Unix()) {
		t.Errorf("high bits %d, want %d", got, t0.Unix())
	}
}

// Classify: only a lost connection is ErrUnreachable; a refused login is ErrAuth; any other refusal
// of the server is a French ServerError with its code, neither of them.
func TestClassify(t *testing.T) {
	netErr := &net.OpError{Op: "dial", Net: "tcp", Err: syscall.ECONNREFUSED}
	if err := Classify(netErr); !errors.Is(err, ErrUnreachable) {
		t.Errorf("connexion refusée : %v", err)
	}
	if err := Classify(&clickhouse.Exception{Code: 516, Message: "Authentication failed"}); !errors.Is(err, ErrAuth) || errors.Is(err, ErrUnreachable) {
		t.Errorf("authentification : %v", err)
	}
	err := Classify(&clickhouse.Exception{Code: 60, Message: "Table fne.x doesn't exist"})
	if errors.Is(err, ErrUnreachable) || err.Error() != "ClickHouse a refusé la requête (code 60) : table inconnue : schéma absent ou ancien (lancez « fne migrate »)" {
		t.Errorf("table absente : %v", err)
	}
	plain := errors.New("ligne invalide pour lieux")
	if err := Classify(plain); err != plain {
		t.Errorf("erreur ordinaire : %v", err)
	}
}
