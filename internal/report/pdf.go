package report

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
)

// ErrNoChromium is returned when no Chromium executable is found to print the PDF.
var ErrNoChromium = errors.New("chromium introuvable : installez le paquet Debian « chromium » (make report-deps) ou indiquez son chemin dans FNE_CHROMIUM")

// ErrNoPdftotext is returned when poppler's pdftotext is missing (it finds the page of each section).
var ErrNoPdftotext = errors.New("pdftotext introuvable : installez le paquet Debian « poppler-utils » (make report-deps)")

// Printer prints HTML to PDF with headless Chromium. Chromium lays out the CSS paged media of the pack
// (A4, margins, « Page n sur N » in the margin boxes) and writes real text; Chromium cannot fill a
// table of contents with page numbers (no target-counter), so PDF prints twice: once to find on which
// page each section starts (read back with pdftotext), once with those numbers in the table of contents.
type Printer struct {
	Chromium  string // executable; default FNE_CHROMIUM, then chromium or chromium-browser in PATH
	Pdftotext string // default pdftotext in PATH
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
	chrome, err := pr.chromium()
	if err != nil {
		return err
	}
	pdftotext := pr.Pdftotext
	if pdftotext == "" {
		pdftotext = "pdftotext"
	}
	if pdftotext, err = exec.LookPath(pdftotext); err != nil {
		return ErrNoPdftotext
	}
	dir, err := os.MkdirTemp("", "fne-rapport-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)

	first := filepath.Join(dir, "passe1.pdf")
	if err := pr.print(ctx, chrome, dir, p, nil, first); err != nil {
		return err
	}
	pages, err := sectionPages(ctx, pdftotext, first)
	if err != nil {
		return err
	}
	return pr.print(ctx, chrome, dir, p, pages, out)
}

func (pr Printer) print(ctx context.Context, chrome, dir string, p *Pack, pages map[string]int, out string) error {
	html := filepath.Join(dir, "rapport.html")
	var buf bytes.Buffer
	if err := p.render(&buf, pages, true); err != nil {
		return err
	}
	if err := os.WriteFile(html, buf.Bytes(), 0o600); err != nil {
		return err
	}
	abs, err := filepath.Abs(out)
	if err != nil {
		return err
	}
	profile, err := os.MkdirTemp(dir, "profil-")
	if err != nil {
		return err
	}
	// No sandbox: the daemon runs as an unprivileged user in a container without user namespaces; the
	// page is our own file, without script or network access.
	cmd := exec.CommandContext(ctx, chrome, "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
		"--disable-component-update", "--disable-sync", "--no-first-run", "--disable-extensions", "--disable-dev-shm-usage",
		"--user-data-dir="+profile, "--no-pdf-header-footer", "--print-to-pdf="+abs, "file://"+html)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	cmd.Env = append(os.Environ(), "HOME="+dir) // Chromium writes caches under HOME
	if err := cmd.Run(); err != nil {
		return fmt.Errorf("impression PDF par %s : %v : %s", chrome, err, lastLines(stderr.String(), 5))
	}
	if st, err := os.Stat(abs); err != nil || st.Size() == 0 {
		return fmt.Errorf("impression PDF par %s : aucun fichier produit : %s", chrome, lastLines(stderr.String(), 5))
	}
	return nil
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
