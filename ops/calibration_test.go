package ops_test

import (
	"bytes"
	"context"
	"errors"
	"math"
	"os"
	"path/filepath"
	"testing"

	"github.com/switchyard-ml/switchyard/internal/onnx"
	"github.com/switchyard-ml/switchyard/modelstore"
	"github.com/switchyard-ml/switchyard/ops"
	"github.com/switchyard-ml/switchyard/quality"
)

// readCalibration returns version v of m's calibration.json, nil when it
// has none, checking that the manifest records it as the version's file.
func readCalibration(t *testing.T, reg string, v int) []byte {
	t.Helper()
	dir := modelstore.VersionDir(reg, "m", v)
	data, err := os.ReadFile(filepath.Join(dir, quality.CalibrationFile))
	if errors.Is(err, os.ErrNotExist) {
		return nil
	}
	if err != nil {
		t.Fatal(err)
	}
	mf, err := modelstore.ReadManifest(dir)
	if err != nil {
		t.Fatal(err)
	}
	if sum, ok := mf.Files[quality.CalibrationFile]; !ok || sum.Size != int64(len(data)) {
		t.Fatalf("manifest files %+v do not record %s", mf.Files, quality.CalibrationFile)
	}
	return data
}

func TestPublishCalibration(t *testing.T) {
	ctx := context.Background()
	reg := t.TempDir()
	svc := newService(t, ops.Config{Registry: reg})
	csv, rows := profileCSV(300)
	mlp := onnx.RandomMLP(7, onnx.ActivationSoftmax, 3, 2)
	model := mlp.Model().Marshal()
	publish := func(model []byte, opts modelstore.PublishOptions) int {
		t.Helper()
		v, err := svc.Publish(ctx, "m", model, ops.PublishSpec{Options: opts, Actor: "test"})
		if err != nil {
			t.Fatal(err)
		}
		return v
	}

	// A binary classifier with an eval set: the calibration of its scores,
	// as onnxruntime gives them, on the set.
	v := publish(model, modelstore.PublishOptions{EvalCSV: csv, EvalLabel: "label"})
	data := readCalibration(t, reg, v)
	if data == nil {
		t.Fatal("no calibration.json for a binary classifier published with an eval set")
	}
	got, err := quality.ParseCalibration(data)
	if err != nil {
		t.Fatalf("published calibration: %v", err)
	}
	want, err := ops.Calibrate(ctx, openSession(t, model), nil, csv, "label")
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(data, want) {
		t.Fatalf("published calibration:\n%s\nwant:\n%s", data, want)
	}
	// The fit is that of the model's own scores: the same as fitting the
	// scores the Go reference computes, up to float32 rounding.
	scores, labels := make([]float64, len(rows)), make([]int, len(rows))
	for i, r := range rows {
		scores[i], labels[i] = float64(mlp.Predict(r[:])[1]), i%2
	}
	ref, err := quality.Fit(scores, labels)
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range scores {
		if d := math.Abs(got.Apply(s) - ref.Apply(s)); d > 1e-3 {
			t.Fatalf("calibrated %v: %v published, %v from the reference scores", s, got.Apply(s), ref.Apply(s))
		}
	}

	// No calibration: without an eval set, for a regressor, for more
	// than two classes, for an eval set that does not fit (the gate says
	// why).
	for name, c := range map[string]struct {
		model []byte
		opts  modelstore.PublishOptions
	}{
		"no eval set":    {model, modelstore.PublishOptions{}},
		"regressor":      {onnx.RandomMLP(1, onnx.ActivationNone, 3, 1).Model().Marshal(), modelstore.PublishOptions{EvalCSV: csv, EvalLabel: "label"}},
		"three classes":  {onnx.RandomMLP(2, onnx.ActivationSoftmax, 3, 3).Model().Marshal(), modelstore.PublishOptions{EvalCSV: csv, EvalLabel: "label"}},
		"unfit eval set": {model, modelstore.PublishOptions{EvalCSV: []byte("a,label\n1,0\n"), EvalLabel: "label"}},
	} {
		v := publish(c.model, c.opts)
		if data := readCalibration(t, reg, v); data != nil {
			t.Errorf("%s: version %d has a calibration.json:\n%s", name, v, data)
		}
	}

	// A calibration.json brought by the publisher is replaced by the one
	// fitted...
	v = publish(model, modelstore.PublishOptions{EvalCSV: csv, EvalLabel: "label",
		Files: map[string][]byte{quality.CalibrationFile: []byte("not a calibration")}})
	if data := readCalibration(t, reg, v); !bytes.Equal(data, want) {
		t.Fatalf("a given calibration.json was published as:\n%s", data)
	}
}

func TestPublishCalibrationRefused(t *testing.T) {
	ctx := context.Background()
	reg := registry(t, 1)
	svc := newService(t, ops.Config{Registry: reg})
	model := onnx.RandomMLP(7, onnx.ActivationSoftmax, 3, 2).Model().Marshal()
	csv, _ := profileCSV(50)
	f := func(opts modelstore.PublishOptions) {
		t.Helper()
		v, err := svc.Publish(ctx, "m", model, ops.PublishSpec{Options: opts, Actor: "test"})
		if !errors.Is(err, ops.ErrRejected) || v != 0 {
			t.Fatalf("Publish = %d, %v; want ErrRejected", v, err)
		}
		if _, all, err := modelstore.Versions(reg, "m"); err != nil || len(all) != 1 {
			t.Fatalf("versions after a refused publish: %v, %v", all, err)
		}
	}
	// ...and without an eval set to fit one, a corrupt one is refused, as
	// is one for a model that is not a binary classifier.
	f(modelstore.PublishOptions{Files: map[string][]byte{quality.CalibrationFile: []byte(`{"method":"platt"}`)}})
	valid, err := ops.Calibrate(ctx, openSession(t, model), nil, csv, "label")
	if err != nil {
		t.Fatal(err)
	}
	multi := onnx.RandomMLP(2, onnx.ActivationSoftmax, 3, 3).Model().Marshal()
	if v, err := svc.Publish(ctx, "m", multi, ops.PublishSpec{Actor: "test", Options: modelstore.PublishOptions{
		EvalCSV: csv, EvalLabel: "label", Files: map[string][]byte{quality.CalibrationFile: valid}}}); !errors.Is(err, ops.ErrRejected) {
		t.Fatalf("a calibration for a 3-class model: %d, %v; want ErrRejected", v, err)
	}
	// A valid one without an eval set is kept.
	v, err := svc.Publish(ctx, "m", model, ops.PublishSpec{Actor: "test", Options: modelstore.PublishOptions{
		Files: map[string][]byte{quality.CalibrationFile: valid}}})
	if err != nil {
		t.Fatal(err)
	}
	if data := readCalibration(t, reg, v); !bytes.Equal(data, valid) {
		t.Fatalf("calibration.json kept as:\n%s", data)
	}
}

func TestCalibrateFailure(t *testing.T) {
	ctx := context.Background()
	csv, _ := profileCSV(20)
	f := func(model []byte, csv []byte, label, want string) {
		t.Helper()
		_, err := ops.Calibrate(ctx, openSession(t, model), nil, csv, label)
		if err == nil || !bytes.Contains([]byte(err.Error()), []byte(want)) {
			t.Fatalf("Calibrate: %v; want an error saying %q", err, want)
		}
	}
	binary := onnx.RandomMLP(7, onnx.ActivationSoftmax, 3, 2).Model().Marshal()
	f(onnx.RandomMLP(1, onnx.ActivationNone, 3, 1).Model().Marshal(), csv, "label", "not a binary classifier")
	f(binary, csv, "nope", "nope")
	f(binary, []byte("a,b,label,c\n1,2,3,4\n"), "label", "label")
}
