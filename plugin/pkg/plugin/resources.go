package plugin

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"

	"github.com/grafana/grafana-plugin-sdk-go/backend"

	"github.com/sdaasp-rhone/fne/internal/territory"
)

// Option is a text/value pair, the shape Grafana's editors and template variables take.
type Option struct {
	Text  string `json:"text"`
	Value any    `json:"value"`
}

// CallResource serves the editors and template variables (GET, JSON):
//
//	catalogue                                   the indicators (id, axis, action, label, definition, unit, levels, target, direction)
//	axes                                        [{text:"Axe 1", value:1}, …]
//	territories?level=epci|commune&parent=<id>  territories in the scope as text/value pairs
//
// territories without level gives the scope (or the département) then its children; level=epci gives
// the EPCI in the scope; level=commune gives the communes of parent (one id, or several as "{a,b}"),
// or of the whole scope without parent.
func (d *Datasource) CallResource(ctx context.Context, req *backend.CallResourceRequest, sender backend.CallResourceResponseSender) error {
	if req.Method != "" && req.Method != http.MethodGet {
		return sendJSON(sender, http.StatusMethodNotAllowed, errorBody(fmt.Sprintf("méthode %s non prise en charge (GET uniquement)", req.Method)))
	}
	path := strings.Trim(req.Path, "/")
	if i := strings.IndexByte(path, '?'); i >= 0 {
		path = path[:i]
	}
	query, _ := url.ParseQuery(rawQuery(req))
	body, err := d.resource(ctx, path, query)
	if err != nil {
		st, _ := status(err)
		return sendJSON(sender, int(st), errorBody(err.Error()))
	}
	return sendJSON(sender, http.StatusOK, body)
}

func rawQuery(req *backend.CallResourceRequest) string {
	if u, err := url.Parse(req.URL); err == nil && u.RawQuery != "" {
		return u.RawQuery
	}
	if i := strings.IndexByte(req.Path, '?'); i >= 0 {
		return req.Path[i+1:]
	}
	return ""
}

func (d *Datasource) resource(ctx context.Context, path string, q url.Values) (any, error) {
	switch path {
	case "catalogue", "axes", "territories":
	default:
		return nil, fmt.Errorf("%w : %q (catalogue, axes ou territories)", ErrNotFound, path)
	}
	sess, err := d.connect(ctx)
	if err != nil {
		return nil, err
	}
	inds := sess.Engine.Indicators()
	switch path {
	case "catalogue":
		if inds == nil {
			inds = []Indicator{}
		}
		return inds, nil
	case "axes":
		out := []Option{}
		for _, a := range axesOf(inds) {
			out = append(out, Option{Text: fmt.Sprintf("Axe %d", a), Value: a})
		}
		return out, nil
	}
	ctx, cancel := d.withTimeout(ctx)
	defer cancel()
	ref, err := sess.Engine.Reference(ctx)
	if err != nil {
		return nil, fmt.Errorf("%w : référentiel des territoires illisible : %v", ErrUnavailable, err)
	}
	if ref == nil || len(ref.Communes) == 0 {
		return nil, fmt.Errorf("%w : aucun référentiel de territoires chargé (lancez « fne reference »)", ErrUnavailable)
	}
	return Territories(scoped{ref: ref, scope: d.settings.ScopeID()}, q.Get("level"), q.Get("parent"))
}

// Territories lists the territories of a level inside the scope (see CallResource).
func Territories(sc scoped, level, parent string) ([]Option, error) {
	root, err := sc.check(sc.root())
	if err != nil {
		return nil, err
	}
	out := []Option{}
	add := func(ts []territory.Territory) {
		for _, t := range ts {
			out = append(out, Option{Text: t.Name, Value: t.ID.String()})
		}
	}
	switch strings.ToLower(strings.TrimSpace(level)) {
	case "":
		add([]territory.Territory{root})
		cs, err := sc.ref.Children(root.ID, "")
		if err != nil {
			return nil, fmt.Errorf("%w : %v", ErrTerritory, err)
		}
		add(cs)
	case "epci":
		switch root.ID.Level {
		case territory.LevelDep:
			cs, err := sc.ref.Children(root.ID, "")
			if err != nil {
				return nil, fmt.Errorf("%w : %v", ErrTerritory, err)
			}
			add(cs)
		case territory.LevelEPCI:
			add([]territory.Territory{root})
		}
	case "commune", "com":
		parents := []territory.Territory{root}
		if strings.TrimSpace(parent) != "" {
			if parents, err = sc.territories(parent); err != nil {
				return nil, err
			}
		}
		for _, p := range parents {
			if p.ID.Level == territory.LevelCommune {
				add([]territory.Territory{p})
				continue
			}
			cs, err := sc.ref.Children(p.ID, territory.LevelCommune)
			if err != nil {
				return nil, fmt.Errorf("%w : %v", ErrTerritory, err)
			}
			add(cs)
		}
	default:
		return nil, fmt.Errorf("%w : niveau %q inconnu (epci ou commune)", ErrQuery, level)
	}
	return out, nil
}

func errorBody(msg string) map[string]string { return map[string]string{"error": msg, "message": msg} }

func sendJSON(sender backend.CallResourceResponseSender, status int, v any) error {
	b, err := json.Marshal(v)
	if err != nil {
		return errors.Join(err, sender.Send(&backend.CallResourceResponse{Status: http.StatusInternalServerError}))
	}
	return sender.Send(&backend.CallResourceResponse{
		Status:  status,
		Headers: map[string][]string{"Content-Type": {"application/json; charset=utf-8"}},
		Body:    b,
	})
}
