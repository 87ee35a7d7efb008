package sources

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/cenkalti/backoff/v4"

	"github.com/sdaasp-rhone/fne/collector/ingest"
)

// maxResponseBytes bounds one HTTP response read into memory: a Coop page holds at most 500 resources
// (≈ 1 MB) and a Matomo day a few thousand URLs; anything far larger is not what we asked for.
const maxResponseBytes = 64 << 20

// httpFetcher fetches whole responses with bounded retries. Responses are read completely before they
// are parsed: a slow ClickHouse retry while writing the previous page must not leave a half-read body
// whose connection times out, and a truncated body can then simply be fetched again.
type httpFetcher struct {
	// source names the upstream in French error messages ("la Coop de la médiation numérique").
	source string
	client *http.Client
	// retry builds the policy for 5xx, 429, timeouts and network errors; nil means the default.
	retry func() backoff.BackOff
}

// defaultHTTPRetry: about six tries within two minutes, enough for a rolling restart upstream, short
// enough that a scheduled run fails visibly rather than hanging.
func defaultHTTPRetry() backoff.BackOff {
	b := backoff.NewExponentialBackOff()
	b.InitialInterval = time.Second
	b.MaxInterval = 30 * time.Second
	b.MaxElapsedTime = 2 * time.Minute
	return backoff.WithMaxRetries(b, 6)
}

func newHTTPFetcher(source string) *httpFetcher {
	return &httpFetcher{source: source, client: newHTTPClient(60 * time.Second)}
}

// errCrossOrigin is a redirect to another origin: refused, since the request carries a credential (a
// Bearer token in a header, a token in the query string) that must only ever reach the configured
// server.
var errCrossOrigin = errors.New("redirection vers une autre origine refusée")

// newHTTPClient is the client of every source: it follows redirects within the same origin (scheme,
// host and port) only.
func newHTTPClient(timeout time.Duration) *http.Client {
	return &http.Client{Timeout: timeout, CheckRedirect: sameOriginRedirect}
}

func sameOriginRedirect(req *http.Request, via []*http.Request) error {
	if len(via) >= 10 {
		return errors.New("plus de 10 redirections")
	}
	from := via[0].URL
	if !strings.EqualFold(req.URL.Scheme, from.Scheme) || !strings.EqualFold(req.URL.Host, from.Host) {
		return fmt.Errorf("%w : %s renvoie vers %s://%s, le jeton n'y est pas envoyé", errCrossOrigin,
			from.Host, req.URL.Scheme, req.URL.Host)
	}
	return nil
}

// errHTTPAuth marks a refused credential: retrying cannot help.
var errHTTPAuth = errors.New("accès refusé")

// get returns the body of a 2xx answer to GET u. Credentials travel in header (Coop) or in the query
// string (Matomo): u is only ever shown through ingest.RedactURL, and transport errors are unwrapped
// from *url.Error, whose message would repeat the raw URL.
func (f *httpFetcher) get(ctx context.Context, u string, header http.Header) ([]byte, error) {
	shown := ingest.RedactURL(u)
	var body []byte
	op := func() error {
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
		if err != nil {
			return backoff.Permanent(fmt.Errorf("adresse invalide %s", shown))
		}
		for k, vs := range header {
			for _, v := range vs {
				req.Header.Add(k, v)
			}
		}
		req.Header.Set("Accept", "application/json")
		resp, err := f.client.Do(req)
		if err != nil {
			if ctx.Err() != nil {
				return backoff.Permanent(ctx.Err())
			}
			if errors.Is(err, errCrossOrigin) {
				return backoff.Permanent(fmt.Errorf("%s (%s) : %v", f.source, shown, transportErr(err)))
			}
			return fmt.Errorf("%s injoignable (%s) : %v", f.source, shown, transportErr(err))
		}
		defer resp.Body.Close()
		switch {
		case resp.StatusCode == http.StatusUnauthorized || resp.StatusCode == http.StatusForbidden:
			return backoff.Permanent(fmt.Errorf("%w : %s a refusé le jeton d'accès (HTTP %d sur %s) ; vérifiez le jeton configuré",
				errHTTPAuth, f.source, resp.StatusCode, shown))
		case resp.StatusCode >= 500 || resp.StatusCode == http.StatusTooManyRequests || resp.StatusCode == http.StatusRequestTimeout:
			_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 1<<16))
			return fmt.Errorf("%s a répondu HTTP %d (%s)", f.source, resp.StatusCode, shown)
		case resp.StatusCode < 200 || resp.StatusCode > 299:
			return backoff.Permanent(fmt.Errorf("%s a répondu HTTP %d (%s)", f.source, resp.StatusCode, shown))
		}
		b, err := io.ReadAll(io.LimitReader(resp.Body, maxResponseBytes+1))
		if err != nil {
			if ctx.Err() != nil {
				return backoff.Permanent(ctx.Err())
			}
			return fmt.Errorf("réponse de %s interrompue (%s) : %v", f.source, shown, transportErr(err))
		}
		if len(b) > maxResponseBytes {
			return backoff.Permanent(fmt.Errorf("réponse de %s trop volumineuse (plus de %d Mo, %s)", f.source, maxResponseBytes>>20, shown))
		}
		body = b
		return nil
	}
	retry := f.retry
	if retry == nil {
		retry = defaultHTTPRetry
	}
	if err := backoff.Retry(op, backoff.WithContext(retry(), ctx)); err != nil {
		return nil, err
	}
	return body, nil
}

// transportErr strips the URL that *url.Error puts in its message.
func transportErr(err error) error {
	var ue *url.Error
	if errors.As(err, &ue) {
		return ue.Err
	}
	return err
}
