//go:build integration

package sources

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/sdaasp-rhone/fne/collector/ingest"
	"github.com/sdaasp-rhone/fne/internal/chtest"
)

func readConsultations(t *testing.T, db *chtest.DB) []string {
	t.Helper()
	rows, err := db.Conn.Query(context.Background(),
		"SELECT toString(date), lieu_id, argMax(consultations, version) FROM consultations GROUP BY date, lieu_id ORDER BY date, lieu_id")
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var d, lieu string
		var n uint32
		if err := rows.Scan(&d, &lieu, &n); err != nil {
			t.Fatal(err)
		}
		out = append(out, fmt.Sprintf("%s %s %d", d, lieu, n))
	}
	return out
}

// TestConsultationsCSVIntoClickHouse: the example file lands; a corrected file replaces a figure; a
// duplicate (date, lieu) further down one file wins over the earlier line; bad lines are rejects.
func TestConsultationsCSVIntoClickHouse(t *testing.T) {
	db := chtest.Migrated(t)
	now := time.Date(2026, 11, 2, 10, 0, 0, 0, time.UTC)
	if _, err := runSource(t, db, NewConsultations(), ingest.Input{Location: "testdata/consultations/exemple.csv"}, now); err != nil {
		t.Fatal(err)
	}
	want := []string{"2026-10-01 a1f3c9e0-0001 14", "2026-10-01 a1f3c9e0-0002 3", "2026-10-02 a1f3c9e0-0001 9"}
	if got := readConsultations(t, db); !reflect.DeepEqual(got, want) {
		t.Fatalf("%v", got)
	}
	dir := t.TempDir()
	fix := filepath.Join(dir, "correction.csv")
	// 0001 on 10-01: 15 on line 2, then 16 on line 4 — the later line wins; line 3 is a reject.
	if err := os.WriteFile(fix, []byte("date,lieu_id,consultations\n2026-10-01,a1f3c9e0-0001,15\n2026-10-01,a1f3c9e0-0002,trois\n2026-10-01,a1f3c9e0-0001,16\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	sum, err := runSource(t, db, NewConsultations(), ingest.Input{Location: fix}, now.Add(time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	if sum.Read != 3 || sum.Written != 2 || sum.Rejected != 1 {
		t.Fatalf("bilan %+v", sum)
	}
	want[0] = "2026-10-01 a1f3c9e0-0001 16"
	if got := readConsultations(t, db); !reflect.DeepEqual(got, want) {
		t.Fatalf("après correction %v", got)
	}
	if got := readRejects(t, db, "consultations"); !reflect.DeepEqual(got, []storedReject{{"ligne 3", "consultations", "nombre entier positif ou nul attendu, pas « trois »"}}) {
		t.Fatalf("rejets %v", got)
	}
}

// fakeMatomo answers Actions.getPageUrls per day from a table of visits per URL.
type fakeMatomo struct {
	token string
	days  map[string]string // date → JSON body
	mu    sync.Mutex
	dates []string
	raw   []string
}

func (m *fakeMatomo) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	m.mu.Lock()
	m.dates = append(m.dates, q.Get("date"))
	m.raw = append(m.raw, r.URL.RawQuery)
	m.mu.Unlock()
	if r.URL.Path != "/index.php" || q.Get("module") != "API" || q.Get("method") != "Actions.getPageUrls" || q.Get("idSite") != "3" ||
		q.Get("period") != "day" || q.Get("format") != "JSON" || q.Get("flat") != "1" {
		w.WriteHeader(http.StatusBadRequest)
		return
	}
	if q.Get("token_auth") != m.token {
		// Matomo answers 200 with an error object when the token lacks access.
		fmt.Fprint(w, `{"result":"error","message":"You can't access this resource as it requires 'view' access for the website id = 3."}`)
		return
	}
	body, ok := m.days[q.Get("date")]
	if !ok {
		body = "[]"
	}
	fmt.Fprint(w, body)
}

// TestConsultationsMatomo: one request per day from `since` to yesterday; visits of a place's URLs add
// up per day; the watermark is the last day done; the next run re-fetches that day (late archiving)
// and its new figure replaces the old one; a refused token fails without showing it.
func TestConsultationsMatomo(t *testing.T) {
	db := chtest.Migrated(t)
	const tok = "matomo-tok-7f3a9c"
	m := &fakeMatomo{token: tok, days: map[string]string{
		"2026-10-29": `[{"label":"/lieux/L1","url":"https://carte.example/lieux/L1","nb_visits":4},{"label":"/lieux/L1?x=1","url":"https://carte.example/lieux/L1?x=1","nb_visits":1},{"label":"/","url":"https://carte.example/","nb_visits":50}]`,
		"2026-10-31": `[{"label":"/lieux/L2","url":"https://carte.example/lieux/L2","nb_visits":2}]`,
	}}
	srv := httptest.NewServer(m)
	defer srv.Close()
	c := newConsultations()
	c.fetch.retry = fastHTTPRetry
	now := time.Date(2026, 11, 1, 3, 0, 0, 0, time.UTC) // today 2026-11-01: not asked (partial day)
	in := ingest.Input{Location: srv.URL + "/index.php", Options: map[string]string{"site_id": "3", "token": tok, "since": "2026-10-29"}}
	sum, err := runSource(t, db, c, in, now)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(m.dates, []string{"2026-10-29", "2026-10-30", "2026-10-31"}) {
		t.Fatalf("jours demandés %v", m.dates)
	}
	if !strings.Contains(m.raw[0], "filter_limit=-1") {
		t.Errorf("filter_limit=-1 absent : %s", m.raw[0])
	}
	// L1 on 10-29: 4 + 1 = 5; L2 on 10-31: 2; the home page is not a place.
	want := []string{"2026-10-29 L1 5", "2026-10-31 L2 2"}
	if got := readConsultations(t, db); !reflect.DeepEqual(got, want) {
		t.Fatalf("%v", got)
	}
	if sum.Watermark != "2026-10-31" {
		t.Fatalf("filigrane %q", sum.Watermark)
	}

	// Next day: 10-31 archived late (2 → 6), 11-01 now complete.
	m.days["2026-10-31"] = `[{"label":"/lieux/L2","url":"https://carte.example/lieux/L2","nb_visits":6}]`
	m.days["2026-11-01"] = `[{"label":"/lieux/L1","url":"https://carte.example/lieux/L1","nb_visits":1}]`
	m.dates = nil
	if _, err := runSource(t, db, c, in, now.Add(24*time.Hour)); err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(m.dates, []string{"2026-10-31", "2026-11-01"}) {
		t.Fatalf("jours demandés %v", m.dates)
	}
	want = []string{"2026-10-29 L1 5", "2026-10-31 L2 6", "2026-11-01 L1 1"}
	if got := readConsultations(t, db); !reflect.DeepEqual(got, want) {
		t.Fatalf("%v", got)
	}
	if wm := storedWatermark(t, db, "consultations"); wm != "2026-11-01" {
		t.Fatalf("filigrane %q", wm)
	}

	// Wrong token: the run fails, the error names Matomo, never the token.
	bad := ingest.Input{Location: srv.URL + "/", Options: map[string]string{"site_id": "3", "token": "faux-" + tok}}
	_, err = runSource(t, db, c, bad, now.Add(48*time.Hour))
	if err == nil || !strings.Contains(err.Error(), "Matomo a refusé le jeton d'accès") || strings.Contains(err.Error(), tok) {
		t.Fatalf("erreur %v", err)
	}
	if got := queryInts(t, db, "SELECT countIf(position(error, ?) > 0) + countIf(position(input, ?) > 0) FROM ingestion_runs", tok, tok); got[0] != 0 {
		t.Errorf("le jeton apparaît dans ingestion_runs")
	}
	if u, _ := url.Parse(ingest.RedactURL(srv.URL + "/index.php?token_auth=" + tok)); u.Query().Get("token_auth") != "***" {
		t.Errorf("RedactURL ne masque pas token_auth")
	}
}
