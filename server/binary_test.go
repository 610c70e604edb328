package server

import (
	"bytes"
	"errors"
	"fmt"
	"math"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/switchyard-ml/switchyard/engine"
	"github.com/switchyard-ml/switchyard/server/internal/httpapi"
)

// binaryBuilder writes a V2 request whose inputs travel as binary data, as
// JSON, or as written.
type binaryBuilder struct {
	inputs []string // the input objects, in order
	bin    []byte   // the binary section
}

// binary adds t as an input whose data follows the JSON.
func (b *binaryBuilder) binary(t engine.Tensor) *binaryBuilder {
	b.inputs = append(b.inputs, fmt.Sprintf(`{"name":%q,"datatype":%q,"shape":%s,"parameters":{"binary_data_size":%d}}`,
		t.Name, t.DType, shapeText(t.Shape), len(t.Data)))
	b.bin = append(b.bin, t.Data...)
	return b
}

// json adds t as an input with JSON "data".
func (b *binaryBuilder) json(t engine.Tensor) *binaryBuilder {
	data, err := appendData(nil, &t)
	if err != nil {
		panic(err)
	}
	b.inputs = append(b.inputs, fmt.Sprintf(`{"name":%q,"datatype":%q,"shape":%s,"data":[%s]}`,
		t.Name, t.DType, shapeText(t.Shape), data))
	return b
}

// raw adds the input object obj as written, and bin to the binary section.
func (b *binaryBuilder) raw(obj string, bin []byte) *binaryBuilder {
	b.inputs = append(b.inputs, obj)
	b.bin = append(b.bin, bin...)
	return b
}

// request returns the request body, with rest (such as `"outputs":[...]`)
// added to the request object, and the value of its
// Inference-Header-Content-Length header: the length of the JSON.
func (b *binaryBuilder) request(rest string) (body []byte, header string) {
	js := `{"inputs":[` + strings.Join(b.inputs, ",") + `]`
	if rest != "" {
		js += "," + rest
	}
	js += "}"
	return append([]byte(js), b.bin...), strconv.Itoa(len(js))
}

// decodeBody decodes body as runInfer does, given its
// Inference-Header-Content-Length header ("" for none).
func decodeBody(body []byte, header string, sig *engine.Signature, r *inferRequest) error {
	js, bin, err := splitBody([]byte(header), body)
	if err != nil {
		r.reset()
		return err
	}
	return decodeInferRequest(js, bin, sig, r)
}

func TestSplitBodySuccess(t *testing.T) {
	f := func(header, body, wantJSON, wantBinary string) {
		t.Helper()
		js, bin, err := splitBody([]byte(header), []byte(body))
		if err != nil || string(js) != wantJSON || string(bin) != wantBinary {
			t.Fatalf("splitBody(%q, %q) = %q, %q, %v; want %q, %q", header, body, js, bin, err, wantJSON, wantBinary)
		}
	}
	f("", `{"a":1}xyz`, `{"a":1}xyz`, "")
	f("7", `{"a":1}xyz`, `{"a":1}`, "xyz")
	f("10", `{"a":1}xyz`, `{"a":1}xyz`, "")
	f("0", `xyz`, ``, "xyz")
	f("007", `{"a":1}xyz`, `{"a":1}`, "xyz")
}

func TestSplitBodyFailure(t *testing.T) {
	f := func(header, want string) {
		t.Helper()
		_, _, err := splitBody([]byte(header), []byte(`{"a":1}xyz`))
		var re *httpapi.RequestError
		if !errors.As(err, &re) || err.Error() != want {
			t.Fatalf("splitBody(%q) = %v; want the *httpapi.RequestError %q", header, err, want)
		}
	}
	f("abc", `Inference-Header-Content-Length: "abc" is not a non-negative integer`)
	f("-1", `Inference-Header-Content-Length: "-1" is not a non-negative integer`)
	f("+7", `Inference-Header-Content-Length: "+7" is not a non-negative integer`)
	f("7.0", `Inference-Header-Content-Length: "7.0" is not a non-negative integer`)
	f("0x7", `Inference-Header-Content-Length: "0x7" is not a non-negative integer`)
	f("11", `Inference-Header-Content-Length: 11 is larger than the body (10 bytes)`)
	f("99999999999999999999999", `Inference-Header-Content-Length: 99999999999999999999999 is larger than the body (10 bytes)`)
}

// typedTensors are one tensor per datatype of codecAllTypesSig, holding the
// extremes of each type.
func typedTensors() []engine.Tensor {
	return []engine.Tensor{
		codecTensor("f32", []int64{3}, []float32{0.1, -math.MaxFloat32, math.SmallestNonzeroFloat32}),
		codecTensor("f64", []int64{2}, []float64{-0.1, math.MaxFloat64}),
		codecTensor("i64", []int64{2}, []int64{math.MinInt64, math.MaxInt64}),
		codecTensor("i32", []int64{2}, []int32{math.MinInt32, math.MaxInt32}),
		codecTensor("i8", []int64{2}, []int8{-128, 127}),
		codecTensor("u8", []int64{3}, []uint8{0, 255, 7}),
		codecTensor("b", []int64{4}, []bool{true, false, false, true}),
	}
}

func TestDecodeBinaryRequestSuccess(t *testing.T) {
	var r inferRequest // shared: each decode must leave nothing behind for the next
	f := func(sig *engine.Signature, body []byte, header string, want []engine.Tensor, outputs, binary []bool) {
		t.Helper()
		for _, into := range []*inferRequest{&r, new(inferRequest)} {
			if err := decodeBody(body, header, sig, into); err != nil {
				t.Fatalf("decodeInferRequest(%q, header %s) = %v; want success", body, header, err)
			}
			what := fmt.Sprintf("decodeInferRequest(%q, header %s)", body, header)
			checkTensors(t, what, into.inputs, want)
			if !slices.Equal(into.outputs, outputs) || !slices.Equal(into.binary, binary) {
				t.Fatalf("%s: outputs %v, binary %v; want %v, %v", what, into.outputs, into.binary, outputs, binary)
			}
		}
	}
	all := codecAllTypesSig()
	tensors := typedTensors()

	// Every datatype as binary data, in an order unlike the signature's:
	// the binary section follows the "inputs" array. The same request in
	// JSON decodes the same.
	var bb, jb binaryBuilder
	for _, i := range []int{6, 2, 0, 5, 3, 1, 4} {
		bb.binary(tensors[i])
		jb.json(tensors[i])
	}
	body, header := bb.request("")
	f(all, body, header, tensors, []bool{true}, []bool{})
	body, _ = jb.request("")
	f(all, body, "", tensors, []bool{true}, []bool{})

	// Binary and JSON inputs mixed; the header may also be sent when the
	// binary section is empty.
	var mb binaryBuilder
	for i, tensor := range tensors {
		if i%2 == 0 {
			mb.binary(tensor)
		} else {
			mb.json(tensor)
		}
	}
	body, header = mb.request("")
	f(all, body, header, tensors, []bool{true}, []bool{})
	body, header = jb.request("")
	f(all, body, header, tensors, []bool{true}, []bool{})

	// NaN and infinities travel in binary, though JSON cannot carry them.
	odd := codecTensor("input", []int64{1, 3}, []float32{float32(math.NaN()), float32(math.Inf(1)), float32(math.Inf(-1))})
	body, header = new(binaryBuilder).binary(odd).request("")
	f(codecSig(), body, header, []engine.Tensor{odd}, []bool{true, true}, []bool{})

	// No rows: zero bytes, and no header needed.
	empty := engine.Tensor{Name: "input", DType: engine.FP32, Shape: []int64{0, 3}, Data: []byte{}}
	body, _ = new(binaryBuilder).binary(empty).request("")
	f(codecSig(), body, "", []engine.Tensor{empty}, []bool{true, true}, []bool{})

	// Null parameters count as absent.
	x := codecTensor("input", []int64{1, 3}, []float32{1, 2, 3})
	body, _ = new(binaryBuilder).raw(`{"name":"input","datatype":"FP32","shape":[1,3],"data":[1,2,3],"parameters":{"binary_data_size":null}}`, nil).
		request(`"parameters":{"binary_data_output":null},"outputs":[{"name":"label","parameters":{"binary_data":null}}]`)
	f(codecSig(), body, "", []engine.Tensor{x}, []bool{true, false}, []bool{})
	body, header = new(binaryBuilder).raw(`{"name":"input","datatype":"FP32","shape":[1,3],"data":null,"parameters":{"binary_data_size":12}}`, x.Data).request("")
	f(codecSig(), body, header, []engine.Tensor{x}, []bool{true, true}, []bool{})

	// Binary outputs: the request's binary_data_output is every output's
	// default, and an output's binary_data overrides it.
	in := new(binaryBuilder).binary(x)
	g := func(rest string, outputs, binary []bool) {
		t.Helper()
		body, header := in.request(rest)
		f(codecSig(), body, header, []engine.Tensor{x}, outputs, binary)
	}
	g(`"parameters":{"binary_data_output":true}`, []bool{true, true}, []bool{true, true})
	g(`"parameters":{"binary_data_output":false}`, []bool{true, true}, []bool{})
	g(`"parameters":{"binary_data_output":true},"outputs":[]`, []bool{true, true}, []bool{true, true})
	g(`"outputs":[{"name":"probabilities","parameters":{"binary_data":true}}]`, []bool{false, true}, []bool{false, true})
	g(`"outputs":[{"name":"label","parameters":{"binary_data":true}},{"name":"probabilities"}]`, []bool{true, true}, []bool{true, false})
	g(`"parameters":{"binary_data_output":true},"outputs":[{"name":"label","parameters":{"binary_data":false}},{"name":"probabilities"}]`,
		[]bool{true, true}, []bool{false, true})
	g(`"parameters":{"binary_data_output":true},"outputs":[{"name":"label","parameters":{}}]`, []bool{true, false}, []bool{true, false})
	g(`"outputs":[{"name":"label","parameters":{"binary_data":false,"classification":2}}]`, []bool{true, false}, []bool{})
	g(`"outputs":[{"name":"label","parameters":{"binary_data":true}},{"name":"label","parameters":{"binary_data":true}}]`,
		[]bool{true, false}, []bool{true, false})
}

// TestDecodeBinaryRequestCopies checks that a decoded binary input refers to
// neither the body nor its binary section.
func TestDecodeBinaryRequestCopies(t *testing.T) {
	x := codecTensor("input", []int64{1, 3}, []float32{1, 2, 3})
	body, header := new(binaryBuilder).binary(x).request("")
	var r inferRequest
	if err := decodeBody(body, header, codecSig(), &r); err != nil {
		t.Fatal(err)
	}
	for i := range body {
		body[i] = 'x'
	}
	checkTensors(t, "binary input after its body was overwritten", r.inputs, []engine.Tensor{x})
}

func TestDecodeBinaryRequestFailure(t *testing.T) {
	var r inferRequest
	x := codecTensor("input", []int64{2, 3}, []float32{1, 2, 3, 4, 5, 6})
	good, goodHeader := new(binaryBuilder).binary(x).request(`"parameters":{"binary_data_output":true}`)
	fsig := func(sig *engine.Signature, body []byte, header, want string) {
		t.Helper()
		err := decodeBody(body, header, sig, &r)
		var re *httpapi.RequestError
		if !errors.As(err, &re) {
			t.Fatalf("decodeInferRequest(%q, header %q) = %v (%T); want a *httpapi.RequestError", body, header, err, err)
		}
		if !strings.Contains(err.Error(), want) {
			t.Fatalf("decodeInferRequest(%q, header %q) = %q; want it to contain %q", body, header, err, want)
		}
		if r.id != nil || len(r.inputs) != 0 || len(r.outputs) != 0 || len(r.binary) != 0 || r.timeout != 0 {
			t.Fatalf("after decodeInferRequest(%q) failed, r = %+v; want it reset", body, r)
		}
		if err := decodeBody(good, goodHeader, codecSig(), &r); err != nil {
			t.Fatalf("decodeInferRequest(%q) after a failure = %v", good, err)
		}
		checkTensors(t, "good request after a failure", r.inputs, []engine.Tensor{x})
		if !slices.Equal(r.binary, []bool{true, true}) {
			t.Fatalf("good request after a failure: binary %v; want [true true]", r.binary)
		}
	}
	f := func(body []byte, header, want string) {
		t.Helper()
		fsig(codecSig(), body, header, want)
	}
	// one is a request with one raw input object and its binary data, sent
	// with the header that covers exactly the JSON.
	one := func(obj string, bin []byte, want string) {
		t.Helper()
		body, header := new(binaryBuilder).raw(obj, bin).request("")
		f(body, header, want)
	}
	input := func(params string) string {
		return `{"name":"input","datatype":"FP32","shape":[2,3],"parameters":` + params + `}`
	}

	// The header.
	f(good, "x", `Inference-Header-Content-Length: "x" is not a non-negative integer`)
	f(good, "-5", `Inference-Header-Content-Length: "-5" is not a non-negative integer`)
	f(good, strconv.Itoa(len(good)+1), fmt.Sprintf("Inference-Header-Content-Length: %d is larger than the body (%d bytes)", len(good)+1, len(good)))
	f(good, "10", "malformed JSON")

	// binary_data_size itself.
	one(input(`{"binary_data_size":"24"}`), x.Data, `input "input": parameters.binary_data_size must be a non-negative integer, not string`)
	one(input(`{"binary_data_size":-24}`), x.Data, `input "input": parameters.binary_data_size must be a non-negative integer, not -24`)
	one(input(`{"binary_data_size":24.5}`), x.Data, `input "input": parameters.binary_data_size must be a non-negative integer, not 24.5`)
	one(input(`{"binary_data_size":1e30}`), x.Data, `input "input": parameters.binary_data_size must be a non-negative integer, not 1e30`)
	one(input(`{"binary_data_size":true}`), x.Data, `input "input": parameters.binary_data_size must be a non-negative integer, not true`)
	one(input(`{"binary_data_size":NaN}`), x.Data, `input "input": parameters.binary_data_size = NaN is not a valid JSON number`)
	one(input(`[24]`), x.Data, `input "input": "parameters" must be an object, not array`)

	// Data in both places.
	one(`{"name":"input","datatype":"FP32","shape":[2,3],"data":[1,2,3,4,5,6],"parameters":{"binary_data_size":24}}`, x.Data,
		`input "input": has both "data" and parameters.binary_data_size; binary data must come without "data"`)

	// Sizes and the binary section disagree.
	one(input(`{"binary_data_size":24}`), x.Data[:20],
		`input "input": binary_data_size is 24, but only 20 of the 20 bytes of binary data are left`)
	one(input(`{"binary_data_size":24}`), append(slices.Clone(x.Data), 0),
		`the binary data after the JSON holds 25 bytes, but the inputs' binary_data_size add up to 24`)
	body, _ := new(binaryBuilder).raw(input(`{"binary_data_size":24}`), nil).request("")
	f(body, "", `input "input": binary_data_size is 24, but the request carries no binary data; `+
		`send the length of the JSON in the Inference-Header-Content-Length header and the tensor bytes after it`)
	// Bytes after the JSON that no input claims are refused even when no
	// input is binary.
	plain, _ := new(binaryBuilder).json(x).request("")
	f(append(plain, 1, 2, 3), strconv.Itoa(len(plain)),
		`the binary data after the JSON holds 3 bytes, but the inputs' binary_data_size add up to 0`)
	// Bytes after the JSON without the header are not binary data.
	body, _ = new(binaryBuilder).raw(input(`{"binary_data_size":24}`), x.Data).request("")
	f(body, "", "malformed JSON")
	one(input(`{"binary_data_size":20}`), x.Data[:20], `input "input": binary_data_size is 20, but shape [2,3] of FP32 needs 24 bytes`)
	one(input(`{"binary_data_size":48}`), append(slices.Clone(x.Data), x.Data...),
		`input "input": binary_data_size is 48, but shape [2,3] of FP32 needs 24 bytes`)

	// Two inputs: the sizes are taken in the order of "inputs".
	two := &engine.Signature{
		Inputs: []engine.TensorInfo{
			{Name: "input", DType: engine.FP32, Shape: []int64{-1, 3}},
			{Name: "mask", DType: engine.BOOL, Shape: []int64{-1}},
		},
		Outputs: codecSig().Outputs,
	}
	mask := codecTensor("mask", []int64{2}, []bool{true, false})
	body, header := new(binaryBuilder).binary(mask).binary(x).request("")
	fsig(two, body[:len(body)-1], header, `input "input": binary_data_size is 24, but only 23 of the 25 bytes of binary data are left`)
	body, header = new(binaryBuilder).binary(x).raw(`{"name":"mask","datatype":"BOOL","shape":[2],"parameters":{"binary_data_size":2}}`, []byte{1, 2}).request("")
	fsig(two, body, header, `input "mask": binary BOOL element 1 is 2, not 0 or 1`)

	// Datatypes the model does not take, or switchyard does not serve, are
	// refused as in JSON, before their binary data is looked at.
	one(`{"name":"input","datatype":"FP16","shape":[2,3],"parameters":{"binary_data_size":12}}`, make([]byte, 12), `input "input": datatype FP16 is not supported; supported are FP32, FP64, INT64, INT32, INT8, UINT8, BOOL`)
	one(`{"name":"input","datatype":"BYTES","shape":[1,1],"parameters":{"binary_data_size":7}}`, []byte("\x03\x00\x00\x00abc"), `input "input": datatype BYTES is not supported`)
	one(`{"name":"input","datatype":"FP64","shape":[2,3],"parameters":{"binary_data_size":48}}`, make([]byte, 48), `input "input": datatype FP64 does not match the model's FP32`)

	// Output parameters.
	rest := func(rest, want string) {
		t.Helper()
		body, header := new(binaryBuilder).binary(x).request(rest)
		f(body, header, want)
	}
	rest(`"parameters":{"binary_data_output":"true"}`, `parameters.binary_data_output must be a boolean, not string`)
	rest(`"parameters":{"binary_data_output":1}`, `parameters.binary_data_output must be a boolean, not number`)
	rest(`"outputs":[{"name":"label","parameters":{"binary_data":"yes"}}]`, `output "label": parameters.binary_data must be a boolean, not string`)
	rest(`"outputs":[{"name":"label","parameters":{"binary_data":0}}]`, `output "label": parameters.binary_data must be a boolean, not number`)
	rest(`"outputs":[{"name":"label","parameters":true}]`, `output "label": "parameters" must be an object, not true`)
	rest(`"outputs":[{"name":"label","parameters":{"binary_data":true}},{"name":"label"}]`,
		`output "label" is requested twice, once as binary data and once as JSON`)
}

func TestAppendInferResponseBinary(t *testing.T) {
	label := codecTensor("label", []int64{2}, []int64{1, -1})
	probs := codecTensor("probabilities", []int64{2, 2}, []float32{0.25, float32(math.NaN()), float32(math.Inf(1)), 0})
	outs := []engine.Tensor{label, probs}
	f := func(selected, binary []bool, wantJSON string, wantBinary []byte) {
		t.Helper()
		prefix := []byte("prefix:")
		got, err := appendInferResponse(prefix, "fraud", "2", nil, nil, outs, selected, binary)
		if err != nil {
			t.Fatalf("appendInferResponse(%v, %v) = %v; want success", selected, binary, err)
		}
		jsonLen := len(got)
		got = appendBinaryOutputs(got, outs, selected, binary)
		if !bytes.HasPrefix(got, prefix) {
			t.Fatalf("appendInferResponse lost dst: %q", got)
		}
		js, bin := got[len(prefix):jsonLen], got[jsonLen:]
		if string(js) != wantJSON || !bytes.Equal(bin, wantBinary) {
			t.Fatalf("appendInferResponse(%v, %v) =\n%s\n% x\nwant\n%s\n% x", selected, binary, js, bin, wantJSON, wantBinary)
		}
	}
	const head = `{"model_name":"fraud","model_version":"2","outputs":[`
	labelJSON := `{"name":"label","datatype":"INT64","shape":[2],"data":[1,-1]}`
	labelBinary := `{"name":"label","datatype":"INT64","shape":[2],"parameters":{"binary_data_size":16}}`
	probsBinary := `{"name":"probabilities","datatype":"FP32","shape":[2,2],"parameters":{"binary_data_size":16}}`

	// NaN and +Inf are fine in binary data.
	f(nil, []bool{true, true}, head+labelBinary+","+probsBinary+"]}", slices.Concat(label.Data, probs.Data))
	f([]bool{true, true}, []bool{false, true}, head+labelJSON+","+probsBinary+"]}", probs.Data)
	f([]bool{false, true}, []bool{true, true}, head+probsBinary+"]}", probs.Data)
	f([]bool{true, false}, []bool{true, true}, head+labelBinary+"]}", label.Data)
	f([]bool{true, false}, nil, head+labelJSON+"]}", nil)

	// An output written as JSON still may not hold NaN, and a binary one
	// must still hold what its shape needs.
	fail := func(outs []engine.Tensor, binary []bool, want string) {
		t.Helper()
		got, err := appendInferResponse([]byte("kept"), "fraud", "2", nil, nil, outs, nil, binary)
		if err == nil || !strings.Contains(err.Error(), want) || string(got) != "kept" {
			t.Fatalf("appendInferResponse(%v) = %q, %v; want %q and dst kept", binary, got, err, want)
		}
	}
	fail(outs, []bool{true, false}, `output "probabilities" holds NaN at element 1, which JSON cannot carry`)
	short := engine.Tensor{Name: "label", DType: engine.INT64, Shape: []int64{2}, Data: make([]byte, 8)}
	fail([]engine.Tensor{short}, []bool{true}, `output "label" holds 8 bytes, but shape [2] of INT64 needs 16`)
}
