//go:build integration

package plugin

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/grafana/grafana-plugin-sdk-go/backend"
	"github.com/grafana/grafana-plugin-sdk-go/backend/grpcplugin"
	"github.com/grafana/grafana-plugin-sdk-go/genproto/pluginv2"
	"github.com/hashicorp/go-hclog"
	goplugin "github.com/hashicorp/go-plugin"
)

// pluginProcess is the plugin executable started the way Grafana starts backend plugins: go-plugin's
// client with the SDK's handshake (magic cookie, protocol version 2, gRPC only).
type pluginProcess struct {
	client      *goplugin.Client
	data        grpcplugin.DataClient
	diagnostics grpcplugin.DiagnosticsClient
	resource    grpcplugin.ResourceClient
	pctx        *pluginv2.PluginContext
}

var (
	buildOnce sync.Once
	builtExe  string
	buildErr  error
	buildDir  string
)

// TestMain removes the executable built for the protocol tests and the benchmark.
func TestMain(m *testing.M) {
	code := m.Run()
	if buildDir != "" {
		_ = os.RemoveAll(buildDir)
	}
	os.Exit(code)
}

// buildPlugin compiles ./plugin/pkg once per test binary, as `make plugin-backend` does (a build takes
// tens of seconds on a loaded 2-core machine: the protocol tests and the benchmark share it).
func buildPlugin(t testing.TB) string {
	t.Helper()
	buildOnce.Do(func() {
		if buildDir, buildErr = os.MkdirTemp("", "fne-plugin-"); buildErr != nil {
			return
		}
		builtExe = filepath.Join(buildDir, "gpx_fneindicateurs_"+runtime.GOOS+"_"+runtime.GOARCH)
		cmd := exec.Command(filepath.Join(runtime.GOROOT(), "bin", "go"), "build", "-o", builtExe, ".")
		cmd.Dir = ".." // plugin/pkg, the main package
		cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
		if out, err := cmd.CombinedOutput(); err != nil {
			buildErr = fmt.Errorf("go build : %v\n%s", err, out)
		}
	})
	if buildErr != nil {
		t.Fatal(buildErr)
	}
	return builtExe
}

func startPlugin(t testing.TB, exe string, jsonData []byte, password string) *pluginProcess {
	t.Helper()
	client := goplugin.NewClient(&goplugin.ClientConfig{
		HandshakeConfig: goplugin.HandshakeConfig{
			ProtocolVersion:  grpcplugin.ProtocolVersion,
			MagicCookieKey:   grpcplugin.MagicCookieKey,
			MagicCookieValue: grpcplugin.MagicCookieValue,
		},
		VersionedPlugins: map[int]goplugin.PluginSet{grpcplugin.ProtocolVersion: {
			"diagnostics": &grpcplugin.DiagnosticsGRPCPlugin{},
			"resource":    &grpcplugin.ResourceGRPCPlugin{},
			"data":        &grpcplugin.DataGRPCPlugin{},
		}},
		Cmd:              exec.Command(exe),
		AllowedProtocols: []goplugin.Protocol{goplugin.ProtocolGRPC},
		Logger:           hclog.New(&hclog.LoggerOptions{Name: "plugin", Level: hclog.Error, Output: io.Discard}),
		StartTimeout:     30 * time.Second,
	})
	t.Cleanup(client.Kill)
	rpc, err := client.Client()
	if err != nil {
		t.Fatalf("démarrage du plugin : %v", err)
	}
	p := &pluginProcess{client: client}
	for name, dst := range map[string]any{"data": &p.data, "diagnostics": &p.diagnostics, "resource": &p.resource} {
		raw, err := rpc.Dispense(name)
		if err != nil {
			t.Fatalf("%s : %v", name, err)
		}
		switch d := dst.(type) {
		case *grpcplugin.DataClient:
			*d = raw.(grpcplugin.DataClient)
		case *grpcplugin.DiagnosticsClient:
			*d = raw.(grpcplugin.DiagnosticsClient)
		case *grpcplugin.ResourceClient:
			*d = raw.(grpcplugin.ResourceClient)
		}
	}
	p.pctx = &pluginv2.PluginContext{
		OrgId:    1,
		PluginId: PluginID,
		DataSourceInstanceSettings: &pluginv2.DataSourceInstanceSettings{
			Id: 1, Uid: "fne-test", Name: "FNE test", JsonData: jsonData,
			DecryptedSecureJsonData: map[string]string{"password": password},
			LastUpdatedMS:           time.Now().UnixMilli(),
		},
	}
	return p
}

func (p *pluginProcess) query(ctx context.Context, qs ...backend.DataQuery) (*backend.QueryDataResponse, error) {
	req := &pluginv2.QueryDataRequest{PluginContext: p.pctx}
	for _, q := range qs {
		req.Queries = append(req.Queries, &pluginv2.DataQuery{
			RefId: q.RefID, QueryType: q.QueryType, Json: q.JSON,
			TimeRange: &pluginv2.TimeRange{FromEpochMS: q.TimeRange.From.UnixMilli(), ToEpochMS: q.TimeRange.To.UnixMilli()},
		})
	}
	resp, err := p.data.QueryData(ctx, req)
	if err != nil {
		return nil, err
	}
	return backend.FromProto().QueryDataResponse(resp)
}

func (p *pluginProcess) callResource(ctx context.Context, path string) (int, []byte, error) {
	stream, err := p.resource.CallResource(ctx, &pluginv2.CallResourceRequest{
		PluginContext: p.pctx, Method: "GET", Path: strings.SplitN(path, "?", 2)[0], Url: path,
	})
	if err != nil {
		return 0, nil, err
	}
	var status int
	var body []byte
	for {
		r, err := stream.Recv()
		if errors.Is(err, io.EOF) {
			return status, body, nil
		}
		if err != nil {
			return 0, nil, err
		}
		if r.Code != 0 {
			status = int(r.Code)
		}
		body = append(body, r.Body...)
	}
}

func TestProtocol(t *testing.T) {
	exe := buildPlugin(t)
	env := newFixtureEnv(t)
	ctx := context.Background()
	p := startPlugin(t, exe, fxSettingsJSON(t, env.db, ""), env.db.Config.Password)

	// CheckHealth
	h, err := p.diagnostics.CheckHealth(ctx, &pluginv2.CheckHealthRequest{PluginContext: p.pctx})
	if err != nil {
		t.Fatal(err)
	}
	if h.Status != pluginv2.CheckHealthResponse_OK || !strings.Contains(h.Message, "schéma en version") || !strings.Contains(h.Message, "208 communes et 12 EPCI") {
		t.Fatalf("santé : %v %s", h.Status, h.Message)
	}

	// QueryData: every query type in one request, plus a refused one
	resp, err := p.query(ctx,
		fxQuery("C", `{"queryType":"scorecard"}`),
		fxQuery("S", `{"queryType":"series","indicator":"a2.accompagnements"}`),
		fxQuery("B", `{"queryType":"breakdown","indicator":"a1.conseillers_actifs"}`),
		fxQuery("G", `{"queryType":"gaps"}`),
		fxQuery("M", `{"queryType":"milestones"}`),
		fxQuery("F", `{"queryType":"freshness"}`),
		fxQuery("X", `{"queryType":"breakdown","indicator":"a0.inconnu"}`),
	)
	if err != nil {
		t.Fatal(err)
	}
	for _, ref := range []string{"C", "S", "B", "G", "M", "F"} {
		if r := resp.Responses[ref]; r.Error != nil || len(r.Frames) != 1 {
			t.Fatalf("%s : %v", ref, r.Error)
		}
	}
	if r := resp.Responses["X"]; r.Error == nil || !strings.Contains(r.Error.Error(), `indicateur inconnu "a0.inconnu"`) || r.Status != backend.StatusBadRequest {
		t.Fatalf("X : %v (%d)", r.Error, r.Status)
	}
	want, err := env.eng.Evaluate(ctx, mustID(fxDep), october)
	if err != nil {
		t.Fatal(err)
	}
	c := resp.Responses["C"].Frames[0]
	assertScorecard(t, c, want)
	if v := valueOf(t, c, "value", scorecardRows(t, c)["a2.accompagnements"]); v == nil || *v != 9 {
		t.Errorf("accompagnements = %s, attendu 9", str(v))
	}
	// field config crosses the wire: French display names and units
	st, _ := c.FieldByName("status")
	pr, _ := c.FieldByName("progress")
	if st.Config == nil || st.Config.DisplayNameFromDS != "Statut" || pr.Config.Unit != "percent" {
		t.Errorf("configuration des champs perdue : %+v %+v", st.Config, pr.Config)
	}
	s := resp.Responses["S"].Frames[0]
	var series []string
	for i := 0; i < s.Rows(); i++ {
		series = append(series, str(valueOf(t, s, "value", i)))
	}
	if strings.Join(series, " ") != "null 4 9" {
		t.Errorf("série = %v", series)
	}
	b := resp.Responses["B"].Frames[0]
	kids, err := env.eng.Breakdown(ctx, "a1.conseillers_actifs", mustID(fxDep), noLevel, october)
	if err != nil {
		t.Fatal(err)
	}
	bt, _ := b.FieldByName("territory")
	for i, k := range kids {
		if bt.At(i) != k.Territory.String() || !eqPtr(valueOf(t, b, "value", i), k.Value) {
			t.Errorf("répartition %s : %v=%s, moteur %s", k.Territory, bt.At(i), str(valueOf(t, b, "value", i)), str(k.Value))
		}
	}
	gaps, _ := env.eng.Gaps(ctx, mustID(fxDep), october)
	if g := resp.Responses["G"].Frames[0]; g.Rows() != len(gaps) {
		t.Errorf("%d manques, moteur %d", g.Rows(), len(gaps))
	}
	if m := resp.Responses["M"].Frames[0]; m.Rows() != 2 {
		t.Errorf("%d jalons", m.Rows())
	}
	fresh, _ := env.eng.Freshness(ctx, time.Now())
	if f := resp.Responses["F"].Frames[0]; f.Rows() != len(fresh) {
		t.Errorf("%d sources, moteur %d", f.Rows(), len(fresh))
	}

	// CallResource
	code, body, err := p.callResource(ctx, "territories?level=commune&parent="+fxE2)
	if err != nil {
		t.Fatal(err)
	}
	var opts []Option
	if err := json.Unmarshal(body, &opts); code != 200 || err != nil || len(opts) != 5 || opts[0].Value == "" {
		t.Fatalf("%d %s", code, body) // CC de la Vallée du Garon has 5 communes
	}
	found := false
	for _, o := range opts {
		found = found || (o.Value == fxC3 && o.Text == "Brignais")
	}
	if !found {
		t.Errorf("Brignais absente : %s", body)
	}
	code, body, err = p.callResource(ctx, "catalogue")
	var cat []map[string]any
	if err != nil || code != 200 || json.Unmarshal(body, &cat) != nil || len(cat) != len(env.eng.Catalogue().Indicators) {
		t.Fatalf("catalogue : %d %v %.200s", code, err, body)
	}
	code, body, err = p.callResource(ctx, "axes")
	if err != nil || code != 200 || string(body) != `[{"text":"Axe 1","value":1},{"text":"Axe 2","value":2},{"text":"Axe 3","value":3}]` {
		t.Fatalf("axes : %d %v %s", code, err, body)
	}
	code, body, _ = p.callResource(ctx, "nope")
	if code != 404 || !strings.Contains(string(body), "ressource inconnue") {
		t.Fatalf("404 : %d %s", code, body)
	}
}

// A scoped datasource refuses, over the protocol too, what lies outside its EPCI.
func TestProtocolScope(t *testing.T) {
	exe := buildPlugin(t)
	env := newFixtureEnv(t)
	p := startPlugin(t, exe, fxSettingsJSON(t, env.db, fxE1), env.db.Config.Password)
	resp, err := p.query(context.Background(),
		fxQuery("IN", `{"queryType":"scorecard","territory":"`+fxC2+`"}`),
		fxQuery("OUT", `{"queryType":"scorecard","territory":"`+fxDep+`"}`),
	)
	if err != nil {
		t.Fatal(err)
	}
	in := resp.Responses["IN"]
	if in.Error != nil {
		t.Fatal(in.Error)
	}
	if v := valueOf(t, in.Frames[0], "value", scorecardRows(t, in.Frames[0])["a2.accompagnements"]); v == nil || *v != 2 {
		t.Errorf("Gleizé : %s, attendu 2", str(v))
	}
	out := resp.Responses["OUT"]
	if out.Error == nil || !strings.Contains(out.Error.Error(), "hors du périmètre") || out.Status != backend.StatusForbidden || len(out.Frames) != 0 {
		t.Fatalf("OUT : %v", out.Error)
	}
	code, body, _ := p.callResource(context.Background(), "territories?level=epci")
	var opts []Option
	if code != 200 || json.Unmarshal(body, &opts) != nil || len(opts) != 1 || opts[0].Value != fxE1 {
		t.Fatalf("%d %s", code, body)
	}

	// The administrator removes the scope: Grafana sends the new settings with a newer timestamp, the
	// instance manager replaces the instance (disposing the old connection) and dep:69 is answered.
	p.pctx.DataSourceInstanceSettings.JsonData = fxSettingsJSON(t, env.db, "")
	p.pctx.DataSourceInstanceSettings.LastUpdatedMS++
	resp, err = p.query(context.Background(), fxQuery("DEP", `{"queryType":"scorecard","territory":"`+fxDep+`"}`))
	if err != nil {
		t.Fatal(err)
	}
	dep := resp.Responses["DEP"]
	if dep.Error != nil {
		t.Fatalf("après retrait du périmètre : %v", dep.Error)
	}
	if v := valueOf(t, dep.Frames[0], "value", scorecardRows(t, dep.Frames[0])["a2.accompagnements"]); v == nil || *v != 9 {
		t.Errorf("accompagnements dep:69 = %s, attendu 9", str(v))
	}
}
