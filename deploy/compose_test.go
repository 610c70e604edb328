package deploy

import (
	"net"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"sigs.k8s.io/yaml"
)

// composeFile is the part of the Compose specification that compose.yaml
// uses; decoded strictly, a field it does not name fails.
type composeFile struct {
	Name     string                    `json:"name"`
	Services map[string]composeService `json:"services"`
	Volumes  map[string]*struct{}      `json:"volumes"`
}

// composeService is one service of compose.yaml.
type composeService struct {
	Build *struct {
		Context    string `json:"context"`
		Dockerfile string `json:"dockerfile"`
	} `json:"build"`
	Profiles        []string          `json:"profiles"`
	Image           string            `json:"image"`
	Command         []string          `json:"command"`
	Environment     map[string]string `json:"environment"`
	Ports           []string          `json:"ports"`
	Volumes         []string          `json:"volumes"`
	DependsOn       []string          `json:"depends_on"`
	StopGracePeriod string            `json:"stop_grace_period"`
	Restart         string            `json:"restart"`
}

// prometheusConfig is the part of prometheus.yml these tests read.
type prometheusConfig struct {
	ScrapeConfigs []struct {
		MetricsPath   string `json:"metrics_path"`
		StaticConfigs []struct {
			Targets []string `json:"targets"`
		} `json:"static_configs"`
	} `json:"scrape_configs"`
}

// readYAML decodes the YAML file at path into v, strictly.
func readYAML(t *testing.T, path string, v any) {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if err := yaml.UnmarshalStrict(data, v); err != nil {
		t.Fatalf("%s: %v", path, err)
	}
}

// readCompose decodes compose.yaml strictly.
func readCompose(t *testing.T) *composeFile {
	t.Helper()
	var c composeFile
	readYAML(t, "compose.yaml", &c)
	if _, ok := c.Services["switchyard"]; !ok {
		t.Fatal("compose.yaml has no switchyard service")
	}
	return &c
}

// mountTarget returns the container path of a volume spec
// (SOURCE:TARGET[:MODE]).
func mountTarget(spec string) string {
	parts := strings.Split(spec, ":")
	if len(parts) < 2 {
		return ""
	}
	return parts[1]
}

// TestCompose checks that compose.yaml's pieces exist and meet: what it
// builds and mounts is in the repository, named volumes are declared,
// Prometheus scrapes the switchyard service where it listens, Grafana
// reads Prometheus and the dashboard where they are mounted, and the stop
// grace period outlasts the server's drain.
func TestCompose(t *testing.T) {
	c := readCompose(t)
	for name, s := range c.Services {
		if b := s.Build; b != nil {
			if _, err := os.Stat(filepath.Join(b.Context, b.Dockerfile)); err != nil {
				t.Errorf("service %s builds %v", name, err)
			}
		}
		for _, v := range s.Volumes {
			source, _, _ := strings.Cut(v, ":")
			if strings.HasPrefix(source, ".") {
				if _, err := os.Stat(source); err != nil {
					t.Errorf("service %s mounts %v", name, err)
				}
			} else if _, ok := c.Volumes[source]; !ok {
				t.Errorf("service %s mounts volume %q, which compose.yaml does not declare", name, source)
			}
		}
		for _, d := range s.DependsOn {
			if _, ok := c.Services[d]; !ok {
				t.Errorf("service %s depends on %q, which compose.yaml lacks", name, d)
			}
		}
		if s.StopGracePeriod != "" {
			grace, err := time.ParseDuration(s.StopGracePeriod)
			if err != nil {
				t.Errorf("service %s: stop_grace_period: %v", name, err)
			}
			if stop, err := shutdownTime(s.Command); err != nil || grace <= stop {
				t.Errorf("service %s: stop_grace_period %s does not outlast the server's drain (%s, %v)", name, grace, stop, err)
			}
		}
	}

	sy := c.Services["switchyard"]
	_, port, err := net.SplitHostPort(flagValue(sy.Command, "addr"))
	if err != nil {
		t.Fatalf("switchyard's command %q: --addr: %v", sy.Command, err)
	}
	var prom prometheusConfig // promtool checks the whole file (TestPrometheusConfig)
	if data, err := os.ReadFile("prometheus/prometheus.yml"); err != nil {
		t.Fatal(err)
	} else if err := yaml.Unmarshal(data, &prom); err != nil {
		t.Fatalf("prometheus/prometheus.yml: %v", err)
	}
	scraped := false
	for _, sc := range prom.ScrapeConfigs {
		for _, st := range sc.StaticConfigs {
			scraped = scraped || slices.Contains(st.Targets, net.JoinHostPort("switchyard", port)) && sc.MetricsPath == "/metrics"
		}
	}
	if !scraped {
		t.Errorf("prometheus.yml does not scrape switchyard:%s/metrics", port)
	}
	p := c.Services["prometheus"]
	if !slices.ContainsFunc(p.Volumes, func(v string) bool {
		return strings.HasPrefix(v, "./prometheus/prometheus.yml:") && slices.Contains(p.Command, "--config.file="+mountTarget(v))
	}) {
		t.Errorf("the prometheus service's --config.file is not where prometheus.yml is mounted: %q, %q", p.Command, p.Volumes)
	}
	if !slices.ContainsFunc(p.Volumes, func(v string) bool { return strings.HasPrefix(v, "./prometheus/alerts.yml:/etc/prometheus/alerts.yml") }) {
		t.Errorf("the prometheus service does not mount alerts.yml beside prometheus.yml: %q", p.Volumes)
	}

	g := c.Services["grafana"]
	dashboards := readDashboardProvider(t)
	if !slices.ContainsFunc(g.Volumes, func(v string) bool {
		return strings.HasPrefix(v, "./grafana/dashboards:") && mountTarget(v) == dashboards
	}) {
		t.Errorf("grafana does not mount the dashboards where its provider reads them (%s): %q", dashboards, g.Volumes)
	}
	if !slices.ContainsFunc(g.Volumes, func(v string) bool { return mountTarget(v) == "/etc/grafana/provisioning" }) {
		t.Errorf("grafana does not mount its provisioning: %q", g.Volumes)
	}
	if home := g.Environment["GF_DASHBOARDS_DEFAULT_HOME_DASHBOARD_PATH"]; home != "" && filepath.Dir(home) != dashboards {
		t.Errorf("grafana's home dashboard %s is not among the provisioned ones in %s", home, dashboards)
	}
	ds := readDataSource(t)
	if host := strings.TrimPrefix(ds.URL, "http://"); !strings.HasPrefix(host, "prometheus:9090") {
		t.Errorf("grafana's data source is %s; the compose service is prometheus:9090", ds.URL)
	}
}

// flagValue returns the value of --name in args, given as --name=value or
// --name value, or "".
func flagValue(args []string, name string) string {
	for i, a := range args {
		n, v, ok := strings.Cut(strings.TrimLeft(a, "-"), "=")
		if !strings.HasPrefix(a, "-") || n != name {
			continue
		}
		if ok {
			return v
		}
		if i+1 < len(args) {
			return args[i+1]
		}
	}
	return ""
}

// TestComposeFleet checks compose.yaml's fleet profile: three replicas
// on one registry volume, each with a data volume and a host port of its
// own, all on the profile's PostgreSQL and NATS, and each scraped by
// Prometheus.
func TestComposeFleet(t *testing.T) {
	c := readCompose(t)
	var prom prometheusConfig // promtool checks the whole file (TestPrometheusConfig)
	if data, err := os.ReadFile("prometheus/prometheus.yml"); err != nil {
		t.Fatal(err)
	} else if err := yaml.Unmarshal(data, &prom); err != nil {
		t.Fatalf("prometheus/prometheus.yml: %v", err)
	}
	scraped := map[string]bool{}
	for _, sc := range prom.ScrapeConfigs {
		for _, st := range sc.StaticConfigs {
			for _, target := range st.Targets {
				scraped[target] = sc.MetricsPath == "/metrics"
			}
		}
	}
	for _, name := range []string{"postgres", "nats"} {
		if s, ok := c.Services[name]; !ok || !slices.Contains(s.Profiles, "fleet") {
			t.Errorf("the fleet profile has no %s service", name)
		}
	}
	registries, data, ports := map[string]bool{}, map[string]bool{}, map[string]bool{}
	replicas := 0
	for name, s := range c.Services {
		if !slices.Contains(s.Profiles, "fleet") || flagValue(s.Command, "addr") == "" {
			continue
		}
		replicas++
		dsn, stream := s.Environment["SWITCHYARD_TRACKING_DSN"], s.Environment["SWITCHYARD_STREAM"]
		if !strings.Contains(dsn, "@postgres:5432/") || !strings.HasPrefix(stream, "nats://nats:4222") {
			t.Errorf("replica %s: tracking %q and stream %q are not the profile's postgres and nats", name, dsn, stream)
		}
		for _, v := range s.Volumes {
			source, _, _ := strings.Cut(v, ":")
			switch mountTarget(v) {
			case flagValue(s.Command, "registry"):
				registries[source] = true
			case flagValue(s.Command, "data-dir"):
				if data[source] {
					t.Errorf("replica %s shares its data volume %s: each replica needs its own", name, source)
				}
				data[source] = true
			}
		}
		for _, p := range s.Ports {
			if ports[p] {
				t.Errorf("replica %s: port %s taken twice", name, p)
			}
			ports[p] = true
		}
		_, port, _ := net.SplitHostPort(flagValue(s.Command, "addr"))
		if !scraped[net.JoinHostPort(name, port)] {
			t.Errorf("prometheus.yml does not scrape replica %s:%s/metrics", name, port)
		}
	}
	if replicas != 3 || len(registries) != 1 || len(data) != 3 {
		t.Errorf("the fleet profile has %d replicas on %d registry volumes with %d data volumes; want 3 on 1 with 3", replicas, len(registries), len(data))
	}
}
