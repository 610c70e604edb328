package main

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/switchyard-ml/switchyard/internal/demo"
	"github.com/switchyard-ml/switchyard/modelstore"
	"github.com/switchyard-ml/switchyard/tracking"
)

// TestDemoReproducible checks that the demo logs its training as a run
// and that the run is enough to rebuild the model bit for bit: training
// again, twice, with the recorded seed gives the bytes whose sha256 the
// version's manifest records, from data whose sha256 the run records.
func TestDemoReproducible(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	reg := filepath.Join(dir, "registry")
	out, err := runCmd(t, "demo", "--registry", reg, "--seed", "3", "--actor", "ana")
	if err != nil || !strings.Contains(out, "published fraud version 1") {
		t.Fatalf("demo = %v\n%s", err, out)
	}
	mf, err := modelstore.ReadManifest(modelstore.VersionDir(reg, demoModel, 1))
	if err != nil {
		t.Fatal(err)
	}
	dataDir := filepath.Join(reg, ".switchyard")
	st := openStore(t, dataDir)
	runID, err := st.VersionRun(ctx, demoModel, 1)
	if err != nil || runID != mf.Lineage.RunID || !strings.Contains(out, "trained in run "+runID) {
		t.Fatalf("VersionRun = %q, %v; manifest names run %q\n%s", runID, err, mf.Lineage.RunID, out)
	}
	run, err := st.Run(ctx, runID)
	if err != nil {
		t.Fatal(err)
	}
	params := map[string]string{}
	for _, p := range run.Params {
		params[p.Key] = p.Value
	}
	metrics := map[string]float64{}
	for _, m := range run.Metrics {
		metrics[m.Key] = m.Value
	}
	if run.Info.Status != tracking.StatusFinished || run.Info.UserID != "ana" || params["algorithm"] == "" || params["l2"] == "" ||
		metrics["eval_accuracy"] < 0.5 || metrics["eval_log_loss"] <= 0 {
		t.Fatalf("run = %+v, params %v, metrics %v", run.Info, params, metrics)
	}

	// Rebuild from the record alone, twice.
	seed, err := strconv.ParseUint(tagsOf(run)[tracking.TagSeed], 10, 64)
	if err != nil || params["seed"] != "3" || *mf.Lineage.Seed != 3 {
		t.Fatalf("recorded seed: tag %q, param %q, manifest %v", tagsOf(run)[tracking.TagSeed], params["seed"], *mf.Lineage.Seed)
	}
	a, err := demo.BuildFraud(seed)
	if err != nil {
		t.Fatal(err)
	}
	b, err := demo.BuildFraud(seed)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(a.Model, b.Model) {
		t.Fatal("training twice with the recorded seed made different model bytes")
	}
	if got := sha256Hex(a.Model); got != mf.SHA256 {
		t.Fatalf("the rebuilt model has sha256 %s; the manifest records %s", got, mf.SHA256)
	}
	if metrics["eval_accuracy"] != a.Accuracy || metrics["eval_log_loss"] != a.LogLoss {
		t.Fatalf("recorded metrics %v; the rebuilt model scores %v, %v", metrics, a.Accuracy, a.LogLoss)
	}
	var train, eval bytes.Buffer
	demo.WriteCSV(&train, a.Train)
	demo.WriteCSV(&eval, a.Eval)
	want := map[string][]byte{tracking.RoleTrain: train.Bytes(), tracking.RoleEval: eval.Bytes()}
	if len(run.Datasets) != 2 {
		t.Fatalf("datasets = %+v; want train and eval", run.Datasets)
	}
	artifacts := strings.TrimPrefix(run.Info.ArtifactURI, "mlflow-artifacts:/")
	for _, d := range run.Datasets {
		data := want[d.Role]
		stored, err := os.ReadFile(filepath.Join(dataDir, "artifacts", artifacts, filepath.Base(d.Path)))
		if d.SHA256 != sha256Hex(data) || err != nil || !bytes.Equal(stored, data) || !strings.HasPrefix(d.Path, run.Info.ArtifactURI+"/") {
			t.Errorf("%s dataset %+v: regenerated data has sha256 %s; stored artifact: %v", d.Role, d.Dataset, sha256Hex(data), err)
		}
	}
	if got, err := os.ReadFile(filepath.Join(modelstore.VersionDir(reg, demoModel, 1), modelstore.EvalFile)); err != nil || !bytes.Equal(got, eval.Bytes()) || mf.EvalLabel != demo.LabelColumn {
		t.Errorf("the version's eval.csv differs from the held-out data (%v), or its label %q is not %q", err, mf.EvalLabel, demo.LabelColumn)
	}
	log, err := st.AuditLog(ctx, tracking.AuditQuery{Model: demoModel})
	if err != nil || len(log) != 1 || log[0].Actor != "ana" || log[0].Action != "publish" || log[0].Details["run_id"] != runID {
		t.Fatalf("audit = %+v, %v", log, err)
	}

	rebuilt := writeFile(t, dir, "rebuilt.onnx", a.Model)
	if out, err := runCmd(t, "repro", demoModel, "1", "--registry", reg, "--check", rebuilt); err != nil || !strings.Contains(out, "bit-exact with fraud version 1") ||
		!strings.Contains(out, "param seed") || !holds(out, "command line switchyard demo --registry "+reg+" --seed 3 --actor ana") {
		t.Fatalf("repro --check = %v\n%s", err, out)
	}
}
