//go:build !race

package server

import (
	"testing"

	"github.com/switchyard-ml/switchyard/engine"
	"github.com/switchyard-ml/switchyard/server/internal/httpapi"
)

func TestDecodeInferRequestAllocs(t *testing.T) {
	f := func(sig *engine.Signature, body string) {
		t.Helper()
		var r inferRequest
		if err := decodeInferRequest([]byte(body), nil, sig, &r); err != nil { // warm up r and the parser
			t.Fatalf("decodeInferRequest(%s) = %v", body, err)
		}
		b := []byte(body)
		n := testing.AllocsPerRun(100, func() {
			if err := decodeInferRequest(b, nil, sig, &r); err != nil {
				panic(err)
			}
		})
		if n != 0 {
			t.Fatalf("decodeInferRequest(%s) into a warm request: %v allocations; want 0", body, n)
		}
	}
	f(codecBenchSig(), string(codecBenchRequest(1, false)))
	f(codecBenchSig(), string(codecBenchRequest(64, true))) // numbers on strconv's path
	f(codecAllTypesSig(), `{"id":"a-request-id-longer-than-thirty-two-bytes","parameters":{"timeout":5000},
		"outputs":[{"name":"out"}],"inputs":[
		{"name":"b","shape":[4],"datatype":"BOOL","data":[true,false,1,0]},
		{"name":"u8","shape":[3],"datatype":"UINT8","data":[0,255,7.0]},
		{"name":"i8","shape":[3],"datatype":"INT8","data":[-128,127,-0]},
		{"name":"i32","shape":[3],"datatype":"INT32","data":[[-2147483648],[2147483647],[1e3]]},
		{"name":"i64","shape":[3],"datatype":"INT64","data":[-9223372036854775808,9223372036854775807,5]},
		{"name":"f64","shape":[3],"datatype":"FP64","data":[0.1,-1.7976931348623157e308,5e-324]},
		{"name":"f32","shape":[2],"datatype":"FP32","data":[0.1,16777217]}]}`)
	long := &engine.Signature{
		Inputs:  []engine.TensorInfo{{Name: "serving_default_dense_input_features:0", DType: engine.FP32, Shape: []int64{-1, 2}}},
		Outputs: []engine.TensorInfo{{Name: "StatefulPartitionedCall_probabilities:0", DType: engine.FP32, Shape: []int64{-1, 2}}},
	}
	f(long, `{"inputs":[{"name":"serving_default_dense_input_features:0","shape":[1,2],"datatype":"FP32","data":[1,2]}],
		"outputs":[{"name":"StatefulPartitionedCall_probabilities:0"}]}`)
}

func TestAppendInferResponseAllocs(t *testing.T) {
	outs := []engine.Tensor{
		codecTensor("label", []int64{2}, []int64{0, 1}),
		codecTensor("probabilities", []int64{2, 2}, []float32{0.9, 0.1, 0.25, 0.75}),
		codecTensor("f64", []int64{2}, []float64{0.1, -2e-300}),
		codecTensor("i32", []int64{2}, []int32{-5, 5}),
		codecTensor("i8", []int64{2}, []int8{-5, 5}),
		codecTensor("u8", []int64{2}, []uint8{0, 255}),
		codecTensor("mask", []int64{2}, []bool{true, false}),
	}
	selected := []bool{true, true, true, true, true, true, false}
	id := []byte("6f1c2b9e-8d4a-4f7e-b3a1-2c5d9e0f7a18\n\xff")
	ids := newPredictionIDs()
	buf := make([]byte, 0, 4096)
	n := testing.AllocsPerRun(100, func() {
		var pid [predictionIDLen]byte
		var err error
		if buf, err = appendInferResponse(buf[:0], "fraud", "2", id, ids.appendID(pid[:0], ids.reserve(1)), outs, selected, nil); err != nil {
			panic(err)
		}
		buf = httpapi.AppendErrorJSON(buf[:0], `unknown input "x"; the model's inputs are "input"`)
	})
	if n != 0 {
		t.Fatalf("appendInferResponse into a buffer with capacity: %v allocations; want 0", n)
	}
}

// TestDecodeBinaryRequestAllocs decodes a request whose inputs travel as
// binary data, mixed with a JSON one, and that asks for binary outputs.
func TestDecodeBinaryRequestAllocs(t *testing.T) {
	sig := codecAllTypesSig()
	tensors := typedTensors()
	var bb binaryBuilder
	for i, tensor := range tensors {
		if i == 3 {
			bb.json(tensor)
		} else {
			bb.binary(tensor)
		}
	}
	body, header := bb.request(`"id":"a-request-id","parameters":{"binary_data_output":true},` +
		`"outputs":[{"name":"out","parameters":{"binary_data":true}}]`)
	var r inferRequest
	if err := decodeBody(body, header, sig, &r); err != nil { // warm up r and the parser
		t.Fatalf("decodeInferRequest(%q) = %v", body, err)
	}
	n := testing.AllocsPerRun(100, func() {
		if err := decodeBody(body, header, sig, &r); err != nil {
			panic(err)
		}
	})
	if n != 0 {
		t.Fatalf("decodeInferRequest(%q) of binary data into a warm request: %v allocations; want 0", body, n)
	}
}

// TestAppendBinaryResponseAllocs encodes a response with binary outputs and
// a JSON one, and appends the binary data.
func TestAppendBinaryResponseAllocs(t *testing.T) {
	outs := []engine.Tensor{
		codecTensor("label", []int64{2}, []int64{0, 1}),
		codecTensor("probabilities", []int64{2, 2}, []float32{0.9, 0.1, 0.25, 0.75}),
		codecTensor("mask", []int64{2}, []bool{true, false}),
	}
	selected := []bool{true, true, true}
	binary := []bool{true, false, true}
	id := []byte("6f1c2b9e-8d4a-4f7e-b3a1-2c5d9e0f7a18")
	buf := make([]byte, 0, 4096)
	n := testing.AllocsPerRun(100, func() {
		var err error
		if buf, err = appendInferResponse(buf[:0], "fraud", "2", id, nil, outs, selected, binary); err != nil {
			panic(err)
		}
		buf = appendBinaryOutputs(buf, outs, selected, binary)
	})
	if n != 0 {
		t.Fatalf("appendInferResponse with binary outputs into a buffer with capacity: %v allocations; want 0", n)
	}
}
