package mlflow_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/switchyard-ml/switchyard/internal/onnx"
	"github.com/switchyard-ml/switchyard/internal/testenv"
	"github.com/switchyard-ml/switchyard/modelstore"
	"github.com/switchyard-ml/switchyard/server/internal/servertest"
)

// dataFile is the external data file's name, a uuid as onnx.save_model
// names it.
const dataFile = "4f1c2b9e-7a3d-4e8b-9c0d-1e2f3a4b5c6d"

// mlmodelText is an MLmodel as mlflow.onnx.log_model (MLflow 2.11) writes
// it for a model with a column-based signature: yaml.safe_dump of
// Model.to_dict, keys sorted, the signature's schemas as JSON text.
func mlmodelText(runID, data, inputs string) string {
	return `artifact_path: model
flavors:
  onnx:
    code: null
    data: ` + data + `
    onnx_session_options: null
    onnx_version: 1.15.0
    providers:
    - CUDAExecutionProvider
    - CPUExecutionProvider
  python_function:
    code: null
    data: ` + data + `
    env:
      conda: conda.yaml
      virtualenv: python_env.yaml
    loader_module: mlflow.onnx
    python_version: 3.10.12
mlflow_version: 2.11.3
model_size_bytes: 1893
model_uuid: 9d1e5a7c3b2f4e6a8c0d2e4f6a8b0c1d
run_id: ` + runID + `
signature:
  inputs: '` + inputs + `'
  outputs: '[{"type": "tensor", "tensor-spec": {"dtype": "int64", "shape": [-1]}},
    {"type": "tensor", "tensor-spec": {"dtype": "float32", "shape": [-1, 2]}}]'
  params: null
utc_time_created: '2026-12-06 04:00:00.123456'
`
}

// abcColumns is the column-based signature of the features a, b, c.
const abcColumns = `[{"type": "double", "name": "a", "required": true}, {"type": "double", "name": "b", "required": true}, {"type": "double", "name": "c", "required": true}]`

// mlflowDir is an MLflow model directory of a logistic regression over
// a, b, c whose coefficients live in the external data file, as
// mlflow.onnx.log_model writes it.
func mlflowDir(runID string, weights ...float32) (map[string][]byte, *onnx.LogReg) {
	lr := &onnx.LogReg{Weights: weights, Bias: []float32{0}}
	m, data := onnx.Externalize(lr.Model(), dataFile, 12) // the 12-byte coefficients
	return map[string][]byte{
		"MLmodel":          []byte(mlmodelText(runID, "model.onnx", abcColumns)),
		"model.onnx":       m.Marshal(),
		dataFile:           data,
		"conda.yaml":       []byte("channels:\n- conda-forge\ndependencies:\n- python=3.10.12\n- pip<=23.3.1\n- pip:\n  - mlflow==2.11.3\n  - onnx==1.15.0\n  - onnxruntime==1.17.1\nname: mlflow-env\n"),
		"python_env.yaml":  []byte("python: 3.10.12\nbuild_dependencies:\n- pip==23.3.1\n- setuptools\n- wheel\ndependencies:\n- -r requirements.txt\n"),
		"requirements.txt": []byte("mlflow==2.11.3\nonnx==1.15.0\nonnxruntime==1.17.1\n"),
	}, lr
}

// newRun creates an experiment and a run and returns their ids.
func newRun(t *testing.T, ts *testServer) (exp, run string) {
	t.Helper()
	exp = ts.ok(t, "POST", "/api/2.0/mlflow/experiments/create", fmt.Sprintf(`{"name":"exp-%d"}`, len(t.Name())))["experiment_id"].(string)
	run = ts.ok(t, "POST", "/api/2.0/mlflow/runs/create", fmt.Sprintf(`{"experiment_id":%q}`, exp))["run"].(map[string]any)["info"].(map[string]any)["run_id"].(string)
	return exp, run
}

// upload puts each file under the run's artifacts at dir.
func upload(t *testing.T, ts *testServer, exp, run, dir string, files map[string][]byte) {
	t.Helper()
	for name, b := range files {
		p := exp + "/" + run + "/artifacts/" + strings.TrimPrefix(dir+"/"+name, "/")
		if status, out := ts.put(t, p, strings.NewReader(string(b)), int64(len(b))); status != 200 {
			t.Fatalf("PUT %s = %d %v", p, status, out)
		}
	}
}

// tagsOf returns a model version's tags by key.
func versionTags(mv map[string]any) map[string]string {
	tags := map[string]string{}
	list, _ := mv["tags"].([]any)
	for _, tag := range list {
		kv := tag.(map[string]any)
		tags[kv["key"].(string)] = kv["value"].(string)
	}
	return tags
}

func TestMLflowModelDirectory(t *testing.T) {
	reg := newRegistry(t, "")
	ts := serveRecorded(t, reg, filepath.Join(t.TempDir(), "data"))
	exp, run := newRun(t, ts.testServer)
	files, lr := mlflowDir(run, 4, 2, 0.5)
	upload(t, ts.testServer, exp, run, "model", files)
	// Model.log copies the metadata files into model/metadata, as the
	// real client's log_model did: the copy is not part of the version.
	upload(t, ts.testServer, exp, run, "model/metadata", map[string][]byte{"MLmodel": files["MLmodel"], "conda.yaml": files["conda.yaml"]})

	mv := ts.ok(t, "POST", "/api/2.0/mlflow/model-versions/create",
		fmt.Sprintf(`{"name":"m","source":"runs:/%s/model","run_id":%q}`, run, run))["model_version"].(map[string]any)
	if mv["version"] != "1" {
		t.Fatalf("model-versions/create = %v", mv)
	}
	vdir := filepath.Join(reg, "m", "1")
	m, err := modelstore.ReadManifest(vdir)
	if err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{dataFile, "MLmodel", "conda.yaml", "python_env.yaml", "requirements.txt"} {
		if _, ok := m.Files[name]; !ok {
			t.Errorf("manifest files %v lack %s", m.Files, name)
		}
		if b, err := os.ReadFile(filepath.Join(vdir, name)); err != nil || string(b) != string(files[name]) {
			t.Errorf("version file %s = %d bytes, %v; want the uploaded %d", name, len(b), err, len(files[name]))
		}
	}
	if len(m.Files) != 5 {
		t.Errorf("manifest files = %v; want the directory's five files besides model.onnx, and not its metadata copy", m.Files)
	}
	if len(m.Features) != 3 || m.Features[0].Name != "a" || m.Features[2].Name != "c" || m.Features[2].Position != 2 || m.Features[0].Type != modelstore.TypeNumber {
		t.Fatalf("manifest features = %+v; want a, b, c, numbers at positions 0-2", m.Features)
	}

	servertest.Until(t, "m serving", func() bool { return ts.ServedVersion(t, "m") == "1" })
	x := []float32{0.5, -1, 2}
	_, probs := lr.Predict(x)
	out := ts.Infer(t, "/v2/models/m/infer", servertest.RequestJSON("input", "FP32", []int64{1, 3}, x))
	servertest.CloseTo(t, "m probabilities", out.Outputs[1].Data, probs)
	r := ts.Do(t, "POST", "/v1/models/m:predict", `{"instances":[{"a":0.5,"b":-1,"c":2}]}`)
	if r.Status != 200 || !strings.Contains(string(r.Body), `"model_version":"1"`) {
		t.Fatalf("records predict = %d %s", r.Status, r.Body)
	}
	var rec struct {
		Predictions []map[string]any `json:"predictions"`
	}
	if err := json.Unmarshal(r.Body, &rec); err != nil || len(rec.Predictions) != 1 {
		t.Fatalf("records predict answer %s: %v", r.Body, err)
	}
	if r := ts.Do(t, "POST", "/v1/models/m:predict", `{"instances":[{"a":0.5,"b":-1}]}`); r.Status != 422 || !strings.Contains(string(r.Body), `c`) {
		t.Fatalf("records predict without c = %d %s; want 422 naming c", r.Status, r.Body)
	}

	// The same directory by its mlflow-artifacts URI, without a run id:
	// the MLmodel's run is used for the evaluation set, and there is none.
	mv = ts.ok(t, "POST", "/api/2.0/mlflow/model-versions/create",
		fmt.Sprintf(`{"name":"m","source":"mlflow-artifacts:/%s/%s/artifacts/model"}`, exp, run))["model_version"].(map[string]any)
	if tags := versionTags(mv); mv["version"] != "2" || !strings.Contains(tags["switchyard.eval"], "no evaluation set") {
		t.Fatalf("second version = %v; want version 2 tagged with why it has no evaluation set", mv)
	}
	servertest.Until(t, "m version 2 serving", func() bool { return ts.ServedVersion(t, "m") == "2" })
	ts.stop()

	// An external data file changed after publishing refuses the load.
	data := filepath.Join(reg, "m", "2", dataFile)
	b, _ := os.ReadFile(data)
	b[0] ^= 0x40
	if err := os.WriteFile(data, b, 0o644); err != nil {
		t.Fatal(err)
	}
	st, err := modelstore.Open(context.Background(), modelstore.Config{Dir: reg, Logger: slog.New(slog.DiscardHandler), KeepPrevious: -1})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	servertest.Until(t, "version 2 judged", func() bool { return st.Model("m").Version(2).State() == modelstore.Failed })
	if why := st.Model("m").Version(2).Reason(); !strings.Contains(why, modelstore.ErrChecksum.Error()) || !strings.Contains(why, dataFile) {
		t.Fatalf("tampered version 2 failed with %q; want a checksum mismatch naming %s", why, dataFile)
	}
	if _, err := st.Lookup("m", 1); err != nil {
		t.Fatalf("untouched version 1: %v", err)
	}
}

func TestMLflowModelDirectoryRefused(t *testing.T) {
	reg := newRegistry(t, "")
	ts := serveRecorded(t, reg, filepath.Join(t.TempDir(), "data"))
	exp, run := newRun(t, ts.testServer)
	f := func(dir string, edit func(files map[string][]byte), want string) {
		t.Helper()
		files, _ := mlflowDir(run, 4, 2, 0.5)
		edit(files)
		upload(t, ts.testServer, exp, run, dir, files)
		status, out := ts.mlflowCall(t, "POST", "/api/2.0/mlflow/model-versions/create",
			fmt.Sprintf(`{"name":"m","source":"runs:/%s/%s","run_id":%q}`, run, dir, run))
		msg, _ := out["message"].(string)
		if status != 400 || out["error_code"] != "INVALID_PARAMETER_VALUE" || !strings.Contains(msg, want) {
			t.Errorf("%s: create = %d %v; want 400 INVALID_PARAMETER_VALUE saying %q", dir, status, out, want)
		}
	}
	f("missing-onnx", func(files map[string][]byte) {
		files["MLmodel"] = []byte(mlmodelText(run, "net.onnx", abcColumns))
	}, "its MLmodel names the ONNX file 'net.onnx', which the directory does not hold")
	f("missing-data", func(files map[string][]byte) { delete(files, dataFile) }, dataFile)
	f("bad-signature", func(files map[string][]byte) {
		files["MLmodel"] = []byte(mlmodelText(run, "model.onnx", `[{"type": "double", "name": "a"`))
	}, "signature inputs are not a JSON list")
	f("signature-unfit", func(files map[string][]byte) {
		files["MLmodel"] = []byte(mlmodelText(run, "model.onnx", `[{"type": "double", "name": "a"}, {"type": "long", "name": "b"}]`))
	}, "invalid feature schema")
	f("not-onnx", func(files map[string][]byte) {
		files["MLmodel"] = []byte("flavors:\n  sklearn:\n    pickled_model: model.pkl\n")
	}, "its MLmodel has no onnx flavor (flavors: sklearn)")
	f("not-yaml", func(files map[string][]byte) { files["MLmodel"] = []byte("flavors: [\n") }, "its MLmodel is not valid YAML")
	f("own-name", func(files map[string][]byte) { files["manifest.json"] = []byte("{}") }, `"manifest.json" is a file of the version itself`)
	f("subdirectory", func(files map[string][]byte) { files["code/train.py"] = []byte("print(1)\n") },
		"the MLflow model directory holds the subdirectory 'code'")

	if entries, _ := os.ReadDir(filepath.Join(reg, "m")); len(entries) != 0 {
		t.Fatalf("refused creates left %v", entries)
	}
	if list := ts.ok(t, "GET", "/api/2.0/mlflow/model-versions/search?filter=name%3D%27m%27", ""); len(list) != 0 {
		t.Fatalf("model-versions/search after refusals = %v; want none", list)
	}
}

func TestMLflowModelDirectoryTooLarge(t *testing.T) {
	files, _ := mlflowDir("r", 4, 2, 0.5)
	var total int64
	for _, b := range files {
		total += int64(len(b))
	}
	reg := newRegistry(t, "")
	ts := serveTrackingAt(t, reg, Config{MaxModelBytes: total - 1})
	exp, run := newRun(t, ts)
	files, _ = mlflowDir(run, 4, 2, 0.5)
	upload(t, ts, exp, run, "model", files)
	status, out := ts.mlflowCall(t, "POST", "/api/2.0/mlflow/model-versions/create",
		fmt.Sprintf(`{"name":"m","source":"runs:/%s/model","run_id":%q}`, run, run))
	if msg, _ := out["message"].(string); status != 400 || !strings.Contains(msg, fmt.Sprintf("more than %d bytes", total-1)) {
		t.Errorf("create over the size limit = %d %v; want 400 naming the limit", status, out)
	}
	if entries, _ := os.ReadDir(filepath.Join(reg, "m")); len(entries) != 0 {
		t.Fatalf("a refused create left %v", entries)
	}
}

func TestMLflowModelDirectoryEvalGate(t *testing.T) {
	reg := newRegistry(t, "gate:\n  metrics:\n    auc: {min: 0.7}\n")
	ts := serveRecorded(t, reg, filepath.Join(t.TempDir(), "data"))
	exp, run := newRun(t, ts.testServer)
	// mlflow.log_input(mlflow.data.from_pandas(df, source="eval.csv"),
	// context="eval"), with eval.csv logged as an artifact of the run.
	upload(t, ts.testServer, exp, run, "", map[string][]byte{"eval.csv": testenv.EvalSet(3, 2000)})
	ts.ok(t, "POST", "/api/2.0/mlflow/runs/log-inputs", fmt.Sprintf(`{"run_id":%q,"datasets":[%s]}`, run,
		strings.Replace(evalInput, `\"/data/eval.csv\"`, `\"eval.csv\"`, 1)))

	register := func(dir string, weights ...float32) string {
		t.Helper()
		files, _ := mlflowDir(run, weights...)
		upload(t, ts.testServer, exp, run, dir, files)
		mv := ts.ok(t, "POST", "/api/2.0/mlflow/model-versions/create",
			fmt.Sprintf(`{"name":"m","source":"runs:/%s/%s","run_id":%q}`, run, dir, run))["model_version"].(map[string]any)
		if eval := versionTags(mv)["switchyard.eval"]; !strings.Contains(eval, `label column "label"`) {
			t.Fatalf("version from %s tagged switchyard.eval=%q; want the eval dataset with its label column", dir, eval)
		}
		v := mv["version"].(string)
		if b, err := os.ReadFile(filepath.Join(reg, "m", v, modelstore.EvalFile)); err != nil || string(b) != string(testenv.EvalSet(3, 2000)) {
			t.Fatalf("version %s eval.csv: %d bytes, %v; want the run's eval dataset", v, len(b), err)
		}
		// Its drift profile is made from the evaluation set.
		var profile struct{ Rows int }
		if b, err := os.ReadFile(filepath.Join(reg, "m", v, modelstore.ProfileFile)); err != nil || json.Unmarshal(b, &profile) != nil || profile.Rows != 2000 {
			t.Fatalf("version %s profile.json: %d rows, %v; want the 2000 of the eval dataset", v, profile.Rows, err)
		}
		return v
	}
	good := register("good", 4, 2, 0)
	servertest.Until(t, "good version serving", func() bool { return ts.ServedVersion(t, "m") == good })
	bad := register("bad", 0, 0, 0) // the same score for every row: auc 0.5
	servertest.Until(t, "bad version judged", func() bool { s, _, _ := ts.versionOf(t, bad); return s != "PENDING_REGISTRATION" })
	if status, msg, _ := ts.versionOf(t, bad); status != "FAILED_REGISTRATION" || !strings.Contains(msg, "auc") {
		t.Fatalf("bad version: %s %q; want FAILED_REGISTRATION by the gate on auc", status, msg)
	}
	if v := ts.ServedVersion(t, "m"); v != good {
		t.Fatalf("serving %s after a failed gate; want %s still", v, good)
	}

	// An eval.csv in the model directory comes first; one whose label
	// cannot be told gives no evaluation set, and says so.
	files, _ := mlflowDir(run, 4, 2, 0)
	files["eval.csv"] = []byte("a,b,c,y,weight\n1,2,3,1,0.5\n")
	upload(t, ts.testServer, exp, run, "ambiguous", files)
	mv := ts.ok(t, "POST", "/api/2.0/mlflow/model-versions/create",
		fmt.Sprintf(`{"name":"m","source":"runs:/%s/ambiguous","run_id":%q}`, run, run))["model_version"].(map[string]any)
	if eval := versionTags(mv)["switchyard.eval"]; !strings.Contains(eval, `the label could be any of ["y" "weight"]`) {
		t.Fatalf("version with an ambiguous eval.csv tagged switchyard.eval=%q", eval)
	}
	if _, err := os.Stat(filepath.Join(reg, "m", mv["version"].(string), modelstore.EvalFile)); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("version with an ambiguous eval.csv has an evaluation set: %v", err)
	}
}

func TestMLflowModelDirectoryLocal(t *testing.T) {
	root := t.TempDir()
	ts := serveSources(t, []string{root}, 0)
	_, run := newRun(t, ts)
	files, lr := mlflowDir(run, 4, 2, 0.5)
	if err := os.Mkdir(filepath.Join(root, "model"), 0o755); err != nil {
		t.Fatal(err)
	}
	for name, b := range files {
		if err := os.WriteFile(filepath.Join(root, "model", name), b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	evalPath := filepath.Join(root, "eval.csv")
	if err := os.WriteFile(evalPath, testenv.EvalSet(3, 200), 0o644); err != nil {
		t.Fatal(err)
	}
	logEval := func(uri string) {
		t.Helper()
		input := strings.Replace(evalInput, `\"/data/eval.csv\"`, `\"`+uri+`\"`, 1)
		input = strings.Replace(input, "9f0a1b2c", fmt.Sprintf("%x", len(uri)), 1) // another dataset
		ts.ok(t, "POST", "/api/2.0/mlflow/runs/log-inputs", fmt.Sprintf(`{"run_id":%q,"datasets":[%s]}`, run, input))
	}
	create := func() (int, map[string]any) {
		t.Helper()
		return ts.mlflowCall(t, "POST", "/api/2.0/mlflow/model-versions/create",
			fmt.Sprintf(`{"name":"churn","source":%q,"run_id":%q}`, "file://"+filepath.Join(root, "model"), run))
	}

	// An evaluation set outside the allowed roots gets the one answer a
	// refused local source gets, and no version.
	logEval("/etc/passwd")
	status, out := create()
	if msg, _ := out["message"].(string); status != 400 || !strings.Contains(msg, "Invalid evaluation dataset '/etc/passwd'") ||
		!strings.Contains(msg, "not found, or not under a source root this server allows") {
		t.Fatalf("create with an eval dataset outside the roots = %d %v", status, out)
	}
	if n := versionsOf(t, ts); n != 0 {
		t.Fatalf("a refused create left %d versions", n)
	}

	logEval("file://" + evalPath) // the last eval input logged wins
	status, out = create()
	mv, _ := out["model_version"].(map[string]any)
	if status != 200 || !strings.Contains(versionTags(mv)["switchyard.eval"], evalPath) {
		t.Fatalf("create from a local MLflow model directory = %d %v; want the eval dataset at %s", status, out, evalPath)
	}
	servertest.Until(t, "churn serving", func() bool { return ts.ServedVersion(t, "churn") == "1" })
	x := []float32{1, 2, 3}
	_, probs := lr.Predict(x)
	got := ts.Infer(t, "/v2/models/churn/infer", servertest.RequestJSON("input", "FP32", []int64{1, 3}, x))
	servertest.CloseTo(t, "churn probabilities", got.Outputs[1].Data, probs)
}
