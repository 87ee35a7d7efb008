package report

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"maps"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
)

// ErrNoChromium is returned when no Chromium executable is found to print the PDF.
var ErrNoChromium = errors.New("chromium introuvable : installez le paquet Debian « chromium » (make report-deps) ou indiquez son chemin dans FNE_CHROMIUM")

// ErrNoPdftotext is returned when poppler's pdftotext is missing (it finds the page of each section).
var ErrNoPdftotext = errors.New("pdftotext introuvable : installez le paquet Debian « poppler-utils » (make report-deps)")

// Printer prints a pack to PDF with headless Chromium. Chromium lays out the CSS paged media of the
// pack (A4, margins, « Page n sur N » in the margin boxes) and writes real text; it cannot fill a table of
// contents with page numbers (no target-counter), so a pack prints twice: once to find on which page
// each section starts (read back with pdftotext), once with those numbers in the table of contents.
type Printer struct {
	Chromium  string // executable; default FNE_CHROMIUM, then chromium or chromium-browser in PATH
	Pdftotext string // default pdftotext in PATH
	// Browser, when set, prints (packs in a row share one Chromium); else each PDF starts its own.
	Browser *Browser
}

func (pr Printer) chromium() (string, error) {
	for _, c := range []string{pr.Chromium, os.Getenv("FNE_CHROMIUM"), "chromium", "chromium-browser", "google-chrome"} {
		if c == "" {
			continue
		}
		if p, err := exec.LookPath(c); err == nil {
			return p, nil
		}
	}
	return "", ErrNoChromium
}

// PDF writes the pack as an A4 PDF to out.
func (pr Printer) PDF(ctx context.Context, p *Pack, out string) error {
	pdftotext := pr.Pdftotext
	if pdftotext == "" {
		pdftotext = "pdftotext"
	}
	pdftotext, err := exec.LookPath(pdftotext)
	if err != nil {
		return ErrNoPdftotext
	}
	b := pr.Browser
	if b == nil {
		if b, err = pr.StartBrowser(ctx); err != nil {
			return err
		}
		defer b.Close()
	}
	dir, err := os.MkdirTemp("", "fne-rapport-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	// Packs of one run share their layout more often than not: print first with the page numbers of the
	// previous pack and keep that print when its sections do start on those pages; otherwise (and for
	// the first pack) the numbers read from that print make the second one.
	guess := b.lastPages()
	first := filepath.Join(dir, "passe1.pdf")
	if err := printPass(ctx, b, dir, p, guess, first); err != nil {
		return err
	}
	pages, err := sectionPages(ctx, pdftotext, first)
	if err != nil {
		return err
	}
	b.setLastPages(pages)
	if guess != nil && maps.Equal(guess, pages) {
		b, err := os.ReadFile(first) // not a rename: out may be on another file system
		if err != nil {
			return err
		}
		return os.WriteFile(out, b, 0o644)
	}
	return printPass(ctx, b, dir, p, pages, out)
}

func printPass(ctx context.Context, b *Browser, dir string, p *Pack, pages map[string]int, out string) error {
	html := filepath.Join(dir, "rapport.html")
	var buf bytes.Buffer
	if err := p.render(&buf, pages, true); err != nil {
		return err
	}
	if err := os.WriteFile(html, buf.Bytes(), 0o600); err != nil {
		return err
	}
	pdf, err := b.PrintFile(ctx, html)
	if err != nil {
		return fmt.Errorf("impression PDF : %w", err)
	}
	return os.WriteFile(out, pdf, 0o644)
}

// sectionPages reads the first pass and returns, for each section, the first page (after the table of
// contents) holding a line that is exactly its numbered heading.
func sectionPages(ctx context.Context, pdftotext, pdf string) (map[string]int, error) {
	out, err := exec.CommandContext(ctx, pdftotext, "-layout", pdf, "-").Output()
	if err != nil {
		return nil, fmt.Errorf("lecture du PDF par pdftotext : %v", err)
	}
	pages := strings.Split(string(out), "\f")
	found := map[string]int{}
	for i, s := range Sections {
		heading := fmt.Sprintf("%d. %s", i+1, s.Title)
		for n := 2; n < len(pages); n++ { // pages[0] is the cover, pages[1] the table of contents
			hit := false
			for _, line := range strings.Split(pages[n], "\n") {
				if strings.TrimSpace(line) == heading {
					hit = true
					break
				}
			}
			if hit {
				found[s.Anchor] = n + 1
				break
			}
		}
		if found[s.Anchor] == 0 {
			return nil, fmt.Errorf("section « %s » introuvable dans le PDF", heading)
		}
	}
	return found, nil
}

func lastLines(s string, n int) string {
	lines := strings.Split(strings.TrimSpace(s), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, " | ")
}
