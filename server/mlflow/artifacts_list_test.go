package mlflow_test

import (
	"net/http"
	"strings"
	"testing"

	"github.com/switchyard-ml/switchyard/server/internal/servertest"
)

// TestMLflowListArtifacts lists a run's artifacts as the client's
// list_artifacts does against a tracking server (ListArtifacts): paths
// relative to the run's artifact root, with root_uri.
func TestMLflowListArtifacts(t *testing.T) {
	ts := serveTracking(t)
	info := ts.ok(t, "POST", "/api/2.0/mlflow/runs/create", `{"experiment_id":"0"}`)["run"].(map[string]any)["info"].(map[string]any)
	id, root := info["run_id"].(string), info["artifact_uri"].(string)
	for path, body := range map[string]string{"model/model.onnx": "onnx-bytes", "notes.txt": "hello"} {
		req, _ := http.NewRequest("PUT", ts.URL+"/api/2.0/mlflow-artifacts/artifacts/0/"+id+"/artifacts/"+path, strings.NewReader(body))
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != 200 {
			t.Fatalf("upload %s = %d", path, resp.StatusCode)
		}
	}
	list := func(query, want string) {
		t.Helper()
		if got := servertest.JSONOf(ts.ok(t, "GET", "/api/2.0/mlflow/artifacts/list?"+query, "")); got != want {
			t.Errorf("artifacts/list?%s = %s; want %s", query, got, want)
		}
	}
	list("run_id="+id, `{"files":[{"is_dir":true,"path":"model"},{"file_size":5,"is_dir":false,"path":"notes.txt"}],"root_uri":"`+root+`"}`)
	list("run_id="+id+"&path=model", `{"files":[{"file_size":10,"is_dir":false,"path":"model/model.onnx"}],"root_uri":"`+root+`"}`)
	list("run_uuid="+id+"&path=model/", `{"files":[{"file_size":10,"is_dir":false,"path":"model/model.onnx"}],"root_uri":"`+root+`"}`)
	list("run_id="+id+"&path=nothing", `{"root_uri":"`+root+`"}`)
	list("run_id="+id+"&path=notes.txt", `{"root_uri":"`+root+`"}`)
	list("run_id="+id+"&page_token=x", `{"files":[{"is_dir":true,"path":"model"},{"file_size":5,"is_dir":false,"path":"notes.txt"}],"root_uri":"`+root+`"}`)

	f := func(query string, status int, code string) {
		t.Helper()
		if got, out := ts.mlflowCall(t, "GET", "/api/2.0/mlflow/artifacts/list?"+query, ""); got != status || out["error_code"] != code {
			t.Errorf("artifacts/list?%s = %d %v; want %d %s", query, got, out, status, code)
		}
	}
	f("run_id="+id+"&path=../../x", 400, "INVALID_PARAMETER_VALUE")
	f("run_id="+id+"&path=/etc", 400, "INVALID_PARAMETER_VALUE")
	f("run_id="+id+"&path=a\\b", 400, "INVALID_PARAMETER_VALUE")
	f("run_id=nope", 404, "RESOURCE_DOES_NOT_EXIST")
	f("path=model", 400, "INVALID_PARAMETER_VALUE")
}
