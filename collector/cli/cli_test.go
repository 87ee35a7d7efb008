package cli

import (
	"bytes"
	"context"
	"strings"
	"testing"
)

func run(args ...string) (code int, stdout, stderr string) {
	var o, e bytes.Buffer
	code = Main(context.Background(), args, &o, &e)
	return code, o.String(), e.String()
}

func TestUsageErrors(t *testing.T) {
	tests := []struct {
		name     string
		args     []string
		wantCode int
		wantErr  string
	}{
		{"no subcommand", nil, ExitUsage, ""},
		{"unknown subcommand", []string{"frobnicate"}, ExitUsage, "sous-commande inconnue « frobnicate »"},
		{"unknown flag", []string{"migrate", "--bogus"}, ExitUsage, "option inconnue -bogus pour « fne migrate »"},
		{"flag without value", []string{"migrate", "--addr"}, ExitUsage, "l'option -addr attend une valeur"},
		{"extra argument", []string{"migrate", "surplus"}, ExitUsage, "argument inattendu « surplus »"},
		{"invalid database name", []string{"migrate", "--database", "fne;DROP"}, ExitInvalidData, "nom de base de données invalide"},
		{"unreachable server", []string{"reference", "--addr", "127.0.0.1:1", "--dial-timeout", "1s"}, ExitUnreachable, "serveur ClickHouse injoignable (127.0.0.1:1)"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			code, _, stderr := run(tt.args...)
			if code != tt.wantCode {
				t.Errorf("exit code %d, want %d (stderr: %s)", code, tt.wantCode, stderr)
			}
			if !strings.Contains(stderr, tt.wantErr) {
				t.Errorf("stderr %q does not contain %q", stderr, tt.wantErr)
			}
			if strings.Contains(stderr, "goroutine ") || strings.Contains(stderr, "panic") {
				t.Errorf("stack trace on stderr: %s", stderr)
			}
		})
	}
}

func TestHelpIsFrench(t *testing.T) {
	code, out, _ := run("help")
	if code != ExitOK || !strings.Contains(out, "Sous-commandes :") || !strings.Contains(out, "migrate") {
		t.Errorf("help: code %d, output %q", code, out)
	}
	code, out, _ = run("migrate", "--help")
	if code != ExitOK || !strings.Contains(out, "Usage : fne migrate") || !strings.Contains(out, "--reference") {
		t.Errorf("migrate --help: code %d, output %q", code, out)
	}
}

func TestThousands(t *testing.T) {
	for in, want := range map[int64]string{0: "0", 999: "999", 1000: "1\u202f000", 478313: "478\u202f313", -1234567: "-1\u202f234\u202f567"} {
		if got := thousands(in); got != want {
			t.Errorf("thousands(%d) = %q, want %q", in, got, want)
		}
	}
}
