package report

import (
	"bufio"
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"sync"
	"sync/atomic"
	"time"
)

// Browser is one headless Chromium kept open to print several documents: starting Chromium costs
// seconds, printing a page once it runs a fraction of that, and a pack prints twice (see Printer). It
// speaks the DevTools protocol over a pipe (--remote-debugging-pipe: no port is opened), with the
// standard library only.
type Browser struct {
	cmd     *exec.Cmd
	w       io.WriteCloser
	profile string
	stderr  lockedBuffer

	nextID  atomic.Int64
	mu      sync.Mutex
	pending map[int64]chan cdpMsg
	events  map[string]chan struct{} // sessionId → load event
	readErr error
	done    chan struct{}
	pages   map[string]int // section pages of the last pack printed (see Printer.PDF)
}

func (b *Browser) lastPages() map[string]int {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.pages
}

func (b *Browser) setLastPages(p map[string]int) {
	b.mu.Lock()
	b.pages = p
	b.mu.Unlock()
}

type cdpMsg struct {
	ID        int64           `json:"id,omitempty"`
	Method    string          `json:"method,omitempty"`
	SessionID string          `json:"sessionId,omitempty"`
	Params    any             `json:"params,omitempty"`
	Result    json.RawMessage `json:"result,omitempty"`
	Error     *struct {
		Message string `json:"message"`
	} `json:"error,omitempty"`
}

// lockedBuffer is Chromium's stderr: written by the exec copier, read when reporting a crash.
type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.b.Len() > 64<<10 { // keep the end only: Chromium can be chatty
		l.b.Reset()
	}
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// StartBrowser launches headless Chromium. Close it when done.
func (pr Printer) StartBrowser(ctx context.Context) (*Browser, error) {
	chrome, err := pr.chromium()
	if err != nil {
		return nil, err
	}
	profile, err := os.MkdirTemp("", "fne-chromium-")
	if err != nil {
		return nil, err
	}
	toChrome, ourW, err := os.Pipe()
	if err != nil {
		return nil, err
	}
	ourR, fromChrome, err := os.Pipe()
	if err != nil {
		return nil, err
	}
	// No sandbox: the daemon runs unprivileged in a container without user namespaces; the pages are our
	// own files, without script or network access. No D-Bus: there is none in a container, and looking
	// for it costs seconds.
	b := &Browser{w: ourW, profile: profile, pending: map[int64]chan cdpMsg{}, events: map[string]chan struct{}{}, done: make(chan struct{})}
	b.cmd = exec.Command(chrome, "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
		"--disable-component-update", "--disable-sync", "--no-first-run", "--disable-extensions", "--disable-dev-shm-usage",
		"--mute-audio", "--user-data-dir="+profile, "--remote-debugging-pipe", "about:blank")
	b.cmd.ExtraFiles = []*os.File{toChrome, fromChrome} // fd 3: commands, fd 4: answers
	b.cmd.Stderr = &b.stderr
	b.cmd.Env = append(os.Environ(), "HOME="+profile, "DBUS_SESSION_BUS_ADDRESS=disabled:", "DBUS_SYSTEM_BUS_ADDRESS=disabled:")
	if err := b.cmd.Start(); err != nil {
		os.RemoveAll(profile)
		return nil, fmt.Errorf("démarrage de %s : %v", chrome, err)
	}
	toChrome.Close()
	fromChrome.Close()
	go b.read(ourR)
	// The browser answers once it is ready.
	if _, err := b.call(ctx, "", "Browser.getVersion", nil); err != nil {
		b.Close()
		return nil, err
	}
	return b, nil
}

func (b *Browser) read(r io.Reader) {
	defer close(b.done)
	br := bufio.NewReaderSize(r, 1<<20)
	for {
		frame, err := br.ReadBytes(0)
		if err != nil {
			b.mu.Lock()
			b.readErr = fmt.Errorf("Chromium s'est arrêté : %v : %s", err, lastLines(b.stderr.String(), 5))
			for _, ch := range b.pending {
				close(ch)
			}
			b.pending = map[int64]chan cdpMsg{}
			b.mu.Unlock()
			return
		}
		var m cdpMsg
		if json.Unmarshal(frame[:len(frame)-1], &m) != nil {
			continue
		}
		b.mu.Lock()
		if m.ID != 0 {
			if ch, ok := b.pending[m.ID]; ok {
				ch <- m
				delete(b.pending, m.ID)
			}
		} else if m.Method == "Page.loadEventFired" {
			if ch, ok := b.events[m.SessionID]; ok {
				select {
				case ch <- struct{}{}:
				default:
				}
			}
		}
		b.mu.Unlock()
	}
}

func (b *Browser) call(ctx context.Context, session, method string, params any) (json.RawMessage, error) {
	id := b.nextID.Add(1)
	ch := make(chan cdpMsg, 1)
	b.mu.Lock()
	if b.readErr != nil {
		b.mu.Unlock()
		return nil, b.readErr
	}
	b.pending[id] = ch
	b.mu.Unlock()
	msg, _ := json.Marshal(cdpMsg{ID: id, Method: method, SessionID: session, Params: params})
	if _, err := b.w.Write(append(msg, 0)); err != nil {
		return nil, fmt.Errorf("Chromium injoignable : %v", err)
	}
	select {
	case m, ok := <-ch:
		if !ok {
			return nil, b.readErr
		}
		if m.Error != nil {
			return nil, fmt.Errorf("Chromium, %s : %s", method, m.Error.Message)
		}
		return m.Result, nil
	case <-ctx.Done():
		return nil, ctx.Err()
	case <-time.After(2 * time.Minute):
		return nil, fmt.Errorf("Chromium ne répond pas à %s", method)
	}
}

// Revision replaces, in the loaded page, the element whose id is ID by HTML (its outer HTML).
type Revision struct{ ID, HTML string }

// PrintFile prints the local HTML file at path to PDF bytes, with the document's own CSS page size and
// margins (the @page rules of the pack). When revise is set, it is given that PDF; the revisions it
// returns are made in the loaded page (through the DevTools DOM domain: the document itself runs no
// script) and the page is printed again, without loading it a second time (loading the pack costs as
// much as printing it).
func (b *Browser) PrintFile(ctx context.Context, path string, revise func(pdf []byte) ([]Revision, error)) ([]byte, error) {
	res, err := b.call(ctx, "", "Target.createTarget", map[string]any{"url": "about:blank"})
	if err != nil {
		return nil, err
	}
	var target struct{ TargetID string }
	_ = json.Unmarshal(res, &target)
	defer func() {
		_, _ = b.call(context.WithoutCancel(ctx), "", "Target.closeTarget", map[string]any{"targetId": target.TargetID})
	}()
	res, err = b.call(ctx, "", "Target.attachToTarget", map[string]any{"targetId": target.TargetID, "flatten": true})
	if err != nil {
		return nil, err
	}
	var att struct{ SessionID string }
	_ = json.Unmarshal(res, &att)
	loaded := make(chan struct{}, 1)
	b.mu.Lock()
	b.events[att.SessionID] = loaded
	b.mu.Unlock()
	defer func() { b.mu.Lock(); delete(b.events, att.SessionID); b.mu.Unlock() }()
	if _, err := b.call(ctx, att.SessionID, "Page.enable", nil); err != nil {
		return nil, err
	}
	if _, err := b.call(ctx, att.SessionID, "Page.navigate", map[string]any{"url": "file://" + path}); err != nil {
		return nil, err
	}
	select {
	case <-loaded:
	case <-ctx.Done():
		return nil, ctx.Err()
	case <-time.After(time.Minute):
		return nil, errors.New("Chromium n'a pas fini de charger le rapport")
	}
	pdf, err := b.print(ctx, att.SessionID)
	if err != nil || revise == nil {
		return pdf, err
	}
	revs, err := revise(pdf)
	if err != nil || len(revs) == 0 {
		return pdf, err
	}
	res, err = b.call(ctx, att.SessionID, "DOM.getDocument", map[string]any{"depth": 0})
	if err != nil {
		return nil, err
	}
	var doc struct{ Root struct{ NodeID int64 } }
	if err := json.Unmarshal(res, &doc); err != nil {
		return nil, err
	}
	for _, r := range revs {
		res, err := b.call(ctx, att.SessionID, "DOM.querySelector", map[string]any{"nodeId": doc.Root.NodeID, "selector": fmt.Sprintf("[id=%q]", r.ID)})
		if err != nil {
			return nil, err
		}
		var n struct{ NodeID int64 }
		if err := json.Unmarshal(res, &n); err != nil {
			return nil, err
		}
		if n.NodeID == 0 {
			return nil, fmt.Errorf("élément « %s » absent du rapport", r.ID)
		}
		if _, err := b.call(ctx, att.SessionID, "DOM.setOuterHTML", map[string]any{"nodeId": n.NodeID, "outerHTML": r.HTML}); err != nil {
			return nil, err
		}
	}
	return b.print(ctx, att.SessionID)
}

// print prints the page loaded in session to PDF bytes.
func (b *Browser) print(ctx context.Context, session string) ([]byte, error) {
	res, err := b.call(ctx, session, "Page.printToPDF", map[string]any{"preferCSSPageSize": true, "printBackground": true,
		"displayHeaderFooter": false, "generateDocumentOutline": false})
	if err != nil {
		return nil, err
	}
	var pdf struct{ Data string }
	if err := json.Unmarshal(res, &pdf); err != nil {
		return nil, err
	}
	return base64.StdEncoding.DecodeString(pdf.Data)
}

// Close stops Chromium and removes its profile.
func (b *Browser) Close() error {
	if b == nil || b.cmd == nil {
		return nil
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	_, _ = b.call(ctx, "", "Browser.close", nil)
	cancel()
	b.w.Close()
	exited := make(chan struct{})
	go func() { _ = b.cmd.Wait(); close(exited) }()
	select {
	case <-exited:
	case <-time.After(5 * time.Second):
		_ = b.cmd.Process.Kill()
		<-exited
	}
	b.cmd = nil
	return os.RemoveAll(b.profile)
}
