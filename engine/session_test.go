package engine_test

import (
	"errors"
	"math"
	"math/rand/v2"
	"slices"
	"sync"
	"testing"

	"github.com/switchyard-ml/switchyard/engine"
	"github.com/switchyard-ml/switchyard/internal/onnx"
	"github.com/switchyard-ml/switchyard/internal/testenv"
)

func TestMain(m *testing.M) { testenv.Main(m) }

func open(t *testing.T, m *onnx.Model) *engine.Session {
	t.Helper()
	s, err := engine.New(m.Marshal(), engine.Config{})
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

func run(t *testing.T, s *engine.Session, in ...engine.Tensor) []engine.Tensor {
	t.Helper()
	out := make([]engine.Tensor, len(s.Signature().Outputs))
	if err := s.Run(in, out); err != nil {
		t.Fatalf("Run: %v", err)
	}
	return out
}

func values[T engine.Element](t *testing.T, tensor *engine.Tensor) []T {
	t.Helper()
	v, err := engine.Values[T](tensor)
	if err != nil {
		t.Fatal(err)
	}
	return v
}

func assertClose(t *testing.T, what string, got, want []float32) {
	t.Helper()
	if len(got) != len(want) {
		t.Fatalf("%s: %d values, want %d", what, len(got), len(want))
	}
	for i := range got {
		if math.Abs(float64(got[i]-want[i])) > 1e-5 {
			t.Fatalf("%s[%d] = %v, want %v (within 1e-5)", what, i, got[i], want[i])
		}
	}
}

func TestMLPMatchesReference(t *testing.T) {
	mlp := onnx.RandomMLP(7, onnx.ActivationSoftmax, 30, 64, 2)
	s := open(t, mlp.Model())
	sig := s.Signature()
	if len(sig.Inputs) != 1 || sig.Inputs[0].DType != engine.FP32 || !slices.Equal(sig.Inputs[0].Shape, []int64{-1, 30}) {
		t.Fatalf("inputs = %+v; want one FP32 [-1 30]", sig.Inputs)
	}
	if len(sig.Outputs) != 1 || !slices.Equal(sig.Outputs[0].Shape, []int64{-1, 2}) {
		t.Fatalf("outputs = %+v; want one FP32 [-1 2]", sig.Outputs)
	}
	for _, n := range []int{1, 7, 64} {
		x := testenv.Rows(uint64(n), n*30)
		out := run(t, s, engine.NewTensor("input", []int64{int64(n), 30}, x))
		if !slices.Equal(out[0].Shape, []int64{int64(n), 2}) {
			t.Fatalf("n=%d: output shape %v", n, out[0].Shape)
		}
		assertClose(t, "output", values[float32](t, &out[0]), mlp.Predict(x))
	}
}

func TestLogRegAndForestMatchReference(t *testing.T) {
	lr := &onnx.LogReg{Weights: []float32{0.5, -1, 2, 0.25}, Bias: []float32{-0.3}}
	forest := onnx.RandomForest(3, 6, 5, 3)
	cases := []struct {
		name     string
		model    *onnx.Model
		features int
		predict  func([]float32) ([]int64, []float32)
	}{
		{"logreg", lr.Model(), 4, lr.Predict},
		{"forest", forest.Model(), 6, forest.Predict},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			s := open(t, c.model)
			outs := s.Signature().Outputs
			if len(outs) != 2 || outs[0].Name != "label" || outs[0].DType != engine.INT64 ||
				!slices.Equal(outs[0].Shape, []int64{-1}) || outs[1].Name != "probabilities" ||
				!slices.Equal(outs[1].Shape, []int64{-1, 2}) {
				t.Fatalf("outputs = %+v; want label INT64 [-1], probabilities FP32 [-1 2]", outs)
			}
			for _, n := range []int{1, 9} {
				x := testenv.Rows(uint64(n+100), n*c.features)
				out := run(t, s, engine.NewTensor("input", []int64{int64(n), int64(c.features)}, x))
				labels, probs := c.predict(x)
				if got := values[int64](t, &out[0]); !slices.Equal(got, labels) {
					t.Fatalf("labels = %v, want %v", got, labels)
				}
				assertClose(t, "probabilities", values[float32](t, &out[1]), probs)
			}
		})
	}
}

func TestEveryDType(t *testing.T) {
	const n, w = 3, 4
	typed := onnx.Typed{Width: w}
	s := open(t, typed.Model())
	r := rand.New(rand.NewPCG(9, 9))
	var in onnx.TypedValues
	for range n * w {
		in.FP32 = append(in.FP32, float32(r.NormFloat64()))
		in.FP64 = append(in.FP64, r.NormFloat64())
		in.INT64 = append(in.INT64, r.Int64N(1<<40)-1<<39)
		in.INT32 = append(in.INT32, r.Int32N(1<<20)-1<<19)
		in.INT8 = append(in.INT8, int8(r.IntN(256)-128))
		in.UINT8 = append(in.UINT8, uint8(r.IntN(256)))
		in.BOOL = append(in.BOOL, r.IntN(2) == 1)
	}
	shape := []int64{n, w}
	out := run(t, s,
		engine.NewTensor("x_fp32", shape, in.FP32),
		engine.NewTensor("x_fp64", shape, in.FP64),
		engine.NewTensor("x_int64", shape, in.INT64),
		engine.NewTensor("x_int32", shape, in.INT32),
		engine.NewTensor("x_int8", shape, in.INT8),
		engine.NewTensor("x_uint8", shape, in.UINT8),
		engine.NewTensor("x_bool", shape, in.BOOL),
	)
	want := typed.Predict(in)
	wantDTypes := []engine.DType{engine.FP32, engine.FP64, engine.INT64, engine.INT32, engine.INT8, engine.UINT8, engine.BOOL}
	for j, o := range out {
		if o.DType != wantDTypes[j] || !slices.Equal(o.Shape, shape) {
			t.Fatalf("output %d: %s %v; want %s %v", j, o.DType, o.Shape, wantDTypes[j], shape)
		}
	}
	check := func(name string, ok bool) {
		t.Helper()
		if !ok {
			t.Errorf("%s differs from the reference", name)
		}
	}
	check("fp32", slices.Equal(values[float32](t, &out[0]), want.FP32))
	check("fp64", slices.Equal(values[float64](t, &out[1]), want.FP64))
	check("int64", slices.Equal(values[int64](t, &out[2]), want.INT64))
	check("int32", slices.Equal(values[int32](t, &out[3]), want.INT32))
	check("int8", slices.Equal(values[int8](t, &out[4]), want.INT8))
	check("uint8", slices.Equal(values[uint8](t, &out[5]), want.UINT8))
	check("bool", slices.Equal(values[bool](t, &out[6]), want.BOOL))
}

func TestUnsupportedTypes(t *testing.T) {
	for _, dt := range []onnx.DataType{onnx.Float16, onnx.String} {
		_, err := engine.New(onnx.Identity(dt, onnx.DimParam("N"), onnx.DimValue(2)).Marshal(), engine.Config{})
		if !errors.Is(err, engine.ErrUnsupportedType) {
			t.Errorf("New(%s model) = %v; want ErrUnsupportedType", dt, err)
		}
	}
}

func TestNotAModel(t *testing.T) {
	if _, err := engine.New([]byte("this is not protobuf"), engine.Config{}); err == nil {
		t.Fatal("New(garbage) succeeded")
	}
}

func TestFixedBatchDimension(t *testing.T) {
	a := &onnx.Affine{Shape: []onnx.Dim{onnx.DimValue(1), onnx.DimValue(4)}, Scale: 2, Offset: 1}
	s := open(t, a.Model())
	x := []float32{1, 2, 3, 4}
	out := run(t, s, engine.NewTensor("input", []int64{1, 4}, x))
	assertClose(t, "output", values[float32](t, &out[0]), a.Predict(x))
	err := s.Run([]engine.Tensor{engine.NewTensor("input", []int64{2, 4}, make([]float32, 8))}, out)
	if !errors.Is(err, engine.ErrShape) {
		t.Fatalf("Run with 2 rows on a [1,4] model = %v; want ErrShape", err)
	}
}

// TestBadInputs checks that every malformed input is refused before
// onnxruntime sees it, with an error naming the problem, and that the
// session keeps working afterwards.
func TestBadInputs(t *testing.T) {
	mlp := onnx.RandomMLP(1, onnx.ActivationNone, 3, 2)
	s := open(t, mlp.Model())
	good := engine.NewTensor("input", []int64{2, 3}, []float32{1, 2, 3, 4, 5, 6})
	f := func(want error, in ...engine.Tensor) {
		t.Helper()
		out := make([]engine.Tensor, 1)
		if err := s.Run(in, out); !errors.Is(err, want) {
			t.Errorf("Run(%+v) = %v; want %v", in, err, want)
		}
		out = run(t, s, good)
		assertClose(t, "after a bad input", values[float32](t, &out[0]), mlp.Predict([]float32{1, 2, 3, 4, 5, 6}))
	}
	f(engine.ErrDType, engine.NewTensor("input", []int64{2, 3}, []float64{1, 2, 3, 4, 5, 6}))
	f(engine.ErrShape, engine.NewTensor("input", []int64{6}, []float32{1, 2, 3, 4, 5, 6}))
	f(engine.ErrShape, engine.NewTensor("input", []int64{3, 2}, []float32{1, 2, 3, 4, 5, 6}))
	f(engine.ErrShape, engine.Tensor{Name: "input", DType: engine.FP32, Shape: []int64{2, 3}, Data: make([]byte, 20)})
	f(engine.ErrShape, engine.Tensor{Name: "input", DType: engine.FP32, Shape: []int64{0, 3}})
	f(engine.ErrShape)
	f(engine.ErrShape, good, good)
}

// TestOutputBuffersReused checks that Run writes into the capacity it is
// given instead of allocating new output buffers.
func TestOutputBuffersReused(t *testing.T) {
	s := open(t, onnx.RandomMLP(2, onnx.ActivationNone, 4, 3).Model())
	in := engine.NewTensor("input", []int64{2, 4}, make([]float32, 8))
	out := []engine.Tensor{{Data: make([]byte, 0, 1024)}}
	if err := s.Run([]engine.Tensor{in}, out); err != nil {
		t.Fatal(err)
	}
	if cap(out[0].Data) != 1024 || len(out[0].Data) != 2*3*4 {
		t.Fatalf("output data len %d cap %d; want 24 bytes in the given 1024", len(out[0].Data), cap(out[0].Data))
	}
}

func TestConcurrentRuns(t *testing.T) {
	mlp := onnx.RandomMLP(5, onnx.ActivationSigmoid, 8, 16, 1)
	s := open(t, mlp.Model())
	var wg sync.WaitGroup
	errs := make(chan error, 8)
	for g := range 8 {
		wg.Go(func() {
			out := make([]engine.Tensor, 1)
			for i := range 50 {
				n := 1 + (g+i)%5
				x := testenv.Rows(uint64(g*1000+i), n*8)
				if err := s.Run([]engine.Tensor{engine.NewTensor("input", []int64{int64(n), 8}, x)}, out); err != nil {
					errs <- err
					return
				}
				got, _ := engine.Values[float32](&out[0])
				want := mlp.Predict(x)
				for k := range want {
					if math.Abs(float64(got[k]-want[k])) > 1e-5 {
						errs <- errors.New("concurrent run gave a wrong answer")
						return
					}
				}
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
}

// TestOutputsSizedByRuntime covers outputs whose shape does not follow
// from the batch size alone, which onnxruntime allocates and Run copies.
func TestOutputsSizedByRuntime(t *testing.T) {
	a := &onnx.Affine{Shape: []onnx.Dim{onnx.DimParam("N"), onnx.DimParam("M")}, Scale: -1, Offset: 0.5}
	s := open(t, a.Model())
	for _, shape := range [][]int64{{2, 5}, {3, 1}} {
		x := testenv.Rows(uint64(shape[1]), int(shape[0]*shape[1]))
		out := run(t, s, engine.NewTensor("input", shape, x))
		if !slices.Equal(out[0].Shape, shape) {
			t.Fatalf("output shape %v; want %v", out[0].Shape, shape)
		}
		assertClose(t, "output", values[float32](t, &out[0]), a.Predict(x))
	}
}

// TestOpenCloseDoesNotLeak opens and closes a session many times and
// checks that the process's resident memory does not grow with the count.
// The bound is loose on purpose: a leak of even one session per cycle
// would exceed it many times over.
func TestOpenCloseDoesNotLeak(t *testing.T) {
	model := onnx.RandomMLP(11, onnx.ActivationNone, 64, 256, 256, 4).Model().Marshal() // ~330 KB of weights
	cycle := func(n int) {
		for range n {
			s, err := engine.New(model, engine.Config{})
			if err != nil {
				t.Fatal(err)
			}
			if err := s.Close(); err != nil {
				t.Fatal(err)
			}
		}
	}
	cycle(20)
	before := residentBytes(t)
	cycle(200)
	after := residentBytes(t)
	if grown := after - before; grown > 32<<20 {
		t.Fatalf("resident memory grew by %d MiB over 200 open/close cycles", grown>>20)
	}
}
