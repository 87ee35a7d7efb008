package sources

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"path/filepath"
	"regexp"
	"strings"

	"gopkg.in/yaml.v3"

	"github.com/sdaasp-rhone/fne/collector/ingest"
)

// Milestone statuses of docs/regles.md « Sources ».
var jalonStatuts = []string{"a_lancer", "en_cours", "realise", "abandonne"}

var jalonColumns = []string{"action", "jalon", "libelle", "statut", "date_prevue", "date_realisee"}

type jalons struct{}

// NewJalons reads the roadmap milestones (YAML list or CSV/XLSX, docs/regles.md « Sources »).
func NewJalons() ingest.Collector { return jalons{} }

func (jalons) Name() string { return "jalons" }
func (jalons) Description() string {
	return "jalons de la feuille de route (YAML ou CSV : action, jalon, libelle, statut, date_prevue, date_realisee)"
}

// Collect writes one row per (action, jalon): the later file, and within a file the later entry, wins.
func (c jalons) Collect(ctx context.Context, in ingest.Input, sink *ingest.Sink) error {
	w := sink.Writer("jalons", "action", "jalon", "version", "deleted", "libelle", "statut", "date_prevue", "date_realisee")
	parse := func(r tabRow) ([]any, string, string) { return parseJalon(r, in.IngestVersion) }
	ext := strings.ToLower(filepath.Ext(strings.SplitN(in.Location, "?", 2)[0]))
	if in.Option("format", "") == "yaml" || ext == ".yaml" || ext == ".yml" {
		rc, err := tabOpen(ctx, in)
		if err != nil {
			return err
		}
		defer rc.Close()
		br, dec, err := decodeText(bufio.NewReader(rc), in.Option("encoding", ""))
		if err != nil {
			return err
		}
		t, err := newYAMLTable(br)
		if err != nil {
			return fmt.Errorf("%s : %w", ingest.RedactURL(in.Location), err)
		}
		t.Now, t.note = in.Now, dec.note
		return tabEach(ctx, t, sink, w, parse)
	}
	return tabCollect(ctx, in, sink, c.Name(), []string{"action", "jalon", "statut"}, w, parse)
}

// newYAMLTable turns a YAML list of mappings into table rows ("ligne N" is the line of the entry), so
// that YAML and CSV milestones go through the same checks.
func newYAMLTable(r io.Reader) (t *tabTable, err error) {
	defer func() {
		if p := recover(); p != nil {
			t, err = nil, ingest.InvalidInput("YAML illisible")
		}
	}()
	var doc yaml.Node
	if err := yaml.NewDecoder(r).Decode(&doc); err != nil {
		if err == io.EOF {
			return nil, ingest.InvalidInput("fichier YAML vide")
		}
		return nil, &frError{msg: ingest.InvalidInput("YAML illisible : %s", yamlErrFR(err)).Error(), err: errors.Join(ingest.ErrInvalidInput, err)}
	}
	root := &doc
	if root.Kind == yaml.DocumentNode && len(root.Content) == 1 {
		root = root.Content[0]
	}
	if root.Kind != yaml.SequenceNode {
		return nil, ingest.InvalidInput("YAML inattendu : une liste de jalons est attendue (« - action: … »)")
	}
	hdr := map[string]int{}
	for i, c := range jalonColumns {
		hdr[c] = i
	}
	t = &tabTable{Header: jalonColumns, hdr: hdr}
	i := 0
	t.next = func() (tabRow, error) {
		if i >= len(root.Content) {
			return tabRow{}, io.EOF
		}
		item := root.Content[i]
		i++
		raw := yamlRaw(item)
		row := tabRow{Pos: fmt.Sprintf("ligne %d", item.Line), Line: item.Line, Raw: raw, hdr: hdr, cells: make([]string, len(jalonColumns))}
		if item.Kind != yaml.MappingNode {
			row.Width = "entrée YAML qui n'est pas un jalon (attendu action, jalon, libelle, statut, date_prevue, date_realisee)"
			return row, nil
		}
		for k := 0; k+1 < len(item.Content); k += 2 {
			key, val := item.Content[k], item.Content[k+1]
			j, ok := hdr[strings.ToLower(strings.TrimSpace(key.Value))]
			if !ok {
				continue
			}
			if val.Kind != yaml.ScalarNode {
				row.Width = fmt.Sprintf("champ %s : valeur simple attendue", key.Value)
				return row, nil
			}
			if val.Tag != "!!null" {
				row.cells[j] = val.Value
			}
		}
		return row, nil
	}
	return t, nil
}

func yamlRaw(n *yaml.Node) string {
	b, err := yaml.Marshal(n)
	if err != nil {
		return ""
	}
	return strings.TrimRight(string(b), "\n")
}

func parseJalon(r tabRow, ingestVersion uint64) ([]any, string, string) {
	action := r.get("action")
	if action == "" {
		return nil, "action", "action absente"
	}
	if !rencontreAction.MatchString(action) {
		return nil, "action", fmt.Sprintf("action « %s » invalide (attendu un numéro d'action, ex. 2.1)", action)
	}
	jalon := r.get("jalon")
	if jalon == "" {
		return nil, "jalon", "identifiant du jalon absent"
	}
	statut := r.get("statut")
	if reason := tabEnum("statut", statut, jalonStatuts); reason != "" {
		return nil, "statut", reason
	}
	dates := [2]*string{}
	// A milestone may be due ahead; it cannot have been reached in the future.
	for i, col := range []string{"date_prevue", "date_realisee"} {
		kind := planned
		if col == "date_realisee" {
			kind = observed
		}
		d, reason := r.date(col, kind)
		if reason != "" {
			return nil, col, reason
		}
		if d.IsZero() {
			continue
		}
		s := d.Format("2006-01-02")
		dates[i] = &s
	}
	return []any{action, jalon, ingestVersion + uint64(r.Line), uint8(0), r.get("libelle"), statut, dates[0], dates[1]}, "", ""
}

var yamlLine = regexp.MustCompile(`line (\d+)`)

// yamlErrFR keeps the line of a YAML syntax error and says the rest in French.
func yamlErrFR(err error) string {
	if m := yamlLine.FindStringSubmatch(err.Error()); m != nil {
		return "syntaxe invalide à la ligne " + m[1]
	}
	return "syntaxe invalide"
}
