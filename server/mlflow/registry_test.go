package mlflow_test

import (
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/switchyard-ml/switchyard/internal/onnx"
	"github.com/switchyard-ml/switchyard/modelstore"
	"github.com/switchyard-ml/switchyard/server/internal/servertest"
)

// TestMLflowRegistry registers a model through MLflow's API from an
// uploaded ONNX artifact, as mlflow.register_model does, and checks that
// switchyard serves it, with lineage to its run.
func TestMLflowRegistry(t *testing.T) {
	ts := serveTracking(t)
	model := onnx.RandomMLP(5, onnx.ActivationNone, 3, 2)
	run := ts.ok(t, "POST", "/api/2.0/mlflow/runs/create", `{"experiment_id":"0"}`)["run"].(map[string]any)["info"].(map[string]any)
	id := run["run_id"].(string)
	artifact := "/api/2.0/mlflow-artifacts/artifacts/0/" + id + "/artifacts/model/model.onnx"
	req, _ := http.NewRequest("PUT", ts.URL+artifact, strings.NewReader(string(model.Model().Marshal())))
	if resp, err := http.DefaultClient.Do(req); err != nil || resp.StatusCode != 200 {
		t.Fatalf("upload = %v, %v", resp, err)
	}

	rm := ts.ok(t, "POST", "/api/2.0/mlflow/registered-models/create", `{"name":"churn","description":"xgboost","tags":[{"key":"team","value":"growth"}]}`)
	if r := rm["registered_model"].(map[string]any); r["name"] != "churn" || r["description"] != "xgboost" {
		t.Fatalf("create = %v", rm)
	}
	if fi, err := os.Stat(filepath.Join(ts.Dir, "churn")); err != nil || !fi.IsDir() {
		t.Fatalf("the registered model has no directory in the registry: %v", err)
	}
	mv := ts.ok(t, "POST", "/api/2.0/mlflow/model-versions/create",
		fmt.Sprintf(`{"name":"churn","source":"runs:/%s/model","run_id":%q,"description":"first"}`, id, id))["model_version"].(map[string]any)
	// Registration goes on after the answer: the version loads and is
	// gated, PENDING_REGISTRATION until then (READY if that was quick).
	if mv["version"] != "1" || mv["status"] != "PENDING_REGISTRATION" && mv["status"] != "READY" || mv["run_id"] != id || mv["current_stage"] != "None" || mv["description"] != "first" {
		t.Fatalf("model-versions/create = %v", mv)
	}
	raw, err := os.ReadFile(filepath.Join(ts.Dir, "churn", "1", modelstore.ManifestFile))
	if err != nil {
		t.Fatal(err)
	}
	if m, err := modelstore.ParseManifest(raw); err != nil || m.Lineage == nil || m.Lineage.RunID != id {
		t.Fatalf("manifest = %+v, %v; want lineage to run %s", m, err, id)
	}
	// The watcher picks the version up: it serves what was uploaded.
	servertest.Until(t, "churn serving", func() bool { return ts.ServedVersion(t, "churn") == "1" })
	out := ts.Infer(t, "/v2/models/churn/infer", servertest.RequestJSON("input", "FP32", []int64{1, 3}, []float32{1, 2, 3}))
	servertest.CloseTo(t, "churn", out.Outputs[0].Data, model.Predict([]float32{1, 2, 3}))
	if v := ts.ok(t, "GET", "/api/2.0/mlflow/model-versions/get?name=churn&version=1", "")["model_version"].(map[string]any); v["status"] != "READY" ||
		servertest.JSONOf(v["tags"]) != `[{"key":"switchyard.state","value":"READY"},{"key":"switchyard.traffic","value":"1"}]` {
		t.Fatalf("model-versions/get of the version that serves = %v", v)
	}

	// A second version from the artifact store by its mlflow-artifacts URI.
	mv2 := ts.ok(t, "POST", "/api/2.0/mlflow/model-versions/create",
		fmt.Sprintf(`{"name":"churn","source":"mlflow-artifacts:/0/%s/artifacts/model/model.onnx"}`, id))["model_version"].(map[string]any)
	if mv2["version"] != "2" {
		t.Fatalf("second version = %v", mv2)
	}
	// champion means the stable version: setting it on version 1 (while
	// 2, the newest, serves) promotes 1 at once.
	servertest.Until(t, "churn version 2 serving", func() bool { return ts.ServedVersion(t, "churn") == "2" })
	ts.ok(t, "POST", "/api/2.0/mlflow/registered-models/alias", `{"name":"churn","alias":"champion","version":"1"}`)
	if v := ts.ServedVersion(t, "churn"); v != "1" {
		t.Fatalf("after setting champion on version 1, version %s serves", v)
	}
	ts.ok(t, "POST", "/api/2.0/mlflow/registered-models/alias", `{"name":"churn","alias":"prod","version":"1"}`)
	byAlias := ts.ok(t, "GET", "/api/2.0/mlflow/registered-models/alias?name=churn&alias=champion", "")["model_version"].(map[string]any)
	if byAlias["version"] != "1" || servertest.JSONOf(byAlias["aliases"]) != `["champion","prod"]` {
		t.Fatalf("alias get = %v", byAlias)
	}
	got := ts.ok(t, "GET", "/api/2.0/mlflow/registered-models/get?name=churn", "")["registered_model"].(map[string]any)
	if servertest.JSONOf(got["aliases"]) != `[{"alias":"champion","version":"1"},{"alias":"prod","version":"1"}]` || got["latest_versions"].([]any)[0].(map[string]any)["version"] != "2" ||
		servertest.JSONOf(got["tags"]) != `[{"key":"team","value":"growth"}]` {
		t.Fatalf("registered-models/get = %v", got)
	}
	ts.ok(t, "PATCH", "/api/2.0/mlflow/registered-models/update", `{"name":"churn","description":"xgboost, Nov data"}`)
	ts.ok(t, "PATCH", "/api/2.0/mlflow/model-versions/update", `{"name":"churn","version":"2","description":"retrained"}`)
	if v := ts.ok(t, "GET", "/api/2.0/mlflow/model-versions/get?name=churn&version=2", "")["model_version"].(map[string]any); v["description"] != "retrained" {
		t.Fatalf("model-versions/get after update = %v", v)
	}
	found := ts.ok(t, "GET", "/api/2.0/mlflow/model-versions/search?filter="+urlQuery("name = 'churn' and run_id = '"+id+"'"), "")
	if vs := found["model_versions"].([]any); len(vs) != 1 || vs[0].(map[string]any)["version"] != "1" {
		t.Fatalf("model-versions/search by run = %v", found)
	}
	models := ts.ok(t, "GET", "/api/2.0/mlflow/registered-models/search?filter="+urlQuery("name LIKE 'ch%'"), "")
	if rms := models["registered_models"].([]any); len(rms) != 1 || rms[0].(map[string]any)["description"] != "xgboost, Nov data" {
		t.Fatalf("registered-models/search = %v", models)
	}
	// challenger starts version 2 as a canary candidate; the alias reads
	// back as set.
	ts.ok(t, "POST", "/api/2.0/mlflow/registered-models/alias", `{"name":"churn","alias":"challenger","version":"2"}`)
	if rt := ts.Store.Table().Route("churn"); len(rt.Arms()) != 2 || rt.Arms()[0].Version != 2 {
		t.Fatalf("after setting challenger the route is %+v; want version 2 as a candidate", rt.Arms())
	}
	if v := ts.ok(t, "GET", "/api/2.0/mlflow/registered-models/alias?name=churn&alias=challenger", "")["model_version"].(map[string]any); v["version"] != "2" {
		t.Fatalf("challenger = %v", v)
	}
	ts.ok(t, "DELETE", "/api/2.0/mlflow/registered-models/alias", `{"name":"churn","alias":"prod"}`)

	f := func(method, path, body string, status int, code, msg string) {
		t.Helper()
		got, out := ts.mlflowCall(t, method, path, body)
		if got != status || out["error_code"] != code || !strings.Contains(fmt.Sprint(out["message"]), msg) {
			t.Errorf("%s %s %s = %d %v; want %d %s mentioning %q", method, path, body, got, out, status, code, msg)
		}
	}
	f("POST", "/api/2.0/mlflow/registered-models/create", `{"name":"churn"}`, 400, "RESOURCE_ALREADY_EXISTS", "already exists")
	f("POST", "/api/2.0/mlflow/registered-models/create", `{"name":"../up"}`, 400, "INVALID_PARAMETER_VALUE", "Invalid registered model name")
	f("GET", "/api/2.0/mlflow/registered-models/get?name=nope", "", 404, "RESOURCE_DOES_NOT_EXIST", "nope")
	f("GET", "/api/2.0/mlflow/registered-models/alias?name=churn&alias=prod", "", 400, "INVALID_PARAMETER_VALUE", "alias prod not found")
	f("POST", "/api/2.0/mlflow/registered-models/alias", `{"name":"churn","alias":"latest","version":"1"}`, 400, "INVALID_PARAMETER_VALUE", "reserved")
	f("POST", "/api/2.0/mlflow/registered-models/alias", `{"name":"churn","alias":"x","version":"9"}`, 404, "RESOURCE_DOES_NOT_EXIST", "version=9")
	f("GET", "/api/2.0/mlflow/model-versions/get?name=churn&version=one", "", 400, "INVALID_PARAMETER_VALUE", "must be an integer")
	f("GET", "/api/2.0/mlflow/model-versions/get?name=churn&version=7", "", 404, "RESOURCE_DOES_NOT_EXIST", "version=7")
	f("POST", "/api/2.0/mlflow/model-versions/create", `{"name":"nope","source":"runs:/x/model"}`, 404, "RESOURCE_DOES_NOT_EXIST", "nope")
	f("POST", "/api/2.0/mlflow/model-versions/create", `{"name":"churn","source":"mlflow-artifacts:/0/../../etc"}`, 400, "INVALID_PARAMETER_VALUE", "invalid artifact path")
	f("POST", "/api/2.0/mlflow/model-versions/create", `{"name":"churn","source":"s3://bucket/model"}`, 400, "INVALID_PARAMETER_VALUE", "Invalid model version source")
	f("POST", "/api/2.0/mlflow/model-versions/create", `{"name":"churn","source":"relative/model.onnx"}`, 400, "INVALID_PARAMETER_VALUE", "absolute path")
	garbage := filepath.Join(t.TempDir(), "model.onnx")
	os.WriteFile(garbage, []byte("not onnx"), 0o644)
	f("POST", "/api/2.0/mlflow/model-versions/create", `{"name":"churn","source":"`+garbage+`"}`, 400, "INVALID_PARAMETER_VALUE", "Invalid model version source")
	f("POST", "/api/2.0/mlflow/model-versions/create", `{"name":"churn","source":"runs:/`+id+`/model","run_id":"nope"}`, 404, "RESOURCE_DOES_NOT_EXIST", "nope")
	if complete, _, _ := modelstore.Versions(ts.Dir, "churn"); len(complete) != 2 {
		t.Fatalf("refused creates left versions: %v", complete)
	}

	ts.ok(t, "DELETE", "/api/2.0/mlflow/registered-models/delete", `{"name":"churn"}`)
	if _, err := os.Stat(filepath.Join(ts.Dir, "churn")); !os.IsNotExist(err) {
		t.Fatalf("the deleted model's directory is still there: %v", err)
	}
	f("GET", "/api/2.0/mlflow/registered-models/get?name=churn", "", 404, "RESOURCE_DOES_NOT_EXIST", "churn")
	servertest.Until(t, "churn unloaded", func() bool { return ts.Do(t, "GET", "/v2/models/churn/ready", "").Status == 404 })
}

func urlQuery(s string) string {
	return strings.NewReplacer(" ", "%20", "'", "%27", "%", "%25").Replace(s)
}
