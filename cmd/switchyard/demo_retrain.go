package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/switchyard-ml/switchyard/internal/demo"
	"github.com/switchyard-ml/switchyard/modelstore"
	"github.com/switchyard-ml/switchyard/ops"
	"github.com/switchyard-ml/switchyard/tracking"
)

// The environment a retrain: command runs in (policy.yaml's retrain
// block), which demo retrain's flags default to.
const (
	envExport       = "SWITCHYARD_EXPORT"
	envExportSHA256 = "SWITCHYARD_EXPORT_SHA256"
	envRegistry     = "SWITCHYARD_REGISTRY"
	envModel        = "SWITCHYARD_MODEL"
	envVersion      = "SWITCHYARD_VERSION"
	envDataDir      = "SWITCHYARD_DATA_DIR"
	envReason       = "SWITCHYARD_REASON"
)

// maxDemoExport bounds the export demo retrain reads, which it holds in
// memory and stores as the run's training data: about two million
// labelled predictions of the demo's model.
const maxDemoExport = 256 << 20

// The tags a retraining's run carries, beside its params.
const (
	tagRetrainReason  = "switchyard.retrain.reason"
	tagRetrainVersion = "switchyard.retrain.alarmed_version"
	tagRetrainExport  = "switchyard.retrain.export_sha256"
)

const demoRetrainSynopsis = `[--export FILE] [--registry DIR] [--model NAME] [--version N] [--reason TEXT] [--seed N] [--data-dir DIR]

Retrains the demo's fraud network on the world as it is now and publishes it,
as the retrain: block of the demo's policy.yaml runs it when an alarm fires
(its flags default to the variables switchyard sets for the command:
SWITCHYARD_EXPORT, SWITCHYARD_EXPORT_SHA256, SWITCHYARD_REGISTRY,
SWITCHYARD_DATA_DIR, SWITCHYARD_MODEL, SWITCHYARD_VERSION, SWITCHYARD_REASON).

It reads the labelled rows of the export (switchyard export --labelled --format
csv: the model's fields by name, the label as fraud/legit or 1/0, other columns
ignored) and holds out every fifth for evaluation. It trains the network as
switchyard demo trains version 2, on the original training set (regenerated
from the seed the alarmed version was trained with) plus the rest of the
exported rows, which weigh twice as much: where the two disagree, the world
has moved. The held-out exported rows are the eval set: the original eval set
describes a world that is gone, and would judge the new version by it. The
gate of the model's policy.yaml judges the new version against the stable one
on those rows; if it passes, it is published with its lineage (a tracking run
with the reason and the alarmed version as params, the export, by its sha256,
as its training data), and a serving switchyard gates it again and rolls it out
as the policy says. Exit status: 0 published, 1 the gate failed (nothing
published) or an error, 2 a usage error.`

// demoRetrain is one run of switchyard demo retrain.
type demoRetrain struct {
	export, exportSHA256 string
	version              int
	reason               string
	seed                 uint64
	seedSet              bool
}

func runDemoRetrain(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlagSet("demo retrain", demoRetrainSynopsis, stderr)
	export := fs.String("export", os.Getenv(envExport), "the export of labelled predictions to retrain on (default $"+envExport+")")
	exportSHA := fs.String("export-sha256", os.Getenv(envExportSHA256), "the export's sha256, checked (default $"+envExportSHA256+"; computed when empty)")
	registry := fs.String("registry", firstOf(os.Getenv(envRegistry), "registry"), "registry directory (default $"+envRegistry+", else registry)")
	model := fs.String("model", firstOf(os.Getenv(envModel), demoModel), "the model to retrain (default $"+envModel+", else "+demoModel+")")
	version := fs.String("version", os.Getenv(envVersion), "the version whose alarm asked for the retraining (default $"+envVersion+", else the stable version)")
	reason := fs.String("reason", firstOf(os.Getenv(envReason), "switchyard demo retrain"), "why the model is retrained, for the run and the audit trail (default $"+envReason+")")
	seed := fs.Uint64("seed", 1, "seed of the original training data and of the network (default the alarmed version's, else 1)")
	dataDir := fs.String("data-dir", os.Getenv(envDataDir), "tracking database and artifacts (default $"+envDataDir+", else REGISTRY/.switchyard)")
	actor := fs.String("actor", firstOf(defaultCreator(), "switchyard demo retrain"), "who publishes, for the audit trail (default the OS user)")
	var ef engineFlags
	ef.register(fs)
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if *export == "" {
		return usageError(fs, "no export to retrain on: give --export FILE, or run it as a retrain: command, which sets $%s", envExport)
	}
	r := demoRetrain{export: *export, exportSHA256: strings.ToLower(*exportSHA), reason: *reason, seed: *seed, seedSet: isSet(fs, "seed")}
	if *version != "" {
		v, err := strconv.Atoi(*version)
		if err != nil || v < 1 {
			return usageError(fs, "--version %q: want a version number", *version)
		}
		r.version = v
	}
	d := &demoPublish{registry: *registry, model: *model, actor: *actor, args: append([]string{"retrain"}, args...), ef: ef, stdout: stdout}
	return r.run(ctx, d, *dataDir)
}

// run retrains and publishes through d, whose store it opens in dataDir.
func (r *demoRetrain) run(ctx context.Context, d *demoPublish, dataDir string) error {
	switch fi, err := os.Stat(r.export); {
	case err != nil:
		return fmt.Errorf("the export: %w", err)
	case fi.Size() > maxDemoExport:
		return fmt.Errorf("the export %s has %d bytes, more than the %d demo retrain reads: export a shorter window (switchyard export --since)", r.export, fi.Size(), maxDemoExport)
	}
	data, err := os.ReadFile(r.export)
	if err != nil {
		return fmt.Errorf("the export: %w", err)
	}
	sum := hexSHA256(data)
	if r.exportSHA256 != "" && r.exportSHA256 != sum {
		return fmt.Errorf("the export %s has sha256 %s, not the %s it was given (--export-sha256, $%s): it changed since it was written", r.export, sum, r.exportSHA256, envExportSHA256)
	}
	rows, err := demo.ReadCSV(bytes.NewReader(data))
	if err != nil {
		return fmt.Errorf("the export %s: %w", r.export, err)
	}
	if rows.Data.Len() == 0 {
		return fmt.Errorf("the export %s has no labelled rows to retrain on (%d unlabelled, %d without inputs): feed labels back first (POST /v1/feedback)",
			r.export, rows.Unlabelled, rows.NoInputs)
	}
	if err := r.alarmed(d); err != nil {
		return err
	}
	train, eval := demo.HoldOut(rows.Data)
	fmt.Fprintf(d.stdout, "%s: %d labelled rows (%d unlabelled and %d without inputs left out), sha256 %s; %d to train on, %d held out to evaluate on\n",
		r.export, rows.Data.Len(), rows.Unlabelled, rows.NoInputs, sum, train.Len(), eval.Len())
	f, err := demo.BuildRetrained(r.seed, train, eval)
	if errors.Is(err, demo.ErrEmpty) || errors.Is(err, demo.ErrOneClass) {
		return fmt.Errorf("the export %s has too few labelled rows to retrain on and judge: %w", r.export, err)
	}
	if err != nil {
		return err
	}
	p := f.Params()
	fmt.Fprintf(d.stdout, "retrained the network (seed %d) on the original %s rows and the %s exported ones, each repeated %s times\n",
		r.seed, p["train_rows"], p["recent_rows"], p["recent_repeat"])

	if err := d.ef.init(); err != nil {
		return err
	}
	dd := dataDirOf(dataDir, d.registry)
	if d.st, err = openTracking(ctx, dd, true); err != nil {
		return err
	}
	defer d.st.Close()
	if d.arts, err = tracking.OpenArtifacts(filepath.Join(dd, "artifacts")); err != nil {
		return err
	}
	defer d.arts.Close()

	verdict, err := d.gate(ctx, f)
	if err != nil {
		return err
	}
	if !verdict.Pass {
		fmt.Fprintf(d.stdout, "the retrained network failed its gate, so it is not published\n")
		return errFailed
	}
	var evalCSV, profileCSV bytes.Buffer
	if err := demo.WriteCSV(&evalCSV, f.Eval); err != nil {
		return err
	}
	if err := demo.WriteCSV(&profileCSV, f.Train); err != nil {
		return err
	}
	alarmed := strconv.Itoa(r.version)
	run := demoRun{
		name:       fmt.Sprintf("demo-%s-retrain-v%d-seed-%d", d.model, r.version, r.seed),
		reason:     "switchyard demo retrain: " + r.reason,
		train:      demoFile{"export.csv", tracking.RoleTrain, data},
		eval:       demoFile{"eval.csv", tracking.RoleEval, evalCSV.Bytes()},
		profileCSV: profileCSV.Bytes(),
		params:     map[string]string{"retrain_reason": r.reason, "alarmed_version": alarmed, "export_sha256": sum},
		tags: []tracking.Tag{{Key: tagRetrainReason, Value: r.reason}, {Key: tagRetrainVersion, Value: alarmed},
			{Key: tagRetrainExport, Value: sum}},
		details: map[string]any{"retrain_reason": r.reason, "alarmed_version": r.version, "export_sha256": sum},
	}
	v, err := d.publishRun(ctx, f, run)
	if err != nil {
		return err
	}
	// The verdict stands for the version until a server judges it again.
	if err := ops.NewTrail(d.st).RecordVerdict(ctx, d.model, v, verdict); err != nil {
		return fmt.Errorf("record the gate's verdict on %s version %d: %w", d.model, v, err)
	}
	fmt.Fprintf(d.stdout, "retrained because: %s (version %d alarmed)\n", r.reason, r.version)
	return d.next(v)
}

// alarmed checks that the model is in the registry with a complete
// version, takes the stable version as the alarmed one when none was
// named, and, unless a seed was given, the alarmed version's seed.
func (r *demoRetrain) alarmed(d *demoPublish) error {
	stable, err := stableOnDisk(d.registry, d.model)
	if err != nil {
		return err
	}
	if stable == 0 {
		return fmt.Errorf("%s has no version of %s to retrain: run switchyard demo first", d.registry, d.model)
	}
	if r.version == 0 {
		r.version = stable
	}
	mf, err := modelstore.ReadManifest(modelstore.VersionDir(d.registry, d.model, r.version))
	if err != nil {
		return fmt.Errorf("the alarmed version: %s version %d: %w", d.model, r.version, err)
	}
	if !r.seedSet && mf.Lineage != nil && mf.Lineage.Seed != nil && *mf.Lineage.Seed >= 0 {
		r.seed = uint64(*mf.Lineage.Seed)
	}
	return nil
}
