package mlflow

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/url"
	"path"
	"slices"
	"strings"

	"github.com/switchyard-ml/switchyard/gate"
	"github.com/switchyard-ml/switchyard/modelstore"
	"github.com/switchyard-ml/switchyard/tracking"
)

// The model version tags in which switchyard says what it made of an
// MLflow model directory: why the version has no records schema, and
// where its evaluation set came from or why it has none.
const (
	tagSchemaNote = "switchyard.schema"
	tagEvalNote   = "switchyard.eval"
	// dataContextTag is the dataset input tag of mlflow.log_input's
	// context; an input of context evalContext is an evaluation set.
	dataContextTag = "mlflow.data.context"
	evalContext    = "eval"
)

// evalSet is a version's evaluation set, as publish --eval takes it.
type evalSet struct {
	// CSV and Label are the set and its label column; CSV is nil when
	// there is none.
	CSV   []byte
	Label string
	// From says where it came from; Note says why there is none.
	From, Note string
	// SHA256 is the digest of CSV.
	SHA256 string
}

// evalSetOf finds the evaluation set of a version registered from the
// MLflow model directory src, in order: the directory's eval.csv, else
// the dataset input of run runID logged with context "eval", whose
// source's uri names a file of the run's artifacts (a relative path: at
// that path under the run's artifact root, else by its base name at the
// root) or under an allowed source root (an absolute path or file://
// URI). The CSV is checked as publish --eval checks it; its label column
// is the one column that is not a feature of the schema, or, with no
// schema, the column named label or target. When no set can be used
// the result has a Note saying why; an error is for a set that was
// found but cannot be read or is not a valid CSV.
func (s *Server) evalSetOf(ctx context.Context, src *modelSource, runID string, features []modelstore.Feature) (evalSet, error) {
	if src.EvalCSV != nil {
		return checkEvalSet(src.EvalCSV, "the model directory's eval.csv", features)
	}
	if runID == "" {
		return evalSet{Note: "no evaluation set: the model directory has no eval.csv and no run is known"}, nil
	}
	run, err := s.tracking.Run(ctx, runID)
	if errors.Is(err, tracking.ErrNotFound) { // the MLmodel's run, from another server
		return evalSet{Note: "no evaluation set: the model directory has no eval.csv and run " + runID + " is not tracked by this server"}, nil
	}
	if err != nil {
		return evalSet{}, err
	}
	var input *tracking.DatasetInput
	for i := range run.Inputs {
		if slices.Contains(run.Inputs[i].Tags, tracking.Tag{Key: dataContextTag, Value: evalContext}) {
			input = &run.Inputs[i] // the last one logged wins
		}
	}
	if input == nil {
		return evalSet{Note: "no evaluation set: the model directory has no eval.csv and run " + runID + " logged no dataset input of context eval"}, nil
	}
	var source struct {
		URI string `json:"uri"`
	}
	if err := json.Unmarshal([]byte(input.Source), &source); err != nil || source.URI == "" {
		return evalSet{Note: fmt.Sprintf("no evaluation set: the eval dataset %q has no source uri", input.Name)}, nil
	}
	b, note, err := s.readEvalURI(ctx, run, source.URI)
	if err != nil || note != "" {
		return evalSet{Note: note}, err
	}
	return checkEvalSet(b, fmt.Sprintf("the eval dataset '%s' (%s)", input.Name, source.URI), features)
}

// readEvalURI reads the evaluation set that a dataset source's uri names
// for run; note says why it cannot be read at all.
func (s *Server) readEvalURI(ctx context.Context, run *tracking.Run, uri string) ([]byte, string, error) {
	invalid := func(why string) error {
		return &requestError{fmt.Sprintf("Invalid evaluation dataset '%s' of run %s: %s", uri, run.Info.RunID, why)}
	}
	if p, local, err := localPath(uri); local && (err == nil || strings.HasPrefix(uri, "file:")) {
		if err != nil {
			return nil, "", invalid(err.Error())
		}
		var b []byte
		err := s.readLocal(p, func(fsys sourceFS, rel string) (err error) {
			b, err = readFile(fsys.open, rel, gate.DefaultMaxBytes)
			return err
		})
		if se, ok := errors.AsType[*sourceError](err); ok {
			return nil, "", invalid(se.why)
		}
		if err != nil {
			s.log.Debug("evaluation dataset refused", "uri", uri, "reason", err)
			return nil, "", invalid(refusedLocal)
		}
		return b, "", nil
	}
	u, err := url.Parse(uri)
	if err != nil || u.Scheme != "" || u.Host != "" {
		return nil, fmt.Sprintf("no evaluation set: switchyard reads eval datasets from the run's artifacts and the allowed source roots, not from '%s'", uri), nil
	}
	base, ok := strings.CutPrefix(run.Info.ArtifactURI, "mlflow-artifacts:/")
	if !ok || s.artifactStore == nil {
		return nil, fmt.Sprintf("no evaluation set: the eval dataset '%s' is relative to run %s's artifacts, which this server does not keep", uri, run.Info.RunID), nil
	}
	base = strings.Trim(base, "/")
	for _, p := range []string{path.Join(base, u.Path), path.Join(base, path.Base(u.Path))} {
		if !strings.HasPrefix(p, base+"/") {
			continue // outside the run's artifacts
		}
		b, err := readFile(s.artifactStore.Open, p, gate.DefaultMaxBytes)
		switch se, ok := errors.AsType[*sourceError](err); {
		case errors.Is(err, tracking.ErrNotFound):
			continue
		case ok:
			return nil, "", invalid(se.why)
		case errors.Is(err, errNotRegular):
			return nil, "", invalid("the artifact is not a regular file")
		case err != nil:
			return nil, "", err
		}
		return b, "", nil
	}
	return nil, "", invalid("run " + run.Info.RunID + " has no such artifact, at that path or by that name at its root")
}

// checkEvalSet checks b as publish --eval checks an evaluation set (a
// CSV with a header row and data rows, tracking.DescribeCSV) and finds
// its label column.
func checkEvalSet(b []byte, from string, features []modelstore.Feature) (evalSet, error) {
	if int64(len(b)) > gate.DefaultMaxBytes {
		return evalSet{}, &requestError{fmt.Sprintf("Invalid evaluation set: %s holds more than %d bytes", from, gate.DefaultMaxBytes)}
	}
	d, err := tracking.DescribeCSV(bytes.NewReader(b))
	if err != nil {
		return evalSet{}, &requestError{fmt.Sprintf("Invalid evaluation set: %s: %v", from, err)}
	}
	var candidates []string
	if features != nil {
		for _, c := range d.Columns {
			if !slices.ContainsFunc(features, func(f modelstore.Feature) bool { return f.Name == c }) {
				candidates = append(candidates, c)
			}
		}
	} else {
		for _, c := range d.Columns {
			if c == "label" || c == "target" {
				candidates = append(candidates, c)
			}
		}
	}
	if len(candidates) != 1 {
		why := fmt.Sprintf("of its columns %q, none is named label or target", d.Columns)
		switch {
		case features != nil && len(candidates) == 0:
			why = "every column is a feature of the signature: none is left for the label"
		case len(candidates) > 1:
			why = fmt.Sprintf("the label could be any of %q", candidates)
		}
		return evalSet{Note: fmt.Sprintf("no evaluation set: %s has no one label column: %s", from, why)}, nil
	}
	return evalSet{CSV: b, Label: candidates[0], From: from, SHA256: d.SHA256}, nil
}
