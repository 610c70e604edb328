package mlflow_test

import (
	"fmt"
	"net/http"
	"path/filepath"
	"strings"
	"testing"

	"github.com/switchyard-ml/switchyard/access"
	"github.com/switchyard-ml/switchyard/internal/onnx"
	"github.com/switchyard-ml/switchyard/server/internal/servertest"
)

// registerVersion uploads a small ONNX model as a run's artifact and
// registers it as the next version of name, as mlflow.register_model
// does; it returns the version.
func registerVersion(t *testing.T, ts *testServer, name string) string {
	t.Helper()
	model := onnx.RandomMLP(5, onnx.ActivationNone, 3, 2)
	id := ts.ok(t, "POST", "/api/2.0/mlflow/runs/create", `{"experiment_id":"0"}`)["run"].(map[string]any)["info"].(map[string]any)["run_id"].(string)
	req, _ := http.NewRequest("PUT", ts.URL+"/api/2.0/mlflow-artifacts/artifacts/0/"+id+"/artifacts/model/model.onnx", strings.NewReader(string(model.Model().Marshal())))
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 200 {
		t.Fatalf("upload = %d", resp.StatusCode)
	}
	mv := ts.ok(t, "POST", "/api/2.0/mlflow/model-versions/create", fmt.Sprintf(`{"name":%q,"source":"runs:/%s/model","run_id":%q}`, name, id, id))
	return mv["model_version"].(map[string]any)["version"].(string)
}

// userTags returns a model version's tags but the switchyard.* ones
// the server computes.
func userTags(mv map[string]any) []any {
	var out []any
	for _, tag := range mv["tags"].([]any) {
		if !strings.HasPrefix(tag.(map[string]any)["key"].(string), "switchyard.") {
			out = append(out, tag)
		}
	}
	return out
}

// TestMLflowRegistryFilters searches the registry with the filters
// MLflow's client sends: with or without spaces around =, and LIKE and
// ILIKE on the name.
func TestMLflowRegistryFilters(t *testing.T) {
	ts := serveTracking(t)
	for _, name := range []string{"fraud", "fraud2", "churn"} {
		ts.ok(t, "POST", "/api/2.0/mlflow/registered-models/create", fmt.Sprintf(`{"name":%q}`, name))
	}
	models := func(filter string, want string) {
		t.Helper()
		out := ts.ok(t, "GET", "/api/2.0/mlflow/registered-models/search?filter="+urlQuery(filter), "")
		var got []string
		for _, rm := range out["registered_models"].([]any) {
			got = append(got, rm.(map[string]any)["name"].(string))
		}
		if strings.Join(got, ",") != want {
			t.Errorf("registered-models/search %q = %v; want %s", filter, got, want)
		}
	}
	models("name='fraud'", "fraud")
	models("name = 'fraud'", "fraud")
	models(`name="fraud"`, "fraud")
	models("name LIKE 'fr%'", "fraud,fraud2")
	models("name ILIKE 'FR%'", "fraud,fraud2")
	models("name LIKE 'fr%' AND name!='fraud2'", "fraud")
	models("attributes.name='churn'", "churn")

	v := registerVersion(t, ts, "fraud")
	registerVersion(t, ts, "churn")
	versions := func(filter string, want string) {
		t.Helper()
		out := ts.ok(t, "GET", "/api/2.0/mlflow/model-versions/search?filter="+urlQuery(filter), "")
		var got []string
		mvs, _ := out["model_versions"].([]any)
		for _, mv := range mvs {
			got = append(got, mv.(map[string]any)["name"].(string)+"/"+mv.(map[string]any)["version"].(string))
		}
		if strings.Join(got, ",") != want {
			t.Errorf("model-versions/search %q = %v; want %s", filter, got, want)
		}
	}
	versions("name='fraud'", "fraud/"+v)
	versions("name = 'fraud'", "fraud/"+v)
	versions("name LIKE 'fr%'", "fraud/"+v)
	versions("name ILIKE '%URN'", "churn/1")
	versions("name='fraud2'", "")

	for _, bad := range []string{"name", "name = fraud", "name == 'x'", "name = 'x' OR name = 'y'", "tags.team = 'x'", "name = 'x"} {
		for _, path := range []string{"registered-models/search", "model-versions/search"} {
			if status, out := ts.mlflowCall(t, "GET", "/api/2.0/mlflow/"+path+"?filter="+urlQuery(bad), ""); status != 400 || out["error_code"] != "INVALID_PARAMETER_VALUE" {
				t.Errorf("%s %q = %d %v; want 400 INVALID_PARAMETER_VALUE", path, bad, status, out)
			}
		}
	}
}

// TestMLflowAliasUpsert sets and deletes aliases as MLflow's client does:
// set is an idempotent upsert, also on a version still loading or one
// that already serves, and aliases read back exactly as set.
func TestMLflowAliasUpsert(t *testing.T) {
	ts := serveTracking(t)
	ts.ok(t, "POST", "/api/2.0/mlflow/registered-models/create", `{"name":"fraud"}`)
	v1 := registerVersion(t, ts, "fraud")
	// Right after its registration the version has not loaded yet (or
	// just has): champion is recorded either way.
	ts.ok(t, "POST", "/api/2.0/mlflow/registered-models/alias", `{"name":"fraud","alias":"champion","version":"`+v1+`"}`)
	servertest.Until(t, "fraud serving", func() bool { return ts.ServedVersion(t, "fraud") == v1 })
	// The version that serves: nothing to change, still 200, as often as
	// it is asked.
	for range 2 {
		ts.ok(t, "POST", "/api/2.0/mlflow/registered-models/alias", `{"name":"fraud","alias":"champion","version":"`+v1+`"}`)
	}
	aliases := func(want string) {
		t.Helper()
		rm := ts.ok(t, "GET", "/api/2.0/mlflow/registered-models/get?name=fraud", "")["registered_model"].(map[string]any)
		if got := servertest.JSONOf(rm["aliases"]); got != want {
			t.Errorf("aliases = %s; want %s", got, want)
		}
	}
	aliases(`[{"alias":"champion","version":"1"}]`)
	ts.ok(t, "DELETE", "/api/2.0/mlflow/registered-models/alias", `{"name":"fraud","alias":"champion"}`)
	aliases("null")
	if status, out := ts.mlflowCall(t, "GET", "/api/2.0/mlflow/registered-models/alias?name=fraud&alias=champion", ""); status != 400 || out["error_code"] != "INVALID_PARAMETER_VALUE" {
		t.Errorf("champion after its deletion = %d %v; want 400 INVALID_PARAMETER_VALUE", status, out)
	}
	if ts.ServedVersion(t, "fraud") != v1 {
		t.Errorf("deleting the alias changed what serves")
	}

	// A registration that no one aliased shows no alias, though its
	// version serves.
	ts.ok(t, "POST", "/api/2.0/mlflow/registered-models/create", `{"name":"churn"}`)
	registerVersion(t, ts, "churn")
	servertest.Until(t, "churn serving", func() bool { return ts.ServedVersion(t, "churn") == "1" })
	rm := ts.ok(t, "GET", "/api/2.0/mlflow/registered-models/get?name=churn", "")["registered_model"].(map[string]any)
	mv := ts.ok(t, "GET", "/api/2.0/mlflow/model-versions/get?name=churn&version=1", "")["model_version"].(map[string]any)
	if rm["aliases"] != nil || mv["aliases"] != nil {
		t.Errorf("aliases after a registration = %v, %v; want none", rm["aliases"], mv["aliases"])
	}
}

// TestMLflowRegistryTags sets, reads and deletes the tags of a registered
// model and of a version, with MLflow's shapes and error codes.
func TestMLflowRegistryTags(t *testing.T) {
	ts := serveTracking(t)
	ts.ok(t, "POST", "/api/2.0/mlflow/registered-models/create", `{"name":"fraud","tags":[{"key":"team","value":"risk"}]}`)
	v := registerVersion(t, ts, "fraud")

	if out := ts.ok(t, "POST", "/api/2.0/mlflow/registered-models/set-tag", `{"name":"fraud","key":"owner","value":"ana"}`); len(out) != 0 {
		t.Errorf("set-tag = %v; want {}", out)
	}
	ts.ok(t, "POST", "/api/2.0/mlflow/registered-models/set-tag", `{"name":"fraud","key":"team","value":"fraud-ops"}`)
	ts.ok(t, "POST", "/api/2.0/mlflow/model-versions/set-tag", `{"name":"fraud","version":"`+v+`","key":"validated","value":"yes"}`)
	ts.ok(t, "POST", "/api/2.0/mlflow/model-versions/set-tag", `{"name":"fraud","version":"`+v+`","key":"empty","value":""}`)
	rm := ts.ok(t, "GET", "/api/2.0/mlflow/registered-models/get?name=fraud", "")["registered_model"].(map[string]any)
	if got := servertest.JSONOf(rm["tags"]); got != `[{"key":"owner","value":"ana"},{"key":"team","value":"fraud-ops"}]` {
		t.Errorf("registered model tags = %s", got)
	}
	mv := ts.ok(t, "GET", "/api/2.0/mlflow/model-versions/get?name=fraud&version="+v, "")["model_version"].(map[string]any)
	if got := servertest.JSONOf(userTags(mv)); got != `[{"key":"empty","value":""},{"key":"validated","value":"yes"}]` {
		t.Errorf("model version tags = %s", got)
	}

	ts.ok(t, "DELETE", "/api/2.0/mlflow/registered-models/delete-tag", `{"name":"fraud","key":"owner"}`)
	ts.ok(t, "DELETE", "/api/2.0/mlflow/registered-models/delete-tag", `{"name":"fraud","key":"never-set"}`)
	ts.ok(t, "DELETE", "/api/2.0/mlflow/model-versions/delete-tag", `{"name":"fraud","version":"`+v+`","key":"validated"}`)
	rm = ts.ok(t, "GET", "/api/2.0/mlflow/registered-models/get?name=fraud", "")["registered_model"].(map[string]any)
	mv = ts.ok(t, "GET", "/api/2.0/mlflow/model-versions/get?name=fraud&version="+v, "")["model_version"].(map[string]any)
	if servertest.JSONOf(rm["tags"]) != `[{"key":"team","value":"fraud-ops"}]` || servertest.JSONOf(userTags(mv)) != `[{"key":"empty","value":""}]` {
		t.Errorf("after delete-tag: %v, %v", rm["tags"], mv["tags"])
	}

	f := func(method, path, body string, status int, code, msg string) {
		t.Helper()
		got, out := ts.mlflowCall(t, method, "/api/2.0/mlflow/"+path, body)
		if got != status || out["error_code"] != code || !strings.Contains(fmt.Sprint(out["message"]), msg) {
			t.Errorf("%s %s %s = %d %v; want %d %s mentioning %q", method, path, body, got, out, status, code, msg)
		}
	}
	f("POST", "registered-models/set-tag", `{"name":"nope","key":"k","value":"v"}`, 404, "RESOURCE_DOES_NOT_EXIST", "nope")
	f("POST", "registered-models/set-tag", `{"name":"fraud","value":"v"}`, 400, "INVALID_PARAMETER_VALUE", "'key'")
	f("POST", "registered-models/set-tag", `{"name":"fraud","key":"k"}`, 400, "INVALID_PARAMETER_VALUE", "'value'")
	f("POST", "registered-models/set-tag", `{"name":"fraud","key":"../k","value":"v"}`, 400, "INVALID_PARAMETER_VALUE", "../k")
	f("DELETE", "registered-models/delete-tag", `{"name":"nope","key":"k"}`, 404, "RESOURCE_DOES_NOT_EXIST", "nope")
	f("POST", "model-versions/set-tag", `{"name":"fraud","version":"9","key":"k","value":"v"}`, 404, "RESOURCE_DOES_NOT_EXIST", "version=9")
	f("POST", "model-versions/set-tag", `{"name":"fraud","key":"k","value":"v"}`, 400, "INVALID_PARAMETER_VALUE", "'version'")
	f("POST", "model-versions/set-tag", `{"name":"fraud","version":"x","key":"k","value":"v"}`, 400, "INVALID_PARAMETER_VALUE", "must be an integer")
	f("DELETE", "model-versions/delete-tag", `{"name":"fraud","version":"9","key":"k"}`, 404, "RESOURCE_DOES_NOT_EXIST", "version=9")
	f("POST", "registered-models/delete-tag", `{"name":"fraud","key":"k"}`, 405, "BAD_REQUEST", "")
	// The serving tags are computed: neither set nor deleted, and the
	// refusal changes nothing.
	f("POST", "model-versions/set-tag", `{"name":"fraud","version":"`+v+`","key":"switchyard.state","value":"READY"}`, 400, "INVALID_PARAMETER_VALUE", "switchyard computes them")
	f("POST", "model-versions/set-tag", `{"name":"fraud","version":"`+v+`","key":"switchyard.mine","value":"x"}`, 400, "INVALID_PARAMETER_VALUE", "switchyard computes them")
	f("DELETE", "model-versions/delete-tag", `{"name":"fraud","version":"`+v+`","key":"switchyard.traffic"}`, 400, "INVALID_PARAMETER_VALUE", "switchyard computes them")
	mv = ts.ok(t, "GET", "/api/2.0/mlflow/model-versions/get?name=fraud&version="+v, "")["model_version"].(map[string]any)
	if got := servertest.JSONOf(mv["tags"]); !strings.Contains(got, `{"key":"switchyard.traffic","value":`) || strings.Contains(got, "switchyard.mine") {
		t.Errorf("after the refused tag writes: %s", got)
	}
}

// TestMLflowLatestVersions asks for the latest versions per stage, as
// models:/NAME/latest and models:/NAME/None URIs do: every version is in
// stage None until one is transitioned (see TestMLflowStages).
func TestMLflowLatestVersions(t *testing.T) {
	ts := serveTracking(t)
	ts.ok(t, "POST", "/api/2.0/mlflow/registered-models/create", `{"name":"fraud"}`)
	if out := ts.ok(t, "POST", "/api/2.0/mlflow/registered-models/get-latest-versions", `{"name":"fraud"}`); len(out) != 0 {
		t.Errorf("get-latest-versions without versions = %v; want {}", out)
	}
	registerVersion(t, ts, "fraud")
	registerVersion(t, ts, "fraud")
	latest := func(method, path, body, want string) {
		t.Helper()
		out := ts.ok(t, method, "/api/2.0/mlflow/registered-models/get-latest-versions"+path, body)
		mvs, _ := out["model_versions"].([]any)
		var got []string
		for _, mv := range mvs {
			m := mv.(map[string]any)
			got = append(got, m["version"].(string)+":"+m["current_stage"].(string))
		}
		if strings.Join(got, ",") != want {
			t.Errorf("get-latest-versions %s%s %s = %v; want %s", method, path, body, got, want)
		}
	}
	latest("POST", "", `{"name":"fraud"}`, "2:None")
	latest("POST", "", `{"name":"fraud","stages":["None","Production"]}`, "2:None")
	latest("POST", "", `{"name":"fraud","stages":["none"]}`, "2:None")
	latest("POST", "", `{"name":"fraud","stages":["Production","Staging"]}`, "")
	latest("GET", "?name=fraud", "", "2:None")
	latest("GET", "?name=fraud&stages=None", "", "2:None")
	latest("GET", "?name=fraud&stages=Archived", "", "")

	for _, c := range []struct {
		body   string
		status int
		code   string
	}{
		{`{"name":"nope"}`, 404, "RESOURCE_DOES_NOT_EXIST"},
		{`{}`, 400, "INVALID_PARAMETER_VALUE"},
		{`{"name":"fraud","stages":["Prod"]}`, 400, "INVALID_PARAMETER_VALUE"},
	} {
		if status, out := ts.mlflowCall(t, "POST", "/api/2.0/mlflow/registered-models/get-latest-versions", c.body); status != c.status || out["error_code"] != c.code {
			t.Errorf("get-latest-versions %s = %d %v; want %d %s", c.body, status, out, c.status, c.code)
		}
	}
}

// TestMLflowRegistryTagsAccess checks the access classes of the new
// endpoints: the tag writes and transition-stage need a write token,
// get-latest-versions, get-download-uri and artifacts/list are reads.
func TestMLflowRegistryTagsAccess(t *testing.T) {
	tokens, err := access.ParseTokens([]byte("ci write write-secret-0123456789\n"), "test")
	if err != nil {
		t.Fatal(err)
	}
	policy, err := access.NewPolicy(tokens, access.Write)
	if err != nil {
		t.Fatal(err)
	}
	reg := filepath.Join(t.TempDir(), "registry")
	if err := mkdir(filepath.Join(reg, "fraud")); err != nil {
		t.Fatal(err)
	}
	ts := serveTrackingAt(t, reg, Config{Access: policy})
	for _, w := range [][3]string{
		{"POST", "registered-models/set-tag", `{"name":"fraud","key":"k","value":"v"}`},
		{"DELETE", "registered-models/delete-tag", `{"name":"fraud","key":"k"}`},
		{"POST", "model-versions/set-tag", `{"name":"fraud","version":"1","key":"k","value":"v"}`},
		{"DELETE", "model-versions/delete-tag", `{"name":"fraud","version":"1","key":"k"}`},
		{"POST", "model-versions/transition-stage", `{"name":"fraud","version":"1","stage":"Production","archive_existing_versions":false}`},
	} {
		if status, out := ts.mlflowCall(t, w[0], "/api/2.0/mlflow/"+w[1], w[2]); status != 401 || out["error_code"] != "UNAUTHENTICATED" {
			t.Errorf("%s %s without a token = %d %v; want 401 UNAUTHENTICATED", w[0], w[1], status, out)
		}
	}
	ts.ok(t, "POST", "/api/2.0/mlflow/registered-models/get-latest-versions", `{"name":"fraud"}`)
	ts.ok(t, "GET", "/api/2.0/mlflow/registered-models/get-latest-versions?name=fraud", "")
	// The new reads answer without a token: a version that is not there
	// is 404, not 401.
	for _, path := range []string{"model-versions/get-download-uri?name=fraud&version=1", "artifacts/list?run_id=nope"} {
		if status, out := ts.mlflowCall(t, "GET", "/api/2.0/mlflow/"+path, ""); status != 404 || out["error_code"] != "RESOURCE_DOES_NOT_EXIST" {
			t.Errorf("GET %s without a token = %d %v; want 404 RESOURCE_DOES_NOT_EXIST", path, status, out)
		}
	}
}
