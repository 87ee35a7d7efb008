//go:build integration

package sources

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/cenkalti/backoff/v4"

	"github.com/sdaasp-rhone/fne/collector/ingest"
	"github.com/sdaasp-rhone/fne/internal/chtest"
)

// oneActivite is one valid activity whose duration tells the ingestions apart.
func oneActivite(id, date, modification string, duree int) string {
	return fmt.Sprintf(`[{"type":"activite","id":%q,"attributes":{"type":"individuel","mediateur_id":"m1","accompagnements":1,
"date":%q,"duree":%d,"type_lieu":"a_distance","creation":%q,"modification":%q,"suppression":null,
"materiel":[],"thematiques":["email"],"beneficiaires":{"total":1}}}]`, id, date, duree, modification, modification)
}

func writeFile(t *testing.T, name, content string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

// TestTiesLaterIngestionWins: ten ingestions of the same records, same upstream modification, all
// within one second of the clock. The tenth must win before and after OPTIMIZE FINAL, for both version
// forms (upstream modification << 32 | ingestion, and ingestion version + line).
func TestTiesLaterIngestionWins(t *testing.T) {
	db := chtest.Migrated(t)
	ctx := context.Background()
	now := time.Date(2026, 11, 30, 6, 0, 0, 0, time.UTC)
	r := &ingest.Runner{Conn: db.Conn, Now: func() time.Time { return now }}
	var prev [2]uint64
	for i := 1; i <= 10; i++ {
		act := writeFile(t, "a.json", oneActivite("act-1", "2026-10-06", "2026-10-06T14:02:11.000Z", 10*i))
		if _, err := r.Run(ctx, NewActivites(), ingest.Input{Location: act}); err != nil {
			t.Fatal(err)
		}
		ren := writeFile(t, "r.csv", "id,date,type,titre,territoire,action,format\n"+
			fmt.Sprintf("r1,2026-10-06,comite_technique,version %d,dep:69,1.2,presentiel\n", i))
		if _, err := r.Run(ctx, NewRencontres(), ingest.Input{Location: ren}); err != nil {
			t.Fatal(err)
		}
		// Never a tie: each ingestion's version is above the previous one's (merges may already have
		// dropped the older rows, so compare the maximum after each run).
		for k, tbl := range []string{"activites", "rencontres"} {
			var v uint64
			if err := db.Conn.QueryRow(ctx, "SELECT max(version) FROM "+tbl).Scan(&v); err != nil {
				t.Fatal(err)
			}
			if v <= prev[k] {
				t.Errorf("ingestion %d: %s version %d not above the previous %d", i, tbl, v, prev[k])
			}
			prev[k] = v
		}
	}
	check := func(when string) {
		var duree uint32
		var titre string
		if err := db.Conn.QueryRow(ctx, "SELECT argMax(duree, version) FROM activites").Scan(&duree); err != nil {
			t.Fatal(err)
		}
		if err := db.Conn.QueryRow(ctx, "SELECT argMax(titre, version) FROM rencontres").Scan(&titre); err != nil {
			t.Fatal(err)
		}
		// The tenth ingestion wrote duree 10*10 = 100 and « version 10 ».
		if duree != 100 || titre != "version 10" {
			t.Errorf("%s: duree %d, titre %q; want 100 and « version 10 » (the last ingestion)", when, duree, titre)
		}
	}
	check("before merges")
	for _, tbl := range []string{"activites", "rencontres"} {
		if err := db.Conn.Exec(ctx, "OPTIMIZE TABLE "+tbl+" FINAL"); err != nil {
			t.Fatal(err)
		}
	}
	check("after OPTIMIZE FINAL")
	var duree uint32
	var n uint64
	if err := db.Conn.QueryRow(ctx, "SELECT any(duree), count() FROM activites FINAL").Scan(&duree, &n); err != nil {
		t.Fatal(err)
	}
	if duree != 100 || n != 1 {
		t.Errorf("FINAL: duree %d over %d rows, want 100 over 1", duree, n)
	}
}

// runAt runs c on in with the clock stopped at now, without retries.
func runAt(t *testing.T, db *chtest.DB, c ingest.Collector, in ingest.Input, now time.Time) ingest.Summary {
	t.Helper()
	r := &ingest.Runner{Conn: db.Conn, Now: func() time.Time { return now }, Retry: func() backoff.BackOff { return &backoff.StopBackOff{} }}
	sum, _ := r.Run(context.Background(), c, in)
	return sum
}

// TestDateRanges: every date outside its documented range is a reject naming the value and the range;
// nothing is wrapped (2200-01-01 was stored as 2020-07-27, 1900-01-01 as 2079-06-07) or clamped. The
// clock is 2026-11-30T06:00:00Z, so an observed fact may be dated up to 2026-12-01T06:00:00Z (+ 1 day).
func TestDateRanges(t *testing.T) {
	db, ref := chtest.WithReference(t)
	now := time.Date(2026, 11, 30, 6, 0, 0, 0, time.UTC)
	obs := "du 2000-01-01 au 2026-12-01 (date d'un fait observé : au plus un jour après l'ingestion)"
	plan := "du 2000-01-01 au 2099-12-31 (date prévue : jusqu'à fin 2099)"

	ren := writeFile(t, "r.csv", "id,date,type,titre,territoire,action,format\n"+
		"r1,2200-01-01,comite_technique,T,dep:69,1.2,presentiel\n"+
		"r2,1900-01-01,comite_technique,T,dep:69,1.2,presentiel\n"+
		"r3,2027-03-01,comite_technique,T,dep:69,1.2,presentiel\n") // planned: may lie ahead
	sum := runAt(t, db, NewRencontres(), ingest.Input{Location: ren}, now)
	ftCounts(t, sum, 3, 1, 2)
	_, reasons := ftRejects(t, db, sum.ID)
	if want := "date « 2200-01-01 » hors de la plage admise, " + plan; reasons["ligne 2"] != want {
		t.Errorf("rencontres ligne 2 : %q, attendu %q", reasons["ligne 2"], want)
	}
	if want := "date « 1900-01-01 » hors de la plage admise, " + plan; reasons["ligne 3"] != want {
		t.Errorf("rencontres ligne 3 : %q", reasons["ligne 3"])
	}
	ftEqual(t, "rencontre planifiée", ftQuery(t, db, "SELECT id, toString(date) FROM rencontres"), []string{"r3|2027-03-01"})

	jal := writeFile(t, "j.csv", "action,jalon,libelle,statut,date_prevue,date_realisee\n"+
		"1.1,a,A,realise,2030-01-01,2026-12-01\n"+ // due ahead, reached within the day of slack
		"1.1,b,B,realise,2026-10-01,2026-12-02\n"+ // reached « after tomorrow »
		"1.1,c,C,a_lancer,2100-01-01,\n")
	sum = runAt(t, db, NewJalons(), ingest.Input{Location: jal}, now)
	ftCounts(t, sum, 3, 1, 2)
	_, reasons = ftRejects(t, db, sum.ID)
	if want := "date_realisee « 2026-12-02 » hors de la plage admise, " + obs; reasons["ligne 3"] != want {
		t.Errorf("jalons ligne 3 : %q, attendu %q", reasons["ligne 3"], want)
	}
	if want := "date_prevue « 2100-01-01 » hors de la plage admise, " + plan; reasons["ligne 4"] != want {
		t.Errorf("jalons ligne 4 : %q", reasons["ligne 4"])
	}

	equ := writeFile(t, "e.csv", "periode,territoire,indicateur,valeur\n"+
		"2026-11,com:69243,pc_dons,3\n"+
		"2027-01,com:69243,pc_dons,4\n"+
		"1999-12,com:69243,pc_dons,5\n")
	sum = runAt(t, db, NewEquipements(), ingest.Input{Location: equ}, now)
	ftCounts(t, sum, 3, 1, 2)
	_, reasons = ftRejects(t, db, sum.ID)
	if want := "periode « 2027-01-01 » hors de la plage admise, " + obs; reasons["ligne 3"] != want {
		t.Errorf("equipements ligne 3 : %q", reasons["ligne 3"])
	}

	lie := writeFile(t, "l.csv", "id,pivot,nom,commune,code_postal,code_insee,adresse,date_maj\n"+
		"L1,1,Lieu,Tarare,69170,69243,1 rue,2107-01-01\n"+
		"L2,1,Lieu,Tarare,69170,69243,1 rue,2026-06-12\n")
	sum = runAt(t, db, NewLieux(), ingest.Input{Location: lie, Reference: ref}, now)
	ftCounts(t, sum, 2, 1, 1)
	_, reasons = ftRejects(t, db, sum.ID)
	if want := "date_maj « 2107-01-01 » hors de la plage admise, " + obs; reasons["ligne 2"] != want {
		t.Errorf("lieux ligne 2 : %q", reasons["ligne 2"])
	}
	// The accepted place's version: date_maj 2026-06-12 = 1781222400 s in the high half, the run's
	// ingestion time in the low half (the clock, 2026-11-30T06:00:00Z = 1796018400, or later).
	var v uint64
	if err := db.Conn.QueryRow(context.Background(), "SELECT version FROM lieux WHERE id = 'L2'").Scan(&v); err != nil {
		t.Fatal(err)
	}
	if v>>32 != 1781222400 || v&(1<<32-1) < 1796018400 {
		t.Errorf("version lieu L2 = %d<<32|%d", v>>32, v&(1<<32-1))
	}
}

// TestFutureCoopRecords: a Coop record modified in 2099, or an activity dated in 2099, is rejected
// with its value; the watermark never passes the start of the fetch (the clock, 2026-11-30T06:00:00Z),
// even for a record stamped a few hours ahead (accepted: within the day of slack).
func TestFutureCoopRecords(t *testing.T) {
	db := chtest.Migrated(t)
	now := time.Date(2026, 11, 30, 6, 0, 0, 0, time.UTC)
	page := "[" + strings.Trim(oneActivite("a-2099", "2026-10-06", "2099-01-01T00:00:00.000Z", 30), "[]") + "," +
		strings.Trim(oneActivite("a-date", "2099-06-01", "2026-10-06T14:02:11.000Z", 30), "[]") + "," +
		strings.Trim(oneActivite("a-soon", "2026-11-30", "2026-11-30T09:00:00.000Z", 30), "[]") + "]"
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprintf(w, `{"data":%s,"links":{"next":null}}`, page)
	}))
	defer srv.Close()
	sum := runAt(t, db, NewActivites(), ingest.Input{Location: srv.URL, Options: map[string]string{"token": "t"}}, now)
	ftCounts(t, sum, 3, 1, 2)
	_, reasons := ftRejects(t, db, sum.ID)
	obs := "hors de la plage admise, du 2000-01-01T00:00:00Z au 2026-12-01T06:00:00Z (date d'un fait observé : au plus un jour après l'ingestion)"
	if want := "modification « 2099-01-01T00:00:00Z » " + obs; reasons["a-2099"] != want {
		t.Errorf("a-2099 : %q, attendu %q", reasons["a-2099"], want)
	}
	if want := "date « 2099-06-01 » hors de la plage admise, du 2000-01-01 au 2026-12-01 (date d'un fait observé : au plus un jour après l'ingestion)"; reasons["a-date"] != want {
		t.Errorf("a-date : %q, attendu %q", reasons["a-date"], want)
	}
	// a-soon (09:00, three hours ahead) is written, but the watermark stops at the fetch start, 06:00.
	if sum.Watermark != "2026-11-30T06:00:00.000Z" {
		t.Errorf("filigrane %q, attendu 2026-11-30T06:00:00.000Z", sum.Watermark)
	}
}

// TestConsultationsSharedReader: consultations read through the shared table reader: ";" detected, an
// extra cell is a reject (with its raw line, in French), a stray quote costs one line.
func TestConsultationsSharedReader(t *testing.T) {
	db := chtest.Migrated(t)
	now := time.Date(2026, 11, 30, 6, 0, 0, 0, time.UTC)
	p := writeFile(t, "c.csv", "date;lieu_id;consultations\n"+
		"2026-10-01;a1;3\n"+
		"2026-10-02;a2;4;en trop\n"+
		"2026-10-03;\"a3;5\n"+
		"2026-10-04;a4;6\n")
	sum := runAt(t, db, NewConsultations(), ingest.Input{Location: p}, now)
	// 4 rows read: lines 2 and 5 written (3 + 6 = 9 consultations), lines 3 and 4 rejected.
	ftCounts(t, sum, 4, 2, 2)
	ftEqual(t, "consultations", ftQuery(t, db, "SELECT toString(sum(consultations)), toString(count()) FROM consultations"), []string{"9|2"})
	got := ftQuery(t, db, "SELECT position, reason, raw FROM rejects WHERE run_id = ? ORDER BY position", sum.ID)
	ftEqual(t, "rejets", got, []string{
		"ligne 3|4 cellule(s) au lieu des 3 colonnes de l'en-tête (séparateur « ; »)|2026-10-02;a2;4;en trop",
		"ligne 4|guillemet « \" » ouvert au caractère 12 de la ligne 4 et jamais fermé : ligne rejetée seule, les suivantes sont lues|2026-10-03;\"a3;5",
	})
}

// TestEncodings: the same place, written by French Excel (Windows-1252), by a UTF-16 tool (BOM) and
// in UTF-8 with a BOM, is stored as the same UTF-8 text and its accented commune « Ambérieux » is found
// (69005); the summary says what was converted. JSON with a UTF-8 BOM is accepted.
func TestEncodings(t *testing.T) {
	db, ref := chtest.WithReference(t)
	now := time.Date(2026, 11, 30, 6, 0, 0, 0, time.UTC)
	text := "id,pivot,nom,commune,code_postal,adresse,date_maj\nL1,1,Médiathèque,Ambérieux,69480,1 rue,2026-06-12\n"
	cp1252 := strings.NewReplacer("é", "\xe9", "è", "\xe8").Replace(text)
	utf16 := []byte{0xFF, 0xFE}
	for _, r := range text {
		utf16 = append(utf16, byte(r), byte(r>>8)) // every character of text is in the BMP
	}
	cases := []struct {
		name, content, encoding, note string
	}{
		// é, è, é: three bytes that are not UTF-8, read as Windows-1252.
		{"cp1252.csv", cp1252, "", "encodage : fichier non UTF-8, 3 caractère(s) lu(s) en Windows-1252 (forcer avec --encoding)"},
		{"utf16.csv", string(utf16), "", "encodage UTF-16 décodé"},
		{"bom.csv", "\xef\xbb\xbf" + text, "", ""},
		{"force.csv", cp1252, "windows-1252", "encodage Windows-1252 (imposé par --encoding)"},
	}
	for _, c := range cases {
		p := writeFile(t, c.name, c.content)
		opts := map[string]string{}
		if c.encoding != "" {
			opts["encoding"] = c.encoding
		}
		sum := runAt(t, db, NewLieux(), ingest.Input{Location: p, Reference: ref, Options: opts}, now)
		ftCounts(t, sum, 1, 1, 0)
		note := strings.Join(sum.Notes, "; ")
		if note != c.note {
			t.Errorf("%s : note %q, attendu %q", c.name, note, c.note)
		}
		ftEqual(t, c.name, ftQuery(t, db, "SELECT argMax(nom, version), argMax(commune, version), argMax(code_insee, version) FROM lieux WHERE id = 'L1'"),
			[]string{"Médiathèque|Ambérieux|69005"})
	}
	// UTF-8 forced on a Windows-1252 file: the bytes become U+FFFD, the commune is not found.
	p := writeFile(t, "mauvais.csv", cp1252)
	sum := runAt(t, db, NewLieux(), ingest.Input{Location: p, Reference: ref, Options: map[string]string{"encoding": "utf-8"}}, now)
	ftCounts(t, sum, 1, 0, 1)
	if n := strings.Join(sum.Notes, ";"); n != "encodage UTF-8 imposé : 3 octet(s) invalide(s) remplacé(s) par « \uFFFD »" {
		t.Errorf("note %q", n)
	}
	js := writeFile(t, "a.json", "\xef\xbb\xbf"+oneActivite("act-bom", "2026-10-06", "2026-10-06T14:02:11.000Z", 5))
	sum = runAt(t, db, NewActivites(), ingest.Input{Location: js}, now)
	ftCounts(t, sum, 1, 1, 0)
}

// TestTruncatedFile: a JSON file that breaks in its sixth record. Before: batches of two sent (4 rows),
// the fifth record neither written nor rejected, the run « echec ». Now: the five records read before
// the break land, the unreadable rest is one reject at its byte offset, the run is « partiel », and
// read = written + rejected = 5 + 1.
func TestTruncatedFile(t *testing.T) {
	db := chtest.Migrated(t)
	var recs []string
	for i := 1; i <= 6; i++ {
		recs = append(recs, strings.Trim(oneActivite(fmt.Sprintf("a%d", i), "2026-10-06", "2026-10-06T14:02:11.000Z", i), "[]"))
	}
	whole := "[" + strings.Join(recs, ",") + "]"
	cut := strings.Index(whole, `"id":"a6"`) + 20 // inside the sixth record
	p := writeFile(t, "tronque.json", whole[:cut])
	r := &ingest.Runner{Conn: db.Conn, BatchSize: 2, Now: func() time.Time { return time.Date(2026, 11, 30, 6, 0, 0, 0, time.UTC) },
		Retry: func() backoff.BackOff { return &backoff.StopBackOff{} }}
	sum, err := r.Run(context.Background(), NewActivites(), ingest.Input{Location: p})
	if err != nil {
		t.Fatal(err)
	}
	ftCounts(t, sum, 6, 5, 1)
	if sum.Status != ingest.StatusPartial {
		t.Errorf("statut %s", sum.Status)
	}
	ftEqual(t, "activités", ftQuery(t, db, "SELECT toString(count()), toString(sum(duree)) FROM activites"), []string{"5|15"}) // 1+2+3+4+5
	got := ftQuery(t, db, "SELECT position, reason FROM rejects WHERE run_id = ?", sum.ID)
	// The unreadable rest starts with the sixth record (its opening brace).
	start := strings.Index(whole, `{"type":"activite","id":"a6"`)
	want := fmt.Sprintf("octet %d|reste du fichier illisible à partir de l'octet %d, après 5 enregistrement(s) importé(s) : fin du fichier au milieu d'un élément (fichier tronqué)", start, start)
	ftEqual(t, "rejet", got, []string{want})
}

// TestCrossOriginRedirect: a redirect to another origin (here another port) is an error and the other
// server never sees the Bearer token; a redirect within the origin is followed.
func TestCrossOriginRedirect(t *testing.T) {
	var seen []string
	other := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		seen = append(seen, r.Header.Get("Authorization"))
		fmt.Fprint(w, `{"data":[],"links":{"next":null}}`)
	}))
	defer other.Close()
	var api *httptest.Server
	api = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/ici" {
			fmt.Fprint(w, `{"data":[],"links":{"next":null}}`)
			return
		}
		if r.URL.Query().Get("cible") == "ici" {
			http.Redirect(w, r, api.URL+"/ici", http.StatusFound)
			return
		}
		http.Redirect(w, r, other.URL+"/vol", http.StatusFound)
	}))
	defer api.Close()
	f := newHTTPFetcher("la Coop")
	f.retry = fastHTTPRetry
	header := http.Header{"Authorization": {"Bearer " + testToken}}
	_, err := f.get(context.Background(), api.URL+"/api/v1/activites", header)
	if err == nil || !strings.Contains(err.Error(), "redirection vers une autre origine refusée") {
		t.Fatalf("redirection vers une autre origine : %v", err)
	}
	if len(seen) != 0 {
		t.Errorf("l'autre serveur a reçu %d requête(s) (%q)", len(seen), seen)
	}
	if body, err := f.get(context.Background(), api.URL+"/api/v1/activites?cible=ici", header); err != nil || !strings.Contains(string(body), `"data":[]`) {
		t.Errorf("redirection dans la même origine : %v", err)
	}
}
