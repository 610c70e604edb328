package server

import (
	"math"
	"slices"
	"time"

	"github.com/valyala/fastjson"

	"github.com/switchyard-ml/switchyard/engine"
	"github.com/switchyard-ml/switchyard/server/internal/httpapi"
)

// inferRequest is a decoded V2 inference request. Its slices are scratch that
// is reused across requests (pooled by the caller); reset clears it for reuse,
// keeping capacity. An inferRequest is not safe for concurrent use, and
// whoever holds it owns every slice in it until reset.
type inferRequest struct {
	id      []byte          // the request "id", raw string contents unescaped, or nil when absent
	inputs  []engine.Tensor // in signature order: inputs[i] belongs to sig.Inputs[i]; Data bytes reused
	outputs []bool          // outputs[j] true when sig.Outputs[j] is requested; all true when "outputs" is absent
	binary  []bool          // binary[j] true when sig.Outputs[j] is to be sent as binary data; empty when none is
	timeout time.Duration   // from parameters.timeout (microseconds, as Triton); 0 when absent

	idBuf    []byte  // backs id, whose capacity survives requests without an id
	num      []byte  // the text of the number being decoded; see numberText
	shapeBuf []int64 // fastDecode's scratch for a shape before its input is known
}

// numberText returns the JSON text of the number v, valid until the next call.
func (r *inferRequest) numberText(v *fastjson.Value) []byte {
	r.num = v.MarshalTo(r.num[:0])
	return r.num
}

// reset clears r for the next request, keeping the capacity of every slice.
func (r *inferRequest) reset() {
	r.id = nil
	r.idBuf = r.idBuf[:0]
	all := r.inputs[:cap(r.inputs)]
	for i := range all {
		t := &all[i]
		t.Name = ""
		t.DType = engine.DTypeInvalid // also marks the input as not yet seen
		t.Shape = t.Shape[:0]
		t.Data = t.Data[:0]
	}
	r.inputs = r.inputs[:0]
	r.outputs = r.outputs[:0]
	r.binary = r.binary[:0]
	r.timeout = 0
}

// codecParsers holds the parsers of decodeInferRequest. A parser and every
// value it returned stay valid only until it is put back.
var codecParsers fastjson.ParserPool

// decodeInferRequest parses body (a V2 JSON request) against sig into r.
// binaryPart is the binary section that followed the JSON (see splitBody),
// nil or empty when there was none: the inputs that declare binary_data_size
// take their bytes from it in the order of "inputs", and together they must
// take all of it. It uses a pooled fastjson parser and copies every value
// into r before returning, so nothing refers to body, binaryPart or the
// parser afterwards. Errors are *httpapi.RequestError; after an error r is reset. It
// allocates nothing once r and the pooled parser have grown to the size of
// the request.
//
// An "outputs" that is absent, null or empty requests every output; naming an
// output twice requests it once. Optional fields ("id", "parameters",
// "outputs", "timeout", "binary_data_size", "binary_data",
// "binary_data_output") that are null count as absent.
func decodeInferRequest(body, binaryPart []byte, sig *engine.Signature, r *inferRequest) error {
	r.reset()
	// The fast path declines every "parameters", so it never sees a
	// request that asks for binary data in or out.
	if len(binaryPart) == 0 && fastDecode(body, sig, r) {
		return nil
	}
	r.reset()
	p := codecParsers.Get()
	err := decodeParsed(p, body, binaryPart, sig, r)
	codecParsers.Put(p)
	if err != nil {
		r.reset()
	}
	return err
}

// decodeParsed is decodeInferRequest without the fast path: it parses body
// with p, which the caller owns, and leaves r in an unspecified state on
// error.
func decodeParsed(p *fastjson.Parser, body, binaryPart []byte, sig *engine.Signature, r *inferRequest) error {
	v, err := parseLenient(p, body)
	if err != nil {
		return httpapi.RequestErrorf("malformed JSON: %v", err)
	}
	if v.Type() != fastjson.TypeObject {
		return httpapi.RequestErrorf("request must be a JSON object, not %s", v.Type())
	}
	if err := decodeID(v.Get("id"), r); err != nil {
		return err
	}
	binaryOutput, err := decodeParameters(v.Get("parameters"), r)
	if err != nil {
		return err
	}
	if err := decodeOutputs(v.Get("outputs"), sig, binaryOutput, r); err != nil {
		return err
	}
	bin := newBinarySection(binaryPart)
	return decodeInputs(v.Get("inputs"), sig, r, &bin)
}

func isAbsent(v *fastjson.Value) bool { return v == nil || v.Type() == fastjson.TypeNull }

func decodeID(v *fastjson.Value, r *inferRequest) error {
	if isAbsent(v) {
		return nil
	}
	if v.Type() != fastjson.TypeString {
		return httpapi.RequestErrorf(`"id" must be a string, not %s`, v.Type())
	}
	b, _ := v.StringBytes() // cannot fail: v is a string
	r.idBuf = append(r.idBuf[:0], b...)
	if r.idBuf == nil {
		r.idBuf = []byte{} // "id":"" is present, not absent
	}
	r.id = r.idBuf
	return nil
}

// maxTimeoutMicros is the largest parameters.timeout that fits a time.Duration.
const maxTimeoutMicros = math.MaxInt64 / int64(time.Microsecond)

// decodeParameters decodes the request's "parameters" v: the timeout into r,
// and binary_data_output, which it returns.
func decodeParameters(v *fastjson.Value, r *inferRequest) (binaryOutput bool, err error) {
	if isAbsent(v) {
		return false, nil
	}
	if v.Type() != fastjson.TypeObject {
		return false, httpapi.RequestErrorf(`"parameters" must be an object, not %s`, v.Type())
	}
	b := v.Get("binary_data_output")
	binaryOutput, ok := boolParameter(b, false)
	if !ok {
		return false, httpapi.RequestErrorf("parameters.binary_data_output must be a boolean, not %s", b.Type())
	}
	return binaryOutput, decodeTimeout(v.Get("timeout"), r)
}

// decodeTimeout decodes parameters.timeout t into r.
func decodeTimeout(t *fastjson.Value, r *inferRequest) error {
	if isAbsent(t) {
		return nil
	}
	if t.Type() != fastjson.TypeNumber {
		return httpapi.RequestErrorf(`parameters.timeout must be an integer number of microseconds, not %s`, t.Type())
	}
	raw := r.numberText(t)
	n, ok := scanNumber(raw)
	if !ok {
		return httpapi.RequestErrorf(`parameters.timeout: %s is not a valid JSON number`, numberWord(raw))
	}
	us, st := n.int64()
	switch {
	case st == numFraction:
		return httpapi.RequestErrorf(`parameters.timeout must be an integer number of microseconds, not %s`, string(raw))
	case n.neg && n.mant != 0:
		return httpapi.RequestErrorf(`parameters.timeout must not be negative, got %s`, string(raw))
	case st == numOutOfRange || us > maxTimeoutMicros:
		return httpapi.RequestErrorf(`parameters.timeout %s is too large`, string(raw))
	}
	r.timeout = time.Duration(us) * time.Microsecond
	return nil
}

// decodeOutputs decodes "outputs" v into r.outputs and r.binary;
// binaryOutput is the request's binary_data_output, which every output that
// does not say otherwise follows.
func decodeOutputs(v *fastjson.Value, sig *engine.Signature, binaryOutput bool, r *inferRequest) error {
	r.outputs = withLen(r.outputs, len(sig.Outputs))
	r.binary = withLen(r.binary, len(sig.Outputs))
	all := isAbsent(v)
	if !all {
		if v.Type() != fastjson.TypeArray {
			return httpapi.RequestErrorf(`"outputs" must be an array, not %s`, v.Type())
		}
		all = len(v.GetArray()) == 0
	}
	for j := range r.outputs {
		r.outputs[j] = all
		r.binary[j] = all && binaryOutput
	}
	if !all {
		if err := decodeOutputList(v.GetArray(), sig, binaryOutput, r); err != nil {
			return err
		}
	}
	if !slices.Contains(r.binary, true) {
		r.binary = r.binary[:0]
	}
	return nil
}

// decodeOutputList marks the outputs the "outputs" entries list requests.
func decodeOutputList(list []*fastjson.Value, sig *engine.Signature, binaryOutput bool, r *inferRequest) error {
	for k, o := range list {
		if o.Type() != fastjson.TypeObject {
			return httpapi.RequestErrorf("outputs[%d] must be an object, not %s", k, o.Type())
		}
		name, err := nameOf(o, "outputs", k)
		if err != nil {
			return err
		}
		j := outputIndex(sig, name)
		if j < 0 {
			return httpapi.RequestErrorf("unknown output %q; the model's outputs are %s", name, tensorNames(sig.Outputs))
		}
		binary, err := outputBinary(o, name, binaryOutput)
		if err != nil {
			return err
		}
		if r.outputs[j] && r.binary[j] != binary {
			return httpapi.RequestErrorf("output %q is requested twice, once as binary data and once as JSON", name)
		}
		r.outputs[j] = true
		r.binary[j] = binary
	}
	return nil
}

// outputIndex is sig.OutputIndex for a name held as bytes; comparing
// string(name) this way never allocates.
func outputIndex(sig *engine.Signature, name []byte) int {
	for j := range sig.Outputs {
		if sig.Outputs[j].Name == string(name) {
			return j
		}
	}
	return -1
}

// nameOf returns the "name" string of the object list[k], valid until the
// parser is reused.
func nameOf(o *fastjson.Value, list string, k int) ([]byte, error) {
	v := o.Get("name")
	if v == nil {
		return nil, httpapi.RequestErrorf(`%s[%d]: missing "name"`, list, k)
	}
	if v.Type() != fastjson.TypeString {
		return nil, httpapi.RequestErrorf(`%s[%d]: "name" must be a string, not %s`, list, k, v.Type())
	}
	b, _ := v.StringBytes() // cannot fail: v is a string
	return b, nil
}

// withLen returns s with length n, keeping its contents and capacity.
func withLen[T any](s []T, n int) []T {
	if n <= cap(s) {
		return s[:n]
	}
	return append(s[:cap(s)], make([]T, n-cap(s))...)
}
