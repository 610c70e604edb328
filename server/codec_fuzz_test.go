package server

import (
	"bytes"
	"encoding/binary"
	"encoding/json"
	"errors"
	"math"
	"math/big"
	"slices"
	"strconv"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/switchyard-ml/switchyard/engine"
	"github.com/switchyard-ml/switchyard/server/internal/httpapi"
)

// codecFuzzSigs are the models fuzzed requests are decoded against: one with
// an input "x" of each datatype and two dynamic dimensions, and the fraud
// model of codecSig with a second input.
func codecFuzzSigs() []*engine.Signature {
	var sigs []*engine.Signature
	for dt := engine.FP32; dt <= engine.BOOL; dt++ {
		sigs = append(sigs, &engine.Signature{
			Inputs:  []engine.TensorInfo{{Name: "x", DType: dt, Shape: []int64{-1, -1}}},
			Outputs: []engine.TensorInfo{{Name: "y", DType: engine.FP32, Shape: []int64{-1}}},
		})
	}
	fraud := codecSig()
	fraud.Inputs = append(fraud.Inputs, engine.TensorInfo{Name: "mask", DType: engine.BOOL, Shape: []int64{-1}})
	return append(sigs, fraud)
}

var codecFuzzSeeds = []string{
	`{"inputs":[{"name":"x","shape":[2,3],"datatype":"FP32","data":[1,2,3,4.5,-5e-1,6]}]}`,
	`{"inputs":[{"name":"x","shape":[2,2],"datatype":"FP64","data":[[0.1,1e300],[5e-324,-0]]}]}`,
	`{"id":"a\u00e9\"","inputs":[{"name":"x","shape":[1,3],"datatype":"INT64","data":[-9223372036854775808,9223372036854775807,1e3]}]}`,
	`{"inputs":[{"name":"x","shape":[3,1],"datatype":"INT32","data":[[-2147483648],[2147483647],[0]]}]}`,
	`{"inputs":[{"name":"x","shape":[1,2],"datatype":"INT8","data":[-128,127]}],"parameters":{"timeout":100}}`,
	`{"inputs":[{"name":"x","shape":[1,2],"datatype":"UINT8","data":[0,255]}],"outputs":[{"name":"y"}]}`,
	`{"inputs":[{"name":"x","shape":[2,2],"datatype":"BOOL","data":[true,false,1,0]}]}`,
	`{"inputs":[{"name":"x","shape":[0,5],"datatype":"FP32","data":[]}]}`,
	`{"id":"42","inputs":[{"name":"input","shape":[1,3],"datatype":"FP32","data":[[0.1,0.2,0.3]]},
		{"name":"mask","shape":[2],"datatype":"BOOL","data":[true,false]}],"outputs":[{"name":"probabilities"}]}`,
	`{"id":"","inputs":[{"name":"x","shape":[1,3],"datatype":"INT64","data":[10,0,0]}]}`,
}

// codecFuzzBadSeeds are requests every model rejects.
var codecFuzzBadSeeds = []string{
	`{"inputs":[{"name":"x","shape":[1,3],"datatype":"FP32","data":[1,NaN,3]}]}`,
	`{"inputs": [{"name": "x", "shape": [1, 3], "datatype": "FP64", "data": [[Infinity, -Infinity, NaN]]}]}`,
	`{"id":"Infinity","inputs":[{"name":"x","shape":[1,2],"datatype":"INT64","data":[1,-Infinity]}]}`,
	`{"inputs":[{"name":"x","shape":[1,1],"datatype":"FP32","data":[3.4028236e38]}]}`,
	`{"inputs":[{"name":"x","shape":[1,2],"datatype":"INT8","data":[-128,128]}]}`,
}

// TestCodecFuzzSeeds checks that the good seeds decode against some model, so
// that the fuzzer starts from requests that reach the encoder.
func TestCodecFuzzSeeds(t *testing.T) {
	sigs := codecFuzzSigs()
	f := func(body string, want bool) {
		t.Helper()
		var r inferRequest
		ok := false
		for _, sig := range sigs {
			ok = ok || decodeInferRequest([]byte(body), nil, sig, &r) == nil
		}
		if ok != want {
			t.Fatalf("decodeInferRequest(%s) succeeds for some model: %t; want %t", body, ok, want)
		}
	}
	for _, s := range codecFuzzSeeds {
		f(s, true)
	}
	for _, s := range codecFuzzBadSeeds {
		f(s, false)
	}
}

func FuzzDecodeInferRequest(f *testing.F) {
	for _, s := range slices.Concat(codecFuzzSeeds, codecFuzzBadSeeds) {
		f.Add([]byte(s))
	}
	sigs := codecFuzzSigs()
	var used inferRequest // decoded into before, so it holds leftovers
	f.Fuzz(func(t *testing.T, body []byte) {
		for _, sig := range sigs {
			var fresh inferRequest
			err := decodeInferRequest(body, nil, sig, &fresh)
			err2 := decodeInferRequest(body, nil, sig, &used)
			if (err == nil) != (err2 == nil) || err != nil && err.Error() != err2.Error() {
				t.Fatalf("decodeInferRequest(%q) = %v into a new request but %v into a used one", body, err, err2)
			}
			if err != nil {
				var re *httpapi.RequestError
				if !errors.As(err, &re) {
					t.Fatalf("decodeInferRequest(%q) = %v (%T); want a *httpapi.RequestError", body, err, err)
				}
				continue
			}
			if !bytes.Equal(fresh.id, used.id) || (fresh.id == nil) != (used.id == nil) ||
				!slices.Equal(fresh.outputs, used.outputs) || fresh.timeout != used.timeout {
				t.Fatalf("decodeInferRequest(%q) differs between a new request and a used one", body)
			}
			checkTensors(t, "new vs used request", used.inputs, fresh.inputs)
			checkDecoded(t, body, sig, &fresh)
			checkReencoded(t, body, &fresh)
		}
	})
}

// checkDecoded checks r against the invariants decodeInferRequest promises.
func checkDecoded(t *testing.T, body []byte, sig *engine.Signature, r *inferRequest) {
	t.Helper()
	if len(r.inputs) != len(sig.Inputs) || len(r.outputs) != len(sig.Outputs) || r.timeout < 0 {
		t.Fatalf("decodeInferRequest(%q) = %d inputs, %d outputs, timeout %v", body, len(r.inputs), len(r.outputs), r.timeout)
	}
	for i := range r.inputs {
		in, info := &r.inputs[i], &sig.Inputs[i]
		if in.Name != info.Name || in.DType != info.DType || !engine.ShapeFits(in.Shape, info.Shape) ||
			int64(len(in.Data)) != engine.Elements(in.Shape)*int64(in.DType.Size()) {
			t.Fatalf("decodeInferRequest(%q): input %d = {%q %s %v, %d bytes} against %+v",
				body, i, in.Name, in.DType, in.Shape, len(in.Data), *info)
		}
		if in.DType == engine.BOOL && bytes.ContainsFunc(in.Data, func(r rune) bool { return r > 1 }) {
			t.Fatalf("decodeInferRequest(%q): BOOL input %q = % x", body, in.Name, in.Data)
		}
	}
}

// checkReencoded writes r's inputs as a response and reads it back with
// encoding/json: the values must survive.
func checkReencoded(t *testing.T, body []byte, r *inferRequest) {
	t.Helper()
	buf, err := appendInferResponse(nil, "m", "1", r.id, nil, r.inputs, nil, nil)
	if err != nil {
		t.Fatalf("decodeInferRequest(%q) decoded values appendInferResponse rejects: %v", body, err)
	}
	var resp struct {
		ID      *string `json:"id"`
		Outputs []struct {
			Name     string            `json:"name"`
			Datatype string            `json:"datatype"`
			Shape    []int64           `json:"shape"`
			Data     []json.RawMessage `json:"data"`
		} `json:"outputs"`
	}
	if err := json.Unmarshal(buf, &resp); err != nil {
		t.Fatalf("response %s to %q is not JSON: %v", buf, body, err)
	}
	if (resp.ID != nil) != (r.id != nil) || r.id != nil && utf8.Valid(r.id) && *resp.ID != string(r.id) {
		t.Fatalf("id %q came back as %v", r.id, resp.ID)
	}
	if len(resp.Outputs) != len(r.inputs) {
		t.Fatalf("response %s has %d outputs; want %d", buf, len(resp.Outputs), len(r.inputs))
	}
	for i, out := range resp.Outputs {
		in := &r.inputs[i]
		if out.Name != in.Name || out.Datatype != in.DType.String() || !slices.Equal(out.Shape, in.Shape) ||
			len(out.Data) != int(engine.Elements(in.Shape)) {
			t.Fatalf("response %s: output %d does not match input %q %s %v", buf, i, in.Name, in.DType, in.Shape)
		}
		size := in.DType.Size()
		for k, raw := range out.Data {
			if got, want := fuzzElement(t, in.DType, string(raw)), in.Data[k*size:(k+1)*size]; !bytes.Equal(got, want) {
				t.Fatalf("%s element %d: %s reads back as % x; decoded as % x (request %q)", in.Name, k, raw, got, want, body)
			}
		}
	}
}

// fuzzElement parses one JSON element with the standard library into the
// engine's bytes.
func fuzzElement(t *testing.T, dt engine.DType, s string) []byte {
	t.Helper()
	le := binary.LittleEndian
	var err error
	var b []byte
	switch dt {
	case engine.FP32:
		var f float64
		f, err = strconv.ParseFloat(s, 32)
		b = le.AppendUint32(nil, math.Float32bits(float32(f)))
	case engine.FP64:
		var f float64
		f, err = strconv.ParseFloat(s, 64)
		b = le.AppendUint64(nil, math.Float64bits(f))
	case engine.BOOL:
		var v bool
		err = json.Unmarshal([]byte(s), &v)
		if v {
			b = []byte{1}
		} else {
			b = []byte{0}
		}
	default:
		var v int64
		v, err = strconv.ParseInt(s, 10, 64)
		b = le.AppendUint64(nil, uint64(v))[:dt.Size()]
	}
	if err != nil {
		t.Fatalf("%s element %s does not parse: %v", dt, s, err)
	}
	return b
}

// FuzzScanNumber checks scanNumber and the conversions against the JSON
// grammar (as encoding/json checks it), strconv and math/big.
func FuzzScanNumber(f *testing.F) {
	for _, s := range []string{
		"0", "-0", "1", "-1", "0.5", "1e10", "1E-10", "1.5e+300", "123456789012345678901234567890",
		"0.000000000000000000000000000001", "3.4028235e38", "3.4028236e38", "1e-46", "16777217",
		"9223372036854775807", "-9223372036854775808", "9223372036854775808", "1.00000005960464477539062500001",
		"1e", "01", "+1", ".5", "1.", "NaN", "-Inf", "1e400", "4.9e-324", "12345678901234567890e-1",
		"10000000000000000001e-1", "10000000000000000000.5", "-0.07590965", "0.034545645",
		"-0.075909651815891266", "0.12345678901234567891", "3.4028235677973366e38", "1.000000059604644775390625",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		raw := []byte(s)
		n, ok := scanNumber(raw)
		isNumber := len(s) > 0 && (s[0] == '-' || '0' <= s[0] && s[0] <= '9') &&
			strings.TrimSpace(s) == s && json.Valid(raw)
		if ok != isNumber {
			t.Fatalf("scanNumber(%q) ok = %t; encoding/json says %t", s, ok, isNumber)
		}
		if !ok {
			return
		}
		// With bytes after it, digits8 reads the number 8 bytes at a time.
		if np, end, ok := scanNumberPrefix([]byte(s + ",]]}]}  ")); !ok || end != len(s) || np != n {
			t.Fatalf("scanNumberPrefix(%q + padding) = %+v, %d, %t; scanNumber says %+v", s, np, end, ok, n)
		}
		f64, ok64 := n.float64(raw)
		w64, err := strconv.ParseFloat(s, 64)
		if ok64 != (err == nil) || ok64 && math.Float64bits(f64) != math.Float64bits(w64) {
			t.Fatalf("float64(%q) = %v, %t; strconv says %v, %v", s, f64, ok64, w64, err)
		}
		f32, ok32 := n.float32(raw)
		w32, err := strconv.ParseFloat(s, 32)
		if ok32 != (err == nil) || ok32 && math.Float32bits(f32) != math.Float32bits(float32(w32)) {
			t.Fatalf("float32(%q) = %v, %t; strconv says %v, %v", s, f32, ok32, w32, err)
		}
		if n.exp < -400 || n.exp > 400 {
			return // math/big would build a huge power of ten
		}
		i, st := n.int64()
		var exact big.Rat
		if _, ok := exact.SetString(s); !ok {
			t.Fatalf("math/big cannot parse %q", s)
		}
		switch {
		case !exact.IsInt():
			huge := new(big.Int).Quo(exact.Num(), exact.Denom()) // truncated toward zero
			if st != numFraction && (st != numOutOfRange || huge.IsInt64()) {
				t.Fatalf("int64(%q) = %d, %d; want numFraction", s, i, st)
			}
		case !exact.Num().IsInt64():
			if st != numOutOfRange {
				t.Fatalf("int64(%q) = %d, %d; want numOutOfRange", s, i, st)
			}
		case st != numOK || i != exact.Num().Int64():
			t.Fatalf("int64(%q) = %d, %d; want %d", s, i, st, exact.Num().Int64())
		}
	})
}

// codecFuzzBinarySeeds returns requests with binary data, each with its
// Inference-Header-Content-Length: the good seeds that decode against some
// model, rewritten with every input in binary and with inputs alternately
// binary and JSON, and a few broken ones.
func codecFuzzBinarySeeds(t testing.TB) (headers []string, bodies [][]byte) {
	add := func(body []byte, header string) {
		headers = append(headers, header)
		bodies = append(bodies, body)
	}
	for _, s := range codecFuzzSeeds {
		for _, sig := range codecFuzzSigs() {
			var r inferRequest
			if decodeInferRequest([]byte(s), nil, sig, &r) != nil {
				continue
			}
			var all, mixed binaryBuilder
			for i, in := range r.inputs {
				all.binary(in)
				if i%2 == 0 {
					mixed.binary(in)
				} else {
					mixed.json(in)
				}
			}
			add(all.request(`"parameters":{"binary_data_output":true}`))
			add(mixed.request(`"outputs":[{"name":"y","parameters":{"binary_data":true}}]`))
		}
	}
	x := codecTensor("x", []int64{1, 2}, []float32{1, float32(math.NaN())})
	body, header := new(binaryBuilder).binary(x).request("")
	add(body, header)
	add(body[:len(body)-1], header)
	add(append(slices.Clone(body), 0), header)
	add(body, "1000")
	add(body, "")
	body, header = new(binaryBuilder).raw(`{"name":"x","datatype":"BOOL","shape":[1,2],"parameters":{"binary_data_size":2}}`, []byte{1, 2}).request("")
	add(body, header)
	if len(headers) < 10 {
		t.Fatalf("only %d binary seeds", len(headers))
	}
	return headers, bodies
}

// FuzzDecodeBinaryRequest splits a body at its Inference-Header-Content-Length
// and decodes it: nothing may panic, errors must be *httpapi.RequestError, a used
// request must decode as a new one does, and whatever decodes must survive
// being written back as binary data, in a request and in a response.
func FuzzDecodeBinaryRequest(f *testing.F) {
	headers, bodies := codecFuzzBinarySeeds(f)
	for i := range headers {
		f.Add(headers[i], bodies[i])
	}
	sigs := codecFuzzSigs()
	var used inferRequest // decoded into before, so it holds leftovers
	f.Fuzz(func(t *testing.T, header string, body []byte) {
		for _, sig := range sigs {
			var fresh inferRequest
			err := decodeBody(body, header, sig, &fresh)
			err2 := decodeBody(body, header, sig, &used)
			if (err == nil) != (err2 == nil) || err != nil && err.Error() != err2.Error() {
				t.Fatalf("decodeInferRequest(%q, header %q) = %v into a new request but %v into a used one", body, header, err, err2)
			}
			if err != nil {
				var re *httpapi.RequestError
				if !errors.As(err, &re) {
					t.Fatalf("decodeInferRequest(%q, header %q) = %v (%T); want a *httpapi.RequestError", body, header, err, err)
				}
				continue
			}
			if diff := sameRequest(&fresh, &used); diff != "" || !slices.Equal(fresh.binary, used.binary) {
				t.Fatalf("decodeInferRequest(%q, header %q) differs between a new request and a used one: %s", body, header, diff)
			}
			if len(fresh.binary) != 0 && (len(fresh.binary) != len(sig.Outputs) || !slices.Contains(fresh.binary, true)) {
				t.Fatalf("decodeInferRequest(%q, header %q): binary %v for %d outputs", body, header, fresh.binary, len(sig.Outputs))
			}
			checkDecoded(t, body, sig, &fresh)
			checkBinaryRoundTrip(t, body, sig, &fresh)
		}
	})
}

// checkBinaryRoundTrip writes r's inputs back as a binary request and as a
// response with binary outputs, and reads both back.
func checkBinaryRoundTrip(t *testing.T, body []byte, sig *engine.Signature, r *inferRequest) {
	t.Helper()
	var bb binaryBuilder
	for _, in := range r.inputs {
		bb.binary(in)
	}
	again, header := bb.request("")
	var back inferRequest
	if err := decodeBody(again, header, sig, &back); err != nil {
		t.Fatalf("request %q decoded, but its inputs in binary, %q, do not: %v", body, again, err)
	}
	checkTensors(t, "inputs written back in binary", back.inputs, r.inputs)

	binary := make([]bool, len(r.inputs))
	for i := range binary {
		binary[i] = true
	}
	buf, err := appendInferResponse(nil, "m", "1", r.id, nil, r.inputs, nil, binary)
	if err != nil {
		t.Fatalf("decodeInferRequest(%q) decoded inputs appendInferResponse rejects in binary: %v", body, err)
	}
	jsonLen := len(buf)
	buf = appendBinaryOutputs(buf, r.inputs, nil, binary)
	var resp struct {
		Outputs []struct {
			Name       string          `json:"name"`
			Shape      []int64         `json:"shape"`
			Data       json.RawMessage `json:"data"`
			Parameters struct {
				BinaryDataSize int `json:"binary_data_size"`
			} `json:"parameters"`
		} `json:"outputs"`
	}
	if err := json.Unmarshal(buf[:jsonLen], &resp); err != nil {
		t.Fatalf("binary response %q to %q: %v", buf, body, err)
	}
	rest := buf[jsonLen:]
	for i, out := range resp.Outputs {
		in := &r.inputs[i]
		size := out.Parameters.BinaryDataSize
		if out.Name != in.Name || !slices.Equal(out.Shape, in.Shape) || out.Data != nil || size > len(rest) ||
			!bytes.Equal(rest[:size], in.Data) {
			t.Fatalf("binary response %q: output %d does not carry input %q of %d bytes", buf, i, in.Name, len(in.Data))
		}
		rest = rest[size:]
	}
	if len(resp.Outputs) != len(r.inputs) || len(rest) != 0 {
		t.Fatalf("binary response %q: %d outputs and %d bytes left; want %d and 0", buf, len(resp.Outputs), len(rest), len(r.inputs))
	}
}
