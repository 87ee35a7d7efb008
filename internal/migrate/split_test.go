package migrate

import (
	"reflect"
	"testing"
)

func TestSplitStatements(t *testing.T) {
	tests := []struct {
		name string
		in   string
		want []string
	}{
		{"two statements", "CREATE TABLE a (x UInt8) ENGINE = MergeTree ORDER BY x;\nCREATE TABLE b (y UInt8) ENGINE = MergeTree ORDER BY y;\n",
			[]string{"CREATE TABLE a (x UInt8) ENGINE = MergeTree ORDER BY x", "CREATE TABLE b (y UInt8) ENGINE = MergeTree ORDER BY y"}},
		{"semicolon in a comment", "-- first; still a comment\nSELECT 1;", []string{"-- first; still a comment\nSELECT 1"}},
		{"semicolon in a string", "SELECT 'a;b' ;SELECT 2", []string{"SELECT 'a;b'", "SELECT 2"}},
		{"escaped quote", `SELECT 'it\'s;' ; SELECT 3`, []string{`SELECT 'it\'s;'`, "SELECT 3"}},
		{"comment-only tail dropped", "SELECT 1;\n-- trailing note\n", []string{"SELECT 1"}},
		{"empty", "  ;; \n", nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := SplitStatements(tt.in); !reflect.DeepEqual(got, tt.want) {
				t.Errorf("SplitStatements(%q) = %q, want %q", tt.in, got, tt.want)
			}
		})
	}
}

func TestLoadEmbedded(t *testing.T) {
	ms, err := Load()
	if err != nil {
		t.Fatal(err)
	}
	if len(ms) < 3 {
		t.Fatalf("expected at least 3 migrations, got %d", len(ms))
	}
	for i, m := range ms {
		if m.Version != i+1 {
			t.Errorf("migration %d has version %d: versions must be 1..n without gaps", i, m.Version)
		}
		if len(m.Statements) == 0 {
			t.Errorf("migration %04d_%s has no statement", m.Version, m.Name)
		}
	}
	// 0002_sources creates one table per source of DESIGN §2: 8 CREATE TABLE statements.
	if got := len(ms[1].Statements); got != 8 {
		t.Errorf("0002_sources: %d statements, want 8 (one table per source)", got)
	}
}
