package main

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/switchyard-ml/switchyard/internal/demo"
	"github.com/switchyard-ml/switchyard/modelstore"
	"github.com/switchyard-ml/switchyard/tracking"
)

// demoModel is the name the demo publishes under.
const demoModel = "fraud"

func runDemo(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlagSet("demo", "--registry DIR [--seed N] [--force]", stderr)
	registry := fs.String("registry", "registry", "registry directory")
	seed := fs.Uint64("seed", 1, "seed of the synthetic data")
	force := fs.Bool("force", false, "publish another version even if the registry has the demo model")
	addr := fs.String("addr", "localhost:8080", "server address to put in the printed curl line")
	dataDir := fs.String("data-dir", "", "tracking database and artifacts (default REGISTRY/.switchyard)")
	actor := fs.String("actor", firstOf(defaultCreator(), "switchyard demo"), "who publishes the demo, for the audit trail (default the OS user)")
	var ef engineFlags
	ef.register(fs)
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	f, err := demo.BuildFraud(*seed)
	if err != nil {
		return err
	}
	_, all, _ := modelstore.Versions(*registry, demoModel)
	if len(all) > 0 && !*force {
		fmt.Fprintf(stdout, "%s already has model %q (versions %v); --force publishes another\n", *registry, demoModel, all)
	} else {
		if err := ef.init(); err != nil {
			return err
		}
		d := demoPublish{registry: *registry, dataDir: dataDirOf(*dataDir, *registry), actor: *actor, fraud: f, args: args}
		v, runID, err := d.publish(ctx, ef)
		if err != nil {
			return err
		}
		fmt.Fprintf(stdout, "published %s version %d (held-out accuracy %.4f), trained in run %s\n", demoModel, v, f.Accuracy, runID)
		fmt.Fprintf(stdout, "its reproducibility record: switchyard repro %s %d --registry %s\n", demoModel, v, shellQuote(*registry))
	}
	fmt.Fprintf(stdout, "query it once the server is up:\n%s\n", curlLine(*addr, f.Sample))
	return nil
}

// demoPublish publishes the demo model with its lineage.
type demoPublish struct {
	registry, dataDir, actor string
	fraud                    *demo.Fraud
	args                     []string
}

// publish logs the demo's training as a run (its settings as params, its
// held-out metrics, its data as the run's artifacts and datasets, its
// reproducibility record as tags), publishes the model with its
// evaluation set linked to the run, and audits the publish.
func (d *demoPublish) publish(ctx context.Context, ef engineFlags) (version int, runID string, err error) {
	f := d.fraud
	var trainCSV, evalCSV bytes.Buffer
	if err := demo.WriteCSV(&trainCSV, f.Train); err != nil {
		return 0, "", err
	}
	if err := demo.WriteCSV(&evalCSV, f.Eval); err != nil {
		return 0, "", err
	}
	files := []demoFile{{"train.csv", tracking.RoleTrain, trainCSV.Bytes()}, {"eval.csv", tracking.RoleEval, evalCSV.Bytes()}}
	uses := make([]tracking.DatasetUse, len(files))
	for i, file := range files {
		ds, err := tracking.DescribeCSV(bytes.NewReader(file.data))
		if err != nil {
			return 0, "", fmt.Errorf("BUG: the demo's %s: %w", file.name, err)
		}
		uses[i] = tracking.DatasetUse{Dataset: ds, Role: file.role}
	}
	repro := environment("demo", d.args)
	repro.CodeRevision = gitRevision(ctx)
	repro.Seed = strconv.FormatUint(f.Seed, 10)
	repro.TrainSHA256, repro.EvalSHA256 = uses[0].SHA256, uses[1].SHA256
	now := time.Now().UnixMilli()
	rec := newRun{name: fmt.Sprintf("demo-%s-seed-%d", demoModel, f.Seed), user: d.actor, params: sortedParams(f.Params()), repro: repro,
		metrics: []tracking.Metric{{Key: "eval_accuracy", Value: f.Accuracy, Timestamp: now}, {Key: "eval_log_loss", Value: f.LogLoss, Timestamp: now}}}

	st, err := openTracking(ctx, d.dataDir, true)
	if err != nil {
		return 0, "", err
	}
	defer st.Close()
	arts, err := tracking.OpenArtifacts(filepath.Join(d.dataDir, "artifacts"))
	if err != nil {
		return 0, "", err
	}
	defer arts.Close()
	run, err := rec.start(ctx, st)
	if run != nil {
		runID = run.Info.RunID
	}
	if err == nil {
		err = d.logData(ctx, st, arts, run, files, uses)
	}
	if err == nil {
		version, err = d.publishModel(run, uses, evalCSV.Bytes(), ef)
	}
	if err != nil {
		if runID != "" {
			err = errors.Join(err, endRun(ctx, st, runID, tracking.StatusFailed))
		}
		return 0, "", err
	}
	details := map[string]any{"run_id": runID, "sha256": hexSHA256(f.Model), "experiment_id": run.Info.ExperimentID,
		"train_sha256": uses[0].SHA256, "eval_sha256": uses[1].SHA256}
	if err := published(ctx, st, demoModel, version, runID, true, tracking.Entry{Actor: d.actor, Reason: "switchyard demo", Details: details}); err != nil {
		return 0, "", fmt.Errorf("published %s version %d, but: %w", demoModel, version, err)
	}
	return version, runID, nil
}

// demoFile is a data file of the demo, stored as a run artifact.
type demoFile struct {
	name, role string
	data       []byte
}

// logData stores the demo's data files as the run's artifacts, where
// MLflow's clients can download them, and records them as the run's
// datasets (uses, one per file) at those places.
func (d *demoPublish) logData(ctx context.Context, st *tracking.Store, arts *tracking.Artifacts, run *tracking.Run, files []demoFile, uses []tracking.DatasetUse) error {
	dir, ok := strings.CutPrefix(run.Info.ArtifactURI, "mlflow-artifacts:/")
	if !ok {
		return fmt.Errorf("run %s keeps its artifacts at %s, outside switchyard's artifact store", run.Info.RunID, run.Info.ArtifactURI)
	}
	for i, file := range files {
		if _, err := arts.Put(dir+"/"+file.name, bytes.NewReader(file.data)); err != nil {
			return fmt.Errorf("store the demo's %s: %w", file.name, err)
		}
		uses[i].Path = run.Info.ArtifactURI + "/" + file.name
	}
	return useDatasets(ctx, st, run.Info.RunID, uses)
}

// publishModel publishes the demo model, linked to run, with its
// evaluation set.
func (d *demoPublish) publishModel(run *tracking.Run, uses []tracking.DatasetUse, evalCSV []byte, ef engineFlags) (int, error) {
	f := d.fraud
	seed := int64(f.Seed)
	return modelstore.Publish(d.registry, demoModel, f.Model, modelstore.PublishOptions{
		Description: "Demo: logistic regression on synthetic card transactions; probabilities are [P(legitimate), P(fraud)].",
		CreatedBy:   "switchyard demo",
		Features:    demoFeatures(),
		Lineage: &modelstore.Lineage{
			RunID:             run.Info.RunID,
			DatasetPath:       uses[0].Path,
			DatasetSHA256:     uses[0].SHA256,
			EvalDatasetPath:   uses[1].Path,
			EvalDatasetSHA256: uses[1].SHA256,
			CodeRevision:      tracking.ReproOf(run.Tags).CodeRevision,
			Seed:              &seed,
		},
		EvalCSV:   evalCSV,
		EvalLabel: demo.LabelColumn,
		Engine:    ef.cfg,
	})
}

// hexSHA256 returns the sha256 of b in hex.
func hexSHA256(b []byte) string {
	sum := sha256.Sum256(b)
	return hex.EncodeToString(sum[:])
}

// demoFeatures is the named-feature schema of the demo model.
func demoFeatures() []modelstore.Feature {
	names := demo.FeatureNames()
	out := make([]modelstore.Feature, len(names))
	for i, n := range names {
		out[i] = modelstore.Feature{Name: n, Type: "number", Position: i}
	}
	return out
}

// inferBody is the V2 request for one row of demo features.
func inferBody(row []float32) string {
	data := make([]string, len(row))
	for i, v := range row {
		data[i] = strconv.FormatFloat(float64(v), 'g', -1, 32)
	}
	return fmt.Sprintf(`{"inputs":[{"name":%q,"datatype":"FP32","shape":[1,%d],"data":[%s]}]}`,
		demo.InputName, len(row), strings.Join(data, ","))
}

func curlLine(addr string, row []float32) string {
	if strings.HasPrefix(addr, ":") {
		addr = "localhost" + addr
	}
	return fmt.Sprintf("curl -s %s/v2/models/%s/infer -H 'Content-Type: application/json' -d '%s'", addr, demoModel, inferBody(row))
}
