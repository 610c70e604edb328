package mlflow_test

import (
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/switchyard-ml/switchyard/internal/onnx"
	"github.com/switchyard-ml/switchyard/internal/testenv"
)

// TestCreateVersionDiskFull publishes through model-versions/create onto a
// registry whose disk is full (a 64 KiB tmpfs, too small for the model):
// the answer is 503 TEMPORARILY_UNAVAILABLE, which MLflow's clients
// retry, not 400 INVALID_PARAMETER_VALUE, and nothing is recorded or left
// behind.
func TestCreateVersionDiskFull(t *testing.T) {
	reg := testenv.SmallDisk(t, 64<<10)
	ts := serveTrackingAt(t, reg, Config{})
	big := onnx.RandomMLP(4, onnx.ActivationNone, 200, 256, 2).Model().Marshal()
	run := ts.ok(t, "POST", "/api/2.0/mlflow/runs/create", `{"experiment_id":"0"}`)["run"].(map[string]any)["info"].(map[string]any)
	id := run["run_id"].(string)
	req, _ := http.NewRequest("PUT", ts.URL+"/api/2.0/mlflow-artifacts/artifacts/0/"+id+"/artifacts/model/model.onnx", strings.NewReader(string(big)))
	if resp, err := http.DefaultClient.Do(req); err != nil || resp.StatusCode != 200 {
		t.Fatalf("upload = %v, %v", resp, err)
	}
	ts.ok(t, "POST", "/api/2.0/mlflow/registered-models/create", `{"name":"churn"}`)

	status, out := ts.mlflowCall(t, "POST", "/api/2.0/mlflow/model-versions/create",
		fmt.Sprintf(`{"name":"churn","source":"runs:/%s/model","run_id":%q}`, id, id))
	if status != http.StatusServiceUnavailable || out["error_code"] != "TEMPORARILY_UNAVAILABLE" {
		t.Fatalf("model-versions/create onto a full disk = %d %v; want 503 TEMPORARILY_UNAVAILABLE", status, out)
	}
	if vs := ts.ok(t, "GET", "/api/2.0/mlflow/model-versions/search?filter="+urlQuery("name='churn'"), ""); len(vs) != 0 {
		t.Fatalf("after a failed publish the registry lists %v; want no version", vs)
	}
	entries, err := os.ReadDir(filepath.Join(reg, "churn"))
	if err != nil || len(entries) != 0 {
		t.Fatalf("after a failed publish churn/ holds %v (%v); want nothing", entries, err)
	}
}
