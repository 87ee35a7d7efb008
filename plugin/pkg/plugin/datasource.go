// Package plugin is the backend of the Grafana datasource "FNE — Indicateurs feuille de route": it
// answers Grafana's QueryData, CheckHealth and CallResource calls by asking internal/engine, the same code
// as the `fne indicators` command, so dashboards, alerts and the CLI show the same numbers. A datasource
// may be scoped to one territory; anything outside it is refused, never returned.
package plugin

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/grafana/grafana-plugin-sdk-go/backend"
	"github.com/grafana/grafana-plugin-sdk-go/backend/instancemgmt"
	"github.com/grafana/grafana-plugin-sdk-go/backend/log"
)

// PluginID is the id of plugin.json.
const PluginID = "sdaasp-fneindicateurs-datasource"

// Datasource is one configured datasource instance. The instance manager creates a new one whenever the
// settings change and disposes the old one, which closes its ClickHouse connection.
type Datasource struct {
	settings Settings
	open     Opener
	now      func() time.Time

	mu      sync.Mutex
	session *Session
}

var (
	_ backend.QueryDataHandler      = (*Datasource)(nil)
	_ backend.CheckHealthHandler    = (*Datasource)(nil)
	_ backend.CallResourceHandler   = (*Datasource)(nil)
	_ instancemgmt.InstanceDisposer = (*Datasource)(nil)
)

// NewFactory returns the instance factory given to datasource.Manage. Invalid settings fail the instance
// (Grafana shows the French error); an unreachable server does not: the connection is opened on first
// use and retried on the next request, so a datasource saved while ClickHouse is down recovers alone.
func NewFactory(open Opener) func(context.Context, backend.DataSourceInstanceSettings) (instancemgmt.Instance, error) {
	return func(_ context.Context, s backend.DataSourceInstanceSettings) (instancemgmt.Instance, error) {
		set, err := LoadSettings(s)
		if err != nil {
			return nil, err
		}
		return New(set, open), nil
	}
}

// New is a datasource for validated settings.
func New(s Settings, open Opener) *Datasource {
	return &Datasource{settings: s, open: open, now: time.Now}
}

// Settings are the datasource's settings.
func (d *Datasource) Settings() Settings { return d.settings }

// connect returns the live session, opening it on first use.
func (d *Datasource) connect(ctx context.Context) (*Session, error) {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.session != nil {
		return d.session, nil
	}
	s, err := d.open(ctx, d.settings)
	if err != nil {
		return nil, fmt.Errorf("%w : %v", ErrUnavailable, err)
	}
	d.session = s
	return s, nil
}

// Dispose closes the connection (instancemgmt.InstanceDisposer).
func (d *Datasource) Dispose() {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.session != nil && d.session.Close != nil {
		if err := d.session.Close(); err != nil {
			log.DefaultLogger.Warn("fermeture de la connexion ClickHouse", "error", err)
		}
	}
	d.session = nil
}

// withTimeout bounds one query by the datasource's query timeout.
func (d *Datasource) withTimeout(ctx context.Context) (context.Context, context.CancelFunc) {
	return context.WithTimeout(ctx, d.settings.StoreConfig().QueryTimeout)
}

// status maps an error to the HTTP-like status and the error source Grafana records.
func status(err error) (backend.Status, backend.ErrorSource) {
	switch {
	case errors.Is(err, ErrOutOfScope):
		return backend.StatusForbidden, backend.ErrorSourceDownstream
	case errors.Is(err, ErrQuery), errors.Is(err, ErrTerritory), errors.Is(err, ErrSettings):
		return backend.StatusBadRequest, backend.ErrorSourceDownstream
	case errors.Is(err, context.DeadlineExceeded):
		return backend.StatusTimeout, backend.ErrorSourceDownstream
	case errors.Is(err, ErrNotFound):
		return backend.StatusNotFound, backend.ErrorSourceDownstream
	}
	return backend.StatusInternal, backend.ErrorSourceDownstream
}
