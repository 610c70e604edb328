package ops

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"maps"
	"os"
	"path/filepath"

	"github.com/switchyard-ml/switchyard/engine"
	"github.com/switchyard-ml/switchyard/gate"
	"github.com/switchyard-ml/switchyard/modelstore"
	"github.com/switchyard-ml/switchyard/quality"
)

// errNotBinary says that a model is not a binary classifier the gate can
// run, so that it has no calibration.
var errNotBinary = errors.New("not a binary classifier the gate can run")

// Calibrate fits the isotonic calibration (quality.Fit) of the
// positive-class scores of the binary classifier sess runs, whose records
// schema is features (nil: the columns of its single input by position),
// on the labelled rows of csv (an evaluation set, label its label column,
// read as the gate reads it), and returns it as calibration.json's
// content. The model is run on every row as the gate runs it
// (gate.LayoutOf, gate.SessionPredictor). It fails with an error saying
// why if the model is not a binary classifier the gate can run, or the
// rows do not fit it. Safe for concurrent use if sess is.
func Calibrate(ctx context.Context, sess *engine.Session, features []modelstore.Feature, csv []byte, label string) ([]byte, error) {
	l, err := gate.LayoutOf(sess.Signature())
	if err != nil {
		return nil, fmt.Errorf("calibration: %w: %w", errNotBinary, err)
	}
	if l.Classes != 2 {
		return nil, fmt.Errorf("calibration: %d classes: %w", l.Classes, errNotBinary)
	}
	m := &modelstore.Manifest{Features: features}
	cols := m.GateColumns()
	if len(features) > 0 && cols == nil {
		return nil, fmt.Errorf("calibration: the schema's features feed more than one input; the gate reads one")
	}
	set, err := gate.ReadEvalSet(bytes.NewReader(csv), gate.EvalConfig{Label: label, Columns: cols, Width: l.Width, Classes: 2})
	if err != nil {
		return nil, fmt.Errorf("calibration: %w", err)
	}
	out := make([]float64, 2*set.Rows)
	if err := gate.SessionPredictor(sess, l).Predict(ctx, set.Features, set.Rows, out); err != nil {
		return nil, fmt.Errorf("calibration: score the rows: %w", err)
	}
	scores, labels := make([]float64, set.Rows), make([]int, set.Rows)
	for i := range set.Rows {
		scores[i], labels[i] = out[2*i+1], int(set.Labels[i])
	}
	cal, err := quality.Fit(scores, labels)
	if err != nil {
		return nil, fmt.Errorf("calibration: %w", err)
	}
	return cal.Marshal()
}

// CalibrationOf is Calibrate for a model given as the bytes of its ONNX
// file and its extra files (the external data of its initializers, by
// file name), opened with cfg. The extra files are written into a
// temporary directory for onnxruntime to find, and removed after.
func CalibrationOf(ctx context.Context, model []byte, files map[string][]byte, features []modelstore.Feature, cfg engine.Config, csv []byte, label string) ([]byte, error) {
	if len(files) > 0 {
		dir, err := os.MkdirTemp("", "switchyard-calibration-")
		if err != nil {
			return nil, fmt.Errorf("calibration: %w", err)
		}
		defer os.RemoveAll(dir)
		for name, b := range files {
			if err := modelstore.CheckFileName(name); err != nil {
				return nil, fmt.Errorf("calibration: %w", err)
			}
			if err := os.WriteFile(filepath.Join(dir, name), b, 0o600); err != nil {
				return nil, fmt.Errorf("calibration: %w", err)
			}
		}
		cfg.ExternalDataDir = dir
	}
	sess, err := engine.New(model, cfg)
	if err != nil {
		return nil, fmt.Errorf("calibration: %w", err)
	}
	defer sess.Close()
	return Calibrate(ctx, sess, features, csv, label)
}

// withCalibration returns opts with the version's calibration.json among
// its files: fitted on its evaluation set when it is a binary classifier
// published with one. A calibration.json the publisher brought is never
// published as is: it is replaced by the one fitted, or, without one,
// refused if it does not parse. A model that cannot be calibrated (not a
// binary classifier, an evaluation set it cannot read, which the gate
// will report) is published without; the log says why. opts.Files is not
// modified.
func (s *Service) withCalibration(ctx context.Context, model string, onnx []byte, opts modelstore.PublishOptions) (modelstore.PublishOptions, error) {
	given, has := opts.Files[quality.CalibrationFile]
	if opts.EvalCSV == nil || opts.EvalLabel == "" {
		if has {
			if _, err := quality.ParseCalibration(given); err != nil {
				return opts, fmt.Errorf("%s: %w", quality.CalibrationFile, err)
			}
		}
		return opts, nil
	}
	files := maps.Clone(opts.Files)
	delete(files, quality.CalibrationFile)
	cal, err := CalibrationOf(ctx, onnx, files, opts.Features, opts.Engine, opts.EvalCSV, opts.EvalLabel)
	switch {
	case errors.Is(err, errNotBinary):
		if has {
			return opts, fmt.Errorf("%s given for a model that is %w", quality.CalibrationFile, errNotBinary)
		}
		return opts, nil
	case err != nil:
		s.log.Warn("published without a calibration: no estimate of its quality before labels", "model", model, "error", err)
		opts.Files = files
		return opts, nil
	}
	if files == nil {
		files = map[string][]byte{}
	}
	files[quality.CalibrationFile] = cal
	opts.Files = files
	return opts, nil
}
