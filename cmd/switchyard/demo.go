package main

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	iofs "io/fs"
	"maps"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/switchyard-ml/switchyard/gate"
	"github.com/switchyard-ml/switchyard/internal/demo"
	"github.com/switchyard-ml/switchyard/modelstore"
	"github.com/switchyard-ml/switchyard/ops"
	"github.com/switchyard-ml/switchyard/rollout"
	"github.com/switchyard-ml/switchyard/tracking"
)

// demoModel is the name the demo publishes under.
const demoModel = "fraud"

// demoPolicy is the policy.yaml the demo gives its model. The gate: a
// version must rank fraud well, and no worse than the stable version on
// the same rows in the same run, before it may take traffic; the demo's
// network passes it against its logistic regression with room to spare
// (AUC about 0.026 higher, log loss about 7% lower), and the logistic
// regression, against the network, does not. The rollout: a version that
// passed starts a canary, which the controller advances step by step in
// about a minute at the demo's default traffic (25% of 20 requests a
// second reach min_requests well within a step's bake). The drift
// monitor judges short windows, often, so that demo --drift shows soon.
// A price and the response cache show cost per prediction and the cache.
const demoPolicy = `# Written by switchyard demo. A new version of fraud takes traffic only if,
# on its eval.csv, it ranks fraud well, and no worse than the stable version
# evaluated on the same rows in the same run.
gate:
  label: label
  metrics:
    auc: {min: 0.8, max_regression: 0.005}
    log_loss: {max_regression_pct: 2}
# Then it is rolled out as a canary: a quarter of the requests, then half,
# then all, each step held 20 seconds and analysed every 50 requests
# against version 1 in the same window, with the default bounds.
rollout:
  on_publish: canary
  steps: [25%, 50%, 100%]
  bake: 20s
  min_requests: 50
# Each serving version's inputs and scores are compared with its training
# data: every prediction, in windows of 500 (25 seconds of the demo's
# traffic), judged every 5 seconds.
drift:
  window_rows: 500
  interval: 5s
# A core-hour of compute priced at 5 cents, for each version's dollars per
# 1,000 predictions; and the response cache on, with its defaults, so that
# a row asked for again is answered from memory.
cost:
  per_core_hour: 0.05
cache: {}
`

// Limits of the demo's background traffic, in requests a second.
const (
	defaultDemoTraffic = 20
	maxDemoTraffic     = 200
)

// demoTimeouts bound how long demo --serve waits for its server.
const (
	demoReadyTimeout   = time.Minute      // to listen, then to serve version 1
	demoRequestTimeout = 10 * time.Second // for one request of the background traffic
)

const demoSynopsis = `[--registry DIR] [--seed N] [--force] [--serve [--addr HOST:PORT] [--traffic N] [--drift]
       [--feedback [--shift-after 1m] [--label-delay 5s]]]
   or: bin/switchyard demo retrain [--export FILE] [flags] (see its --help)

Trains the demo's two fraud models in Go on synthetic card transactions and
publishes them as "fraud", each with its feature schema, its eval set, a drift
profile of its training data and a tracking run: version 1, a logistic regression, is made the stable version;
version 2, a neural network, runs the gate of the model's policy.yaml against
it first and is published only if it passes. A registry that already has the
model gets nothing unless --force, which publishes the network once more.

With --serve the demo serves the registry in-process, as switchyard serve
does: version 2 is published once version 1 serves, so the server gates it
and rolls it out as the model's policy says (a canary), while a background
traffic of records requests (rows of the eval set, --traffic a second, to
127.0.0.1 only) gives the rollout controller something to judge. With --drift
that traffic has drifted from the training data (amount up by 1.5 standard
deviations, many more merchants in one country), for the drift report to show.

With --feedback the server logs its predictions (serve --prediction-log), the
traffic feeds each prediction's true label back (POST /v1/feedback) after
--label-delay, and after --shift-after its world shifts: fraud moves to small
online digital-goods purchases from French merchants, which version 2 misses,
and its live accuracy falls by about 0.06. A fresh demo's policy.yaml then
also has a quality: block, whose alarm fires on that fall, and a retrain:
block, which runs this executable's demo retrain on the exported labelled
window: it trains the network again and publishes it, for the gate and the
canary to judge. It prints what to try and serves until interrupted.`

func runDemo(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	if len(args) > 0 && args[0] == "retrain" {
		return runDemoRetrain(ctx, args[1:], stdout, stderr)
	}
	fs := newFlagSet("demo", demoSynopsis, stderr)
	registry := fs.String("registry", "registry", "registry directory")
	seed := fs.Uint64("seed", 1, "seed of the synthetic data")
	force := fs.Bool("force", false, "publish another version of the network even if the registry has the demo model")
	addr := fs.String("addr", "localhost:8080", "with --serve, the address to listen on; without, the server address the printed commands name")
	serve := fs.Bool("serve", false, "serve the registry in-process and roll version 2 out while it serves, until interrupted")
	traffic := fs.Int("traffic", defaultDemoTraffic, fmt.Sprintf("with --serve, records requests a second sent to the server over loopback, at most %d (0: none)", maxDemoTraffic))
	drifted := fs.Bool("drift", false, "with --serve, send drifted background traffic: amount shifted by 1.5 sd, one country's share changed")
	feedback := fs.Bool("feedback", false, "with --serve, log predictions, feed their true labels back, shift the traffic's world after --shift-after, and give a new model's policy.yaml quality: and retrain: blocks")
	shiftAfter := fs.Duration("shift-after", defaultShiftAfter, "with --feedback, when the traffic's world shifts (the fraud moves); 0: never")
	labelDelay := fs.Duration("label-delay", defaultLabelDelay, "with --feedback, how long after each answer its true label is fed back")
	logLevel := fs.String("log-level", "info", "with --serve, the server's log level: debug, info, warn or error")
	dataDir := fs.String("data-dir", "", "tracking database and artifacts (default REGISTRY/.switchyard)")
	actor := fs.String("actor", firstOf(defaultCreator(), "switchyard demo"), "who publishes the demo, for the audit trail (default the OS user)")
	var ef engineFlags
	ef.register(fs)
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if *traffic < 0 || *traffic > maxDemoTraffic {
		return usageError(fs, "--traffic %d: want 0 to %d requests a second", *traffic, maxDemoTraffic)
	}
	if *drifted && (!*serve || *traffic == 0) {
		return usageError(fs, "--drift drifts the background traffic of --serve: it needs --serve and a --traffic above 0")
	}
	if *feedback && (!*serve || *traffic == 0) {
		return usageError(fs, "--feedback feeds back the labels of the background traffic of --serve: it needs --serve and a --traffic above 0")
	}
	if !*feedback && (isSet(fs, "shift-after") || isSet(fs, "label-delay")) {
		return usageError(fs, "--shift-after and --label-delay shape the traffic of --feedback: give --feedback too")
	}
	if *shiftAfter < 0 || *labelDelay < 0 {
		return usageError(fs, "--shift-after %s, --label-delay %s: want durations of 0 or more", *shiftAfter, *labelDelay)
	}
	if *serve {
		// The server's goroutines and the traffic's write too.
		stdout, stderr = &lockedWriter{w: stdout}, &lockedWriter{w: stderr}
	}
	first, err := demo.BuildFraud(*seed)
	if err != nil {
		return err
	}
	better, err := demo.BuildFraudNet(*seed)
	if err != nil {
		return err
	}
	_, all, err := modelstore.Versions(*registry, demoModel)
	if err != nil {
		return err
	}
	fresh := len(all) == 0
	d := &demoPublish{registry: *registry, model: demoModel, actor: *actor, args: args, ef: ef, stdout: stdout}
	if *feedback {
		if d.extraPolicy, err = demoRetrainPolicy(demoRetrainCommand(ef)); err != nil {
			return err
		}
	}
	if fresh || *force {
		if err := ef.init(); err != nil {
			return err
		}
		dd := dataDirOf(*dataDir, *registry)
		if d.st, err = openTracking(ctx, dd, true); err != nil {
			return err
		}
		defer d.st.Close()
		if d.arts, err = tracking.OpenArtifacts(filepath.Join(dd, "artifacts")); err != nil {
			return err
		}
		defer d.arts.Close()
	} else {
		fmt.Fprintf(stdout, "%s already has model %q (versions %v): publishing nothing; --force publishes the network once more, or remove %s for a fresh demo\n",
			*registry, demoModel, all, *registry)
		if *feedback {
			fmt.Fprintf(stdout, "its policy.yaml stays as it is: --feedback adds quality: and retrain: blocks to a fresh demo's only\n")
		}
		if *serve {
			fmt.Fprintf(stdout, "serving %s as it is: a rollout in progress resumes\n", *registry)
		}
	}
	if fresh {
		if err := d.first(ctx, first); err != nil {
			return err
		}
	}
	try := demoTry{addr: *addr, registry: *registry, record: first.Eval.Row(first.Sample)}
	if !*serve {
		if fresh || *force {
			if err := d.gateAndPublish(ctx, better); err != nil {
				return err
			}
		}
		try.offline(stdout)
		return nil
	}
	s := demoServer{publish: d, better: better, republish: fresh || *force, dataDir: *dataDir, logLevel: *logLevel,
		traffic: *traffic, drift: *drifted, eval: first.Eval, try: try, stdout: stdout, stderr: stderr}
	if *feedback {
		s.feedback = &demoShift{world: demo.GenerateShifted(*seed, first.Eval.Len()), after: *shiftAfter, labelDelay: *labelDelay}
	}
	return s.run(ctx, *addr)
}

// demoPublish publishes the demo's models with their lineage: runs in st,
// data in arts, versions of model in registry, and what it did on stdout.
type demoPublish struct {
	registry, model, actor string
	// extraPolicy is added to demoPolicy in a policy.yaml the demo
	// writes: demo --feedback's blocks.
	extraPolicy string
	args        []string
	ef          engineFlags
	stdout      io.Writer
	st          *tracking.Store
	arts        *tracking.Artifacts
}

// first starts the demo on a registry without the demo model: it gives
// the model its policy.yaml, unless it has one, publishes f and makes it
// the stable version in rollout.json.
func (d *demoPublish) first(ctx context.Context, f *demo.Fraud) error {
	if err := d.writePolicy(); err != nil {
		return err
	}
	v, err := d.publish(ctx, f)
	if err != nil {
		return err
	}
	return d.pin(ctx, v)
}

// gateAndPublish runs the gate on better against the stable version on
// disk, as switchyard eval does, prints the report and, if better passed,
// publishes it; it returns errFailed, having said so, if better failed.
func (d *demoPublish) gateAndPublish(ctx context.Context, better *demo.Fraud) error {
	verdict, err := d.gate(ctx, better)
	if err != nil {
		return err
	}
	if !verdict.Pass {
		fmt.Fprintf(d.stdout, "the %s failed its gate, so it is not published\n", better.Kind)
		return errFailed
	}
	v, err := d.publish(ctx, better)
	if err != nil {
		return err
	}
	return d.next(v)
}

// gate runs the gate on f against the stable version on disk, as
// switchyard eval does, on f's held-out rows, and prints the report.
func (d *demoPublish) gate(ctx context.Context, f *demo.Fraud) (*gate.Verdict, error) {
	var evalCSV bytes.Buffer
	if err := demo.WriteCSV(&evalCSV, f.Eval); err != nil {
		return nil, err
	}
	in := gateInput{engine: d.ef.cfg, eval: &evalCSV, evalName: modelstore.EvalFile, candidate: f.Model}
	if err := in.fromRegistry(d.registry, d.model, true); err != nil {
		return nil, err
	}
	in.label = firstOf(in.label, demo.LabelColumn)
	verdict, err := evaluateOffline(ctx, &in)
	if err != nil {
		return nil, fmt.Errorf("gate the %s: %w", f.Kind, err)
	}
	fmt.Fprintf(d.stdout, "\nthe gate, offline, on the %s before it is published:\n\n%s\n", f.Kind, verdict.Markdown())
	return verdict, nil
}

// next says what becomes of version v, just published: a server gates it
// and rolls it out, as the model's policy says, or the command that does.
func (d *demoPublish) next(v int) error {
	stable, err := stableOnDisk(d.registry, d.model)
	if err != nil || stable == v {
		return err
	}
	pol, err := readDemoPolicy(d.registry, d.model)
	if err != nil {
		return err
	}
	if s := pol.Rollout.OnPublish; s != nil && *s != rollout.Manual {
		fmt.Fprintf(d.stdout, "version %d serves; a server gates version %d and starts a %s rollout, as policy.yaml's on_publish says\n", stable, v, *s)
		return nil
	}
	fmt.Fprintf(d.stdout, "version %d serves; roll version %d out with:\nbin/switchyard promote %s %d --strategy canary --reason %s --registry %s\n",
		stable, v, d.model, v, shellQuote("passed its gate"), shellQuote(d.registry))
	return nil
}

// readDemoPolicy reads model's policy.yaml.
func readDemoPolicy(registry, model string) (*modelstore.Policy, error) {
	path := filepath.Join(registry, model, modelstore.PolicyFile)
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("demo policy: %w", err)
	}
	p, err := modelstore.ParsePolicy(data)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return p, nil
}

// writePolicy gives the demo model demoPolicy as its policy.yaml, unless
// it has a policy.yaml already, which it keeps as it is. The file appears
// whole (a temporary file renamed into place), for a server watching the
// registry.
func (d *demoPublish) writePolicy() error {
	dir := filepath.Join(d.registry, d.model)
	path := filepath.Join(dir, modelstore.PolicyFile)
	switch _, err := os.Stat(path); {
	case err == nil:
		fmt.Fprintf(d.stdout, "keeping %s as it is\n", path)
		if d.extraPolicy != "" {
			fmt.Fprintf(d.stdout, "(without the quality: and retrain: blocks of --feedback: add them by hand for the loop to close)\n")
		}
		return nil
	case !errors.Is(err, iofs.ErrNotExist):
		return fmt.Errorf("demo policy: %w", err)
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return fmt.Errorf("demo policy: %w", err)
	}
	tmp := filepath.Join(dir, ".policy.yaml.demo")
	if err := os.WriteFile(tmp, []byte(demoPolicy+d.extraPolicy), 0o644); err != nil {
		return fmt.Errorf("demo policy: %w", err)
	}
	if err := os.Rename(tmp, path); err != nil {
		os.Remove(tmp)
		return fmt.Errorf("demo policy: %w", err)
	}
	fmt.Fprintf(d.stdout, "wrote %s: a new version must pass its gate, then is rolled out as a canary\n", path)
	if d.extraPolicy != "" {
		fmt.Fprintf(d.stdout, "  and, for --feedback, each version's live accuracy is watched; an alarm retrains the model with bin/switchyard demo retrain\n")
	}
	return nil
}

// pin makes version the stable version in the demo model's rollout.json,
// so that it keeps serving until a later version is rolled out, and
// audits the change as a promote.
func (d *demoPublish) pin(ctx context.Context, version int) error {
	svc, err := ops.New(ops.Config{Registry: d.registry, Tracking: d.st})
	if err != nil {
		return err
	}
	reason := fmt.Sprintf("switchyard demo: version %d serves until a better one is rolled out", version)
	if _, err := svc.Pin(ctx, d.model, version, d.actor, reason); err != nil {
		return err
	}
	fmt.Fprintf(d.stdout, "%s: stable %d (rollout.json)\n", d.model, version)
	return nil
}

// publish logs the training of f as a run (its settings as params, its
// held-out metrics, its data as the run's artifacts and datasets, its
// reproducibility record as tags), publishes the model with its feature
// schema and its evaluation set linked to the run, audits the publish and
// says so.
func (d *demoPublish) publish(ctx context.Context, f *demo.Fraud) (version int, err error) {
	var trainCSV, evalCSV bytes.Buffer
	if err := demo.WriteCSV(&trainCSV, f.Train); err != nil {
		return 0, err
	}
	if err := demo.WriteCSV(&evalCSV, f.Eval); err != nil {
		return 0, err
	}
	name := fmt.Sprintf("demo-%s-seed-%d", d.model, f.Seed)
	if f.MLP != nil {
		name = fmt.Sprintf("demo-%s-mlp-seed-%d", d.model, f.Seed)
	}
	return d.publishRun(ctx, f, demoRun{name: name, reason: "switchyard demo", profileCSV: trainCSV.Bytes(),
		train: demoFile{"train.csv", tracking.RoleTrain, trainCSV.Bytes()}, eval: demoFile{"eval.csv", tracking.RoleEval, evalCSV.Bytes()}})
}

// demoRun is what a publish of the demo records beside the model.
type demoRun struct {
	// name is the run's name; reason the publish's in the audit trail.
	name, reason string
	// train and eval are the data the model was trained and evaluated
	// on, stored as the run's artifacts and recorded as its datasets;
	// eval becomes the version's eval.csv.
	train, eval demoFile
	// profileCSV is the training data the drift profile is made of, as
	// demo.WriteCSV writes it.
	profileCSV []byte
	// params and tags are recorded with the run beside the model's
	// settings and the reproducibility record; details go into the
	// publish's audit entry.
	params  map[string]string
	tags    []tracking.Tag
	details map[string]any
}

// publishRun publishes f as publish does, recording r.
func (d *demoPublish) publishRun(ctx context.Context, f *demo.Fraud, r demoRun) (version int, err error) {
	files := []demoFile{r.train, r.eval}
	uses := make([]tracking.DatasetUse, len(files))
	for i, file := range files {
		ds, err := tracking.DescribeCSV(bytes.NewReader(file.data))
		if err != nil {
			return 0, fmt.Errorf("the demo's %s: %w", file.name, err)
		}
		uses[i] = tracking.DatasetUse{Dataset: ds, Role: file.role}
	}
	// The profile is built first: a failure records nothing.
	profile, err := ops.ProfileOf(ctx, f.Model, nil, demoFeatures(), d.ef.cfg,
		ops.ProfileData{CSV: r.profileCSV, Label: demo.LabelColumn, Source: "the demo's training data"})
	if err != nil {
		return 0, fmt.Errorf("the demo's drift profile: %w", err)
	}
	repro := environment("demo", d.args)
	repro.CodeRevision = gitRevision(ctx)
	repro.Seed = strconv.FormatUint(f.Seed, 10)
	repro.TrainSHA256, repro.EvalSHA256 = uses[0].SHA256, uses[1].SHA256
	now := time.Now().UnixMilli()
	params := f.Params()
	maps.Copy(params, r.params)
	rec := newRun{name: r.name, user: d.actor, params: sortedParams(params), repro: repro,
		metrics: []tracking.Metric{{Key: "eval_accuracy", Value: f.Accuracy, Timestamp: now},
			{Key: "eval_log_loss", Value: f.LogLoss, Timestamp: now}, {Key: "eval_auc", Value: f.AUC, Timestamp: now}}}

	run, err := rec.start(ctx, d.st)
	runID := ""
	if run != nil {
		runID = run.Info.RunID
	}
	if err == nil && len(r.tags) > 0 {
		if err = d.st.LogBatch(ctx, runID, nil, nil, r.tags); err != nil {
			err = fmt.Errorf("tag run %s: %w", runID, err)
		}
	}
	if err == nil {
		err = d.logData(ctx, run, files, uses)
	}
	if err == nil {
		details := map[string]any{"run_id": runID, "sha256": hexSHA256(f.Model), "experiment_id": run.Info.ExperimentID,
			"train_sha256": uses[0].SHA256, "eval_sha256": uses[1].SHA256}
		maps.Copy(details, r.details)
		spec := ops.PublishSpec{Options: d.publishOptions(f, run, uses, r.eval.data, profile), EndRun: true,
			Actor: d.actor, Reason: r.reason, Details: details}
		version, err = publishVersion(ctx, d.st, d.registry, d.model, f.Model, spec)
	}
	if err != nil {
		if runID != "" {
			err = errors.Join(err, endRun(ctx, d.st, runID, tracking.StatusFailed))
		}
		return 0, err
	}
	fmt.Fprintf(d.stdout, "published %s version %d (%s; held out: AUC %.4f, log loss %.4f, accuracy %.4f), trained in run %s\n",
		d.model, version, f.Kind, f.AUC, f.LogLoss, f.Accuracy, runID)
	fmt.Fprintf(d.stdout, "its reproducibility record: bin/switchyard repro %s %d --registry %s\n", d.model, version, shellQuote(d.registry))
	return version, nil
}

// demoFile is a data file of the demo, stored as a run artifact.
type demoFile struct {
	name, role string
	data       []byte
}

// logData stores the demo's data files as the run's artifacts, where
// MLflow's clients can download them, and records them as the run's
// datasets (uses, one per file) at those places.
func (d *demoPublish) logData(ctx context.Context, run *tracking.Run, files []demoFile, uses []tracking.DatasetUse) error {
	dir, ok := strings.CutPrefix(run.Info.ArtifactURI, "mlflow-artifacts:/")
	if !ok {
		return fmt.Errorf("run %s keeps its artifacts at %s, outside switchyard's artifact store", run.Info.RunID, run.Info.ArtifactURI)
	}
	for i, file := range files {
		if _, err := d.arts.Put(dir+"/"+file.name, bytes.NewReader(file.data)); err != nil {
			return fmt.Errorf("store the demo's %s: %w", file.name, err)
		}
		uses[i].Path = run.Info.ArtifactURI + "/" + file.name
	}
	return useDatasets(ctx, d.st, run.Info.RunID, uses)
}

// publishOptions describes the demo model f as published: linked to run,
// with its feature schema, its evaluation set and its drift profile.
func (d *demoPublish) publishOptions(f *demo.Fraud, run *tracking.Run, uses []tracking.DatasetUse, evalCSV, profile []byte) modelstore.PublishOptions {
	seed := int64(f.Seed)
	return modelstore.PublishOptions{
		Description:   fmt.Sprintf("Demo: %s on synthetic card transactions; probabilities are [P(legit), P(fraud)].", f.Kind),
		CreatedBy:     "switchyard demo",
		Features:      demoFeatures(),
		Classes:       demo.Classes(),
		UnknownFields: modelstore.UnknownReject,
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
		Profile:   profile,
		Engine:    d.ef.cfg,
	}
}

// hexSHA256 returns the sha256 of b in hex.
func hexSHA256(b []byte) string {
	sum := sha256.Sum256(b)
	return hex.EncodeToString(sum[:])
}

// demoFeatures is the feature schema of the demo model's records API:
// its fields with their bounds and descriptions, each category as a
// one-hot block of the model's single input.
func demoFeatures() []modelstore.Feature {
	fs := demo.Features()
	out := make([]modelstore.Feature, len(fs))
	for i, f := range fs {
		out[i] = modelstore.Feature{Name: f.Name, Type: f.Type, Description: f.Description, Position: f.Column}
		switch f.Type {
		case demo.TypeNumber, demo.TypeInteger:
			out[i].Min, out[i].Max = &f.Min, &f.Max
		case demo.TypeCategory:
			out[i].Values, out[i].Encoding = f.Values, modelstore.EncodeOneHot
		}
	}
	return out
}
