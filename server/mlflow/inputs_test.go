package mlflow_test

import (
	"encoding/json"
	"fmt"
	"reflect"
	"strings"
	"testing"
)

// newMLflowRun creates an experiment and a run in it, as start_run does,
// and returns the run's id.
func newMLflowRun(t *testing.T, ts *testServer, experiment string) string {
	t.Helper()
	exp := ts.ok(t, "POST", "/api/2.0/mlflow/experiments/create", fmt.Sprintf(`{"name": %q}`, experiment))["experiment_id"].(string)
	run := ts.ok(t, "POST", "/api/2.0/mlflow/runs/create", fmt.Sprintf(`{"experiment_id": %q, "user_id": "ana", "start_time": 1700000000000}`, exp))
	return run["run"].(map[string]any)["info"].(map[string]any)["run_id"].(string)
}

// The dataset inputs of mlflow.log_input(mlflow.data.from_pandas(df,
// source="eval.csv", name="fraud-eval"), context="eval") and its training
// twin, as MLflow 2.11's RestStore sends them (LogInputs of
// service.proto: run_id and datasets, each a DatasetInput with its tags
// and its Dataset).
const (
	evalInput = `{"tags": [{"key": "mlflow.data.context", "value": "eval"}], "dataset": {"name": "fraud-eval", "digest": "9f0a1b2c",
		"source_type": "local", "source": "{\"uri\": \"/data/eval.csv\"}",
		"schema": "{\"mlflow_colspec\": [{\"type\": \"double\", \"name\": \"amount\"}, {\"type\": \"long\", \"name\": \"label\"}]}",
		"profile": "{\"num_rows\": 200, \"num_elements\": 400}"}}`
	trainInput = `{"tags": [{"key": "mlflow.data.context", "value": "training"}], "dataset": {"name": "fraud-train", "digest": "3c4d5e6f",
		"source_type": "local", "source": "{\"uri\": \"/data/train.csv\"}"}}`
)

// TestMLflowLogInputs logs dataset inputs as mlflow.log_input does and
// reads them back under run.inputs.dataset_inputs, as MLflow shows them.
func TestMLflowLogInputs(t *testing.T) {
	ts := serveTracking(t)
	id := newMLflowRun(t, ts, "fraud")
	out := ts.ok(t, "POST", "/api/2.0/mlflow/runs/log-inputs", fmt.Sprintf(`{"run_id": %q, "datasets": [%s, %s]}`, id, trainInput, evalInput))
	if len(out) != 0 {
		t.Fatalf("log-inputs = %v; want {}", out)
	}
	// A dataset logged again to the same run is one input, with its
	// first tags, as MLflow keeps it.
	ts.ok(t, "POST", "/api/2.0/mlflow/runs/log-inputs", fmt.Sprintf(`{"run_id": %q, "datasets": [%s]}`, id,
		strings.Replace(evalInput, `"value": "eval"`, `"value": "training"`, 1)))

	var want []any
	if err := json.Unmarshal([]byte("["+trainInput+","+evalInput+"]"), &want); err != nil {
		t.Fatal(err)
	}
	run := ts.ok(t, "GET", "/api/2.0/mlflow/runs/get?run_id="+id, "")["run"].(map[string]any)
	got := run["inputs"].(map[string]any)["dataset_inputs"]
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("runs/get inputs.dataset_inputs = %v; want %v", got, want)
	}
	exp := run["info"].(map[string]any)["experiment_id"].(string)
	runs := ts.ok(t, "POST", "/api/2.0/mlflow/runs/search", fmt.Sprintf(`{"experiment_ids": [%q]}`, exp))["runs"].([]any)
	if got := runs[0].(map[string]any)["inputs"].(map[string]any)["dataset_inputs"]; !reflect.DeepEqual(got, want) {
		t.Fatalf("runs/search inputs.dataset_inputs = %v; want %v", got, want)
	}

	// Another run of the experiment uses the same dataset, with its own
	// tags.
	other := ts.ok(t, "POST", "/api/2.0/mlflow/runs/create", fmt.Sprintf(`{"experiment_id": %q}`, exp))["run"].(map[string]any)["info"].(map[string]any)["run_id"].(string)
	ts.ok(t, "POST", "/api/2.0/mlflow/runs/log-inputs", fmt.Sprintf(`{"run_id": %q, "datasets": [%s]}`, other,
		strings.Replace(evalInput, `"value": "eval"`, `"value": "testing"`, 1)))
	inputs := ts.ok(t, "GET", "/api/2.0/mlflow/runs/get?run_id="+other, "")["run"].(map[string]any)["inputs"].(map[string]any)["dataset_inputs"].([]any)
	if tags := inputs[0].(map[string]any)["tags"]; len(inputs) != 1 || !reflect.DeepEqual(tags, []any{map[string]any{"key": "mlflow.data.context", "value": "testing"}}) {
		t.Fatalf("the other run's inputs = %v", inputs)
	}
}

// TestMLflowLogInputsFailure checks log-inputs' errors: MLflow's codes,
// its size limits, and nothing stored by a refused request.
func TestMLflowLogInputsFailure(t *testing.T) {
	ts := serveTracking(t)
	id := newMLflowRun(t, ts, "fraud")
	f := func(body string, wantStatus int, wantCode string) {
		t.Helper()
		status, out := ts.mlflowCall(t, "POST", "/api/2.0/mlflow/runs/log-inputs", body)
		if status != wantStatus || out["error_code"] != wantCode {
			t.Fatalf("log-inputs %.200s = %d %v; want %d %s", body, status, out, wantStatus, wantCode)
		}
	}
	f(fmt.Sprintf(`{"run_id": "0123456789abcdef0123456789abcdef", "datasets": [%s]}`, evalInput), 404, "RESOURCE_DOES_NOT_EXIST")
	f(fmt.Sprintf(`{"datasets": [%s]}`, evalInput), 400, "INVALID_PARAMETER_VALUE")
	f(fmt.Sprintf(`{"run_id": %q}`, id), 400, "INVALID_PARAMETER_VALUE")
	f(fmt.Sprintf(`{"run_id": %q, "datasets": {}}`, id), 400, "INVALID_PARAMETER_VALUE")
	f(fmt.Sprintf(`{"run_id": %q, "datasets": [{"tags": []}]}`, id), 400, "INVALID_PARAMETER_VALUE")
	f(fmt.Sprintf(`{"run_id": %q, "datasets": [%s]}`, id, strings.Replace(evalInput, `"digest": "9f0a1b2c"`, `"digest": ""`, 1)), 400, "INVALID_PARAMETER_VALUE")
	f(fmt.Sprintf(`{"run_id": %q, "datasets": [%s]}`, id, strings.Replace(evalInput, `"digest": "9f0a1b2c"`, `"digest": "`+strings.Repeat("a", 37)+`"`, 1)), 400, "INVALID_PARAMETER_VALUE")
	f(fmt.Sprintf(`{"run_id": %q, "datasets": [%s]}`, id, strings.Replace(evalInput, `"value": "eval"`, `"value": "`+strings.Repeat("e", 501)+`"`, 1)), 400, "INVALID_PARAMETER_VALUE")
	bigSchema := fmt.Sprintf(`{"tags": [], "dataset": {"name": "big", "digest": "00000000", "source_type": "local", "source": "{}", "schema": %q}}`,
		strings.Repeat("s", 1048576))
	f(fmt.Sprintf(`{"run_id": %q, "datasets": [%s, %s]}`, id, evalInput, bigSchema), 400, "INVALID_PARAMETER_VALUE")
	f(`{"run_id": `, 400, "INVALID_PARAMETER_VALUE")

	ts.ok(t, "POST", "/api/2.0/mlflow/runs/delete", fmt.Sprintf(`{"run_id": %q}`, id))
	f(fmt.Sprintf(`{"run_id": %q, "datasets": [%s]}`, id, evalInput), 400, "INVALID_PARAMETER_VALUE")
	run := ts.ok(t, "GET", "/api/2.0/mlflow/runs/get?run_id="+id, "")["run"].(map[string]any)
	if inputs, ok := run["inputs"].(map[string]any)["dataset_inputs"]; ok {
		t.Fatalf("refused requests stored inputs: %v", inputs)
	}
}

// loggedModel is the MLmodel that mlflow.onnx.log_model(model, "model")
// sends as model_json (MLflow 2.11: Model.to_dict as JSON).
func loggedModel(runID string) string {
	return fmt.Sprintf(`{"run_id": %q, "artifact_path": "model", "utc_time_created": "2026-12-06 03:00:00.000000",
		"flavors": {"onnx": {"onnx_version": "1.15.0", "data": "model.onnx", "providers": ["CUDAExecutionProvider", "CPUExecutionProvider"], "code": null},
		"python_function": {"loader_module": "mlflow.onnx", "python_version": "3.11.2", "data": "model.onnx", "env": {"conda": "conda.yaml", "virtualenv": "python_env.yaml"}}},
		"model_uuid": "5b2a0c9e8f7d4e0a9c1b2d3e4f5a6b7c", "mlflow_version": "2.11.4.dev0",
		"signature": {"inputs": "[{\"type\": \"double\", \"name\": \"amount\", \"required\": true}]", "outputs": null, "params": null}}`, runID)
}

// TestMLflowLogModel logs models as mlflow.<flavor>.log_model does and
// finds them in the run's mlflow.log-model.history tag, a JSON list.
func TestMLflowLogModel(t *testing.T) {
	ts := serveTracking(t)
	id := newMLflowRun(t, ts, "fraud")
	body, _ := json.Marshal(map[string]string{"run_id": id, "model_json": loggedModel(id)})
	if out := ts.ok(t, "POST", "/api/2.0/mlflow/runs/log-model", string(body)); len(out) != 0 {
		t.Fatalf("log-model = %v; want {}", out)
	}
	ts.ok(t, "POST", "/api/2.0/mlflow/runs/log-model", string(body))

	var model any
	if err := json.Unmarshal([]byte(loggedModel(id)), &model); err != nil {
		t.Fatal(err)
	}
	tags := ts.ok(t, "GET", "/api/2.0/mlflow/runs/get?run_id="+id, "")["run"].(map[string]any)["data"].(map[string]any)["tags"].([]any)
	var history string
	for _, tag := range tags {
		if kv := tag.(map[string]any); kv["key"] == "mlflow.log-model.history" {
			history = kv["value"].(string)
		}
	}
	var got []any
	if err := json.Unmarshal([]byte(history), &got); err != nil {
		t.Fatalf("mlflow.log-model.history = %q: %v", history, err)
	}
	if want := []any{model, model}; !reflect.DeepEqual(got, want) {
		t.Fatalf("mlflow.log-model.history = %v; want %v", got, want)
	}
}

// TestMLflowLogModelFailure checks log-model's errors, as MLflow's
// handler and store answer them.
func TestMLflowLogModelFailure(t *testing.T) {
	ts := serveTracking(t)
	id := newMLflowRun(t, ts, "fraud")
	f := func(runID, modelJSON string, wantStatus int, wantCode string) {
		t.Helper()
		body, _ := json.Marshal(map[string]string{"run_id": runID, "model_json": modelJSON})
		status, out := ts.mlflowCall(t, "POST", "/api/2.0/mlflow/runs/log-model", string(body))
		if status != wantStatus || out["error_code"] != wantCode {
			t.Fatalf("log-model %.200s = %d %v; want %d %s", body, status, out, wantStatus, wantCode)
		}
	}
	f("0123456789abcdef0123456789abcdef", loggedModel(id), 404, "RESOURCE_DOES_NOT_EXIST")
	f("", loggedModel(id), 400, "INVALID_PARAMETER_VALUE")
	f(id, "", 400, "INVALID_PARAMETER_VALUE")
	f(id, "{not json", 400, "INVALID_PARAMETER_VALUE")
	f(id, "[1, 2]", 400, "INVALID_PARAMETER_VALUE")
	f(id, `{"artifact_path": "model", "run_id": "x"}`, 400, "INVALID_PARAMETER_VALUE")
	f(id, `{"artifact_path": "model", "flavors": {}, "utc_time_created": "now", "run_id": "x", "pad": "`+strings.Repeat("p", 8000)+`"}`, 400, "INVALID_PARAMETER_VALUE")

	// The history is one tag: once it would pass MLflow's tag limit,
	// another model is refused and the history stays as it was.
	pad := fmt.Sprintf(`{"artifact_path": "model", "flavors": {}, "utc_time_created": "now", "run_id": %q, "pad": "%s"}`, id, strings.Repeat("p", 5000))
	body, _ := json.Marshal(map[string]string{"run_id": id, "model_json": pad})
	ts.ok(t, "POST", "/api/2.0/mlflow/runs/log-model", string(body))
	f(id, pad, 400, "INVALID_PARAMETER_VALUE")

	ts.ok(t, "POST", "/api/2.0/mlflow/runs/delete", fmt.Sprintf(`{"run_id": %q}`, id))
	f(id, loggedModel(id), 400, "INVALID_PARAMETER_VALUE")

	status, out := ts.mlflowCall(t, "POST", "/api/2.0/mlflow/runs/log-model", `{"run_id": 7}`)
	if status != 400 || out["error_code"] != "INVALID_PARAMETER_VALUE" {
		t.Fatalf("log-model with a numeric run_id = %d %v; want 400 INVALID_PARAMETER_VALUE", status, out)
	}
}
