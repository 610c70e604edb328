package server

import (
	"bytes"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"io"
	"math"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/switchyard-ml/switchyard/engine"
	"github.com/switchyard-ml/switchyard/internal/onnx"
	"github.com/switchyard-ml/switchyard/internal/testenv"
	"github.com/switchyard-ml/switchyard/server/internal/httpapi"
)

// post sends body to path with the Inference-Header-Content-Length header
// set to header, or without it when header is "".
func (ts *testServer) post(t *testing.T, path string, body []byte, header string) response {
	t.Helper()
	req, err := http.NewRequest("POST", ts.url+path, bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	if header != "" {
		req.Header.Set(binaryHeader, header)
		req.Header.Set("Content-Type", contentTypeBinary)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("POST %s: %v", path, err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return response{resp.StatusCode, resp.Header, b}
}

// answerOutput is one output of a response that may carry binary data.
type answerOutput struct {
	Name       string          `json:"name"`
	Datatype   string          `json:"datatype"`
	Shape      []int64         `json:"shape"`
	Data       json.RawMessage `json:"data"`
	Parameters struct {
		BinaryDataSize *int64 `json:"binary_data_size"`
	} `json:"parameters"`
	// Binary holds the output's bytes from after the JSON, nil for an
	// output sent as JSON.
	Binary []byte `json:"-"`
}

// inferBinary posts body to path and decodes the answer, which must be a
// success. When binaryOut is true the answer must carry binary data and
// Inference-Header-Content-Length; otherwise it must be plain JSON without
// that header.
func (ts *testServer) inferBinary(t *testing.T, path string, body []byte, header string, binaryOut bool) []answerOutput {
	t.Helper()
	r := ts.post(t, path, body, header)
	if r.status != 200 {
		t.Fatalf("POST %s %.80q = %d %s", path, body, r.status, r.body)
	}
	if r.header.Get("X-Model-Version") == "" {
		t.Fatalf("POST %s: no X-Model-Version in %v", path, r.header)
	}
	js, rest := r.body, []byte(nil)
	if binaryOut {
		n, err := strconv.Atoi(r.header.Get(binaryHeader))
		if err != nil || n > len(r.body) || r.header.Get("Content-Type") != contentTypeBinary {
			t.Fatalf("POST %s: headers %v of a %d-byte answer; want %s and a JSON length", path, r.header, len(r.body), contentTypeBinary)
		}
		js, rest = r.body[:n], r.body[n:]
	} else if r.header.Get(binaryHeader) != "" || r.header.Get("Content-Type") != httpapi.ContentTypeJSON {
		t.Fatalf("POST %s: headers %v; want plain JSON", path, r.header)
	}
	var resp struct {
		ModelVersion string         `json:"model_version"`
		Outputs      []answerOutput `json:"outputs"`
	}
	if err := json.Unmarshal(js, &resp); err != nil {
		t.Fatalf("POST %s: %v in %q", path, err, js)
	}
	if resp.ModelVersion != r.header.Get("X-Model-Version") {
		t.Fatalf("POST %s: model_version %q but X-Model-Version %q", path, resp.ModelVersion, r.header.Get("X-Model-Version"))
	}
	for i := range resp.Outputs {
		o := &resp.Outputs[i]
		size := o.Parameters.BinaryDataSize
		if size == nil {
			continue
		}
		if o.Data != nil || *size > int64(len(rest)) {
			t.Fatalf("POST %s: output %q has binary_data_size %d with %d bytes left and data %s", path, o.Name, *size, len(rest), o.Data)
		}
		o.Binary, rest = rest[:*size], rest[*size:]
	}
	if len(rest) != 0 {
		t.Fatalf("POST %s: %d bytes after the last binary output", path, len(rest))
	}
	return resp.Outputs
}

// float32s reads little-endian float32s.
func float32s(t *testing.T, b []byte) []float32 {
	t.Helper()
	if len(b)%4 != 0 {
		t.Fatalf("%d bytes are not float32s", len(b))
	}
	x := make([]float32, len(b)/4)
	for i := range x {
		x[i] = math.Float32frombits(binary.LittleEndian.Uint32(b[4*i:]))
	}
	return x
}

// jsonFloats reads a JSON "data" array of numbers.
func jsonFloats(t *testing.T, data json.RawMessage) []float64 {
	t.Helper()
	var x []float64
	if err := json.Unmarshal(data, &x); err != nil {
		t.Fatalf("data %s: %v", data, err)
	}
	return x
}

// TestBinaryInferMatchesJSON sends the same rows as JSON and as binary data,
// asking for the answer in JSON and in binary, and checks that all agree
// with each other and with the model's reference.
func TestBinaryInferMatchesJSON(t *testing.T) {
	ts := startServer(t, Config{})
	const mlp = "/v2/models/mlp/infer"
	for _, n := range []int{1, 5} {
		x := testenv.Rows(uint64(n), n*30)
		in := codecTensor("input", []int64{int64(n), 30}, x)
		jsonBody, _ := new(binaryBuilder).json(in).request("")
		binBody, header := new(binaryBuilder).binary(in).request("")
		binOut := `"parameters":{"binary_data_output":true}`
		jsonBodyBinOut, _ := new(binaryBuilder).json(in).request(binOut)
		binBodyBinOut, headerBinOut := new(binaryBuilder).binary(in).request(binOut)

		want := ts.inferBinary(t, mlp, jsonBody, "", false)
		if len(want) != 1 || want[0].Name != "output" || want[0].Binary != nil {
			t.Fatalf("JSON answer = %+v", want)
		}
		wantProbs := jsonFloats(t, want[0].Data)
		closeTo(t, "JSON request, JSON answer vs reference", wantProbs, testMLP.Predict(x))

		got := ts.inferBinary(t, mlp, binBody, header, false)
		within(t, "binary request, JSON answer vs JSON request", float32sOf(jsonFloats(t, got[0].Data)), wantProbs, 1e-6)
		for _, c := range []struct {
			what   string
			body   []byte
			header string
		}{
			{"JSON request, binary answer", jsonBodyBinOut, ""},
			{"binary request, binary answer", binBodyBinOut, headerBinOut},
		} {
			got := ts.inferBinary(t, mlp, c.body, c.header, true)
			o := got[0]
			if len(got) != 1 || o.Name != "output" || o.Datatype != "FP32" || !slices.Equal(o.Shape, []int64{int64(n), 2}) ||
				o.Parameters.BinaryDataSize == nil || *o.Parameters.BinaryDataSize != int64(n*2*4) {
				t.Fatalf("%s = %+v", c.what, got)
			}
			within(t, c.what+" vs JSON answer", float32s(t, o.Binary), wantProbs, 1e-6)
		}
	}

	// Two outputs, one binary and one JSON, from a binary request.
	x := testenv.Rows(60, 3*6)
	in := codecTensor("input", []int64{3, 6}, x)
	body, header := new(binaryBuilder).binary(in).request(
		`"outputs":[{"name":"label","parameters":{"binary_data":true}},{"name":"probabilities"}]`)
	got := ts.inferBinary(t, "/v2/models/forest/infer", body, header, true)
	wantLabels, wantProbs := testForest.Predict(x)
	if len(got) != 2 || got[0].Name != "label" || got[0].Datatype != "INT64" || got[1].Binary != nil {
		t.Fatalf("forest answer = %+v", got)
	}
	labels := make([]int64, 3)
	if n, err := binary.Decode(got[0].Binary, binary.LittleEndian, labels); err != nil || n != len(got[0].Binary) {
		t.Fatalf("forest labels: %d of %d bytes decoded: %v", n, len(got[0].Binary), err)
	}
	if !slices.Equal(labels, wantLabels) {
		t.Fatalf("forest labels in binary = %v; want %v", labels, wantLabels)
	}
	closeTo(t, "forest probabilities in JSON", jsonFloats(t, got[1].Data), wantProbs)
}

// float32sOf narrows JSON numbers that were float32s.
func float32sOf(x []float64) []float32 {
	y := make([]float32, len(x))
	for i, v := range x {
		y[i] = float32(v)
	}
	return y
}

// TestBinaryMixedInputs sends the Typed model's seven inputs, some as binary
// data and some as JSON, in an order unlike the model's, and checks every
// output, binary or JSON, against the reference exactly.
func TestBinaryMixedInputs(t *testing.T) {
	ts := startServer(t, Config{})
	typed := onnx.Typed{Width: 2}
	in := onnx.TypedValues{
		FP32:  []float32{1.5, -2, 0.1, 3e38, -0, 7},
		FP64:  []float64{0.25, 1e300, -3, 5e-324, 2, 9},
		INT64: []int64{math.MaxInt64, -3, 1 << 40, 0, -1, 5},
		INT32: []int32{7, -8, math.MinInt32, 1, 2, 3},
		INT8:  []int8{5, -128, 127, 0, 1, -1},
		UINT8: []uint8{0, 255, 1, 2, 3, 4},
		BOOL:  []bool{true, false, false, true, true, false},
	}
	want := typed.Predict(in)
	shape := []int64{3, 2}
	body, header := new(binaryBuilder).
		binary(codecTensor("x_bool", shape, in.BOOL)).
		json(codecTensor("x_fp64", shape, in.FP64)).
		binary(codecTensor("x_int64", shape, in.INT64)).
		json(codecTensor("x_int32", shape, in.INT32)).
		binary(codecTensor("x_fp32", shape, in.FP32)).
		json(codecTensor("x_uint8", shape, in.UINT8)).
		binary(codecTensor("x_int8", shape, in.INT8)).
		request(`"parameters":{"binary_data_output":true},"outputs":[{"name":"y_fp64","parameters":{"binary_data":false}},` +
			`{"name":"y_fp32"},{"name":"y_int64"},{"name":"y_int32"},{"name":"y_int8"},{"name":"y_uint8"},{"name":"y_bool"}]`)
	got := ts.inferBinary(t, "/v2/models/typed/infer", body, header, true)
	wantOuts := []engine.Tensor{
		codecTensor("y_fp32", shape, want.FP32),
		codecTensor("y_fp64", shape, want.FP64),
		codecTensor("y_int64", shape, want.INT64),
		codecTensor("y_int32", shape, want.INT32),
		codecTensor("y_int8", shape, want.INT8),
		codecTensor("y_uint8", shape, want.UINT8),
		codecTensor("y_bool", shape, want.BOOL),
	}
	if len(got) != len(wantOuts) {
		t.Fatalf("typed answer has %d outputs; want %d", len(got), len(wantOuts))
	}
	for j, w := range wantOuts {
		o := got[j]
		if o.Name != w.Name || o.Datatype != w.DType.String() || !slices.Equal(o.Shape, shape) {
			t.Fatalf("output %d = %+v; want %s %s %v", j, o, w.Name, w.DType, shape)
		}
		if w.Name == "y_fp64" {
			if o.Binary != nil || !slices.Equal(jsonFloats(t, o.Data), want.FP64) {
				t.Fatalf("y_fp64 = %s (binary % x); want JSON %v", o.Data, o.Binary, want.FP64)
			}
			continue
		}
		if !bytes.Equal(o.Binary, w.Data) {
			t.Fatalf("%s in binary = % x; want % x", w.Name, o.Binary, w.Data)
		}
	}
}

// TestBinaryOutputCarriesNaN checks that NaN and infinities, which JSON
// cannot carry, come back as binary data.
func TestBinaryOutputCarriesNaN(t *testing.T) {
	ts := startServer(t, Config{})
	x := codecTensor("input", []int64{1, 4}, []float32{float32(math.NaN()), float32(math.Inf(1)), float32(math.Inf(-1)), 1})
	body, header := new(binaryBuilder).binary(x).request(`"parameters":{"binary_data_output":true}`)
	got := ts.inferBinary(t, "/v2/models/fixed/infer", body, header, true)
	y := float32s(t, got[0].Binary)
	if len(y) != 4 || !math.IsNaN(float64(y[0])) || !math.IsInf(float64(y[1]), 1) || !math.IsInf(float64(y[2]), -1) || y[3] != 2 {
		t.Fatalf("fixed model on NaN, +Inf, -Inf, 1 = %v; want NaN, +Inf, -Inf, 2", y)
	}
	body, header = new(binaryBuilder).binary(x).request("")
	if r := ts.post(t, "/v2/models/fixed/infer", body, header); r.status == 200 || !strings.Contains(string(r.body), "JSON cannot carry") {
		t.Fatalf("NaN answer in JSON = %d %s; want an error saying JSON cannot carry it", r.status, r.body)
	}
}

// TestBinaryBadRequests sends each kind of malformed binary request, checks
// that it gets 400 naming the problem, and checks after each one that the
// server still answers a good binary request correctly.
func TestBinaryBadRequests(t *testing.T) {
	ts := startServer(t, Config{})
	const infer = "/v2/models/mlp/infer"
	x := testenv.Rows(9, 2*30)
	in := codecTensor("input", []int64{2, 30}, x)
	good, goodHeader := new(binaryBuilder).binary(in).request(`"parameters":{"binary_data_output":true}`)
	f := func(body []byte, header, want string) {
		t.Helper()
		r := ts.post(t, infer, body, header)
		var e struct{ Error string }
		if err := json.Unmarshal(r.body, &e); r.status != 400 || err != nil || !strings.Contains(e.Error, want) {
			t.Errorf("POST %s %.60q (header %q) = %d %s; want 400 {\"error\": ...%q...}", infer, body, header, r.status, r.body, want)
		}
		got := ts.inferBinary(t, infer, good, goodHeader, true)
		closeTo(t, "good binary request after a bad one", float64s(float32s(t, got[0].Binary)), testMLP.Predict(x))
	}
	one := func(obj string, bin []byte, want string) {
		t.Helper()
		body, header := new(binaryBuilder).raw(obj, bin).request("")
		f(body, header, want)
	}
	input := func(params string) string {
		return `{"name":"input","datatype":"FP32","shape":[2,30],"parameters":` + params + `}`
	}
	rest := func(rest, want string) {
		t.Helper()
		body, header := new(binaryBuilder).binary(in).request(rest)
		f(body, header, want)
	}
	f(good, "12x", `Inference-Header-Content-Length: "12x" is not a non-negative integer`)
	f(good, "-1", `Inference-Header-Content-Length: "-1" is not a non-negative integer`)
	f(good, strconv.Itoa(len(good)+1), fmt.Sprintf("Inference-Header-Content-Length: %d is larger than the body (%d bytes)", len(good)+1, len(good)))
	one(input(`{"binary_data_size":"240"}`), in.Data, `parameters.binary_data_size must be a non-negative integer, not string`)
	one(input(`{"binary_data_size":-240}`), in.Data, `parameters.binary_data_size must be a non-negative integer, not -240`)
	one(input(`{"binary_data_size":240.5}`), in.Data, `parameters.binary_data_size must be a non-negative integer, not 240.5`)
	one(`{"name":"input","datatype":"FP32","shape":[2,30],"data":`+string(mustJSON(t, x))+`,"parameters":{"binary_data_size":240}}`, in.Data,
		`input "input": has both "data" and parameters.binary_data_size`)
	one(input(`{"binary_data_size":240}`), in.Data[:239], `binary_data_size is 240, but only 239 of the 239 bytes of binary data are left`)
	one(input(`{"binary_data_size":240}`), append(slices.Clone(in.Data), 1, 2), `the binary data after the JSON holds 242 bytes, but the inputs' binary_data_size add up to 240`)
	one(input(`{"binary_data_size":236}`), in.Data[:236], `binary_data_size is 236, but shape [2,30] of FP32 needs 240 bytes`)
	body, _ := new(binaryBuilder).raw(input(`{"binary_data_size":240}`), nil).request("")
	f(body, "", `binary_data_size is 240, but the request carries no binary data`)
	one(`{"name":"input","datatype":"FP16","shape":[2,30],"parameters":{"binary_data_size":120}}`, make([]byte, 120),
		`input "input": datatype FP16 is not supported`)
	one(`{"name":"input","datatype":"BYTES","shape":[1,1],"parameters":{"binary_data_size":7}}`, []byte("\x03\x00\x00\x00abc"),
		`input "input": datatype BYTES is not supported`)
	rest(`"parameters":{"binary_data_output":"yes"}`, `parameters.binary_data_output must be a boolean, not string`)
	rest(`"outputs":[{"name":"output","parameters":{"binary_data":1}}]`, `output "output": parameters.binary_data must be a boolean, not number`)
}

// float64s widens float32s.
func float64s(x []float32) []float64 {
	y := make([]float64, len(x))
	for i, v := range x {
		y[i] = float64(v)
	}
	return y
}

func mustJSON(t *testing.T, v any) []byte {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return b
}
