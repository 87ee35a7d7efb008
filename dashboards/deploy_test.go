package dashboards

import (
	"bufio"
	"bytes"
	"encoding/xml"
	"errors"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"gopkg.in/yaml.v3"

	"github.com/sdaasp-rhone/fne/internal/catalogue"
)

// Docker and kubectl are not available where the tests run, so the deployment files are checked here
// for what breaks a deployment silently: YAML that does not parse, a mounted path that does not exist,
// a datasource pointing at a variable nobody sets, a password written in clear, a ConfigMap or secret
// key that no manifest provides.

const deployDir = "../deploy"

func readYAMLDocs(t *testing.T, path string) []map[string]any {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return parseYAMLDocs(t, path, b)
}

func parseYAMLDocs(t *testing.T, name string, b []byte) []map[string]any {
	t.Helper()
	dec := yaml.NewDecoder(bytes.NewReader(b))
	var docs []map[string]any
	for {
		var d map[string]any
		err := dec.Decode(&d)
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			t.Fatalf("%s : YAML invalide : %v", name, err)
		}
		if d != nil {
			docs = append(docs, d)
		}
	}
	if len(docs) == 0 {
		t.Fatalf("%s : aucun document YAML", name)
	}
	return docs
}

func TestDeployYAMLParses(t *testing.T) {
	var files []string
	err := filepath.WalkDir(deployDir, func(p string, d os.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if !d.IsDir() && (strings.HasSuffix(p, ".yaml") || strings.HasSuffix(p, ".yml")) {
			files = append(files, p)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if len(files) < 12 {
		t.Fatalf("%d fichiers YAML trouvés sous deploy/, au moins 12 attendus : %v", len(files), files)
	}
	for _, f := range files {
		t.Run(strings.TrimPrefix(f, deployDir+"/"), func(t *testing.T) { readYAMLDocs(t, f) })
	}
}

func TestClickHouseXMLParses(t *testing.T) {
	files, _ := filepath.Glob(deployDir + "/clickhouse/server/*/*.xml")
	if len(files) < 4 {
		t.Fatalf("fichiers XML ClickHouse : %v", files)
	}
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		dec := xml.NewDecoder(bytes.NewReader(b))
		for {
			_, err := dec.Token()
			if errors.Is(err, io.EOF) {
				break
			}
			if err != nil {
				t.Fatalf("%s : XML invalide : %v", f, err)
			}
		}
	}
}

type chUsers struct {
	Profiles struct {
		Lecture struct {
			Readonly int `xml:"readonly"`
		} `xml:"fne_lecture"`
	} `xml:"profiles"`
	Users struct {
		Collecteur chUser `xml:"fne_collecteur"`
		Grafana    chUser `xml:"fne_grafana"`
	} `xml:"users"`
}

type chUser struct {
	Password struct {
		FromEnv string `xml:"from_env,attr"`
		Value   string `xml:",chardata"`
	} `xml:"password"`
	Profile string   `xml:"profile"`
	Grants  []string `xml:"grants>query"`
}

func TestClickHouseAccounts(t *testing.T) {
	b, err := os.ReadFile(deployDir + "/clickhouse/server/users.d/fne.xml")
	if err != nil {
		t.Fatal(err)
	}
	var u chUsers
	if err := xml.Unmarshal(b, &u); err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		name, env, profile string
		grants             []string
	}{
		{"fne_collecteur", "FNE_CH_COLLECTOR_PASSWORD", "fne_ecriture", []string{"GRANT SELECT, INSERT, OPTIMIZE ON fne.*"}},
		{"fne_grafana", "FNE_CH_GRAFANA_PASSWORD", "fne_lecture", []string{"GRANT SELECT ON fne.*"}},
	}
	compose := composeServices(t)
	chEnv := envOf(t, compose["clickhouse"])
	for _, c := range cases {
		user := u.Users.Collecteur
		if c.name == "fne_grafana" {
			user = u.Users.Grafana
		}
		if user.Password.FromEnv != c.env || strings.TrimSpace(user.Password.Value) != "" {
			t.Errorf("%s : mot de passe %+v, attendu from_env=%s et aucune valeur écrite", c.name, user.Password, c.env)
		}
		if _, ok := chEnv[c.env]; !ok {
			t.Errorf("%s : le service clickhouse ne reçoit pas %s", c.name, c.env)
		}
		if user.Profile != c.profile || strings.Join(user.Grants, "|") != strings.Join(c.grants, "|") {
			t.Errorf("%s : profil %q droits %v, attendu %q %v", c.name, user.Profile, user.Grants, c.profile, c.grants)
		}
	}
	if u.Profiles.Lecture.Readonly != 2 {
		t.Errorf("profil fne_lecture : readonly=%d, attendu 2 (lecture seule, réglages de requête permis)", u.Profiles.Lecture.Readonly)
	}
}

func composeServices(t *testing.T) map[string]map[string]any {
	t.Helper()
	docs := readYAMLDocs(t, deployDir+"/docker-compose.yml")
	svcs := map[string]map[string]any{}
	for name, s := range docs[0]["services"].(map[string]any) {
		svcs[name] = s.(map[string]any)
	}
	return svcs
}

func envOf(t *testing.T, svc map[string]any) map[string]string {
	t.Helper()
	out := map[string]string{}
	env, _ := svc["environment"].(map[string]any)
	for k, v := range env {
		if k == "<<" {
			continue
		}
		out[k] = toString(v)
	}
	return out
}

func toString(v any) string {
	switch x := v.(type) {
	case string:
		return x
	case nil:
		return ""
	default:
		b, _ := yaml.Marshal(x)
		return strings.TrimSpace(string(b))
	}
}

var composeVar = regexp.MustCompile(`\$\{([A-Z0-9_]+)(:?[-?][^}]*)?\}`)

func envExample(t *testing.T, path string) map[string]string {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	vars := map[string]string{}
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		k, v, ok := strings.Cut(line, "=")
		if !ok {
			t.Fatalf("%s : ligne sans = : %q", path, line)
		}
		vars[k] = v
	}
	return vars
}

func TestCompose(t *testing.T) {
	svcs := composeServices(t)
	images := map[string]string{
		"clickhouse": "clickhouse/clickhouse-server:", "prometheus": "prom/prometheus:",
		"grafana": "grafana/grafana-oss:", "grafana-organisations": "grafana/grafana-oss:",
		"migrate": "", "collecteur": "",
	}
	for name, prefix := range images {
		s, ok := svcs[name]
		if !ok {
			t.Errorf("service %s absent", name)
			continue
		}
		img := toString(s["image"])
		if prefix != "" && !strings.HasPrefix(img, prefix) {
			t.Errorf("service %s : image %q, attendu l'image officielle %s…", name, img, prefix)
		}
	}
	if len(svcs) != len(images) {
		t.Errorf("services %d, attendu %d", len(svcs), len(images))
	}
	// Official images at the versions the guide documents.
	raw, _ := os.ReadFile(deployDir + "/docker-compose.yml")
	for _, want := range []string{"clickhouse/clickhouse-server:${FNE_CLICKHOUSE_VERSION:-25.8}", "grafana/grafana-oss:${FNE_GRAFANA_VERSION:-12."} {
		if !strings.Contains(string(raw), want) {
			t.Errorf("docker-compose.yml ne contient pas %q", want)
		}
	}
	// The collector starts only once the schema is migrated.
	dep, _ := svcs["collecteur"]["depends_on"].(map[string]any)
	if m, _ := dep["migrate"].(map[string]any); m["condition"] != "service_completed_successfully" {
		t.Errorf("collecteur : depends_on migrate %v, attendu service_completed_successfully", dep["migrate"])
	}
	genv := envOf(t, svcs["grafana"])
	if genv["GF_PLUGINS_ALLOW_LOADING_UNSIGNED_PLUGINS"] != PluginType {
		t.Errorf("grafana : GF_PLUGINS_ALLOW_LOADING_UNSIGNED_PLUGINS=%q", genv["GF_PLUGINS_ALLOW_LOADING_UNSIGNED_PLUGINS"])
	}
	// No secret in clear: every password-like value comes from the environment (.env).
	example := envExample(t, deployDir+"/.env.example")
	for name, s := range svcs {
		for k, v := range envOf(t, s) {
			if strings.Contains(k, "PASSWORD") || strings.Contains(k, "TOKEN") {
				if !strings.HasPrefix(v, "${") {
					t.Errorf("service %s : %s écrit en clair (%q) au lieu de ${…}", name, k, v)
				}
			}
		}
	}
	// Every variable without a default is documented in .env.example.
	for _, m := range composeVar.FindAllStringSubmatch(string(raw), -1) {
		if strings.HasPrefix(m[2], ":-") || strings.HasPrefix(m[2], "-") {
			continue
		}
		if _, ok := example[m[1]]; !ok {
			t.Errorf("variable %s utilisée sans valeur par défaut et absente de .env.example", m[1])
		}
	}
	for _, k := range []string{"FNE_COOP_TOKEN", "FNE_MATOMO_TOKEN"} {
		if _, ok := example[k]; !ok {
			t.Errorf("%s absent de .env.example (secrets du collecteur)", k)
		}
	}
	// Bind mounts point at files of the repository.
	mounts := map[string]string{}
	for name, s := range svcs {
		vols, _ := s["volumes"].([]any)
		for _, v := range vols {
			src, dst, _ := strings.Cut(toString(v), ":")
			dst = strings.TrimSuffix(dst, ":ro")
			if !strings.HasPrefix(src, ".") {
				continue
			}
			mounts[dst] = src
			if _, err := os.Stat(filepath.Join(deployDir, src)); err != nil && src != "../plugin/dist" {
				t.Errorf("service %s : %s monté mais absent du dépôt", name, src)
			}
		}
	}
	if mounts["/fne/dashboards"] != "../dashboards" || mounts["/fne/dashboards-epci/epci.json"] != "../dashboards/epci.json" {
		t.Errorf("montages des tableaux de bord : %v", mounts)
	}
	if mounts["/var/lib/grafana/plugins/sdaasp-fneindicateurs-datasource"] != "../plugin/dist" {
		t.Errorf("le plugin (plugin/dist) n'est pas monté dans Grafana : %v", mounts)
	}
}

var jsonDataKeys = map[string]bool{"host": true, "port": true, "database": true, "username": true, "secure": true,
	"dialTimeout": true, "queryTimeout": true, "scope": true}

func checkPluginDatasource(t *testing.T, where string, ds map[string]any, scope string, grafanaEnv map[string]string) {
	t.Helper()
	jd, _ := ds["jsonData"].(map[string]any)
	for k := range jd {
		if !jsonDataKeys[k] {
			t.Errorf("%s : réglage jsonData inconnu du plugin %q", where, k)
		}
	}
	if toString(jd["scope"]) != scope {
		t.Errorf("%s : scope %q, attendu %q", where, toString(jd["scope"]), scope)
	}
	sj, _ := ds["secureJsonData"].(map[string]any)
	pw := toString(sj["password"])
	if pw != "$FNE_CH_GRAFANA_PASSWORD" {
		t.Errorf("%s : mot de passe %q, attendu la variable $FNE_CH_GRAFANA_PASSWORD", where, pw)
	}
	for _, v := range []any{jd["host"], jd["database"], sj["password"]} {
		s := toString(v)
		if strings.HasPrefix(s, "$") {
			if _, ok := grafanaEnv[strings.TrimPrefix(s, "$")]; !ok {
				t.Errorf("%s : %s n'est pas défini dans l'environnement du service grafana", where, s)
			}
		}
	}
	if ds["editable"] != false {
		t.Errorf("%s : une source provisionnée doit être non modifiable (le périmètre en dépend)", where)
	}
}

func TestGrafanaProvisioning(t *testing.T) {
	genv := envOf(t, composeServices(t)["grafana"])
	docs := readYAMLDocs(t, deployDir+"/grafana/provisioning/datasources/fne.yaml")
	byType := map[string]map[string]any{}
	for _, d := range docs[0]["datasources"].([]any) {
		m := d.(map[string]any)
		byType[toString(m["type"])] = m
	}
	p, ok := byType[PluginType]
	if !ok || p["uid"] != "fne-indicateurs" || p["orgId"] != 1 || p["isDefault"] != true {
		t.Fatalf("source du plugin : %v", p)
	}
	checkPluginDatasource(t, "source départementale", p, "", genv)
	if pr := byType["prometheus"]; pr == nil || pr["url"] != "http://prometheus:9090" {
		t.Errorf("source Prometheus : %v", pr)
	}

	prov := readYAMLDocs(t, deployDir+"/grafana/provisioning/dashboards/fne.yaml")
	pv := prov[0]["providers"].([]any)[0].(map[string]any)
	if opts := pv["options"].(map[string]any); opts["path"] != "/fne/dashboards" {
		t.Errorf("chemin des tableaux de bord %v, attendu /fne/dashboards", opts["path"])
	}
}

// The EPCI templates, filled in as organisations.sh does, give a scoped datasource for each line of
// organisations.csv, whose territory is an EPCI of the reference.
func TestEPCIOrganisations(t *testing.T) {
	genv := envOf(t, composeServices(t)["grafana"])
	epcis := map[string]bool{}
	ref, err := os.ReadFile("../schemas/reference/rhone_epci.csv")
	if err != nil {
		t.Fatal(err)
	}
	for _, l := range strings.Split(string(ref), "\n")[1:] {
		if siren, _, ok := strings.Cut(l, ","); ok {
			epcis["epci:"+siren] = true
		}
	}
	b, err := os.ReadFile(deployDir + "/grafana/epci/organisations.csv")
	if err != nil {
		t.Fatal(err)
	}
	dsT, _ := os.ReadFile(deployDir + "/grafana/epci/datasource.yaml.tmpl")
	dbT, _ := os.ReadFile(deployDir + "/grafana/epci/dashboards.yaml.tmpl")
	n := 0
	for _, line := range strings.Split(string(b), "\n") {
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		f := strings.Split(line, ";")
		if len(f) != 3 {
			t.Fatalf("organisations.csv : %q, attendu nom;territoire;identifiant", line)
		}
		if !epcis[f[1]] {
			t.Errorf("organisations.csv : %s n'est pas un EPCI du référentiel", f[1])
		}
		n++
		fill := func(tmpl []byte) []byte {
			r := strings.NewReplacer("@NOM@", f[0], "@TERRITOIRE@", f[1], "@IDENTIFIANT@", f[2], "@ORG_ID@", "2")
			return []byte(r.Replace(string(tmpl)))
		}
		ds := parseYAMLDocs(t, "datasource.yaml.tmpl", fill(dsT))[0]["datasources"].([]any)[0].(map[string]any)
		if ds["orgId"] != 2 || ds["uid"] != "fne-indicateurs-"+f[2] || ds["type"] != PluginType {
			t.Errorf("source de l'EPCI %s : %v", f[0], ds)
		}
		checkPluginDatasource(t, "source de "+f[0], ds, f[1], genv)
		pv := parseYAMLDocs(t, "dashboards.yaml.tmpl", fill(dbT))[0]["providers"].([]any)[0].(map[string]any)
		if pv["orgId"] != 2 || pv["options"].(map[string]any)["path"] != "/fne/dashboards-epci" {
			t.Errorf("tableaux de bord de l'EPCI %s : %v", f[0], pv)
		}
	}
	if n == 0 {
		t.Error("organisations.csv : aucune organisation d'EPCI (au moins un exemple attendu)")
	}
}

func TestPrometheusScrapesCollector(t *testing.T) {
	docs := readYAMLDocs(t, deployDir+"/prometheus/prometheus.yml")
	sc := docs[0]["scrape_configs"].([]any)[0].(map[string]any)
	targets := sc["static_configs"].([]any)[0].(map[string]any)["targets"].([]any)
	if sc["job_name"] != "fne-collecteur" || len(targets) != 1 || targets[0] != "collecteur:9464" {
		t.Errorf("relevé Prometheus : %v (le tableau Collecte filtre sur job=fne-collecteur)", sc)
	}
	readYAMLDocs(t, deployDir+"/prometheus/alertes.yml")
}

func TestKubernetesManifests(t *testing.T) {
	dir := deployDir + "/k8s"
	k := readYAMLDocs(t, dir+"/kustomization.yaml")[0]
	services := map[string]bool{}
	configMaps := map[string]bool{}
	for _, g := range k["configMapGenerator"].([]any) {
		m := g.(map[string]any)
		configMaps[toString(m["name"])] = true
		for _, f := range m["files"].([]any) {
			_, src, _ := strings.Cut(toString(f), "=")
			if _, err := os.Stat(filepath.Join(dir, src)); err != nil {
				t.Errorf("configMapGenerator %s : %s absent", m["name"], src)
			}
		}
	}
	images := map[string]bool{}
	for _, i := range k["images"].([]any) {
		images[toString(i.(map[string]any)["name"])] = true
	}
	secretKeys := envExample(t, dir+"/secrets.env.example")
	kinds := map[string]int{}
	for _, r := range k["resources"].([]any) {
		for _, d := range readYAMLDocs(t, filepath.Join(dir, toString(r))) {
			kind := toString(d["kind"])
			name := toString(d["metadata"].(map[string]any)["name"])
			if d["apiVersion"] == nil || kind == "" || name == "" {
				t.Errorf("%s : document sans apiVersion, kind ou metadata.name", r)
			}
			kinds[kind]++
			if kind == "Service" {
				services[name] = true
			}
			walk(d, func(key string, v any) {
				m, _ := v.(map[string]any)
				switch key {
				case "image":
					if !images[toString(v)] {
						t.Errorf("%s/%s : image %v sans entrée images: dans kustomization.yaml", kind, name, v)
					}
				case "secretKeyRef":
					if m["name"] != "fne-secrets" || !hasKey(secretKeys, toString(m["key"])) {
						t.Errorf("%s/%s : secret %v inconnu de secrets.env.example", kind, name, m)
					}
				case "configMap":
					if !configMaps[toString(m["name"])] {
						t.Errorf("%s/%s : ConfigMap %v non générée", kind, name, m["name"])
					}
				case "secret":
					if sn, ok := m["secretName"]; ok {
						for _, it := range m["items"].([]any) {
							if key := toString(it.(map[string]any)["key"]); sn != "fne-secrets" || !hasKey(secretKeys, key) {
								t.Errorf("%s/%s : clé de secret %s inconnue", kind, name, key)
							}
						}
					}
				}
			})
		}
	}
	for _, s := range []string{"clickhouse", "collecteur", "prometheus", "grafana"} {
		if !services[s] {
			t.Errorf("Service %s absent (les fichiers de configuration partagés avec Compose utilisent ce nom)", s)
		}
	}
	want := map[string]int{"Namespace": 1, "StatefulSet": 1, "Job": 1, "Deployment": 3, "Service": 4, "NetworkPolicy": 1}
	for kind, n := range want {
		if kinds[kind] != n {
			t.Errorf("%d objets %s, attendu %d", kinds[kind], kind, n)
		}
	}
}

func hasKey(m map[string]string, k string) bool { _, ok := m[k]; return ok }

// walk calls fn for every key of every mapping in v, depth first.
func walk(v any, fn func(key string, v any)) {
	switch x := v.(type) {
	case map[string]any:
		for k, c := range x {
			fn(k, c)
			walk(c, fn)
		}
	case []any:
		for _, c := range x {
			walk(c, fn)
		}
	}
}

// The example of target overrides is a file the catalogue accepts, and it changes what it says.
func TestTargetOverridesExample(t *testing.T) {
	c, err := catalogue.LoadFile(deployDir + "/cibles/cibles.exemple.yaml")
	if err != nil {
		t.Fatal(err)
	}
	ind, ok := c.Get("a1.conseillers_actifs")
	if !ok || ind.Target == nil || *ind.Target != 16 || ind.Deadline != "2027-12" {
		t.Errorf("a1.conseillers_actifs après surcharge : cible %v échéance %q, attendu 16 et 2027-12", ind.Target, ind.Deadline)
	}
	ind, _ = c.Get("a3.epci_deux_rencontres")
	if ind.Target == nil || *ind.Target != 100 || ind.Deadline != "2026-12" {
		t.Errorf("a3.epci_deux_rencontres après surcharge : cible %v échéance %q, attendu 100 (inchangée) et 2026-12", ind.Target, ind.Deadline)
	}
}
