package mlflow_test

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/switchyard-ml/switchyard/server/internal/servertest"
	"github.com/switchyard-ml/switchyard/tracking"
)

// serveTracking serves an empty registry with a tracking store and an
// artifact store in the test's temporary directory.
func serveTracking(t *testing.T) *testServer {
	t.Helper()
	reg := filepath.Join(t.TempDir(), "registry")
	if err := mkdir(reg); err != nil {
		t.Fatal(err)
	}
	return serveTrackingAt(t, reg, Config{})
}

// serveTrackingAt serves the registry reg with a tracking store and an
// artifact store in the test's temporary directory, and cfg's settings.
func serveTrackingAt(t *testing.T, reg string, cfg Config) *testServer {
	t.Helper()
	dir := t.TempDir()
	tr, err := tracking.Open(context.Background(), filepath.Join(dir, "data"), tracking.Config{})
	if err != nil {
		t.Fatal(err)
	}
	arts, err := tracking.OpenArtifacts(filepath.Join(dir, "data", "artifacts"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		arts.Close()
		tr.Close()
	})
	cfg.Tracking, cfg.Registry, cfg.RegistryDir, cfg.Artifacts = tr, tr, reg, arts
	return serveRegistry(t, reg, cfg)
}

// mlflowCall sends an MLflow API request and decodes the JSON answer.
func (ts *testServer) mlflowCall(t *testing.T, method, path, body string) (int, map[string]any) {
	t.Helper()
	r := ts.Do(t, method, path, body)
	var out map[string]any
	if err := json.Unmarshal(r.Body, &out); err != nil {
		t.Fatalf("%s %s answered %d with non-JSON %q", method, path, r.Status, r.Body)
	}
	return r.Status, out
}

// ok sends a request that must succeed.
func (ts *testServer) ok(t *testing.T, method, path, body string) map[string]any {
	t.Helper()
	status, out := ts.mlflowCall(t, method, path, body)
	if status != 200 {
		t.Fatalf("%s %s %s = %d %v", method, path, body, status, out)
	}
	return out
}

// TestMLflowRunRoundTrip logs a run as the MLflow client does, then reads
// it back through runs/get and runs/search.
func TestMLflowRunRoundTrip(t *testing.T) {
	ts := serveTracking(t)
	status, out := ts.mlflowCall(t, "GET", "/api/2.0/mlflow/experiments/get-by-name?experiment_name=fraud", "")
	if status != 404 || out["error_code"] != "RESOURCE_DOES_NOT_EXIST" {
		t.Fatalf("get-by-name of a new experiment = %d %v; want 404 RESOURCE_DOES_NOT_EXIST", status, out)
	}
	exp := ts.ok(t, "POST", "/api/2.0/mlflow/experiments/create", `{"name":"fraud"}`)["experiment_id"].(string)
	e := ts.ok(t, "GET", "/api/2.0/mlflow/experiments/get?experiment_id="+exp, "")["experiment"].(map[string]any)
	if e["name"] != "fraud" || e["lifecycle_stage"] != "active" || e["artifact_location"] != "mlflow-artifacts:/"+exp {
		t.Fatalf("experiment = %v", e)
	}
	run := ts.ok(t, "POST", "/api/2.0/mlflow/runs/create", fmt.Sprintf(`{"experiment_id":%q,"user_id":"ana","start_time":1700000000000,
		"tags":[{"key":"mlflow.user","value":"ana"},{"key":"mlflow.source.type","value":"LOCAL"}]}`, exp))["run"].(map[string]any)
	info := run["info"].(map[string]any)
	id := info["run_id"].(string)
	if info["run_uuid"] != id || info["status"] != "RUNNING" || info["start_time"] != 1.7e12 || info["artifact_uri"] != "mlflow-artifacts:/"+exp+"/"+id+"/artifacts" {
		t.Fatalf("run info = %v", info)
	}
	ts.ok(t, "POST", "/api/2.0/mlflow/runs/log-batch", fmt.Sprintf(`{"run_id":%q,
		"metrics":[{"key":"auc","value":0.91,"timestamp":1700000001000,"step":1},{"key":"loss","value":"NaN","timestamp":"1700000001000"}],
		"params":[{"key":"max_depth","value":"6"},{"key":"eta","value":"0.3"}],
		"tags":[{"key":"team","value":"risk"}]}`, id))
	ts.ok(t, "POST", "/api/2.0/mlflow/runs/log-metric", fmt.Sprintf(`{"run_id":%q,"run_uuid":%q,"key":"auc","value":0.93,"timestamp":1700000002000,"step":2}`, id, id))
	ts.ok(t, "POST", "/api/2.0/mlflow/runs/log-parameter", fmt.Sprintf(`{"run_id":%q,"key":"seed","value":"7"}`, id))
	ts.ok(t, "POST", "/api/2.0/mlflow/runs/set-tag", fmt.Sprintf(`{"run_id":%q,"key":"stage","value":"candidate"}`, id))
	ts.ok(t, "POST", "/api/2.0/mlflow/runs/set-tag", fmt.Sprintf(`{"run_id":%q,"key":"scratch","value":"x"}`, id))
	ts.ok(t, "POST", "/api/2.0/mlflow/runs/delete-tag", fmt.Sprintf(`{"run_id":%q,"key":"scratch"}`, id))

	// An artifact, as log_artifact uploads it to the run's artifact_uri.
	artifact := "/api/2.0/mlflow-artifacts/artifacts/" + exp + "/" + id + "/artifacts/model/model.onnx"
	req, _ := http.NewRequest("PUT", ts.URL+artifact, strings.NewReader("onnx bytes"))
	resp, err := http.DefaultClient.Do(req)
	if err != nil || resp.StatusCode != 200 {
		t.Fatalf("artifact upload = %v, %v", resp, err)
	}
	resp.Body.Close()
	list := ts.ok(t, "GET", "/api/2.0/mlflow-artifacts/artifacts?path="+exp+"/"+id+"/artifacts", "")
	if servertest.JSONOf(list) != `{"files":[{"is_dir":true,"path":"model"}]}` {
		t.Fatalf("list = %s", servertest.JSONOf(list))
	}
	list = ts.ok(t, "GET", "/api/2.0/mlflow-artifacts/artifacts?path="+exp+"/"+id+"/artifacts/model", "")
	if servertest.JSONOf(list) != `{"files":[{"file_size":10,"is_dir":false,"path":"model.onnx"}]}` {
		t.Fatalf("list = %s", servertest.JSONOf(list))
	}
	resp, err = http.Get(ts.URL + artifact)
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 || string(body) != "onnx bytes" || !strings.Contains(resp.Header.Get("Content-Disposition"), "model.onnx") {
		t.Fatalf("download = %d %q %v", resp.StatusCode, body, resp.Header)
	}

	upd := ts.ok(t, "POST", "/api/2.0/mlflow/runs/update", fmt.Sprintf(`{"run_id":%q,"status":"FINISHED","end_time":1700000009000}`, id))
	if ri := upd["run_info"].(map[string]any); ri["status"] != "FINISHED" || ri["end_time"] != 1.700000009e12 {
		t.Fatalf("update = %v", upd)
	}

	got := ts.ok(t, "GET", "/api/2.0/mlflow/runs/get?run_id="+id, "")["run"]
	data := got.(map[string]any)["data"]
	want := `{"metrics":[{"key":"auc","step":2,"timestamp":1700000002000,"value":0.93},{"key":"loss","step":0,"timestamp":1700000001000,"value":"NaN"}],` +
		`"params":[{"key":"eta","value":"0.3"},{"key":"max_depth","value":"6"},{"key":"seed","value":"7"}],` +
		`"tags":[{"key":"mlflow.runName","value":"` + info["run_name"].(string) + `"},{"key":"mlflow.source.type","value":"LOCAL"},` +
		`{"key":"mlflow.user","value":"ana"},{"key":"stage","value":"candidate"},{"key":"team","value":"risk"}]}`
	if servertest.JSONOf(data) != want {
		t.Fatalf("runs/get data =\n%s\nwant\n%s", servertest.JSONOf(data), want)
	}
	found := ts.ok(t, "POST", "/api/2.0/mlflow/runs/search", fmt.Sprintf(`{"experiment_ids":[%q],
		"filter":"metrics.auc > 0.9 and params.max_depth = '6' and tags.team = 'risk' and attributes.status = 'FINISHED'","max_results":10}`, exp))
	runs, _ := found["runs"].([]any)
	if len(runs) != 1 || servertest.JSONOf(runs[0]) != servertest.JSONOf(got) {
		t.Fatalf("runs/search found %s; want exactly what runs/get returns", servertest.JSONOf(found))
	}
	hist := ts.ok(t, "GET", "/api/2.0/mlflow/metrics/get-history?run_id="+id+"&metric_key=auc", "")
	if servertest.JSONOf(hist) != `{"metrics":[{"key":"auc","step":1,"timestamp":1700000001000,"value":0.91},{"key":"auc","step":2,"timestamp":1700000002000,"value":0.93}]}` {
		t.Fatalf("history = %s", servertest.JSONOf(hist))
	}
	search := ts.ok(t, "POST", "/api/2.0/mlflow/experiments/search", `{"max_results":10,"filter":"name = 'fraud'"}`)
	if exps := search["experiments"].([]any); len(exps) != 1 {
		t.Fatalf("experiments/search = %v", search)
	}
	if out := ts.ok(t, "GET", "/ajax-api/2.0/mlflow/experiments/search?max_results=5&view_type=ALL", ""); len(out["experiments"].([]any)) != 2 {
		t.Fatalf("experiments/search by GET = %v", out)
	}
}

// TestMLflowBadRequests checks that each bad request gets MLflow's error
// code and status, and changes nothing.
func TestMLflowBadRequests(t *testing.T) {
	ts := serveTracking(t)
	exp := ts.ok(t, "POST", "/api/2.0/mlflow/experiments/create", `{"name":"e"}`)["experiment_id"].(string)
	id := ts.ok(t, "POST", "/api/2.0/mlflow/runs/create", fmt.Sprintf(`{"experiment_id":%q}`, exp))["run"].(map[string]any)["info"].(map[string]any)["run_id"].(string)
	ts.ok(t, "POST", "/api/2.0/mlflow/runs/log-parameter", fmt.Sprintf(`{"run_id":%q,"key":"lr","value":"0.1"}`, id))
	f := func(method, path, body string, status int, code, msg string) {
		t.Helper()
		got, out := ts.mlflowCall(t, method, path, body)
		if got != status || out["error_code"] != code || !strings.Contains(fmt.Sprint(out["message"]), msg) {
			t.Errorf("%s %s %s = %d %v; want %d %s mentioning %q", method, path, body, got, out, status, code, msg)
		}
	}
	const bad, notFound, exists = "INVALID_PARAMETER_VALUE", "RESOURCE_DOES_NOT_EXIST", "RESOURCE_ALREADY_EXISTS"
	f("GET", "/api/2.0/mlflow/experiments/get?experiment_id=99", "", 404, notFound, "99")
	f("GET", "/api/2.0/mlflow/runs/get?run_id=nope", "", 404, notFound, "nope")
	f("POST", "/api/2.0/mlflow/runs/log-batch", `{"run_id":"nope","params":[{"key":"a","value":"b"}]}`, 404, notFound, "nope")
	f("POST", "/api/2.0/mlflow/experiments/create", `{"name":"e"}`, 400, exists, "already exists")
	f("POST", "/api/2.0/mlflow/experiments/create", `{"name":`, 400, bad, "Malformed")
	f("POST", "/api/2.0/mlflow/experiments/create", `{}`, 400, bad, "Missing value for required parameter 'name'")
	f("POST", "/api/2.0/mlflow/experiments/create", `{"name":"`+strings.Repeat("n", 501)+`"}`, 400, bad, "maximum length")
	f("POST", "/api/2.0/mlflow/runs/create", `{"experiment_id":"e-x"}`, 404, notFound, "e-x")
	f("POST", "/api/2.0/mlflow/runs/log-metric", fmt.Sprintf(`{"run_id":%q,"key":"m","value":"high","timestamp":1}`, id), 400, bad, "Malformed")
	f("POST", "/api/2.0/mlflow/runs/log-metric", fmt.Sprintf(`{"run_id":%q,"key":"m","value":1}`, id), 400, bad, "'timestamp'")
	f("POST", "/api/2.0/mlflow/runs/log-batch", fmt.Sprintf(`{"run_id":%q,"metrics":[{"key":"m","value":1,"timestamp":1},{"key":"m","value":1}]}`, id), 400, bad, "'metrics[1].timestamp'")
	f("POST", "/api/2.0/mlflow/runs/log-parameter", fmt.Sprintf(`{"run_id":%q,"key":"lr","value":"0.2"}`, id), 400, bad, "changing param values is not allowed")
	var many []string
	for i := range 101 {
		many = append(many, fmt.Sprintf(`{"key":"p%d","value":"v"}`, i))
	}
	f("POST", "/api/2.0/mlflow/runs/log-batch", fmt.Sprintf(`{"run_id":%q,"params":[%s]}`, id, strings.Join(many, ",")), 400, bad, "at most 100 params")
	f("POST", "/api/2.0/mlflow/runs/set-tag", fmt.Sprintf(`{"run_id":%q,"key":"../x","value":"v"}`, id), 400, bad, "invalid tag name")
	f("POST", "/api/2.0/mlflow/runs/search", fmt.Sprintf(`{"experiment_ids":[%q],"filter":"metrics.auc >> 1"}`, exp), 400, bad, "invalid filter")
	f("POST", "/api/2.0/mlflow/runs/search", `{}`, 400, bad, "'experiment_ids'")
	f("POST", "/api/2.0/mlflow/experiments/search", `{}`, 400, bad, "max_results")
	f("GET", "/api/2.0/mlflow/runs/create", "", 405, "BAD_REQUEST", "use POST")
	f("GET", "/api/2.0/mlflow/nope", "", 404, "ENDPOINT_NOT_FOUND", "nope")
	f("POST", "/api/2.0/mlflow/runs/delete-tag", fmt.Sprintf(`{"run_id":%q,"key":"absent"}`, id), 404, notFound, "absent")
	for _, p := range []string{"../secret", "0/../../x", "a%5Cb", "%2Fetc%2Fpasswd"} {
		req, _ := http.NewRequest("PUT", ts.URL+"/api/2.0/mlflow-artifacts/artifacts/"+p, strings.NewReader("x"))
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		raw, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != 400 || !strings.Contains(string(raw), bad) {
			t.Errorf("PUT artifact %q = %d %s; want 400 %s", p, resp.StatusCode, raw, bad)
		}
	}
	// A request without a JSON content type is refused (415), as every
	// write that is not JSON is.
	req, _ := http.NewRequest("POST", ts.URL+"/api/2.0/mlflow/experiments/create", strings.NewReader(`{"name":"x"}`))
	req.Header.Set("Content-Type", "text/plain")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 415 {
		t.Errorf("create with text/plain = %d; want 415", resp.StatusCode)
	}
	// Nothing the refused requests carried was kept.
	run := ts.ok(t, "GET", "/api/2.0/mlflow/runs/get?run_id="+id, "")["run"].(map[string]any)
	if d := servertest.JSONOf(run["data"]); strings.Contains(d, "0.2") || strings.Contains(d, `"p0"`) || strings.Contains(d, "metrics") {
		t.Fatalf("refused writes left data behind: %s", d)
	}
}

func mkdir(dir string) error { return os.MkdirAll(dir, 0o755) }
