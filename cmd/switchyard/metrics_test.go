package main

import (
	"bytes"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/prometheus/client_golang/prometheus/testutil/promlint"

	"github.com/switchyard-ml/switchyard/internal/demo"
	"github.com/switchyard-ml/switchyard/modelstore"
)

// TestMetricsLintClean serves the demo's registry with a price per
// core-hour and drives everything that creates series: V2 and records
// requests, refused ones (400, 404, 422), a publish while serving (a
// swap) whose gate judges it on its eval set, and the canary rollout the
// model's policy starts. Then /metrics must pass client_golang's promlint
// with no problem, and the cost series must move under the load.
func TestMetricsLintClean(t *testing.T) {
	reg := filepath.Join(t.TempDir(), "registry")
	if err := os.MkdirAll(filepath.Join(reg, demoModel), 0o755); err != nil {
		t.Fatal(err)
	}
	writeFile(t, filepath.Join(reg, demoModel), modelstore.PolicyFile, []byte(testPolicy(t, "1s")))
	addr := serve(t, "--registry", reg, "--controller-tick", "20ms", "--cost-per-core-hour", "0.05")
	out, err := runCmd(t, "demo", "--registry", reg)
	if err != nil || !strings.Contains(out, "published fraud version 2") {
		t.Fatalf("demo = %v\n%s", err, out)
	}
	post := func(path, body string) int {
		t.Helper()
		resp, err := http.Post("http://"+addr+path, "application/json", strings.NewReader(body))
		if err != nil {
			t.Fatal(err)
		}
		io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		return resp.StatusCode
	}
	v2 := regexp.MustCompile(`curl -s \S+/v2/models/fraud/infer -H 'Content-Type: application/json' -d '([^']+)'`).FindStringSubmatch(out)
	if v2 == nil {
		t.Fatalf("demo printed no V2 request:\n%s", out)
	}
	records := demo.Generate(7, 20_001) // rows all different: the demo policy's cache answers a repeated one, which the rollout does not count
	for _, c := range []struct {
		path, body string
		want       int
	}{
		{"/v2/models/fraud/infer", v2[1], 200},
		{"/v2/models/fraud/infer", `{"inputs": [`, 400},
		{"/v2/models/nope/infer", v2[1], 404},
		{"/v1/models/fraud:predict", string(badRecordsBody(records.Row(0))), 422},
	} {
		if got := post(c.path, c.body); got != c.want {
			t.Errorf("POST %s = %d; want %d", c.path, got, c.want)
		}
	}
	before := scrape(t, addr)
	// Records traffic until the controller has judged the canary.
	for i := 0; ; i++ {
		if got := post("/v1/models/fraud:predict", string(recordsBody(records.Row(i%records.Len())))); got != 200 {
			t.Fatalf("records request %d = %d", i, got)
		}
		if i%50 == 49 && strings.Contains(scrape(t, addr), `switchyard_rollout_decisions_total{action="advance",model="fraud"}`) {
			break
		}
		if i == 20_000 {
			t.Fatalf("the controller made no advance decision on the canary after %d requests", i)
		}
	}
	text := scrape(t, addr)
	problems, err := promlint.New(strings.NewReader(text)).Lint()
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range problems {
		t.Errorf("promlint: %s: %s", p.Metric, p.Text)
	}
	for _, series := range []string{"switchyard_requests_total", "switchyard_gate_passed", "switchyard_rollout_decisions_total",
		"switchyard_traffic_weight_bp", "switchyard_prediction_log_written_total", "go_goroutines", "process_cpu_seconds_total"} {
		if !strings.Contains(text, "\n"+series) {
			t.Errorf("/metrics lacks %s", series)
		}
	}
	for _, name := range []string{"switchyard_cost_compute_seconds_total", "switchyard_cost_predictions_total"} {
		for _, v := range []string{"1", "2"} {
			was, now := seriesValue(before, name, v), seriesValue(text, name, v)
			if !(now > was && now > 0) {
				t.Errorf("%s of fraud version %s went from %v to %v under load; want it to grow", name, v, was, now)
			}
		}
	}
	// Dollars per 1,000 predictions at $0.05 a core-hour: compute seconds
	// over predictions, times 1000 / 3600 × 0.05, give or take the
	// moments between the series' reads.
	want := seriesValue(text, "switchyard_cost_compute_seconds_total", "1") / seriesValue(text, "switchyard_cost_predictions_total", "1") * 1000 / 3600 * 0.05
	if got := seriesValue(text, "switchyard_cost_per_1k_predictions_dollars", "1"); !(got > 0.99*want && got < 1.01*want) {
		t.Errorf("switchyard_cost_per_1k_predictions_dollars of version 1 = %v; want about %v", got, want)
	}
	costLine := regexp.MustCompile(`cost of fraud version 1: [1-9]\d* predictions, \d+\.\d{3}s compute, \S+ a prediction, \$\d\S* per 1,000`)
	status, err := runCmd(t, "status", "fraud", "--server", addr)
	if err != nil || !costLine.MatchString(status) {
		t.Errorf("status = %v; want version 1's cost with its dollars\n%s", err, status)
	}
	// docs/operating.md lists every series the server exports, and shows
	// status's cost line as it is.
	doc, err := os.ReadFile(filepath.Join("..", "..", "docs", "operating.md"))
	if err != nil {
		t.Fatal(err)
	}
	for _, name := range regexp.MustCompile(`(?m)^# TYPE (switchyard_\w+) `).FindAllStringSubmatch(text, -1) {
		if !strings.Contains(string(doc), "| `"+name[1]+"` |") {
			t.Errorf("docs/operating.md's Metrics table lacks %s", name[1])
		}
	}
	if !costLine.Match(doc) {
		t.Errorf("docs/operating.md shows no cost line as switchyard status prints it")
	}
}

// scrape returns the text of GET /metrics.
func scrape(t *testing.T, addr string) string {
	t.Helper()
	resp, err := http.Get("http://" + addr + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var b bytes.Buffer
	if _, err := b.ReadFrom(resp.Body); err != nil || resp.StatusCode != 200 {
		t.Fatalf("GET /metrics = %d, %v", resp.StatusCode, err)
	}
	return b.String()
}

// seriesValue returns the value of name{model="fraud",version=version} in
// a scrape, or 0 when it is absent.
func seriesValue(text, name, version string) float64 {
	return sampleValue(text, name+`{model="fraud",version="`+version+`"}`)
}

// sampleValue returns the value of series (a name with its labels, as
// /metrics writes it) in a scrape, or 0 when it is absent.
func sampleValue(text, series string) float64 {
	prefix := series + " "
	for line := range strings.Lines(text) {
		if v, ok := strings.CutPrefix(strings.TrimSpace(line), prefix); ok {
			f, _ := strconv.ParseFloat(v, 64)
			return f
		}
	}
	return 0
}
