package engine_test

import (
	"errors"
	"strings"
	"testing"

	"github.com/switchyard-ml/switchyard/engine"
	"github.com/switchyard-ml/switchyard/internal/onnx"
)

// TestMaxTensorBytesOutput checks that a declared output past the limit
// refuses the model too, naming the output.
func TestMaxTensorBytesOutput(t *testing.T) {
	model := onnx.RandomMLP(3, onnx.ActivationNone, 3, 8).Model().Marshal() // [N 3] in, [N 8] out: 12 and 32 bytes a row
	_, err := engine.New(model, engine.Config{MaxTensorBytes: 16})
	if !errors.Is(err, engine.ErrTooLarge) || !strings.Contains(err.Error(), "output") || !strings.Contains(err.Error(), "32 bytes") {
		t.Fatalf("New with MaxTensorBytes 16 = %v; want ErrTooLarge naming the 32-byte output", err)
	}
	s, err := engine.New(model, engine.Config{MaxTensorBytes: 32})
	if err != nil {
		t.Fatalf("New with MaxTensorBytes 32 = %v; want it loaded", err)
	}
	s.Close()
	if _, err := engine.New(model, engine.Config{MaxTensorBytes: -1}); err == nil {
		t.Fatal("New with a negative MaxTensorBytes succeeded")
	}
}

// TestMaxTensorBytesBatch checks that a batch whose tensors would pass
// the limit is refused before anything is allocated, by Bind and by Run,
// that MaxBatchRows says where the limit lies, and that batches within it
// still run.
func TestMaxTensorBytesBatch(t *testing.T) {
	a := &onnx.Affine{Shape: []onnx.Dim{onnx.DimParam("N"), onnx.DimValue(1024)}, Scale: 2, Offset: 1} // 4 KiB a row
	s, err := engine.New(a.Model().Marshal(), engine.Config{MaxTensorBytes: 64 << 10})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if got := s.MaxBatchRows(); got != 16 {
		t.Fatalf("MaxBatchRows() = %d; want 16 (64 KiB of 4 KiB rows)", got)
	}
	b, err := s.Bind([][]int64{{16, 1024}})
	if err != nil {
		t.Fatalf("Bind(16 rows) = %v", err)
	}
	b.Close()
	if _, err := s.Bind([][]int64{{17, 1024}}); !errors.Is(err, engine.ErrTooLarge) {
		t.Fatalf("Bind(17 rows) = %v; want ErrTooLarge", err)
	}
	if _, err := s.Bind([][]int64{{1 << 40, 1 << 40}}); !errors.Is(err, engine.ErrShape) {
		t.Fatalf("Bind(a shape off the signature) = %v; want ErrShape", err)
	}
	out := make([]engine.Tensor, 1)
	in := engine.NewTensor("input", []int64{17, 1024}, make([]float32, 17*1024))
	if err := s.Run([]engine.Tensor{in}, out); !errors.Is(err, engine.ErrTooLarge) || cap(out[0].Data) != 0 {
		t.Fatalf("Run(17 rows) = %v with %d bytes of output allocated; want ErrTooLarge and none", err, cap(out[0].Data))
	}
	in = engine.NewTensor("input", []int64{16, 1024}, make([]float32, 16*1024))
	if err := s.Run([]engine.Tensor{in}, out); err != nil {
		t.Fatalf("Run(16 rows) = %v", err)
	}
}

// TestMaxBatchRowsDefault checks that an ordinary model is not held back
// by the default limit.
func TestMaxBatchRowsDefault(t *testing.T) {
	s := open(t, onnx.RandomMLP(1, onnx.ActivationNone, 30, 2).Model())
	if got := s.MaxBatchRows(); got < 1<<20 {
		t.Fatalf("MaxBatchRows() = %d for 120-byte rows; want at least a million", got)
	}
}
