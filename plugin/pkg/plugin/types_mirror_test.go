package plugin

import (
	"os"
	"regexp"
	"sort"
	"strings"
	"testing"
)

// The frontend's query model (plugin/src/types.ts) mirrors the backend's: the same query types, and a
// field for every JSON key the backend reads.
func TestFrontendMirrorsQueryModel(t *testing.T) {
	b, err := os.ReadFile("../../src/types.ts")
	if err != nil {
		t.Fatal(err)
	}
	src := string(b)
	m := regexp.MustCompile(`export type QueryType =\s*([^;]+);`).FindStringSubmatch(src)
	if m == nil {
		t.Fatal("type QueryType absent de types.ts")
	}
	var ts []string
	for _, s := range regexp.MustCompile(`'([a-z_]+)'`).FindAllStringSubmatch(m[1], -1) {
		ts = append(ts, s[1])
	}
	var goTypes []string
	for k := range queryTypes {
		goTypes = append(goTypes, k)
	}
	sort.Strings(ts)
	sort.Strings(goTypes)
	if strings.Join(ts, ",") != strings.Join(goTypes, ",") {
		t.Errorf("types de requête : frontend %v, backend %v", ts, goTypes)
	}
	// datasource.ts sends only the types listed in QUERY_TYPE_OPTIONS (filterQuery): every backend type
	// must be there, or its panels stay empty.
	opts := regexp.MustCompile(`(?s)export const QUERY_TYPE_OPTIONS[^=]*= \[(.*?)\n\];`).FindStringSubmatch(src)
	if opts == nil {
		t.Fatal("QUERY_TYPE_OPTIONS absent de types.ts")
	}
	for _, ty := range goTypes {
		if !strings.Contains(opts[1], "value: '"+ty+"'") {
			t.Errorf("type %s absent de QUERY_TYPE_OPTIONS : le frontend ne l'enverrait pas", ty)
		}
	}
	q := regexp.MustCompile(`(?s)export interface FneQuery extends DataQuery \{(.*?)\n\}`).FindStringSubmatch(src)
	if q == nil {
		t.Fatal("interface FneQuery absente de types.ts")
	}
	for _, field := range []string{"queryType", "indicator", "territory", "axis", "level", "dueWithin", "defaultLevel", "staleAfter"} {
		if !regexp.MustCompile(`\b` + field + `\??:`).MatchString(q[1]) {
			t.Errorf("FneQuery sans le champ %s que le backend lit", field)
		}
	}
}
