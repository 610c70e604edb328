package deploy

import (
	"encoding/json"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"sort"
	"testing"
)

// dashboardFile is the dashboard compose's Grafana provisions.
const dashboardFile = "grafana/dashboards/switchyard.json"

// dashboardPanels are the panels issue 28 asks the dashboard for, by
// title.
var dashboardPanels = []string{"Requests", "Errors", "Latency percentiles", "Batch size", "Queue depth",
	"Traffic split", "Gate verdicts", "Rollout decisions", "Drift", "Live quality", "Cost per 1,000 predictions",
	"Predictions by class"}

// dashboard is the part of Grafana's dashboard JSON these tests read.
type dashboard struct {
	UID        string `json:"uid"`
	Templating struct {
		List []struct {
			Name       string     `json:"name"`
			Datasource dataSource `json:"datasource"`
			Definition string     `json:"definition"`
		} `json:"list"`
	} `json:"templating"`
	Panels []struct {
		Title       string     `json:"title"`
		Description string     `json:"description"`
		Datasource  dataSource `json:"datasource"`
		Targets     []struct {
			Expr       string     `json:"expr"`
			Datasource dataSource `json:"datasource"`
		} `json:"targets"`
	} `json:"panels"`
}

// dataSource is a reference to a Grafana data source, or its
// provisioning.
type dataSource struct {
	Name      string `json:"name"`
	UID       string `json:"uid"`
	Type      string `json:"type"`
	Access    string `json:"access"`
	URL       string `json:"url"`
	IsDefault bool   `json:"isDefault"`
}

// readDashboard decodes the dashboard.
func readDashboard(t *testing.T) *dashboard {
	t.Helper()
	data, err := os.ReadFile(dashboardFile)
	if err != nil {
		t.Fatal(err)
	}
	var d dashboard
	if err := json.Unmarshal(data, &d); err != nil {
		t.Fatalf("%s: %v", dashboardFile, err)
	}
	return &d
}

// readDataSource decodes Grafana's one provisioned data source strictly.
func readDataSource(t *testing.T) dataSource {
	t.Helper()
	var p struct {
		APIVersion  int          `json:"apiVersion"`
		Datasources []dataSource `json:"datasources"`
	}
	readYAML(t, "grafana/provisioning/datasources/prometheus.yml", &p)
	if len(p.Datasources) != 1 || p.Datasources[0].Type != "prometheus" {
		t.Fatalf("want one prometheus data source; got %+v", p.Datasources)
	}
	return p.Datasources[0]
}

// readDashboardProvider decodes Grafana's dashboard provider strictly and
// returns the directory it loads dashboards from.
func readDashboardProvider(t *testing.T) string {
	t.Helper()
	var p struct {
		APIVersion int `json:"apiVersion"`
		Providers  []struct {
			Name           string `json:"name"`
			Type           string `json:"type"`
			AllowUIUpdates bool   `json:"allowUiUpdates"`
			Options        struct {
				Path string `json:"path"`
			} `json:"options"`
		} `json:"providers"`
	}
	readYAML(t, "grafana/provisioning/dashboards/switchyard.yml", &p)
	if len(p.Providers) != 1 || p.Providers[0].Type != "file" {
		t.Fatalf("want one file provider; got %+v", p.Providers)
	}
	return p.Providers[0].Options.Path
}

// TestDashboard checks that the dashboard has the panels asked for, each
// described and querying the provisioned data source.
func TestDashboard(t *testing.T) {
	d := readDashboard(t)
	uid := readDataSource(t).UID
	var titles []string
	for _, p := range d.Panels {
		titles = append(titles, p.Title)
		if p.Description == "" {
			t.Errorf("panel %q has no description", p.Title)
		}
		if len(p.Targets) == 0 {
			t.Errorf("panel %q queries nothing", p.Title)
		}
		if p.Datasource.UID != uid {
			t.Errorf("panel %q queries data source %q; the provisioned one is %q", p.Title, p.Datasource.UID, uid)
		}
		for _, q := range p.Targets {
			if q.Expr == "" || q.Datasource.UID != uid {
				t.Errorf("panel %q has a query %q of data source %q", p.Title, q.Expr, q.Datasource.UID)
			}
		}
	}
	for _, want := range dashboardPanels {
		if !slices.Contains(titles, want) {
			t.Errorf("the dashboard has no panel %q; it has %q", want, titles)
		}
	}
	for _, v := range d.Templating.List {
		if v.Datasource.UID != uid {
			t.Errorf("variable %q queries data source %q; the provisioned one is %q", v.Name, v.Datasource.UID, uid)
		}
	}
}

// metricName is a switchyard metric name in a PromQL expression.
var metricName = regexp.MustCompile(`\bswitchyard_[a-zA-Z0-9_]+`)

// queriedMetrics returns the sorted names of the switchyard series that
// the alert rules and the dashboard query, each with where it is queried.
func queriedMetrics(t *testing.T) map[string][]string {
	t.Helper()
	names := map[string][]string{}
	add := func(where, expr string) {
		for _, n := range metricName.FindAllString(expr, -1) {
			if !slices.Contains(names[n], where) {
				names[n] = append(names[n], where)
			}
		}
	}
	var rules struct {
		Groups []struct {
			Name  string `json:"name"`
			Rules []struct {
				Alert       string            `json:"alert"`
				Expr        string            `json:"expr"`
				For         string            `json:"for"`
				Labels      map[string]string `json:"labels"`
				Annotations map[string]string `json:"annotations"`
			} `json:"rules"`
		} `json:"groups"`
	}
	readYAML(t, filepath.Join("prometheus", "alerts.yml"), &rules)
	for _, g := range rules.Groups {
		for _, r := range g.Rules {
			add("alert "+r.Alert, r.Expr)
		}
	}
	d := readDashboard(t)
	for _, p := range d.Panels {
		for _, q := range p.Targets {
			add("panel "+p.Title, q.Expr)
		}
	}
	for _, v := range d.Templating.List {
		add("variable "+v.Name, v.Definition)
	}
	if len(names) == 0 {
		t.Fatal("the rules and the dashboard query no switchyard metric")
	}
	for _, w := range names {
		sort.Strings(w)
	}
	return names
}
