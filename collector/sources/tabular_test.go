package sources

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/xuri/excelize/v2"
)

type ftSheet struct {
	Name string
	Rows [][]any
}

// ftWorkbook writes an .xlsx with the given sheets (in order) and returns its path.
func ftWorkbook(t testing.TB, sheets ...ftSheet) string {
	t.Helper()
	f := excelize.NewFile()
	defer f.Close()
	for i, s := range sheets {
		if i == 0 {
			if err := f.SetSheetName("Sheet1", s.Name); err != nil {
				t.Fatal(err)
			}
		} else if _, err := f.NewSheet(s.Name); err != nil {
			t.Fatal(err)
		}
		for r, row := range s.Rows {
			for c, v := range row {
				if v == nil {
					continue
				}
				cell, _ := excelize.CoordinatesToCellName(c+1, r+1)
				if err := f.SetCellValue(s.Name, cell, v); err != nil {
					t.Fatal(err)
				}
			}
		}
	}
	p := filepath.Join(t.TempDir(), "classeur.xlsx")
	if err := f.SaveAs(p); err != nil {
		t.Fatal(err)
	}
	return p
}

// ftExcelDate is a date cell: excelize stores it as a serial number with a date format.
func ftExcelDate(y int, m time.Month, d int) time.Time {
	return time.Date(y, m, d, 0, 0, 0, 0, time.UTC)
}

func ftAllRows(t *testing.T, tb *tabTable) []tabRow {
	t.Helper()
	var out []tabRow
	for {
		r, err := tb.Next()
		if errors.Is(err, io.EOF) {
			return out
		}
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, r)
	}
}

func TestCSVTable(t *testing.T) {
	in := "\ufeffId ; Nom;Valeurs\r\n" +
		"1;\"Dupont; Jean\";a|b| |c\r\n" +
		"\r\n" +
		";;\r\n" +
		"2;\"sur\ndeux lignes\";\r\n" +
		"3;\"guillemets \"\"doubles\"\"\";x\r\n" +
		"4;trop;de;cellules\r\n" +
		"5;\"non fermé"
	tb, err := newCSVTable(strings.NewReader(in))
	if err != nil {
		t.Fatal(err)
	}
	if strings.Join(tb.Header, ",") != "id,nom,valeurs" {
		t.Fatalf("en-tête %q (BOM, casse et espaces retirés, séparateur ;)", tb.Header)
	}
	rows := ftAllRows(t, tb)
	type exp struct{ pos, id, nom, width, raw string }
	want := []exp{
		{"ligne 2", "1", "Dupont; Jean", "", "1;\"Dupont; Jean\";a|b| |c"},
		// lines 3 and 4 are blank (layout, not records)
		{"ligne 5", "2", "sur\ndeux lignes", "", "2;\"sur\ndeux lignes\";"},
		{"ligne 7", "3", `guillemets "doubles"`, "", `3;"guillemets ""doubles""";x`},
		{"ligne 8", "4", "trop", "4 cellule(s) au lieu des 3 colonnes de l'en-tête (séparateur « ; »)", "4;trop;de;cellules"},
		// The quote opened at the 3rd character never closes: a reject of that line, no cells.
		{"ligne 9", "", "", "guillemet « \" » ouvert au caractère 3 de la ligne 9 et jamais fermé : ligne rejetée seule, les suivantes sont lues", "5;\"non fermé"},
	}
	if len(rows) != len(want) {
		t.Fatalf("%d lignes, attendu %d", len(rows), len(want))
	}
	for i, w := range want {
		r := rows[i]
		if r.Pos != w.pos || r.get("id") != w.id || r.get("nom") != w.nom || r.Width != w.width || r.Raw != w.raw {
			t.Errorf("ligne %d : %+v, attendu %+v", i, r, w)
		}
	}
	if got := strings.Join(rows[0].multi("valeurs"), "+"); got != "a+b+c" {
		t.Errorf("multi-valeurs %q", got)
	}
}

func TestCSVSeparators(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{"a,b,c;d\n1,2,3;4\n", "2"},
		{"a;b;c,d\n1;2;3,4\n", "2"},
		{"a\tb\n1\t2\n", "2"},
		{"a\n1\n", ""},
	} {
		tb, err := newCSVTable(strings.NewReader(tc.in))
		if err != nil {
			t.Fatal(err)
		}
		rows := ftAllRows(t, tb)
		if got := rows[0].get("b"); len(tb.Header) > 1 && got != tc.want {
			t.Errorf("%q : b = %q, attendu %q", tc.in, got, tc.want)
		}
	}
	if _, err := newCSVTable(strings.NewReader("\n\n")); err == nil || !strings.Contains(err.Error(), "fichier vide") {
		t.Errorf("fichier vide : %v", err)
	}
}

func TestXLSXTableSheetChoice(t *testing.T) {
	p := ftWorkbook(t,
		ftSheet{"Notes", [][]any{{"à lire"}}},
		ftSheet{"Rencontres", [][]any{
			{"id", "date", "personnes"},
			{"R1", ftExcelDate(2026, 3, 19), 2},
			{},
			{"R2", "2026-03-20", 1.5},
		}},
	)
	open := func(sheet, source string) (*tabTable, error) {
		b, err := readFile(p)
		if err != nil {
			t.Fatal(err)
		}
		return newXLSXTable(bytes.NewReader(b), sheet, source)
	}
	tb, err := open("", "rencontres")
	if err != nil {
		t.Fatal(err)
	}
	rows := ftAllRows(t, tb)
	if len(rows) != 2 || rows[0].Pos != "Rencontres!ligne 2" || rows[1].Pos != "Rencontres!ligne 4" {
		t.Fatalf("positions %+v", rows)
	}
	d, err := tabDate(rows[0].get("date"), true)
	if err != nil || d.Format("2006-01-02") != "2026-03-19" {
		t.Errorf("date Excel %q → %v %v", rows[0].get("date"), d, err)
	}
	if rows[1].get("personnes") != "1.5" || rows[1].Raw != "R2,2026-03-20,1.5" {
		t.Errorf("valeur brute %q, texte %q", rows[1].get("personnes"), rows[1].Raw)
	}
	if _, err := open("", "participations"); err == nil || !strings.Contains(err.Error(), "plusieurs feuilles et aucune ne s'appelle « participations »") {
		t.Errorf("feuille absente : %v", err)
	}
	if _, err := open("Bilan", "rencontres"); err == nil || !strings.Contains(err.Error(), "feuille « Bilan » absente du classeur (feuilles : Notes, Rencontres)") {
		t.Errorf("--sheet absente : %v", err)
	}
	if tb, err := open("notes", "rencontres"); err != nil || tb.Sheet != "Notes" {
		t.Errorf("--sheet notes : %v", err)
	}
	one := ftWorkbook(t, ftSheet{"Feuil1", [][]any{{"a"}, {"x"}}})
	b, _ := readFile(one)
	if tb, err := newXLSXTable(bytes.NewReader(b), "", "rencontres"); err != nil || tb.Sheet != "Feuil1" {
		t.Errorf("seule feuille : %v", err)
	}
	if _, err := newXLSXTable(strings.NewReader("PK\x03\x04 pas un zip"), "", "x"); err == nil || !strings.Contains(err.Error(), "classeur XLSX illisible") {
		t.Errorf("classeur abîmé : %v", err)
	}
}

func TestTabParsers(t *testing.T) {
	for _, tc := range []struct {
		in   string
		xlsx bool
		want string
	}{
		{"2026-03-19", false, "2026-03-19"},
		{"19/03/2026", false, "2026-03-19"},
		{"2026-03-19T23:30:00+02:00", false, "2026-03-19"},
		{"2026-03-19 10:00:00", false, "2026-03-19"},
		{"46100", true, "2026-03-19"},
		{"46100", false, "erreur"},
		{"2026-02-30", false, "erreur"},
		{"", false, "erreur"},
		{"mars 2026", false, "erreur"},
	} {
		d, err := tabDate(tc.in, tc.xlsx)
		got := d.Format("2006-01-02")
		if err != nil {
			got = "erreur"
		}
		if got != tc.want {
			t.Errorf("tabDate(%q, %v) = %s, attendu %s", tc.in, tc.xlsx, got, tc.want)
		}
	}
	for _, tc := range []struct {
		in   string
		want float64
		ok   bool
	}{
		{"12", 12, true}, {"3,5", 3.5, true}, {"1 200,25", 1200.25, true}, {"1\u202f200", 1200, true}, {"0.5", 0.5, true},
		{"1,2.3", 0, false}, {"1,2,3", 0, false}, {"NaN", 0, false}, {"Inf", 0, false}, {"0x10", 0, false}, {"", 0, false}, {"1e3", 1000, true},
	} {
		v, err := tabNumber(tc.in)
		if (err == nil) != tc.ok || v != tc.want {
			t.Errorf("tabNumber(%q) = %v, %v", tc.in, v, err)
		}
	}
	if m, err := tabMonth("2026-09", false); err != nil || m.Format("2006-01-02") != "2026-09-01" {
		t.Errorf("tabMonth : %v %v", m, err)
	}
	for _, bad := range []string{"2026-9", "2026/09", "2026-13", "2026-09-01"} {
		if _, err := tabMonth(bad, false); err == nil {
			t.Errorf("tabMonth(%q) accepté", bad)
		}
	}
}

func readFile(p string) ([]byte, error) { return os.ReadFile(p) }

// TestCSVStrayQuoteAndLongCell: a quote that never closes costs its own line only (it used to swallow
// every following row), and a cell longer than the record bound is one reject with the next row intact.
func TestCSVStrayQuoteAndLongCell(t *testing.T) {
	long := strings.Repeat("x", tabMaxRecord+10)
	in := "id,nom,valeurs\n" +
		"1,\"a,b\n" + // the quote at character 3 of line 2 never closes
		"2,c,d\n" +
		"3,\"sur\ndeux\",e\n" + // a legitimate cell over two lines (4 and 5)
		"4,\"" + long + "\",f\n" + // line 6: over 1 MiB
		"5,g,h\n"
	tb, err := newCSVTable(strings.NewReader(in))
	if err != nil {
		t.Fatal(err)
	}
	rows := ftAllRows(t, tb)
	got := []string{}
	for _, r := range rows {
		got = append(got, fmt.Sprintf("%s|%s|%s|%s", r.Pos, r.get("id"), r.get("nom"), r.Width))
	}
	want := []string{
		"ligne 2|||guillemet « \" » ouvert au caractère 3 de la ligne 2 et jamais fermé : ligne rejetée seule, les suivantes sont lues",
		"ligne 3|2|c|",
		"ligne 4|3|sur\ndeux|",
		"ligne 6|||ligne 6 de plus de 1 Mo (cellule trop longue) : rejetée seule, la suivante est lue",
		"ligne 7|5|g|",
	}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Fatalf("obtenu :\n%s\nattendu :\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	if rows[0].Raw != "1,\"a,b" {
		t.Errorf("texte brut du rejet : %q", rows[0].Raw)
	}
}
