package server

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"math"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/switchyard-ml/switchyard/engine"
	"github.com/switchyard-ml/switchyard/server/internal/httpapi"
)

// codecSig is a fraud model: one FP32 input of three features per row and two
// outputs.
func codecSig() *engine.Signature {
	return &engine.Signature{
		Inputs: []engine.TensorInfo{{Name: "input", DType: engine.FP32, Shape: []int64{-1, 3}}},
		Outputs: []engine.TensorInfo{
			{Name: "label", DType: engine.INT64, Shape: []int64{-1}},
			{Name: "probabilities", DType: engine.FP32, Shape: []int64{-1, 2}},
		},
	}
}

// codecAllTypesSig has one input of every datatype.
func codecAllTypesSig() *engine.Signature {
	return &engine.Signature{
		Inputs: []engine.TensorInfo{
			{Name: "f32", DType: engine.FP32, Shape: []int64{-1}},
			{Name: "f64", DType: engine.FP64, Shape: []int64{-1}},
			{Name: "i64", DType: engine.INT64, Shape: []int64{-1}},
			{Name: "i32", DType: engine.INT32, Shape: []int64{-1}},
			{Name: "i8", DType: engine.INT8, Shape: []int64{-1}},
			{Name: "u8", DType: engine.UINT8, Shape: []int64{-1}},
			{Name: "b", DType: engine.BOOL, Shape: []int64{-1}},
		},
		Outputs: []engine.TensorInfo{{Name: "out", DType: engine.FP32, Shape: []int64{-1}}},
	}
}

// codecTensor builds a tensor from a slice of float32, float64, int64, int32,
// int8, uint8 or bool, laid out as the engine expects.
func codecTensor(name string, shape []int64, values any) engine.Tensor {
	var dt engine.DType
	switch values.(type) {
	case []float32:
		dt = engine.FP32
	case []float64:
		dt = engine.FP64
	case []int64:
		dt = engine.INT64
	case []int32:
		dt = engine.INT32
	case []int8:
		dt = engine.INT8
	case []uint8:
		dt = engine.UINT8
	case []bool:
		dt = engine.BOOL
	default:
		panic(fmt.Sprintf("BUG: codecTensor of %T", values))
	}
	data, err := binary.Append(nil, binary.LittleEndian, values)
	if err != nil {
		panic(err)
	}
	return engine.Tensor{Name: name, DType: dt, Shape: shape, Data: data}
}

// checkTensors reports whether got holds exactly want.
func checkTensors(t *testing.T, what string, got, want []engine.Tensor) {
	t.Helper()
	if len(got) != len(want) {
		t.Fatalf("%s: %d tensors; want %d", what, len(got), len(want))
	}
	for i := range want {
		g, w := &got[i], &want[i]
		if g.Name != w.Name || g.DType != w.DType || !slices.Equal(g.Shape, w.Shape) || !bytes.Equal(g.Data, w.Data) {
			t.Fatalf("%s: tensor %d = {%q %s %v % x}; want {%q %s %v % x}",
				what, i, g.Name, g.DType, g.Shape, g.Data, w.Name, w.DType, w.Shape, w.Data)
		}
	}
}

// wantRequest is what a decoded request should hold.
type wantRequest struct {
	id      *string // nil: no id
	inputs  []engine.Tensor
	outputs []bool
	timeout time.Duration
}

func checkRequest(t *testing.T, body string, r *inferRequest, want wantRequest) {
	t.Helper()
	what := fmt.Sprintf("decodeInferRequest(%s)", body)
	switch {
	case want.id == nil && r.id != nil:
		t.Fatalf("%s: id = %q; want nil", what, r.id)
	case want.id != nil && (r.id == nil || string(r.id) != *want.id):
		t.Fatalf("%s: id = %q (nil: %t); want %q", what, r.id, r.id == nil, *want.id)
	}
	checkTensors(t, what, r.inputs, want.inputs)
	if !slices.Equal(r.outputs, want.outputs) {
		t.Fatalf("%s: outputs = %v; want %v", what, r.outputs, want.outputs)
	}
	if r.timeout != want.timeout {
		t.Fatalf("%s: timeout = %v; want %v", what, r.timeout, want.timeout)
	}
}

func ptr[T any](v T) *T { return &v }

func TestDecodeInferRequestSuccess(t *testing.T) {
	var r inferRequest // shared: each decode must leave nothing behind for the next
	f := func(sig *engine.Signature, body string, want wantRequest) {
		t.Helper()
		if err := decodeInferRequest([]byte(body), nil, sig, &r); err != nil {
			t.Fatalf("decodeInferRequest(%s) = %v; want success", body, err)
		}
		checkRequest(t, body, &r, want)
		var fresh inferRequest // and one without capacity to reuse
		if err := decodeInferRequest([]byte(body), nil, sig, &fresh); err != nil {
			t.Fatalf("decodeInferRequest(%s) into a new request = %v; want success", body, err)
		}
		checkRequest(t, body, &fresh, want)
	}
	sig := codecSig()
	all := []bool{true, true}

	// Flat data.
	f(sig, `{"inputs":[{"name":"input","shape":[2,3],"datatype":"FP32","data":[1,2,3,4.5,-5e-1,6]}]}`, wantRequest{
		inputs:  []engine.Tensor{codecTensor("input", []int64{2, 3}, []float32{1, 2, 3, 4.5, -0.5, 6})},
		outputs: all,
	})
	// Nested data, whitespace.
	f(sig, ` { "inputs" : [ { "name" : "input" , "shape" : [ 2 , 3 ] , "datatype" : "FP32" ,
		"data" : [ [ 0.1 , 0.2 , 0.3 ] , [ 1E2 , -0 , 3.4028235e38 ] ] } ] } `, wantRequest{
		inputs:  []engine.Tensor{codecTensor("input", []int64{2, 3}, []float32{0.1, 0.2, 0.3, 100, float32(math.Copysign(0, -1)), math.MaxFloat32})},
		outputs: all,
	})
	// Nesting need not follow the shape: only the count matters.
	f(sig, `{"inputs":[{"name":"input","shape":[2,3],"datatype":"FP32","data":[[1],[2,[3,4]],[],5,[[6]]]}]}`, wantRequest{
		inputs:  []engine.Tensor{codecTensor("input", []int64{2, 3}, []float32{1, 2, 3, 4, 5, 6})},
		outputs: all,
	})
	// No rows.
	f(sig, `{"inputs":[{"name":"input","shape":[0,3],"datatype":"FP32","data":[]}]}`, wantRequest{
		inputs:  []engine.Tensor{{Name: "input", DType: engine.FP32, Shape: []int64{0, 3}, Data: []byte{}}},
		outputs: all,
	})
	// A float32 that needs correct rounding (from a float64 halfway between two float32s)
	// and values that need the slow path.
	f(sig, `{"inputs":[{"name":"input","shape":[1,3],"datatype":"FP32","data":[1.00000005960464477539062500001,0.10000000149011612,1e-45]}]}`, wantRequest{
		inputs:  []engine.Tensor{codecTensor("input", []int64{1, 3}, []float32{math.Nextafter32(1, 2), 0.1, math.SmallestNonzeroFloat32})},
		outputs: all,
	})

	// Exact float32 midpoints round to even.
	f(sig, `{"inputs":[{"name":"input","shape":[1,3],"datatype":"FP32","data":[16777217,16777219,-16777217.0]}]}`, wantRequest{
		inputs:  []engine.Tensor{codecTensor("input", []int64{1, 3}, []float32{16777216, 16777220, -16777216})},
		outputs: all,
	})

	// Every datatype, inputs out of signature order, integers written as floats.
	f(codecAllTypesSig(), `{"inputs":[
		{"name":"b","shape":[4],"datatype":"BOOL","data":[true,false,1,0]},
		{"name":"u8","shape":[3],"datatype":"UINT8","data":[0,255,7.0]},
		{"name":"i8","shape":[3],"datatype":"INT8","data":[-128,127,-0]},
		{"name":"i32","shape":[3],"datatype":"INT32","data":[-2147483648,2147483647,1e3]},
		{"name":"i64","shape":[4],"datatype":"INT64","data":[-9223372036854775808,9223372036854775807,0.5e1,12345678901234567890e-1]},
		{"name":"f64","shape":[4],"datatype":"FP64","data":[0.1,-1.7976931348623157e308,5e-324,1.2345678901234567e-300]},
		{"name":"f32","shape":[2],"datatype":"FP32","data":[0.1,-1e-3]}
	]}`, wantRequest{
		inputs: []engine.Tensor{
			codecTensor("f32", []int64{2}, []float32{0.1, -1e-3}),
			codecTensor("f64", []int64{4}, []float64{0.1, -math.MaxFloat64, 5e-324, 1.2345678901234567e-300}),
			codecTensor("i64", []int64{4}, []int64{math.MinInt64, math.MaxInt64, 5, 1234567890123456789}),
			codecTensor("i32", []int64{3}, []int32{math.MinInt32, math.MaxInt32, 1000}),
			codecTensor("i8", []int64{3}, []int8{-128, 127, 0}),
			codecTensor("u8", []int64{3}, []uint8{0, 255, 7}),
			codecTensor("b", []int64{4}, []bool{true, false, true, false}),
		},
		outputs: []bool{true},
	})

	// Output selection, id, timeout and fields the codec ignores.
	f(sig, `{"id":"req-\"7\"\n\u00e9","unknown":{"x":[1]},"parameters":{"timeout":2500,"priority":1},
		"inputs":[{"name":"input","shape":[1,3],"datatype":"FP32","parameters":{"content_type":"np"},"data":[1,2,3]}],
		"outputs":[{"name":"probabilities","parameters":{"binary_data":false}}]}`, wantRequest{
		id:      ptr("req-\"7\"\né"),
		inputs:  []engine.Tensor{codecTensor("input", []int64{1, 3}, []float32{1, 2, 3})},
		outputs: []bool{false, true},
		timeout: 2500 * time.Microsecond,
	})
	// An empty id is still an id; an output named twice is requested once.
	f(sig, `{"id":"","inputs":[{"name":"input","shape":[1,3],"datatype":"FP32","data":[1,2,3]}],
		"outputs":[{"name":"label"},{"name":"label"}]}`, wantRequest{
		id:      ptr(""),
		inputs:  []engine.Tensor{codecTensor("input", []int64{1, 3}, []float32{1, 2, 3})},
		outputs: []bool{true, false},
	})
	// Null optional fields and an empty "outputs" count as absent.
	f(sig, `{"id":null,"parameters":{"timeout":null},"outputs":[],
		"inputs":[{"name":"input","shape":[1,3],"datatype":"FP32","data":[1,2,3]}]}`, wantRequest{
		inputs:  []engine.Tensor{codecTensor("input", []int64{1, 3}, []float32{1, 2, 3})},
		outputs: all,
	})
	f(sig, `{"parameters":null,"outputs":null,"inputs":[{"name":"input","shape":[1,3],"datatype":"FP32","data":[1,2,3]}]}`, wantRequest{
		inputs:  []engine.Tensor{codecTensor("input", []int64{1, 3}, []float32{1, 2, 3})},
		outputs: all,
	})

	// A scalar input and an escaped key.
	scalar := &engine.Signature{Inputs: []engine.TensorInfo{{Name: "t", DType: engine.INT64, Shape: []int64{}}}}
	f(scalar, `{"inp\u0075ts":[{"name":"\u0074","shape":[],"datatype":"INT64","data":[42]}],"parameters":{"timeout":0}}`, wantRequest{
		inputs:  []engine.Tensor{codecTensor("t", []int64{}, []int64{42})},
		outputs: []bool{},
	})
}

// TestDecodeInferRequestCopies checks that a decoded request refers neither to
// the body nor to the pooled parser.
func TestDecodeInferRequestCopies(t *testing.T) {
	sig := codecSig()
	body := []byte(`{"id":"first","inputs":[{"name":"input","shape":[1,3],"datatype":"FP32","data":[1,2,3]}]}`)
	var r inferRequest
	if err := decodeInferRequest(body, nil, sig, &r); err != nil {
		t.Fatal(err)
	}
	for i := range body {
		body[i] = 'x'
	}
	// Reuse the pooled parser for another request.
	var r2 inferRequest
	other := `{"id":"other","inputs":[{"name":"input","shape":[1,3],"datatype":"FP32","data":[7,8,9]}]}`
	if err := decodeInferRequest([]byte(other), nil, sig, &r2); err != nil {
		t.Fatal(err)
	}
	checkRequest(t, "first request, after its body was overwritten", &r, wantRequest{
		id:      ptr("first"),
		inputs:  []engine.Tensor{codecTensor("input", []int64{1, 3}, []float32{1, 2, 3})},
		outputs: []bool{true, true},
	})
}

func TestDecodeInferRequestFailure(t *testing.T) {
	var r inferRequest
	good := `{"id":"good","inputs":[{"name":"input","shape":[1,3],"datatype":"FP32","data":[1,2,3]}]}`
	goodWant := wantRequest{
		id:      ptr("good"),
		inputs:  []engine.Tensor{codecTensor("input", []int64{1, 3}, []float32{1, 2, 3})},
		outputs: []bool{true, true},
	}
	fsig := func(sig *engine.Signature, body, want string) {
		t.Helper()
		err := decodeInferRequest([]byte(body), nil, sig, &r)
		var re *httpapi.RequestError
		if !errors.As(err, &re) {
			t.Fatalf("decodeInferRequest(%s) = %v (%T); want a *httpapi.RequestError", body, err, err)
		}
		if !strings.Contains(err.Error(), want) {
			t.Fatalf("decodeInferRequest(%s) = %q; want it to contain %q", body, err, want)
		}
		// The failed request leaves nothing behind.
		if r.id != nil || len(r.inputs) != 0 || len(r.outputs) != 0 || r.timeout != 0 {
			t.Fatalf("after decodeInferRequest(%s) failed, r = %+v; want it reset", body, r)
		}
		if err := decodeInferRequest([]byte(good), nil, codecSig(), &r); err != nil {
			t.Fatalf("decodeInferRequest(%s) after a failure = %v", good, err)
		}
		checkRequest(t, good, &r, goodWant)
	}
	f := func(body, want string) {
		t.Helper()
		fsig(codecSig(), body, want)
	}
	// in wraps one input object in a request.
	in := func(fields string) string { return `{"inputs":[{` + fields + `}]}` }
	// data is an FP32 input of shape [2,3] with the given data.
	data := func(d string) string {
		return in(`"name":"input","datatype":"FP32","shape":[2,3],"data":` + d)
	}

	// The JSON itself.
	f(``, "malformed JSON: cannot parse JSON: cannot parse empty string")
	f(`{"inputs":[`, "malformed JSON: cannot parse JSON")
	f(`{"inputs":[]} x`, `malformed JSON: unexpected tail: "x"`)
	f(`[1]`, "request must be a JSON object, not array")
	f(`"inputs"`, "request must be a JSON object, not string")

	// "inputs".
	f(`{}`, `missing "inputs"`)
	f(`{"inputs":null}`, `"inputs" must be an array, not null`)
	f(`{"inputs":{"name":"input"}}`, `"inputs" must be an array, not object`)
	f(`{"inputs":[]}`, `"inputs" must not be empty`)
	f(`{"inputs":[1]}`, `inputs[0] must be an object, not number`)

	// Names.
	f(in(`"datatype":"FP32","shape":[1,3],"data":[1,2,3]`), `inputs[0]: missing "name"`)
	f(in(`"name":3,"datatype":"FP32","shape":[1,3],"data":[1,2,3]`), `inputs[0]: "name" must be a string, not number`)
	f(in(`"name":"features","datatype":"FP32","shape":[1,3],"data":[1,2,3]`),
		`unknown input "features"; the model's inputs are "input"`)
	f(`{"inputs":[{"name":"input","datatype":"FP32","shape":[1,3],"data":[1,2,3]},
		{"name":"input","datatype":"FP32","shape":[1,3],"data":[1,2,3]}]}`, `input "input" appears more than once`)
	two := &engine.Signature{
		Inputs: []engine.TensorInfo{
			{Name: "input", DType: engine.FP32, Shape: []int64{-1, 3}},
			{Name: "mask", DType: engine.BOOL, Shape: []int64{-1, 3}},
		},
		Outputs: codecSig().Outputs,
	}
	fsig(two, in(`"name":"input","datatype":"FP32","shape":[1,3],"data":[1,2,3]`), `missing input "mask"`)
	fsig(two, in(`"name":"mask","datatype":"BOOL","shape":[1,3],"data":[1,0,true]`), `missing input "input"`)

	// Datatypes.
	f(in(`"name":"input","shape":[1,3],"data":[1,2,3]`), `input "input": missing "datatype"`)
	f(in(`"name":"input","datatype":32,"shape":[1,3],"data":[1,2,3]`), `input "input": "datatype" must be a string, not number`)
	f(in(`"name":"input","datatype":"INT64","shape":[1,3],"data":[1,2,3]`),
		`input "input": datatype INT64 does not match the model's FP32`)
	f(in(`"name":"input","datatype":"FP16","shape":[1,3],"data":[1,2,3]`),
		`input "input": datatype FP16 is not supported; supported are FP32, FP64, INT64, INT32, INT8, UINT8, BOOL`)
	f(in(`"name":"input","datatype":"BYTES","shape":[1,3],"data":["a","b","c"]`), `datatype BYTES is not supported`)
	f(in(`"name":"input","datatype":"float32","shape":[1,3],"data":[1,2,3]`),
		`input "input": unknown datatype "float32"; supported are FP32,`)

	// Shapes.
	f(in(`"name":"input","datatype":"FP32","data":[1,2,3]`), `input "input": missing "shape"`)
	f(in(`"name":"input","datatype":"FP32","shape":3,"data":[1,2,3]`),
		`input "input": "shape" must be an array of non-negative integers, not number`)
	f(in(`"name":"input","datatype":"FP32","shape":[-1,3],"data":[1,2,3]`),
		`input "input": shape[0] must be a non-negative integer, not -1`)
	f(in(`"name":"input","datatype":"FP32","shape":[1.5,3],"data":[1,2,3]`),
		`input "input": shape[0] must be a non-negative integer, not 1.5`)
	f(in(`"name":"input","datatype":"FP32","shape":[1,"3"],"data":[1,2,3]`),
		`input "input": shape[1] must be a non-negative integer, not string`)
	f(in(`"name":"input","datatype":"FP32","shape":[1,03],"data":[1,2,3]`),
		`input "input": shape[1] = 03 is not a valid JSON number`)
	f(in(`"name":"input","datatype":"FP32","shape":[Infinity,3],"data":[1,2,3]`),
		`input "input": shape[0] = Infinity is not a valid JSON number`)
	f(in(`"name":"input","datatype":"FP32","shape":[3],"data":[1,2,3]`),
		`input "input": shape [3] does not match the model's shape [-1,3]`)
	f(in(`"name":"input","datatype":"FP32","shape":[1,4],"data":[1,2,3,4]`),
		`input "input": shape [1,4] does not match the model's shape [-1,3]`)
	f(in(`"name":"input","datatype":"FP32","shape":[1,3,1],"data":[1,2,3]`),
		`input "input": shape [1,3,1] does not match the model's shape [-1,3]`)
	f(in(`"name":"input","datatype":"FP32","shape":[9223372036854775807,3],"data":[1,2,3]`),
		`input "input": shape [9223372036854775807,3] has too many elements`)

	// Data: presence and count.
	f(in(`"name":"input","datatype":"FP32","shape":[1,3]`), `input "input": missing "data"`)
	f(in(`"name":"input","datatype":"FP32","shape":[1,3],"data":{"a":1}`), `input "input": "data" must be an array, not object`)
	f(in(`"name":"input","datatype":"FP32","shape":[1,3],"data":"1,2,3"`), `input "input": "data" must be an array, not string`)
	f(data(`[1,2,3,4,5]`), `input "input": "data" holds 5 elements, but shape [2,3] needs 6`)
	f(data(`[[1,2,3],[4,5,6],[7]]`), `input "input": "data" holds 7 elements, but shape [2,3] needs 6`)

	// Data: elements that are not numbers.
	f(data(`[1,"2",3,4,5,6]`), `input "input": data[1] is non-numeric (string)`)
	f(data(`[[1,2,3],[4,null,6]]`), `input "input": data[4] is non-numeric (null)`)
	f(data(`[1,2,3,4,5,{"v":6}]`), `input "input": data[5] is non-numeric (object)`)
	f(data(`[true,2,3,4,5,6]`), `input "input": data[0] is non-numeric (true)`)
	f(data(`[1,NaN,3,4,5,6]`), `input "input": data[1] = NaN is not finite; JSON cannot carry NaN or infinities, binary data can`)
	f(data(`[1,2,-Inf,4,5,6]`), `input "input": data[2] = -Infinity is not finite`)
	f(data(`[1,2,3,Infinity,5,6]`), `input "input": data[3] = Infinity is not finite`)
	f(data(`[[1, 2, 3], [4, 5, -Infinity]]`), `input "input": data[5] = -Infinity is not finite`)
	f(data(`[1,2,3,4,5,Infinity`), "malformed JSON")
	f(data(`[1,2,3,4,5,Infinityx]`), "malformed JSON")
	f(data(`[1,2,3,4,5,"Infinity"]`), `input "input": data[5] is non-numeric (string)`)
	f(data(`[1,2,3,+4,5,6]`), `input "input": data[3] = +4 is not a valid JSON number`)
	f(data(`[1,2,3,4,05,6]`), `input "input": data[4] = 05 is not a valid JSON number`)
	f(data(`[1,2,3,4,5,6.]`), `input "input": data[5] = 6. is not a valid JSON number`)
	f(data(`[.5,2,3,4,5,6]`), `input "input": data[0] = .5 is not a valid JSON number`)
	f(data(`[1,2,3,4,5,1e]`), `input "input": data[5] = 1e is not a valid JSON number`)
	f(data(`[1,2,3,4,5,1-2]`), `input "input": data[5] = 1-2 is not a valid JSON number`)

	// Data: numbers out of range for the datatype.
	f(data(`[1,2,3,4,5,1e39]`), `input "input": data[5] = 1e39 is out of range for FP32`)
	f(data(`[1,2,3,4,5,-3.5e38]`), `input "input": data[5] = -3.5e38 is out of range for FP32`)
	all := codecAllTypesSig()
	one := func(name, dtype, value string) string {
		var sb strings.Builder
		sb.WriteString(`{"inputs":[`)
		for i, in := range all.Inputs {
			if i > 0 {
				sb.WriteByte(',')
			}
			v, dt := "1", in.DType.String()
			if in.Name == name {
				v, dt = value, dtype
			}
			fmt.Fprintf(&sb, `{"name":%q,"datatype":%q,"shape":[1],"data":[%s]}`, in.Name, dt, v)
		}
		sb.WriteString(`]}`)
		return sb.String()
	}
	fsig(all, one("f64", "FP64", "1e309"), `input "f64": data[0] = 1e309 is out of range for FP64`)
	fsig(all, one("f64", "FP64", "-1e400"), `input "f64": data[0] = -1e400 is out of range for FP64`)
	fsig(all, one("i64", "INT64", "1.5"), `input "i64": data[0] = 1.5 is not an integer, as INT64 needs`)
	fsig(all, one("i64", "INT64", "1e-30"), `input "i64": data[0] = 1e-30 is not an integer`)
	fsig(all, one("i64", "INT64", "1.00000000000000000000001"), `input "i64": data[0] = 1.00000000000000000000001 is not an integer`)
	fsig(all, one("i64", "INT64", "10000000000000000001e-1"), `input "i64": data[0] = 10000000000000000001e-1 is not an integer`)
	fsig(all, one("i64", "INT64", "9223372036854775808"), `input "i64": data[0] = 9223372036854775808 is out of range for INT64`)
	fsig(all, one("i64", "INT64", "-9223372036854775809"), `input "i64": data[0] = -9223372036854775809 is out of range for INT64`)
	fsig(all, one("i64", "INT64", "1e19"), `input "i64": data[0] = 1e19 is out of range for INT64`)
	fsig(all, one("i64", "INT64", "123456789012345678901234"), `data[0] = 123456789012345678901234 is out of range for INT64`)
	fsig(all, one("i32", "INT32", "2147483648"), `input "i32": data[0] = 2147483648 is out of range for INT32`)
	fsig(all, one("i32", "INT32", "-2147483649"), `input "i32": data[0] = -2147483649 is out of range for INT32`)
	fsig(all, one("i8", "INT8", "128"), `input "i8": data[0] = 128 is out of range for INT8`)
	fsig(all, one("i8", "INT8", "-129"), `input "i8": data[0] = -129 is out of range for INT8`)
	fsig(all, one("u8", "UINT8", "256"), `input "u8": data[0] = 256 is out of range for UINT8`)
	fsig(all, one("u8", "UINT8", "-1"), `input "u8": data[0] = -1 is out of range for UINT8`)
	fsig(all, one("u8", "UINT8", "true"), `input "u8": data[0] is non-numeric (true)`)
	fsig(all, one("b", "BOOL", "2"), `input "b": data[0] = 2 is not a boolean or 0/1`)
	fsig(all, one("b", "BOOL", "0.5"), `input "b": data[0] = 0.5 is not an integer, as BOOL needs`)
	fsig(all, one("b", "BOOL", `"true"`), `input "b": data[0] is not a boolean or 0/1 (string)`)
	fsig(all, one("i64", "INT64", "Infinity"), `input "i64": data[0] = Infinity is not finite`)
	fsig(all, one("b", "BOOL", "NaN"), `input "b": data[0] = NaN is not finite`)

	// "outputs".
	body := func(outputs string) string {
		return `{"inputs":[{"name":"input","datatype":"FP32","shape":[1,3],"data":[1,2,3]}],"outputs":` + outputs + `}`
	}
	f(body(`{"name":"label"}`), `"outputs" must be an array, not object`)
	f(body(`["label"]`), `outputs[0] must be an object, not string`)
	f(body(`[{"name":"label"},{}]`), `outputs[1]: missing "name"`)
	f(body(`[{"name":null}]`), `outputs[0]: "name" must be a string, not null`)
	f(body(`[{"name":"score"}]`), `unknown output "score"; the model's outputs are "label", "probabilities"`)

	// "id" and "parameters".
	f(`{"id":7,"inputs":[{"name":"input","datatype":"FP32","shape":[1,3],"data":[1,2,3]}]}`, `"id" must be a string, not number`)
	params := func(p string) string {
		return `{"parameters":` + p + `,"inputs":[{"name":"input","datatype":"FP32","shape":[1,3],"data":[1,2,3]}]}`
	}
	f(params(`[]`), `"parameters" must be an object, not array`)
	f(params(`{"timeout":-1}`), `parameters.timeout must not be negative, got -1`)
	f(params(`{"timeout":-1e30}`), `parameters.timeout must not be negative, got -1e30`)
	f(params(`{"timeout":1.5}`), `parameters.timeout must be an integer number of microseconds, not 1.5`)
	f(params(`{"timeout":"1s"}`), `parameters.timeout must be an integer number of microseconds, not string`)
	f(params(`{"timeout":9223372036854776}`), `parameters.timeout 9223372036854776 is too large`)
	f(params(`{"timeout":1e30}`), `parameters.timeout 1e30 is too large`)
	f(params(`{"timeout":NaN}`), `parameters.timeout: NaN is not a valid JSON number`)
	f(params(`{"timeout": Infinity}`), `parameters.timeout: Infinity is not a valid JSON number`)
}

func TestInferRequestReset(t *testing.T) {
	var r inferRequest
	body := `{"id":"x","parameters":{"timeout":5},"inputs":[{"name":"input","datatype":"FP32","shape":[1,3],"data":[1,2,3]}]}`
	if err := decodeInferRequest([]byte(body), nil, codecSig(), &r); err != nil {
		t.Fatal(err)
	}
	data := r.inputs[0].Data
	r.reset()
	if r.id != nil || len(r.inputs) != 0 || len(r.outputs) != 0 || r.timeout != 0 {
		t.Fatalf("after reset, r = %+v; want it empty", r)
	}
	all := r.inputs[:cap(r.inputs)]
	if len(all) == 0 || all[0].Name != "" || all[0].DType != engine.DTypeInvalid || len(all[0].Data) != 0 || cap(all[0].Data) != cap(data) {
		t.Fatalf("after reset, r.inputs[:cap] = %+v; want cleared entries that keep their capacity", all)
	}
}

func TestScanNumber(t *testing.T) {
	f := func(s string, want jsonNumber) {
		t.Helper()
		got, ok := scanNumber([]byte(s))
		if !ok || got != want {
			t.Fatalf("scanNumber(%q) = %+v, %t; want %+v, true", s, got, ok, want)
		}
	}
	f("0", jsonNumber{})
	f("-0", jsonNumber{neg: true})
	f("0.000", jsonNumber{exp: -3})
	f("12.5e-3", jsonNumber{mant: 125, exp: -4, nd: 3})
	f("1E+2", jsonNumber{mant: 1, exp: 2, nd: 1})
	f("0.0012", jsonNumber{mant: 12, exp: -4, nd: 2})
	f("12345678901234567890", jsonNumber{mant: 1234567890123456789, exp: 1, nd: 19})
	f("12345678901234567891", jsonNumber{mant: 1234567890123456789, exp: 1, nd: 19, trunc: true})
	f("1.2345678901234567890", jsonNumber{mant: 1234567890123456789, exp: -18, nd: 19})
	f("1e99999999999999999999", jsonNumber{mant: 1, exp: 9999999, nd: 1}) // clamped, far beyond any float

	for _, s := range []string{"", "-", "+1", "01", "-01", "1.", ".5", "1e", "1e+", "1.e5", "1x", "NaN", "Inf", "-Inf", "0x10", "1_000", " 1", "1 "} {
		if n, ok := scanNumber([]byte(s)); ok {
			t.Errorf("scanNumber(%q) = %+v, true; want false", s, n)
		}
	}
}
