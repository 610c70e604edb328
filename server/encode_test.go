package server

import (
	"bytes"
	"encoding/json"
	"math"
	"math/rand/v2"
	"strings"
	"testing"

	"github.com/switchyard-ml/switchyard/engine"
)

func TestAppendInferResponseSuccess(t *testing.T) {
	var pid []byte // the prediction id of the next case
	f := func(id []byte, outs []engine.Tensor, selected []bool, want string) {
		t.Helper()
		prefix := []byte("prefix:")
		got, err := appendInferResponse(prefix, "fraud", "2", id, pid, outs, selected, nil)
		if err != nil {
			t.Fatalf("appendInferResponse(%q, %v) = %v; want success", id, selected, err)
		}
		if !bytes.HasPrefix(got, prefix) {
			t.Fatalf("appendInferResponse lost dst: %s", got)
		}
		got = got[len(prefix):]
		if string(got) != want {
			t.Fatalf("appendInferResponse(%q, %v) =\n%s\nwant\n%s", id, selected, got, want)
		}
		if !json.Valid(got) {
			t.Fatalf("appendInferResponse wrote invalid JSON: %s", got)
		}
	}
	const head = `{"model_name":"fraud","model_version":"2","outputs":[`

	probs := codecTensor("probabilities", []int64{1, 2}, []float32{0.1, 0.9})
	label := codecTensor("label", []int64{1}, []int64{1})
	f(nil, []engine.Tensor{label, probs}, []bool{true, true}, head+
		`{"name":"label","datatype":"INT64","shape":[1],"data":[1]},`+
		`{"name":"probabilities","datatype":"FP32","shape":[1,2],"data":[0.1,0.9]}]}`)
	// Selection keeps signature order; nil selects all.
	f(nil, []engine.Tensor{label, probs}, []bool{false, true}, head+
		`{"name":"probabilities","datatype":"FP32","shape":[1,2],"data":[0.1,0.9]}]}`)
	f(nil, []engine.Tensor{label, probs}, []bool{true, false}, head+
		`{"name":"label","datatype":"INT64","shape":[1],"data":[1]}]}`)
	f(nil, []engine.Tensor{label, probs}, []bool{false, false}, head+`]}`)
	f(nil, []engine.Tensor{label}, nil, head+`{"name":"label","datatype":"INT64","shape":[1],"data":[1]}]}`)

	// The id, escaped; an empty id is still written.
	f([]byte("req-\"1\"\\\n\x01é"), []engine.Tensor{label}, nil,
		`{"model_name":"fraud","model_version":"2","id":"req-\"1\"\\\n\u0001é","outputs":[`+
			`{"name":"label","datatype":"INT64","shape":[1],"data":[1]}]}`)
	f([]byte{}, []engine.Tensor{label}, nil,
		`{"model_name":"fraud","model_version":"2","id":"","outputs":[`+
			`{"name":"label","datatype":"INT64","shape":[1],"data":[1]}]}`)

	// The prediction id, in the response's parameters after the id.
	pid = []byte("3f9a1c0b5e7d2a48-000000000000002a")
	f([]byte("r"), []engine.Tensor{label}, nil,
		`{"model_name":"fraud","model_version":"2","id":"r","parameters":{"prediction_id":"3f9a1c0b5e7d2a48-000000000000002a"},"outputs":[`+
			`{"name":"label","datatype":"INT64","shape":[1],"data":[1]}]}`)
	f(nil, []engine.Tensor{label}, nil,
		`{"model_name":"fraud","model_version":"2","parameters":{"prediction_id":"3f9a1c0b5e7d2a48-000000000000002a"},"outputs":[`+
			`{"name":"label","datatype":"INT64","shape":[1],"data":[1]}]}`)
	pid = nil

	// Every datatype.
	one := func(tensor engine.Tensor, want string) {
		t.Helper()
		f(nil, []engine.Tensor{tensor}, nil, head+want+`]}`)
	}
	one(codecTensor("x", []int64{2, 4}, []float32{0, float32(math.Copysign(0, -1)), 1e6, 1.5e-7, math.MaxFloat32, math.SmallestNonzeroFloat32, 0.3, -16777216}),
		`{"name":"x","datatype":"FP32","shape":[2,4],"data":[0,-0,1e+06,1.5e-07,3.4028235e+38,1e-45,0.3,-1.6777216e+07]}`)
	one(codecTensor("x", []int64{4}, []float64{0.1, math.MaxFloat64, 5e-324, -2.5}),
		`{"name":"x","datatype":"FP64","shape":[4],"data":[0.1,1.7976931348623157e+308,5e-324,-2.5]}`)
	one(codecTensor("x", []int64{3}, []int64{math.MinInt64, math.MaxInt64, 0}),
		`{"name":"x","datatype":"INT64","shape":[3],"data":[-9223372036854775808,9223372036854775807,0]}`)
	one(codecTensor("x", []int64{3}, []int32{math.MinInt32, math.MaxInt32, -1}),
		`{"name":"x","datatype":"INT32","shape":[3],"data":[-2147483648,2147483647,-1]}`)
	one(codecTensor("x", []int64{3}, []int8{-128, 127, 0}),
		`{"name":"x","datatype":"INT8","shape":[3],"data":[-128,127,0]}`)
	one(codecTensor("x", []int64{3}, []uint8{0, 255, 7}),
		`{"name":"x","datatype":"UINT8","shape":[3],"data":[0,255,7]}`)
	one(codecTensor("x", []int64{1, 3}, []bool{true, false, true}),
		`{"name":"x","datatype":"BOOL","shape":[1,3],"data":[true,false,true]}`)
	one(engine.Tensor{Name: "x", DType: engine.BOOL, Shape: []int64{1}, Data: []byte{2}},
		`{"name":"x","datatype":"BOOL","shape":[1],"data":[true]}`)
	// Empty and scalar tensors, and a name that needs escaping.
	one(engine.Tensor{Name: "x", DType: engine.FP32, Shape: []int64{0, 2}},
		`{"name":"x","datatype":"FP32","shape":[0,2],"data":[]}`)
	one(codecTensor(`a"b`, []int64{}, []int64{42}),
		`{"name":"a\"b","datatype":"INT64","shape":[],"data":[42]}`)
}

func TestAppendInferResponseFailure(t *testing.T) {
	f := func(out engine.Tensor, want string) {
		t.Helper()
		dst := append(make([]byte, 0, 256), "kept"...)
		got, err := appendInferResponse(dst, "fraud", "2", []byte("id"), nil, []engine.Tensor{out}, []bool{true}, nil)
		if err == nil {
			t.Fatalf("appendInferResponse(%+v) = %s, nil; want an error", out, got)
		}
		if !strings.Contains(err.Error(), want) {
			t.Fatalf("appendInferResponse(%+v) = %q; want it to contain %q", out, err, want)
		}
		if string(got) != "kept" {
			t.Fatalf("appendInferResponse(%+v) left dst = %q; want %q", out, got, "kept")
		}
	}
	f(codecTensor("probabilities", []int64{1, 2}, []float32{0.5, float32(math.NaN())}),
		`output "probabilities" holds NaN at element 1, which JSON cannot carry`)
	f(codecTensor("probabilities", []int64{2}, []float32{float32(math.Inf(1)), 0}),
		`output "probabilities" holds +Inf at element 0`)
	f(codecTensor("probabilities", []int64{2}, []float32{0, float32(math.Inf(-1))}),
		`output "probabilities" holds -Inf at element 1`)
	f(codecTensor("score", []int64{3}, []float64{1, 2, math.NaN()}),
		`output "score" holds NaN at element 2`)
	f(codecTensor("score", []int64{1}, []float64{math.Inf(-1)}),
		`output "score" holds -Inf at element 0`)
	f(engine.Tensor{Name: "label", DType: engine.INT64, Shape: []int64{2}, Data: make([]byte, 8)},
		`output "label" holds 8 bytes, but shape [2] of INT64 needs 16`)
	f(engine.Tensor{Name: "label", Shape: []int64{2}, Data: make([]byte, 8)},
		`output "label" has invalid datatype 0`)
}

// TestAppendInferResponseRoundTrip reads the response back with encoding/json.
func TestAppendInferResponseRoundTrip(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	f32 := make([]float32, 64)
	f64 := make([]float64, 64)
	for i := range f32 {
		f32[i] = float32(rng.NormFloat64() * math.Pow(10, float64(rng.IntN(60)-30)))
		f64[i] = rng.NormFloat64() * math.Pow(10, float64(rng.IntN(600)-300))
	}
	outs := []engine.Tensor{codecTensor("a", []int64{8, 8}, f32), codecTensor("b", []int64{64}, f64)}
	buf, err := appendInferResponse(nil, "m\u2028", "1", []byte("\xff"), nil, outs, nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	var resp struct {
		ModelName string `json:"model_name"`
		ID        string `json:"id"`
		Outputs   []struct {
			Name  string          `json:"name"`
			Shape []int64         `json:"shape"`
			Data  json.RawMessage `json:"data"`
		} `json:"outputs"`
	}
	if err := json.Unmarshal(buf, &resp); err != nil {
		t.Fatalf("json.Unmarshal(%s) = %v", buf, err)
	}
	if resp.ModelName != "m\u2028" || resp.ID != "\ufffd" || len(resp.Outputs) != 2 {
		t.Fatalf("round trip = %+v", resp)
	}
	var g32 []float32
	var g64 []float64
	if err := json.Unmarshal(resp.Outputs[0].Data, &g32); err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(resp.Outputs[1].Data, &g64); err != nil {
		t.Fatal(err)
	}
	for i := range f32 {
		if g32[i] != f32[i] || g64[i] != f64[i] {
			t.Fatalf("element %d read back as %v, %v; want %v, %v", i, g32[i], g64[i], f32[i], f64[i])
		}
	}
}
