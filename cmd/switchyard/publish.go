package main

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"os/user"
	"path/filepath"
	"slices"
	"strconv"
	"time"

	"github.com/switchyard-ml/switchyard/engine"
	"github.com/switchyard-ml/switchyard/gate"
	"github.com/switchyard-ml/switchyard/internal/regfile"
	"github.com/switchyard-ml/switchyard/modelstore"
	"github.com/switchyard-ml/switchyard/ops"
	"github.com/switchyard-ml/switchyard/tracking"
)

const publishSynopsis = `--registry DIR --model NAME --onnx FILE [--schema FILE] [--eval CSV --label COL] [--train-data CSV [--train-label COL]]
       [--run ID | [--experiment NAME] [--param k=v]... [--metric k=v]...] [--code-rev REV] [--seed N] [--note TEXT] [--card FILE]

Publishes FILE as the next version of NAME and prints its number. The version is
linked to a tracking run: the run --run names, or one created in --experiment
from --param, --metric, --train-data, --eval, --code-rev, --seed and the
environment. Its manifest records the run id and the datasets' sha256. The
publish is audited. --schema gives the version its records schema (features,
classes, unknown_fields; JSON or YAML), checked against the model first. The
version's drift profile (profile.json) is made from --train-data (its label
column --train-label, default --label), else from --eval. Bad input, a bad
schema or data that do not fit the model included, publishes nothing and records
nothing. --note and --card FILE (markdown: intended use, limitations; kept as
the version's card.md) go into the version's model card (switchyard card). Every file must be a regular file (not a FIFO or a device) within its
size limit: FILE --max-model-bytes (default 2GiB), the schema 4 MiB, the card
text 64 KiB (UTF-8), the evaluation set and the training data profiled 1 GiB.`

func runPublish(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlagSet("publish", publishSynopsis, stderr)
	registry := fs.String("registry", "registry", "registry directory")
	model := fs.String("model", "", "model name (required)")
	onnxPath := fs.String("onnx", "", "ONNX file to publish (required)")
	note := fs.String("note", "", "description for the model card, also the audit entry's reason")
	createdBy := fs.String("created-by", defaultCreator(), "who publishes the version, for the manifest")
	actor := fs.String("actor", defaultCreator(), "who publishes the version, for the audit trail (default the OS user)")
	dataDir := fs.String("data-dir", "", "tracking database and artifacts (default REGISTRY/.switchyard)")
	runID := fs.String("run", "", "link the version to this existing run instead of creating one")
	experiment := fs.String("experiment", "", "experiment of the run created, by name, created if missing (default: the default experiment, \"0\")")
	params := &kvFlag{}
	fs.Var(params, "param", "a parameter of the run created, `k=v` (repeatable)")
	metrics := &kvFlag{number: true}
	fs.Var(metrics, "metric", "a metric of the run created, `k=v` with v a number (repeatable)")
	trainData := fs.String("train-data", "", "training data, a `CSV` file with a header row: its sha256, rows and columns are recorded")
	trainLabel := fs.String("train-label", "", "the label column of --train-data, so that the version's drift profile is made from it (default --label)")
	evalPath := fs.String("eval", "", "labelled evaluation set, a `CSV` file with a header row, copied into the version as eval.csv")
	label := fs.String("label", "", "the label column of --eval")
	codeRev := fs.String("code-rev", "", "revision of the training code (default: git rev-parse HEAD in the current directory, if it is a repository)")
	seedFlag := fs.String("seed", "", "the seed training ran with, an integer")
	cardPath := fs.String("card", "", "the model card's text, a markdown `FILE` (intended use, limitations), kept as the version's card.md: UTF-8, at most 64 KiB")
	schemaPath := fs.String("schema", "", "the records schema, a JSON or YAML `FILE` of features, classes and unknown_fields")
	maxModel := byteSize(modelstore.DefaultMaxModelBytes)
	fs.Var(&maxModel, "max-model-bytes", "refuse an --onnx FILE larger than this `SIZE` (such as 4GiB)")
	var ef engineFlags
	ef.register(fs)
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	usageErr := func(format string, a ...any) error { return usageError(fs, format, a...) }
	switch {
	case *model == "" || *onnxPath == "":
		return usageErr("--model and --onnx are required")
	case !modelstore.ValidName(*model):
		return usageErr("--model %q is not a model name (1-64 of A-Z a-z 0-9 _ . -, starting with a letter or digit)", *model)
	case *evalPath != "" && *label == "":
		return usageErr("--eval needs --label, the name of its label column")
	case *label != "" && *evalPath == "":
		return usageErr("--label names the label column of --eval, which is missing")
	case *trainLabel != "" && *trainData == "":
		return usageErr("--train-label names the label column of --train-data, which is missing")
	case *runID != "" && (*experiment != "" || len(params.keys) > 0 || len(metrics.keys) > 0):
		return usageErr("--run links an existing run; --experiment, --param and --metric describe a new one")
	}
	var seed *int64
	if *seedFlag != "" {
		n, err := strconv.ParseInt(*seedFlag, 10, 64)
		if err != nil {
			return usageErr("--seed %q is not an integer", *seedFlag)
		}
		seed = &n
	}

	// Read and check every input before anything is written. Each file is
	// held to its size limit, and must be a regular file.
	data, err := modelstore.ReadModel(*onnxPath, int64(maxModel), "--max-model-bytes")
	if err != nil {
		return fmt.Errorf("--onnx: %w", err)
	}
	var schema *modelstore.Schema
	if *schemaPath != "" {
		raw, err := modelstore.ReadSchemaFile(*schemaPath)
		if err != nil {
			return fmt.Errorf("--schema: %w", err)
		}
		if schema, err = modelstore.ParseSchema(raw); err != nil {
			return fmt.Errorf("--schema %s: %w", *schemaPath, err)
		}
	}
	var cardText []byte
	if *cardPath != "" {
		if cardText, err = modelstore.ReadCardFile(*cardPath); err == nil {
			err = modelstore.CheckCard(cardText)
		}
		if err != nil {
			return fmt.Errorf("--card %s: %w", *cardPath, err)
		}
	}
	var uses []tracking.DatasetUse
	if *trainData != "" {
		d, err := describeFile(*trainData)
		if err != nil {
			return fmt.Errorf("--train-data: %w", err)
		}
		uses = append(uses, tracking.DatasetUse{Dataset: d, Role: tracking.RoleTrain})
	}
	var evalCSV []byte
	if *evalPath != "" {
		if evalCSV, err = readEvalSet(*evalPath); err != nil {
			return fmt.Errorf("--eval: %w", err)
		}
		d, err := tracking.DescribeCSV(bytes.NewReader(evalCSV))
		if err != nil {
			return fmt.Errorf("--eval %s: %w", *evalPath, err)
		}
		if !slices.Contains(d.Columns, *label) {
			return fmt.Errorf("--label %q is not a column of %s, whose header is %q", *label, *evalPath, d.Columns)
		}
		d.Path = absPath(*evalPath)
		uses = append(uses, tracking.DatasetUse{Dataset: d, Role: tracking.RoleEval})
	}
	repro := tracking.Repro{}
	if seed != nil {
		repro.Seed = strconv.FormatInt(*seed, 10)
	}
	switch {
	case isSet(fs, "code-rev"):
		repro.CodeRevision = *codeRev
	case *runID == "":
		repro.CodeRevision = gitRevision(ctx)
	}
	for _, u := range uses {
		if u.Role == tracking.RoleTrain {
			repro.TrainSHA256 = u.SHA256
		} else {
			repro.EvalSHA256 = u.SHA256
		}
	}
	rec := newRun{experiment: *experiment, user: *actor, params: params.params(), metrics: metrics.metrics(time.Now().UnixMilli()), repro: repro}
	if *runID == "" {
		env := environment("publish", args)
		env.CodeRevision, env.Seed, env.TrainSHA256, env.EvalSHA256 = repro.CodeRevision, repro.Seed, repro.TrainSHA256, repro.EvalSHA256
		rec.repro = env
	}
	if err := rec.check(); err != nil {
		return err
	}
	if err := ef.init(); err != nil {
		return err
	}
	if schema != nil {
		if err := checkSchema(data, schema, ef.cfg); err != nil {
			return fmt.Errorf("--schema %s: %w", *schemaPath, err)
		}
	}
	profile, err := publishProfile(ctx, data, schema, ef.cfg, profileSources{train: *trainData, trainLabel: firstOf(*trainLabel, *label),
		evalCSV: evalCSV, evalLabel: *label, evalPath: *evalPath}, stderr)
	if err != nil {
		return err
	}

	st, err := openTracking(ctx, dataDirOf(*dataDir, *registry), true)
	if err != nil {
		return err
	}
	defer st.Close()
	created := *runID == ""
	var run *tracking.Run
	if created {
		if run, err = rec.start(ctx, st); err != nil {
			if run != nil {
				err = errors.Join(err, endRun(ctx, st, run.Info.RunID, tracking.StatusFailed))
			}
			return err
		}
	} else {
		if run, err = st.Run(ctx, *runID); err != nil {
			return fmt.Errorf("--run %s: %w", *runID, err)
		}
		if run.Info.LifecycleStage != tracking.StageActive {
			return fmt.Errorf("--run %s: the run is deleted", *runID)
		}
		// Only what the command line says is added to a run logged
		// elsewhere: its datasets, and the code revision and seed if given.
		if tags := repro.Tags(); len(tags) > 0 {
			if err := st.LogBatch(ctx, *runID, nil, nil, tags); err != nil {
				return fmt.Errorf("--run %s: %w", *runID, err)
			}
		}
	}
	id := run.Info.RunID
	fail := func(err error) error {
		if created {
			err = errors.Join(err, endRun(ctx, st, id, tracking.StatusFailed))
		}
		return err
	}
	if err := useDatasets(ctx, st, id, uses); err != nil {
		return fail(err)
	}
	// The manifest names the run and its data; a run logged elsewhere
	// may have recorded the code revision and seed itself.
	rr := tracking.ReproOf(run.Tags)
	lin := &modelstore.Lineage{RunID: id, CodeRevision: firstOf(repro.CodeRevision, rr.CodeRevision), Seed: seed}
	if lin.Seed == nil {
		if n, err := strconv.ParseInt(rr.Seed, 10, 64); err == nil {
			lin.Seed = &n
		}
	}
	for _, u := range uses {
		if u.Role == tracking.RoleTrain {
			lin.DatasetPath, lin.DatasetSHA256 = u.Path, u.SHA256
		} else {
			lin.EvalDatasetPath, lin.EvalDatasetSHA256 = u.Path, u.SHA256
		}
	}
	opts := modelstore.PublishOptions{
		Description: *note,
		Card:        cardText,
		CreatedBy:   *createdBy,
		Lineage:     lin,
		EvalCSV:     evalCSV,
		EvalLabel:   *label,
		Profile:     profile,
		Engine:      ef.cfg,
	}
	if schema != nil {
		opts.Features, opts.Classes, opts.UnknownFields = schema.Features, schema.Classes, schema.UnknownFields
	}
	sum := sha256.Sum256(data)
	details := map[string]any{"run_id": id, "sha256": hex.EncodeToString(sum[:]), "experiment_id": run.Info.ExperimentID}
	for _, u := range uses {
		details[u.Role+"_sha256"] = u.SHA256
	}
	v, err := publishVersion(ctx, st, *registry, *model, data, ops.PublishSpec{Options: opts, EndRun: created,
		Actor: *actor, Reason: *note, Details: details})
	if err != nil {
		return fail(err)
	}
	fmt.Fprintln(stdout, v)
	return nil
}

// checkSchema checks s against the signature of model, so that a schema
// that does not fit is refused before anything is written.
func checkSchema(model []byte, s *modelstore.Schema, cfg engine.Config) error {
	sess, err := engine.New(model, cfg)
	if err != nil {
		return err
	}
	defer sess.Close()
	_, err = s.Check(sess.Signature())
	return err
}

// readEvalSet reads the evaluation set at path whole, as the gate would
// read it: a regular file of at most gate.DefaultMaxBytes.
func readEvalSet(path string) ([]byte, error) {
	f, err := gate.OpenEvalSet(path, 0)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	return io.ReadAll(f)
}

// describeFile returns the data version of the CSV file at path, read
// once from disk as it streams: a regular file of any size, since a
// training set may be far larger than memory (a FIFO or a device such as
// /dev/zero is refused).
func describeFile(path string) (tracking.Dataset, error) {
	f, err := regfile.Open(path, regfile.Limit{})
	if err != nil {
		return tracking.Dataset{}, err
	}
	defer f.Close()
	d, err := tracking.DescribeCSV(f)
	if err != nil {
		return tracking.Dataset{}, fmt.Errorf("%s: %w", path, err)
	}
	d.Path = absPath(path)
	return d, nil
}

// absPath returns path made absolute, or as it is when that fails.
func absPath(path string) string {
	if abs, err := filepath.Abs(path); err == nil {
		return abs
	}
	return path
}

func firstOf(s ...string) string {
	for _, v := range s {
		if v != "" {
			return v
		}
	}
	return ""
}

func defaultCreator() string {
	if u, err := user.Current(); err == nil {
		return u.Username
	}
	return ""
}
