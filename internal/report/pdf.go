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
	"runtime"
	"strings"
)

// ErrNoChromium is returned when no Chromium executable is found to print the PDF.
var ErrNoChromium = errors.New("chromium introuvable : installez le paquet Debian « chromium » (make report-deps) ou indiquez son chemin dans FNE_CHROMIUM")

// ErrNoPdftotext is returned when poppler's pdftotext is missing (it finds the page of each section).
var ErrNoPdftotext = errors.New("pdftotext introuvable : installez le paquet Debian « poppler-utils » (make report-deps)")

// Printer prints a pack to PDF with headless Chromium. Chromium lays out the CSS paged media of the
// pack (A4, margins, « Page n sur N » in the margin boxes) and writes real text; it cannot fill a table of
// contents with page numbers (no target-counter), so a pack is printed, the page of each section read
// back with pdftotext, and, unless the numbers already printed were right, the numbers are written into
// the table of contents of the loaded page (fixed-width cells: nothing moves) and the page printed again.
type Printer struct {
	Chromium  string // executable; default FNE_CHROMIUM, then chromium or chromium-browser in PATH
	Pdftotext string // default pdftotext in PATH
	// Browser, when set, prints (packs in a row share one Chromium); else each PDF starts its own.
	Browser *Browser
	// Tabs is how many packs WriteAll prints at once in Browser; 0 is the number of CPUs plus one, at
	// most 4 (measured on 2 cores: 8 packs print in 7.3 s one at a time, 4.8 s in 2 tabs, 3.9 s in 3).
	Tabs int
}

func (pr Printer) tabs() int {
	if pr.Tabs > 0 {
		return pr.Tabs
	}
	return min(runtime.NumCPU()+1, 4)
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
	// Packs of one run share their layout more often than not: the first print carries the page numbers
	// of the previous pack, and is kept when its sections do start on those pages.
	guess := b.lastPages()
	html := filepath.Join(dir, "rapport.html")
	var buf bytes.Buffer
	if err := p.render(&buf, guess, true); err != nil {
		return err
	}
	if err := os.WriteFile(html, buf.Bytes(), 0o600); err != nil {
		return err
	}
	pdf, err := b.PrintFile(ctx, html, func(pdf []byte) ([]Revision, error) {
		first := filepath.Join(dir, "passe1.pdf")
		if err := os.WriteFile(first, pdf, 0o600); err != nil {
			return nil, err
		}
		pages, err := sectionPages(ctx, pdftotext, first)
		if err != nil {
			return nil, err
		}
		b.setLastPages(pages)
		if guess != nil && maps.Equal(guess, pages) {
			return nil, nil
		}
		revs := make([]Revision, 0, len(Sections))
		for _, s := range Sections {
			revs = append(revs, Revision{ID: "pg-" + s.Anchor, HTML: string(tocPage(s.Anchor, pages))})
		}
		return revs, nil
	})
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
