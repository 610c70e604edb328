package server

import (
	"errors"
	"strconv"

	"github.com/valyala/fastjson"

	"github.com/switchyard-ml/switchyard/engine"
	"github.com/switchyard-ml/switchyard/server/internal/httpapi"
)

// The binary tensor data extension of the Open Inference Protocol, as Triton
// and KServe define it. A request body may be a JSON header followed by raw
// tensor bytes: binaryHeader gives the length of the JSON, and each input
// whose "parameters" hold "binary_data_size" takes that many bytes from what
// follows, in the order of the "inputs" array. Outputs asked for with
// "binary_data" (or, for all of them, the request's "binary_data_output")
// are answered the same way. Tensor bytes are little-endian and row-major,
// as engine.Tensor.Data holds them, so each binary tensor moves with one
// copy.

// binaryHeader carries the length of the JSON that starts a request or
// response body with binary tensor data.
const binaryHeader = "Inference-Header-Content-Length"

// contentTypeBinary is the Content-Type of a response that carries binary
// tensor data after its JSON.
const contentTypeBinary = "application/octet-stream"

// splitBody splits a request body into its JSON and its binary section,
// given header, the value of binaryHeader. With no header (nil or empty) the
// whole body is JSON. Both results alias body. Errors are *httpapi.RequestError.
func splitBody(header, body []byte) (jsonPart, binaryPart []byte, err error) {
	if len(header) == 0 {
		return body, nil, nil
	}
	n, err := strconv.ParseUint(b2s(header), 10, 64)
	if err != nil && !errors.Is(err, strconv.ErrRange) {
		return nil, nil, httpapi.RequestErrorf("%s: %q is not a non-negative integer", binaryHeader, string(header))
	}
	if err != nil || n > uint64(len(body)) {
		return nil, nil, httpapi.RequestErrorf("%s: %s is larger than the body (%d bytes)", binaryHeader, string(header), len(body))
	}
	return body[:n], body[n:], nil
}

// binarySection hands out the binary section of a request body to the inputs
// that declare binary_data_size, in the order they appear in "inputs". It
// aliases the request body, so it lives only while the request is decoded.
type binarySection struct {
	rest  []byte // not yet handed out
	total int    // the section's length, for messages
}

// newBinarySection returns the section b, the bytes after the JSON.
func newBinarySection(b []byte) binarySection {
	return binarySection{rest: b, total: len(b)}
}

// next returns the next size bytes for input name.
func (s *binarySection) next(name string, size int64) ([]byte, error) {
	if size > int64(len(s.rest)) {
		if s.total == 0 {
			return nil, httpapi.RequestErrorf("input %q: binary_data_size is %d, but the request carries no binary data; "+
				"send the length of the JSON in the %s header and the tensor bytes after it", name, size, binaryHeader)
		}
		return nil, httpapi.RequestErrorf("input %q: binary_data_size is %d, but only %d of the %d bytes of binary data are left",
			name, size, len(s.rest), s.total)
	}
	b := s.rest[:size]
	s.rest = s.rest[size:]
	return b, nil
}

// finish reports binary data that no input claimed.
func (s *binarySection) finish() error {
	if len(s.rest) > 0 {
		return httpapi.RequestErrorf("the binary data after the JSON holds %d bytes, but the inputs' binary_data_size add up to %d",
			s.total, s.total-len(s.rest))
	}
	return nil
}

// binaryDataSize returns the binary_data_size of the input whose "parameters"
// are params, and whether it has one. Absent or null parameters, or an
// absent or null binary_data_size, mean the input's data is JSON.
func binaryDataSize(params *fastjson.Value, info *engine.TensorInfo, r *inferRequest) (size int64, ok bool, err error) {
	if isAbsent(params) {
		return 0, false, nil
	}
	if params.Type() != fastjson.TypeObject {
		return 0, false, httpapi.RequestErrorf(`input %q: "parameters" must be an object, not %s`, info.Name, params.Type())
	}
	v := params.Get("binary_data_size")
	if isAbsent(v) {
		return 0, false, nil
	}
	if v.Type() != fastjson.TypeNumber {
		return 0, false, httpapi.RequestErrorf("input %q: parameters.binary_data_size must be a non-negative integer, not %s",
			info.Name, v.Type())
	}
	raw := r.numberText(v)
	num, valid := scanNumber(raw)
	if !valid {
		return 0, false, httpapi.RequestErrorf("input %q: parameters.binary_data_size = %s is not a valid JSON number", info.Name, string(raw))
	}
	size, st := num.int64()
	if st != numOK || size < 0 {
		return 0, false, httpapi.RequestErrorf("input %q: parameters.binary_data_size must be a non-negative integer, not %s",
			info.Name, string(raw))
	}
	return size, true, nil
}

// copyBinaryInput copies size bytes of binary data into t, whose shape holds
// n elements, after checking that size is what the shape and datatype need.
// t.Data keeps its capacity; the copy is the only one.
func copyBinaryInput(t *engine.Tensor, n int, size int64, bin *binarySection) error {
	es := int64(t.DType.Size())
	if size%es != 0 || size/es != int64(n) {
		return httpapi.RequestErrorf("input %q: binary_data_size is %d, but shape %s of %s needs %d bytes",
			t.Name, size, shapeText(t.Shape), t.DType, int64(n)*es)
	}
	b, err := bin.next(t.Name, size)
	if err != nil {
		return err
	}
	if t.DType == engine.BOOL {
		for k, c := range b {
			if c > 1 {
				return httpapi.RequestErrorf("input %q: binary BOOL element %d is %d, not 0 or 1", t.Name, k, c)
			}
		}
	}
	t.Data = append(t.Data[:0], b...)
	return nil
}

// boolParameter returns the boolean parameter v, or dflt when v is absent or
// null; ok is false when v is something else.
func boolParameter(v *fastjson.Value, dflt bool) (b, ok bool) {
	switch {
	case isAbsent(v):
		return dflt, true
	case v.Type() == fastjson.TypeTrue:
		return true, true
	case v.Type() == fastjson.TypeFalse:
		return false, true
	}
	return false, false
}

// outputBinary reports whether the "outputs" entry o, naming the output
// called name, asks for binary data; an entry without "binary_data" takes
// dflt, the request's binary_data_output.
func outputBinary(o *fastjson.Value, name []byte, dflt bool) (bool, error) {
	params := o.Get("parameters")
	if isAbsent(params) {
		return dflt, nil
	}
	if params.Type() != fastjson.TypeObject {
		return false, httpapi.RequestErrorf(`output %q: "parameters" must be an object, not %s`, name, params.Type())
	}
	v := params.Get("binary_data")
	b, ok := boolParameter(v, dflt)
	if !ok {
		return false, httpapi.RequestErrorf("output %q: parameters.binary_data must be a boolean, not %s", name, v.Type())
	}
	return b, nil
}

// appendBinaryOutputs appends the Data of every output that
// appendInferResponse wrote as binary, with the same outs, selected and
// binary, in the same order, and returns the extended slice. It allocates
// only when dst lacks capacity.
func appendBinaryOutputs(dst []byte, outs []engine.Tensor, selected, binary []bool) []byte {
	for j := range binary {
		if binary[j] && (selected == nil || selected[j]) {
			dst = append(dst, outs[j].Data...)
		}
	}
	return dst
}
