//go:build integration

package sources

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"reflect"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/cenkalti/backoff/v4"

	"github.com/sdaasp-rhone/fne/collector/ingest"
	"github.com/sdaasp-rhone/fne/internal/chtest"
)

const testToken = "id-42:s3cr3t-Coop-XYZ"

func fastHTTPRetry() backoff.BackOff {
	b := backoff.NewExponentialBackOff()
	b.InitialInterval = 5 * time.Millisecond
	b.MaxInterval = 20 * time.Millisecond
	b.MaxElapsedTime = 5 * time.Second
	return backoff.WithMaxRetries(b, 4)
}

func runSource(t *testing.T, db *chtest.DB, c ingest.Collector, in ingest.Input, now time.Time) (ingest.Summary, error) {
	t.Helper()
	r := &ingest.Runner{Conn: db.Conn, Now: func() time.Time { return now }}
	return r.Run(context.Background(), c, in)
}

// activiteState is the deduplicated state of one activity, as the engine reads it (latest version).
type activiteState struct {
	ID              string
	Deleted         uint8
	Type            string
	Date            string
	Accompagnements uint32
	TypeLieu        string
	StructureID     string
	Insee           string
	Total           uint32
	Cles            []string
	Valeurs         []uint32
}

func readActivites(t *testing.T, db *chtest.DB) []activiteState {
	t.Helper()
	rows, err := db.Conn.Query(context.Background(), `
		SELECT id, argMax(deleted, version), argMax(type, version), toString(argMax(date, version)),
		       argMax(accompagnements, version), argMax(type_lieu, version), argMax(structure_id, version),
		       argMax(lieu_code_insee, version), argMax(beneficiaires_total, version),
		       argMax(beneficiaires_cles, version), argMax(beneficiaires_valeurs, version)
		FROM activites GROUP BY id ORDER BY id`)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var out []activiteState
	for rows.Next() {
		var s activiteState
		var typ, tl string
		if err := rows.Scan(&s.ID, &s.Deleted, &typ, &s.Date, &s.Accompagnements, &tl, &s.StructureID, &s.Insee, &s.Total, &s.Cles, &s.Valeurs); err != nil {
			t.Fatal(err)
		}
		s.Type, s.TypeLieu = typ, tl
		out = append(out, s)
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	return out
}

func queryInts(t testing.TB, db *chtest.DB, q string, args ...any) []uint64 {
	t.Helper()
	rows, err := db.Conn.Query(context.Background(), q, args...)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var out []uint64
	cols := rows.ColumnTypes()
	for rows.Next() {
		vals := make([]uint64, len(cols))
		ptrs := make([]any, len(cols))
		for i := range vals {
			ptrs[i] = &vals[i]
		}
		if err := rows.Scan(ptrs...); err != nil {
			t.Fatal(err)
		}
		out = append(out, vals...)
	}
	return out
}

func storedWatermark(t *testing.T, db *chtest.DB, source string) string {
	t.Helper()
	rows, err := db.Conn.Query(context.Background(), "SELECT argMax(watermark, version) FROM watermarks WHERE source = ? GROUP BY source", source)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	wm := ""
	for rows.Next() {
		_ = rows.Scan(&wm)
	}
	return wm
}

type storedReject struct{ Position, Field, Reason string }

func readRejects(t *testing.T, db *chtest.DB, source string) []storedReject {
	t.Helper()
	rows, err := db.Conn.Query(context.Background(), "SELECT position, field, reason FROM rejects FINAL WHERE source = ? ORDER BY position", source)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var out []storedReject
	for rows.Next() {
		var r storedReject
		if err := rows.Scan(&r.Position, &r.Field, &r.Reason); err != nil {
			t.Fatal(err)
		}
		out = append(out, r)
	}
	return out
}

var exampleA1 = activiteState{ID: "6f1c2a4e-8b0d-4c1e-9a55-0d2f6b7c1a01", Type: "individuel", Date: "2026-10-06", Accompagnements: 1,
	TypeLieu: "lieu_activite", StructureID: "9d8c7b6a-5f4e-4d3c-2b1a-0f9e8d7c6b5a", Total: 1,
	Cles: []string{"genres.feminin", "tranches_age.soixante_soixante_neuf", "statuts.retraite"}, Valeurs: []uint32{1, 1, 1}}
var exampleA2 = activiteState{ID: "6f1c2a4e-8b0d-4c1e-9a55-0d2f6b7c1a02", Type: "collectif", Date: "2026-10-08", Accompagnements: 6,
	TypeLieu: "autre", Insee: "69243", Total: 6,
	Cles: []string{"genres.feminin", "genres.masculin", "tranches_age.quarante_cinquante_neuf", "tranches_age.soixante_dix_plus",
		"tranches_age.soixante_soixante_neuf", "statuts.retraite", "statuts.sans_emploi"}, Valeurs: []uint32{4, 2, 1, 2, 3, 5, 1}}
var exampleA3 = activiteState{ID: "act-0003-supprimee", Deleted: 1, Type: "demarche_administrative", Date: "2026-10-10", Accompagnements: 1,
	TypeLieu: "domicile", Insee: "69266", Total: 1,
	Cles: []string{"genres.masculin", "tranches_age.soixante_dix_plus", "statuts.retraite"}, Valeurs: []uint32{1, 1, 1}}

// TestActivitesFileReplayUpdateDelete: the fixture lands (3 rows, 6 rejects with their reasons); the
// same file again changes nothing; a later export replaces a modified activity and flags a deleted one.
func TestActivitesFileReplayUpdateDelete(t *testing.T) {
	db := chtest.Migrated(t)
	now := time.Date(2026, 11, 2, 10, 0, 0, 0, time.UTC)
	in := ingest.Input{Location: "testdata/activites/melange.json"}
	sum, err := runSource(t, db, NewActivites(), in, now)
	if err != nil {
		t.Fatal(err)
	}
	// 9 elements: 3 valid, 6 rejected; a file import does not move the watermark.
	if sum.Read != 9 || sum.Written != 3 || sum.Rejected != 6 || sum.Status != ingest.StatusPartial || sum.Watermark != "" {
		t.Fatalf("bilan %+v", sum)
	}
	want := []activiteState{exampleA1, exampleA2, exampleA3}
	if got := readActivites(t, db); !reflect.DeepEqual(got, want) {
		t.Fatalf("activités :\n%+v\nattendu :\n%+v", got, want)
	}
	wantRejects := []storedReject{
		{"act-0004-type-inconnu", "type", "valeur non autorisée (valeurs admises : individuel, demarche_administrative, collectif)"},
		{"act-0005-sans-structure", "structure_id", "structure_id est obligatoire quand type_lieu vaut lieu_activite"},
		{"act-0006-insee-court", "lieu_code_insee", "code INSEE invalide (5 caractères, par exemple 69123 ou 2A004)"},
		{"act-0007-date-impossible", "date", "date « 2026-02-30 » invalide ou hors de la plage admise (AAAA-MM-JJ, du 2000-01-01 à l'ingestion + 1 jour)"},
		{"act-0008-negatif", "accompagnements", "valeur inférieure au minimum 0"},
		{"élément 9", "", "type incorrect : objet attendu, nombre reçu"},
	}
	if got := readRejects(t, db, "activites"); !reflect.DeepEqual(got, wantRejects) {
		t.Fatalf("rejets :\n%v\nattendu :\n%v", got, wantRejects)
	}

	// Replay: same rows, same rejects, nothing doubled once deduplicated.
	if _, err := runSource(t, db, NewActivites(), in, now.Add(time.Hour)); err != nil {
		t.Fatal(err)
	}
	if got := readActivites(t, db); !reflect.DeepEqual(got, want) {
		t.Fatalf("après rejeu :\n%+v", got)
	}
	if n := queryInts(t, db, "SELECT count() FROM (SELECT id FROM activites FINAL)"); n[0] != 3 {
		t.Fatalf("%d lignes après FINAL, attendu 3", n[0])
	}

	// Later export: A2 modified (6 → 8 accompagnements), A1 deleted (flagged, not removed).
	if _, err := runSource(t, db, NewActivites(), ingest.Input{Location: "testdata/activites/mise-a-jour.json"}, now.Add(2*time.Hour)); err != nil {
		t.Fatal(err)
	}
	a1, a2 := exampleA1, exampleA2
	a1.Deleted = 1
	a2.Accompagnements, a2.Total = 8, 8
	if got := readActivites(t, db); !reflect.DeepEqual(got, []activiteState{a1, a2, exampleA3}) {
		t.Fatalf("après mise à jour :\n%+v", got)
	}
	// Replaying the OLD file after the update must not bring the old version back.
	if _, err := runSource(t, db, NewActivites(), in, now.Add(3*time.Hour)); err != nil {
		t.Fatal(err)
	}
	if got := readActivites(t, db); !reflect.DeepEqual(got, []activiteState{a1, a2, exampleA3}) {
		t.Fatalf("l'ancien fichier a écrasé la mise à jour :\n%+v", got)
	}
}

// fakeCoop serves resources like the Coop API v1: bearer token, page[size], cursor pagination with
// links.next.href, filter[modification][depuis].
type fakeCoop struct {
	t         *testing.T
	resource  string
	resources []json.RawMessage // ordered by modification
	fail5xx   atomic.Int32      // answer 503 to that many requests first
	badPage   int               // 1-based page answered with broken JSON, 0 = none
	mu        sync.Mutex
	requests  []url.Values
	auths     []string
}

func (f *fakeCoop) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	f.mu.Lock()
	f.requests = append(f.requests, r.URL.Query())
	f.auths = append(f.auths, r.Header.Get("Authorization"))
	f.mu.Unlock()
	if r.URL.Path != "/api/v1/"+f.resource {
		http.NotFound(w, r)
		return
	}
	if r.Header.Get("Authorization") != "Bearer "+testToken {
		w.WriteHeader(http.StatusUnauthorized)
		fmt.Fprint(w, `{"errors":[{"status":"401","title":"Unauthorized"}]}`)
		return
	}
	if f.fail5xx.Load() > 0 {
		f.fail5xx.Add(-1)
		w.WriteHeader(http.StatusServiceUnavailable)
		return
	}
	q := r.URL.Query()
	size, _ := strconv.Atoi(q.Get("page[size]"))
	if size < 1 || size > 500 {
		w.WriteHeader(http.StatusBadRequest)
		return
	}
	since := q.Get("filter[modification][depuis]")
	var sel []json.RawMessage
	for _, res := range f.resources {
		var v struct {
			Attributes struct{ Modification string } `json:"attributes"`
		}
		_ = json.Unmarshal(res, &v)
		if since == "" || v.Attributes.Modification >= since {
			sel = append(sel, res)
		}
	}
	after, _ := strconv.Atoi(q.Get("page[after]"))
	page := after/size + 1
	if page == f.badPage {
		fmt.Fprint(w, `{"data":[{"type":"activite","id":"x",}]}`)
		return
	}
	end := min(after+size, len(sel))
	body := map[string]any{"data": sel[after:end], "meta": map[string]any{"total_count": len(sel)}}
	if end < len(sel) {
		nq := url.Values{"page[size]": {strconv.Itoa(size)}, "page[after]": {strconv.Itoa(end)}}
		if since != "" {
			nq.Set("filter[modification][depuis]", since)
		}
		// Absolute href on the same host, like the real API.
		body["links"] = map[string]any{"next": map[string]string{"href": "http://" + r.Host + r.URL.Path + "?" + nq.Encode()}}
	} else {
		body["links"] = map[string]any{"next": nil}
	}
	_ = json.NewEncoder(w).Encode(body)
}

func generatedResources(t *testing.T, n int) []json.RawMessage {
	var buf bytes.Buffer
	if err := writeGeneratedActivities(&buf, n); err != nil {
		t.Fatal(err)
	}
	var out []json.RawMessage
	if _, err := readCoopPage(&buf, func(raw json.RawMessage) error {
		out = append(out, append(json.RawMessage(nil), raw...))
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	return out
}

func newCoopServer(t *testing.T, f *fakeCoop) *httptest.Server {
	f.t = t
	srv := httptest.NewServer(f)
	t.Cleanup(srv.Close)
	return srv
}

func testActivites() *coopCollector {
	c := newActivites()
	c.fetch.retry = fastHTTPRetry
	return c
}

// TestActivitesAPIPaginationWatermark: 7 activities served 2 per page (4 pages) land whole; the bearer
// token is sent on every page; the newest modification becomes the watermark, and the next run sends it
// as filter[modification][depuis] and gets only what changed.
func TestActivitesAPIPaginationWatermark(t *testing.T) {
	db := chtest.Migrated(t)
	res := generatedResources(t, 7)
	f := &fakeCoop{resource: "activites", resources: res}
	srv := newCoopServer(t, f)
	now := time.Date(2026, 11, 2, 10, 0, 0, 0, time.UTC)
	in := ingest.Input{Location: srv.URL, Options: map[string]string{"token": testToken, "page_size": "2"}}
	sum, err := runSource(t, db, testActivites(), in, now)
	if err != nil {
		t.Fatal(err)
	}
	// Generated record i has modification 2025-01-01T08:00 + i*640/7 days + i seconds: the newest is
	// i = 6, 548 days later.
	wantWM := "2026-07-03T08:00:06.000Z"
	if sum.Read != 7 || sum.Written != 7 || sum.Watermark != wantWM || storedWatermark(t, db, "activites") != wantWM {
		t.Fatalf("bilan %+v, filigrane stocké %q", sum, storedWatermark(t, db, "activites"))
	}
	if len(f.requests) != 4 {
		t.Fatalf("%d requêtes, attendu 4 pages", len(f.requests))
	}
	for i, a := range f.auths {
		if a != "Bearer "+testToken {
			t.Errorf("requête %d sans le jeton : %q", i, a)
		}
	}
	if f.requests[0].Get("filter[modification][depuis]") != "" || f.requests[0].Get("page[size]") != "2" {
		t.Errorf("première requête %v", f.requests[0])
	}
	// Sum of accompagnements: i = 2 and 5 are collectif with 2 + i%9 = 4 and 7; the 5 others count 1.
	if got := queryInts(t, db, "SELECT sum(a) FROM (SELECT argMax(accompagnements, version) AS a FROM activites GROUP BY id)"); got[0] != 4+7+5 {
		t.Errorf("somme des accompagnements %d, attendu 16", got[0])
	}

	// Upstream: activity 3 is deleted after the watermark.
	var v map[string]any
	_ = json.Unmarshal(res[3], &v)
	attrs := v["attributes"].(map[string]any)
	attrs["suppression"], attrs["modification"] = "2026-08-01T00:00:00.000Z", "2026-08-01T00:00:00.000Z"
	b, _ := json.Marshal(v)
	f.resources = append(f.resources[:3:3], append(f.resources[4:], b)...)
	f.requests = nil
	sum, err = runSource(t, db, testActivites(), in, now.Add(time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	if got := f.requests[0].Get("filter[modification][depuis]"); got != wantWM {
		t.Fatalf("filtre envoyé %q, attendu le filigrane %q", got, wantWM)
	}
	// Since the watermark (inclusive): record 6 again and the deleted record 3.
	if sum.Read != 2 || storedWatermark(t, db, "activites") != "2026-08-01T00:00:00.000Z" {
		t.Fatalf("bilan %+v, filigrane %q", sum, storedWatermark(t, db, "activites"))
	}
	if got := queryInts(t, db, "SELECT count(), sum(d) FROM (SELECT argMax(deleted, version) AS d FROM activites GROUP BY id)"); got[0] != 7 || got[1] != 1 {
		t.Errorf("activités %d dont supprimées %d, attendu 7 dont 1", got[0], got[1])
	}
}

// TestActivitesAPIRetry5xx: two 503 answers, then success: the run succeeds with every row.
func TestActivitesAPIRetry5xx(t *testing.T) {
	db := chtest.Migrated(t)
	f := &fakeCoop{resource: "activites", resources: generatedResources(t, 5)}
	f.fail5xx.Store(2)
	srv := newCoopServer(t, f)
	sum, err := runSource(t, db, testActivites(), ingest.Input{Location: srv.URL + "/", Options: map[string]string{"token": testToken, "page_size": "2"}}, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	// 2 refused + 3 pages of 2, 2, 1.
	if sum.Written != 5 || len(f.requests) != 5 {
		t.Fatalf("bilan %+v, %d requêtes", sum, len(f.requests))
	}
}

// TestActivitesAPIUnauthorized: a refused token fails at once (no retry), in French, naming the source,
// without the token anywhere (error, ingestion_runs).
func TestActivitesAPIUnauthorized(t *testing.T) {
	db := chtest.Migrated(t)
	f := &fakeCoop{resource: "activites", resources: generatedResources(t, 3)}
	srv := newCoopServer(t, f)
	wrong := "id-42:mauvais-secret-QWERTY"
	dir := t.TempDir()
	tokFile := filepath.Join(dir, "jeton")
	if err := os.WriteFile(tokFile, []byte(wrong+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	t.Setenv("FNE_COOP_TOKEN_FILE", tokFile)
	sum, err := runSource(t, db, testActivites(), ingest.Input{Location: srv.URL}, time.Now())
	if err == nil {
		t.Fatal("la run aurait dû échouer")
	}
	msg := err.Error()
	if !strings.Contains(msg, "la Coop de la médiation numérique a refusé le jeton d'accès (HTTP 401") || strings.Contains(msg, "QWERTY") {
		t.Fatalf("message %q", msg)
	}
	if len(f.requests) != 1 || f.auths[0] != "Bearer "+wrong {
		t.Fatalf("%d requêtes (attendu 1, sans nouvel essai), jeton lu du fichier : %q", len(f.requests), f.auths)
	}
	if sum.Status != ingest.StatusFailed {
		t.Errorf("statut %s", sum.Status)
	}
	if got := queryInts(t, db, "SELECT countIf(position(error, 'QWERTY') > 0), countIf(status = 'echec') FROM ingestion_runs FINAL"); got[0] != 0 || got[1] != 1 {
		t.Errorf("ingestion_runs : %v", got)
	}
}

// TestActivitesAPIMalformedPage: page 2 of 3 is broken JSON: the run fails naming the page, the rows of
// page 1 may have landed, but the watermark stays where it was, so the next run asks again.
func TestActivitesAPIMalformedPage(t *testing.T) {
	db := chtest.Migrated(t)
	f := &fakeCoop{resource: "activites", resources: generatedResources(t, 6), badPage: 2}
	srv := newCoopServer(t, f)
	in := ingest.Input{Location: srv.URL, Options: map[string]string{"token": testToken, "page_size": "2"}}
	_, err := runSource(t, db, testActivites(), in, time.Now())
	// Named by its rank: query values never appear in a message (they may hold credentials).
	if err == nil || !strings.Contains(err.Error(), "activites : page 2 (") || strings.Contains(err.Error(), "after%5D=2") || !strings.Contains(err.Error(), "JSON invalide") {
		t.Fatalf("erreur %v", err)
	}
	if wm := storedWatermark(t, db, "activites"); wm != "" {
		t.Fatalf("filigrane avancé malgré l'échec : %q", wm)
	}
	// Repaired upstream: the next run starts from the beginning (no watermark) and gets all 6.
	f.badPage = 0
	f.requests = nil
	sum, err := runSource(t, db, testActivites(), in, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	if f.requests[0].Get("filter[modification][depuis]") != "" || sum.Written != 6 {
		t.Fatalf("reprise : %+v %v", sum, f.requests[0])
	}
	if got := queryInts(t, db, "SELECT uniqExact(id) FROM activites"); got[0] != 6 {
		t.Errorf("%d activités, attendu 6", got[0])
	}
}

// TestStructuresFileAndAPI: the file fixture lands; the API form reads the same resource.
func TestStructuresFileAndAPI(t *testing.T) {
	db := chtest.Migrated(t)
	now := time.Date(2026, 11, 2, 10, 0, 0, 0, time.UTC)
	sum, err := runSource(t, db, NewStructures(), ingest.Input{Location: "testdata/structures/structures.json"}, now)
	if err != nil {
		t.Fatal(err)
	}
	if sum.Read != 4 || sum.Written != 2 || sum.Rejected != 2 {
		t.Fatalf("bilan %+v", sum)
	}
	rows, err := db.Conn.Query(context.Background(), "SELECT id, argMax(deleted, version), argMax(code_insee, version), argMax(nom, version) FROM structures GROUP BY id ORDER BY id")
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for rows.Next() {
		var id, insee, nom string
		var del uint8
		_ = rows.Scan(&id, &del, &insee, &nom)
		got = append(got, fmt.Sprintf("%s|%d|%s|%s", id, del, insee, nom))
	}
	rows.Close()
	want := []string{"9d8c7b6a-5f4e-4d3c-2b1a-0f9e8d7c6b5a|0|69381|Médiathèque de Lyon 1er", "st-fermee|1|69243|Espace numérique fermé"}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("structures %v", got)
	}

	// API: one page of one structure, renamed upstream later.
	f := &fakeCoop{resource: "structures", resources: []json.RawMessage{json.RawMessage(
		`{"type":"structure","id":"st-fermee","attributes":{"nom":"Espace rouvert","code_insee":"69243","modification":"2026-11-01T00:00:00.000Z","suppression":null}}`)}}
	srv := newCoopServer(t, f)
	c := newStructures()
	c.fetch.retry = fastHTTPRetry
	t.Setenv("FNE_COOP_TOKEN", testToken)
	sum, err = runSource(t, db, c, ingest.Input{Location: srv.URL}, now)
	if err != nil {
		t.Fatal(err)
	}
	if f.requests[0].Get("page[size]") != "500" || sum.Watermark != "2026-11-01T00:00:00.000Z" {
		t.Fatalf("requête %v, bilan %+v", f.requests[0], sum)
	}
	if got := queryInts(t, db, "SELECT toUInt64(argMax(deleted, version)) FROM structures WHERE id = 'st-fermee'"); got[0] != 0 {
		t.Errorf("la structure rouverte est encore marquée supprimée")
	}
}
