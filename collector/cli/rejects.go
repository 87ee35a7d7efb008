package cli

import (
	"context"
	"database/sql"
	"encoding/csv"
	"encoding/json"
	"errors"
	"fmt"
	"github.com/sdaasp-rhone/fne/collector/sources"
	"github.com/sdaasp-rhone/fne/internal/store"
	"path"
	"strings"
	"time"
)

func init() {
	register(&command{name: "rejects", summary: "liste les lignes rejetées à l'import (source, position, champ, motif)", run: runRejects})
}

// rejectOut is one reject as printed (JSON and CSV field names).
type rejectOut struct {
	RejectedAt time.Time `json:"rejected_at"`
	Source     string    `json:"source"`
	Input      string    `json:"input"`
	Position   string    `json:"position"`
	Field      string    `json:"field"`
	Reason     string    `json:"reason"`
	Raw        string    `json:"raw"`
	RunID      string    `json:"run_id"`
}

func runRejects(ctx context.Context, env *Env, args []string) error {
	const usage = "[--source S] [--run ID] [--limit N] [--format table|json|csv]"
	var cf connFlags
	fs := flagSet("rejects", usage, env)
	cf.register(fs)
	source := fs.String("source", "", "seulement cette source (lieux, rencontres…)")
	run := fs.String("run", "", "seulement ce lancement (identifiant affiché par « fne ingest »)")
	limit := fs.Int("limit", 50, "nombre maximal de rejets affichés")
	format := fs.String("format", "table", "format de sortie : table, json ou csv")
	if err := parse(fs, usage, env, args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return usagef("argument inattendu « %s »", fs.Arg(0))
	}
	if *limit <= 0 {
		return usagef("--limit attend un nombre positif, pas %d", *limit)
	}
	if *source != "" {
		if _, err := sources.Registry().Get(*source); err != nil {
			return usagef("%v", err)
		}
	}
	switch *format {
	case "table", "json", "csv":
	default:
		return usagef("--format attend table, json ou csv, pas « %s »", *format)
	}
	conn, _, err := cf.open(ctx)
	if err != nil {
		return err
	}
	defer conn.Close()

	// A bad row re-ingested is stored again under the same key (source, input, position, field) and
	// replaces the earlier one: keep its latest version only. The rejects of a run are therefore those of
	// its input: when the same file was ingested again, they are the later run's (the hint printed by
	// « fne ingest » keeps working after a re-import, and after merges).
	input := ""
	if *run != "" {
		var runSource string
		err := conn.QueryRow(ctx, "SELECT source, input FROM ingestion_runs WHERE run_id = ? LIMIT 1", *run).Scan(&runSource, &input)
		if err != nil {
			if errors.Is(err, sql.ErrNoRows) {
				return usagef("lancement « %s » inconnu (identifiant affiché par « fne ingest »)", *run)
			}
			return fmt.Errorf("lecture des lancements : %w", store.Classify(err))
		}
		if *source != "" && *source != runSource {
			return usagef("le lancement %s concerne la source %s, pas %s", *run, runSource, *source)
		}
		*source = runSource
	}
	const where = "WHERE (? = '' OR source = ?) AND (? = '' OR input = ?)"
	var total uint64
	if err := conn.QueryRow(ctx, "SELECT count() FROM (SELECT 1 FROM rejects "+where+" GROUP BY source, input, position, field)",
		*source, *source, input, input).Scan(&total); err != nil {
		return fmt.Errorf("lecture des rejets : %w", store.Classify(err))
	}
	rows, err := conn.Query(ctx, `SELECT source, input, position, field,
	argMax(run_id, version) AS r_run, argMax(reason, version) AS r_reason, argMax(raw, version) AS r_raw, max(rejected_at) AS r_at
FROM rejects `+where+`
GROUP BY source, input, position, field
ORDER BY r_at DESC, source, input, length(position), position, field
LIMIT ?`, *source, *source, input, input, *limit)
	if err != nil {
		return fmt.Errorf("lecture des rejets : %w", err)
	}
	defer rows.Close()
	out := []rejectOut{}
	for rows.Next() {
		var r rejectOut
		var src string
		if err := rows.Scan(&src, &r.Input, &r.Position, &r.Field, &r.RunID, &r.Reason, &r.Raw, &r.RejectedAt); err != nil {
			return err
		}
		r.Source = src
		r.RejectedAt = r.RejectedAt.UTC()
		out = append(out, r)
	}
	if err := rows.Err(); err != nil {
		return fmt.Errorf("lecture des rejets : %w", err)
	}
	if *run != "" {
		for _, r := range out {
			if r.RunID != *run {
				fmt.Fprintf(env.Stderr, "Note : %s a été réimporté depuis le lancement %s ; voici ses rejets actuels.\n", input, r.RunID)
				break
			}
		}
	}
	switch *format {
	case "json":
		enc := json.NewEncoder(env.Stdout)
		enc.SetIndent("", "  ")
		return enc.Encode(out)
	case "csv":
		w := csv.NewWriter(env.Stdout)
		_ = w.Write([]string{"rejected_at", "source", "input", "position", "field", "reason", "raw", "run_id"})
		for _, r := range out {
			_ = w.Write([]string{r.RejectedAt.Format(time.RFC3339), r.Source, r.Input, r.Position, r.Field, r.Reason, r.Raw, r.RunID})
		}
		w.Flush()
		return w.Error()
	}
	if len(out) == 0 {
		fmt.Fprintln(env.Stdout, "Aucun rejet.")
		return nil
	}
	fmt.Fprintf(env.Stdout, "%-19s  %-14s  %-22s  %-18s  %-16s  %s\n", "Date (UTC)", "Source", "Fichier", "Position", "Champ", "Motif")
	for _, r := range out {
		fmt.Fprintf(env.Stdout, "%-19s  %-14s  %-22s  %-18s  %-16s  %s\n", r.RejectedAt.Format("2006-01-02 15:04:05"), r.Source,
			truncate(path.Base(strings.ReplaceAll(r.Input, "\\", "/")), 22), truncate(r.Position, 18), truncate(r.Field, 16), r.Reason)
	}
	if total > uint64(len(out)) {
		fmt.Fprintf(env.Stdout, "\n%d rejet(s) affiché(s) sur %s (--limit pour en voir plus).\n", len(out), thousands(total))
	} else {
		fmt.Fprintf(env.Stdout, "\n%d rejet(s).\n", len(out))
	}
	return nil
}
