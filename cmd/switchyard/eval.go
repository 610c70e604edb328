package main

import (
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"

	"github.com/switchyard-ml/switchyard/engine"
	"github.com/switchyard-ml/switchyard/gate"
	"github.com/switchyard-ml/switchyard/internal/errtext"
	"github.com/switchyard-ml/switchyard/modelstore"
	"github.com/switchyard-ml/switchyard/rollout"
)

const evalSynopsis = `--onnx FILE --eval CSV --label COL [--policy policy.yaml]
       [--baseline FILE | --registry DIR --model NAME] [--json FILE]

Runs the evaluation gate offline, as the server runs it on a newly published
version, for the CI of a model repository. The candidate FILE runs on the
evaluation set CSV in onnxruntime, and so does the baseline, if any: --baseline
FILE, or the stable version of NAME in the registry DIR (rollout.json's stable,
else the newest version). The gate applies its sanity checks and the
thresholds of the gate block of --policy (default with --registry: the model's
own policy.yaml; else only the sanity checks). The report, a markdown table of
the candidate against the baseline with the reasons, goes to stdout; --json
writes the verdict as JSON too.

Exit status: 0 pass, 1 fail, 2 usage or input error (a missing file, a
malformed evaluation set, a model the gate cannot evaluate) or any other
problem that kept the gate from judging, so that 1 always means a verdict.`

func runEval(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlagSet("eval", evalSynopsis, stderr)
	onnxPath := fs.String("onnx", "", "the candidate model, an ONNX `FILE` (required)")
	evalPath := fs.String("eval", "", "the evaluation set, a `CSV` file with a header row (required)")
	label := fs.String("label", "", "the label `COLUMN` of --eval (default the policy's gate.label, else the registry version's eval_label)")
	policyPath := fs.String("policy", "", "a policy.yaml `FILE` whose gate block holds the thresholds (default with --registry: the model's policy.yaml)")
	baselinePath := fs.String("baseline", "", "an ONNX `FILE` to compare the candidate with")
	registry := fs.String("registry", "", "compare the candidate with the stable version of --model in this registry `DIR`")
	model := fs.String("model", "", "the model `NAME` in --registry")
	jsonPath := fs.String("json", "", "also write the verdict as JSON to `FILE`")
	maxModel := byteSize(modelstore.DefaultMaxModelBytes)
	fs.Var(&maxModel, "max-model-bytes", "refuse a model larger than this `SIZE` (such as 4GiB)")
	var ef engineFlags
	ef.register(fs)
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	switch {
	case *onnxPath == "" || *evalPath == "":
		return usageError(fs, "--onnx and --eval are required")
	case *baselinePath != "" && (*registry != "" || *model != ""):
		return usageError(fs, "give the baseline as --baseline FILE or as --registry DIR --model NAME, not both")
	case (*registry == "") != (*model == ""):
		return usageError(fs, "--registry and --model go together")
	}

	in := gateInput{engine: ef.cfg, evalName: *evalPath, maxModel: int64(maxModel)}
	var err error
	if in.candidate, err = in.readModel(*onnxPath); err != nil {
		return inputProblem(stderr, fmt.Errorf("--onnx: %w", err))
	}
	if *baselinePath != "" {
		if in.baseline, err = in.readModel(*baselinePath); err != nil {
			return inputProblem(stderr, fmt.Errorf("--baseline: %w", err))
		}
		in.baselineName = filepath.Base(*baselinePath)
	}
	if *registry != "" {
		if err := in.fromRegistry(*registry, *model, *policyPath == ""); err != nil {
			return inputProblem(stderr, err)
		}
	}
	if *policyPath != "" {
		p, err := modelstore.ReadPolicy(*policyPath)
		if err != nil {
			return inputProblem(stderr, fmt.Errorf("--policy: %w", err))
		}
		in.policy = p.Gate
	}
	in.policy.Label = cmp.Or(*label, in.policy.Label)
	if in.policy.Label == "" && in.label == "" {
		return usageError(fs, "--label is required: neither a policy nor a registry version names the label column")
	}
	f, err := gate.OpenEvalSet(*evalPath, 0)
	if err != nil {
		return inputProblem(stderr, fmt.Errorf("--eval: %w", err))
	}
	defer f.Close()
	in.eval = f

	if err := ef.init(); err != nil {
		return inputProblem(stderr, err)
	}
	v, err := evaluateOffline(ctx, &in)
	if err != nil {
		return inputProblem(stderr, err)
	}
	fmt.Fprint(stdout, v.Markdown())
	if *jsonPath != "" {
		data, err := json.MarshalIndent(v, "", "  ")
		if err != nil {
			return inputProblem(stderr, fmt.Errorf("encode the verdict: %w", err))
		}
		if err := os.WriteFile(*jsonPath, append(data, '\n'), 0o644); err != nil {
			return inputProblem(stderr, fmt.Errorf("--json: %w", err))
		}
	}
	if !v.Pass {
		return errFailed
	}
	return nil
}

// inputProblem prints what kept eval from judging (a problem with its
// input, or any other) and returns errUsage, wrapping err, so that the
// exit status is 2 and 1 is left to a failing verdict.
func inputProblem(stderr io.Writer, err error) error {
	fmt.Fprintf(stderr, "switchyard eval: %s\n", errtext.Text(err))
	return fmt.Errorf("%w: %w", errUsage, err)
}

// gateInput is one offline run of the gate, as switchyard eval and
// switchyard demo make it.
type gateInput struct {
	// policy is the gate policy; its Label names the label column, if
	// any.
	policy gate.Policy
	// label names the label column when policy.Label is empty: the
	// baseline version's eval_label.
	label string
	// columns is the feature schema of the baseline version, which maps
	// the evaluation set's columns by name; nil maps them by position.
	columns []gate.Column
	// eval is the evaluation set, named evalName in errors.
	eval     io.Reader
	evalName string
	// candidate is the candidate model.
	candidate []byte
	// baseline is the model to compare with, named baselineName; nil
	// when there is none.
	baseline     []byte
	baselineName string
	// engine configures the onnxruntime sessions.
	engine engine.Config
	// maxModel is the size limit of a model file (--max-model-bytes).
	maxModel int64
}

// readModel reads the model file at path, held to in.maxModel.
func (in *gateInput) readModel(path string) ([]byte, error) {
	return modelstore.ReadModel(path, in.maxModel, "--max-model-bytes")
}

// fromRegistry takes the baseline from the registry at dir: the stable
// version of model on disk (rollout.json's stable, else the newest
// complete version), its feature schema and eval_label, and, when policy
// is true, the gate block of the model's policy.yaml if it has one. A
// model with no complete version leaves the run without a baseline; a
// model that is not in the registry is an error.
func (in *gateInput) fromRegistry(dir, model string, policy bool) error {
	modelDir := filepath.Join(dir, model)
	if !modelstore.ValidName(model) {
		return fmt.Errorf("--model %q is not a model name", model)
	}
	if _, err := os.Stat(modelDir); err != nil {
		return fmt.Errorf("model %q is not in the registry %s: %w", model, dir, err)
	}
	switch p, err := modelstore.ReadPolicy(filepath.Join(modelDir, modelstore.PolicyFile)); {
	case !policy, errors.Is(err, fs.ErrNotExist):
	case err != nil:
		return fmt.Errorf("%s: %w", model, err)
	default:
		in.policy = p.Gate
	}
	stable, err := stableOnDisk(dir, model)
	if err != nil || stable == 0 {
		return err
	}
	vdir := modelstore.VersionDir(dir, model, stable)
	mf, err := modelstore.ReadManifest(vdir)
	if err != nil {
		return fmt.Errorf("%s version %d: %w", model, stable, err)
	}
	if in.baseline, err = in.readModel(filepath.Join(vdir, modelstore.ModelFile)); err != nil {
		return fmt.Errorf("%s version %d: %w", model, stable, err)
	}
	in.baselineName = "version " + strconv.Itoa(stable)
	in.label = mf.EvalLabel
	in.columns = mf.GateColumns()
	return nil
}

// stableOnDisk returns the version of model in the registry at dir that
// serves when the registry is served: rollout.json's stable, else the
// newest complete version; 0 when the model has no complete version.
func stableOnDisk(dir, model string) (int, error) {
	st, err := rollout.ReadState(filepath.Join(dir, model))
	if err != nil {
		return 0, fmt.Errorf("%s: %w", model, err)
	}
	if st != nil {
		return st.Stable, nil
	}
	complete, _, err := modelstore.Versions(dir, model)
	if err != nil || len(complete) == 0 {
		return 0, err
	}
	return complete[len(complete)-1], nil
}

// evaluateOffline runs the gate on in outside any server, as switchyard
// eval does: it loads the candidate, named "candidate", and the baseline
// into onnxruntime, reads the evaluation set as the candidate's layout
// needs it, and judges the candidate with gate.Run. It fails, naming the
// model or the evaluation set, when onnxruntime cannot load a model, the
// gate cannot evaluate it, or the evaluation set is malformed (the error
// names its line and column). onnxruntime must be initialised.
func evaluateOffline(ctx context.Context, in *gateInput) (*gate.Verdict, error) {
	candidate, closeCandidate, err := openSubject("candidate", in.candidate, in.engine)
	if err != nil {
		return nil, err
	}
	defer closeCandidate()
	var baseline *gate.Subject
	if in.baseline != nil {
		b, closeBaseline, err := openSubject(in.baselineName, in.baseline, in.engine)
		if err != nil {
			return nil, err
		}
		defer closeBaseline()
		baseline = &b
	}
	set, err := gate.ReadEvalSet(in.eval, in.policy.EvalConfig(in.label, candidate.Classes, candidate.Width, in.columns))
	if err != nil {
		return nil, fmt.Errorf("%s: %w", in.evalName, err)
	}
	v, err := gate.Run(ctx, in.policy, set, candidate, baseline)
	if err != nil {
		return nil, fmt.Errorf("evaluate: %w", err)
	}
	return v, nil
}

// openSubject loads model into onnxruntime and returns it as the gate's
// subject name, with the function that closes its session.
func openSubject(name string, model []byte, cfg engine.Config) (gate.Subject, func(), error) {
	s, err := engine.New(model, cfg)
	if err != nil {
		return gate.Subject{}, nil, fmt.Errorf("%s: %w", name, err)
	}
	l, err := gate.LayoutOf(s.Signature())
	if err != nil {
		s.Close()
		return gate.Subject{}, nil, fmt.Errorf("%s: %w", name, err)
	}
	return gate.Subject{Name: name, Classes: l.Classes, Width: l.Width, Predictor: gate.SessionPredictor(s, l)}, func() { s.Close() }, nil
}
