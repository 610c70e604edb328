package engine_test

import (
	"errors"
	"strings"
	"testing"

	"github.com/switchyard-ml/switchyard/engine"
	"github.com/switchyard-ml/switchyard/internal/onnx"
)

// TestDeclaredShapeTooLarge loads the model of issue 23's probe: a few
// hundred bytes declaring an input [N, 500000000] of FP32, which warm-up
// used to allocate (2 GB in, 2 GB out) before the model became ready. New
// must refuse it with the numbers, and the process's peak resident memory
// must not move.
func TestDeclaredShapeTooLarge(t *testing.T) {
	model := onnx.Identity(onnx.Float, onnx.DimParam("N"), onnx.DimValue(500_000_000)).Marshal()
	if len(model) > 512 {
		t.Fatalf("probe model is %d bytes; want a tiny one", len(model))
	}
	before := peakResidentBytes(t)
	s, err := engine.New(model, engine.Config{})
	grown := peakResidentBytes(t) - before
	if err == nil {
		s.Close()
	}
	if grown > 200<<20 {
		t.Errorf("peak resident memory grew by %d MiB while loading the model", grown>>20)
	}
	if !errors.Is(err, engine.ErrTooLarge) {
		t.Fatalf("New(input [N 500000000] FP32) = %v; want ErrTooLarge", err)
	}
	for _, want := range []string{`input "input"`, "[-1 500000000]", "2000000000 bytes", "268435456 bytes"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q does not say %q", err, want)
		}
	}
}
