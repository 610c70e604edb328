package server

import (
	"encoding/binary"
	"fmt"
	"math"
	"slices"
	"strings"
	"time"

	"github.com/valyala/fastjson"

	"github.com/switchyard-ml/switchyard/engine"
)

// requestError reports a request the client got wrong: malformed JSON, an
// unknown input, a bad shape or datatype, a value out of range. The handler
// answers it with 400 and its message. decodeInferRequest returns no other
// error type.
type requestError struct{ msg string }

func (e *requestError) Error() string { return e.msg }

// requestErrorf returns a *requestError with a formatted message.
func requestErrorf(format string, args ...any) error {
	return &requestError{msg: fmt.Sprintf(format, args...)}
}

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
// parser afterwards. Errors are *requestError; after an error r is reset. It
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
	v, err := p.ParseBytes(body)
	if err != nil {
		return requestErrorf("malformed JSON: %v", err)
	}
	if v.Type() != fastjson.TypeObject {
		return requestErrorf("request must be a JSON object, not %s", v.Type())
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
		return requestErrorf(`"id" must be a string, not %s`, v.Type())
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
		return false, requestErrorf(`"parameters" must be an object, not %s`, v.Type())
	}
	b := v.Get("binary_data_output")
	binaryOutput, ok := boolParameter(b, false)
	if !ok {
		return false, requestErrorf("parameters.binary_data_output must be a boolean, not %s", b.Type())
	}
	return binaryOutput, decodeTimeout(v.Get("timeout"), r)
}

// decodeTimeout decodes parameters.timeout t into r.
func decodeTimeout(t *fastjson.Value, r *inferRequest) error {
	if isAbsent(t) {
		return nil
	}
	if t.Type() != fastjson.TypeNumber {
		return requestErrorf(`parameters.timeout must be an integer number of microseconds, not %s`, t.Type())
	}
	raw := r.numberText(t)
	n, ok := scanNumber(raw)
	if !ok {
		return requestErrorf(`parameters.timeout: %s is not a valid JSON number`, string(raw))
	}
	us, st := n.int64()
	switch {
	case st == numFraction:
		return requestErrorf(`parameters.timeout must be an integer number of microseconds, not %s`, string(raw))
	case n.neg && n.mant != 0:
		return requestErrorf(`parameters.timeout must not be negative, got %s`, string(raw))
	case st == numOutOfRange || us > maxTimeoutMicros:
		return requestErrorf(`parameters.timeout %s is too large`, string(raw))
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
			return requestErrorf(`"outputs" must be an array, not %s`, v.Type())
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
			return requestErrorf("outputs[%d] must be an object, not %s", k, o.Type())
		}
		name, err := nameOf(o, "outputs", k)
		if err != nil {
			return err
		}
		j := outputIndex(sig, name)
		if j < 0 {
			return requestErrorf("unknown output %q; the model's outputs are %s", name, tensorNames(sig.Outputs))
		}
		binary, err := outputBinary(o, name, binaryOutput)
		if err != nil {
			return err
		}
		if r.outputs[j] && r.binary[j] != binary {
			return requestErrorf("output %q is requested twice, once as binary data and once as JSON", name)
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

// inputIndex is sig.InputIndex for a name held as bytes.
func inputIndex(sig *engine.Signature, name []byte) int {
	for i := range sig.Inputs {
		if sig.Inputs[i].Name == string(name) {
			return i
		}
	}
	return -1
}

// nameOf returns the "name" string of the object list[k], valid until the
// parser is reused.
func nameOf(o *fastjson.Value, list string, k int) ([]byte, error) {
	v := o.Get("name")
	if v == nil {
		return nil, requestErrorf(`%s[%d]: missing "name"`, list, k)
	}
	if v.Type() != fastjson.TypeString {
		return nil, requestErrorf(`%s[%d]: "name" must be a string, not %s`, list, k, v.Type())
	}
	b, _ := v.StringBytes() // cannot fail: v is a string
	return b, nil
}

// decodeInputs decodes "inputs" v into r.inputs, taking binary data from bin.
func decodeInputs(v *fastjson.Value, sig *engine.Signature, r *inferRequest, bin *binarySection) error {
	if v == nil {
		return requestErrorf(`missing "inputs"`)
	}
	if v.Type() != fastjson.TypeArray {
		return requestErrorf(`"inputs" must be an array, not %s`, v.Type())
	}
	list := v.GetArray()
	if len(list) == 0 {
		return requestErrorf(`"inputs" must not be empty`)
	}
	r.inputs = withLen(r.inputs, len(sig.Inputs)) // entries are clean: reset ran
	for k, in := range list {
		if err := decodeInput(in, k, sig, r, bin); err != nil {
			return err
		}
	}
	for i := range r.inputs {
		if r.inputs[i].DType == engine.DTypeInvalid {
			return requestErrorf("missing input %q", sig.Inputs[i].Name)
		}
	}
	return bin.finish()
}

// decodeInput decodes inputs[k], v, into its place in r.inputs. Its data is
// the JSON "data" or, when it declares binary_data_size, the next bytes of
// bin.
func decodeInput(v *fastjson.Value, k int, sig *engine.Signature, r *inferRequest, bin *binarySection) error {
	if v.Type() != fastjson.TypeObject {
		return requestErrorf("inputs[%d] must be an object, not %s", k, v.Type())
	}
	name, err := nameOf(v, "inputs", k)
	if err != nil {
		return err
	}
	i := inputIndex(sig, name)
	if i < 0 {
		return requestErrorf("unknown input %q; the model's inputs are %s", name, tensorNames(sig.Inputs))
	}
	info := &sig.Inputs[i]
	t := &r.inputs[i]
	if t.DType != engine.DTypeInvalid {
		return requestErrorf("input %q appears more than once", info.Name)
	}
	if err := checkDType(v.Get("datatype"), info); err != nil {
		return err
	}
	t.Name = info.Name
	t.DType = info.DType

	var n int
	t.Shape, n, err = decodeShape(v.Get("shape"), info, t.Shape, r)
	if err != nil {
		return err
	}

	size, binary, err := binaryDataSize(v.Get("parameters"), info, r)
	if err != nil {
		return err
	}
	data := v.Get("data")
	if binary {
		if !isAbsent(data) {
			return requestErrorf(`input %q: has both "data" and parameters.binary_data_size; binary data must come without "data"`, info.Name)
		}
		return copyBinaryInput(t, n, size, bin)
	}
	if data == nil {
		return requestErrorf(`input %q: missing "data"`, info.Name)
	}
	if data.Type() != fastjson.TypeArray {
		return requestErrorf(`input %q: "data" must be an array, not %s`, info.Name, data.Type())
	}
	if c := countElements(data); c != n {
		return requestErrorf(`input %q: "data" holds %d elements, but shape %s needs %d`,
			info.Name, c, shapeText(t.Shape), n)
	}
	d := dataDecoder{req: r, name: info.Name, dt: info.DType, buf: slices.Grow(t.Data[:0], n*info.DType.Size())}
	err = d.appendArray(data)
	t.Data = d.buf
	return err
}

// otherV2DTypes are the Open Inference Protocol datatypes switchyard does not
// support, told apart from names the protocol does not define.
var otherV2DTypes = [...]string{"BYTES", "FP16", "BF16", "INT16", "UINT16", "UINT32", "UINT64"}

func checkDType(v *fastjson.Value, info *engine.TensorInfo) error {
	if v == nil {
		return requestErrorf(`input %q: missing "datatype"`, info.Name)
	}
	if v.Type() != fastjson.TypeString {
		return requestErrorf(`input %q: "datatype" must be a string, not %s`, info.Name, v.Type())
	}
	b, _ := v.StringBytes() // cannot fail: v is a string
	dt, ok := engine.ParseDType(string(b))
	switch {
	case ok && dt == info.DType:
		return nil
	case ok:
		return requestErrorf("input %q: datatype %s does not match the model's %s", info.Name, dt, info.DType)
	case slices.Contains(otherV2DTypes[:], string(b)):
		return requestErrorf("input %q: datatype %s is not supported; supported are %s", info.Name, b, supportedDTypes())
	}
	return requestErrorf("input %q: unknown datatype %q; supported are %s", info.Name, b, supportedDTypes())
}

func supportedDTypes() string {
	var sb strings.Builder
	for d := engine.FP32; d <= engine.BOOL; d++ {
		if sb.Len() > 0 {
			sb.WriteString(", ")
		}
		sb.WriteString(d.String())
	}
	return sb.String()
}

// decodeShape appends the "shape" v to dst[:0], checks it against info and
// returns it with its number of elements.
func decodeShape(v *fastjson.Value, info *engine.TensorInfo, dst []int64, r *inferRequest) ([]int64, int, error) {
	dst = dst[:0]
	if v == nil {
		return dst, 0, requestErrorf(`input %q: missing "shape"`, info.Name)
	}
	if v.Type() != fastjson.TypeArray {
		return dst, 0, requestErrorf(`input %q: "shape" must be an array of non-negative integers, not %s`, info.Name, v.Type())
	}
	for k, e := range v.GetArray() {
		if e.Type() != fastjson.TypeNumber {
			return dst, 0, requestErrorf("input %q: shape[%d] must be a non-negative integer, not %s", info.Name, k, e.Type())
		}
		raw := r.numberText(e)
		num, ok := scanNumber(raw)
		if !ok {
			return dst, 0, requestErrorf("input %q: shape[%d] = %s is not a valid JSON number", info.Name, k, string(raw))
		}
		d, st := num.int64()
		if st != numOK || d < 0 {
			return dst, 0, requestErrorf("input %q: shape[%d] must be a non-negative integer, not %s", info.Name, k, string(raw))
		}
		dst = append(dst, d)
	}
	if !engine.ShapeFits(dst, info.Shape) {
		return dst, 0, requestErrorf("input %q: shape %s does not match the model's shape %s",
			info.Name, shapeText(dst), shapeText(info.Shape))
	}
	n := int64(1)
	for _, d := range dst {
		if d == 0 {
			return dst, 0, nil
		}
	}
	for _, d := range dst {
		if n > math.MaxInt/d {
			return dst, 0, requestErrorf("input %q: shape %s has too many elements", info.Name, shapeText(dst))
		}
		n *= d
	}
	return dst, int(n), nil
}

// shapeText formats a shape as JSON does, for messages: [-1,3].
func shapeText(shape []int64) string {
	var sb strings.Builder
	sb.WriteByte('[')
	for i, d := range shape {
		if i > 0 {
			sb.WriteByte(',')
		}
		fmt.Fprint(&sb, d)
	}
	sb.WriteByte(']')
	return sb.String()
}

func tensorNames(infos []engine.TensorInfo) string {
	var sb strings.Builder
	for i := range infos {
		if i > 0 {
			sb.WriteString(", ")
		}
		fmt.Fprintf(&sb, "%q", infos[i].Name)
	}
	return sb.String()
}

// countElements returns the number of scalars in v, counting through nested
// arrays.
func countElements(v *fastjson.Value) int {
	if v.Type() != fastjson.TypeArray {
		return 1
	}
	n := 0
	for _, e := range v.GetArray() {
		n += countElements(e)
	}
	return n
}

// withLen returns s with length n, keeping its contents and capacity.
func withLen[T any](s []T, n int) []T {
	if n <= cap(s) {
		return s[:n]
	}
	return append(s[:cap(s)], make([]T, n-cap(s))...)
}

// dataDecoder appends the elements of one input's "data" to buf as native
// little-endian values of type dt.
type dataDecoder struct {
	req  *inferRequest // lends its number scratch
	name string        // the input, for messages
	dt   engine.DType  // the element type
	n    int           // elements appended so far: the row-major index of the next
	buf  []byte
}

func (d *dataDecoder) appendArray(v *fastjson.Value) error {
	for _, e := range v.GetArray() {
		var err error
		if e.Type() == fastjson.TypeArray {
			err = d.appendArray(e)
		} else {
			err = d.appendElement(e)
		}
		if err != nil {
			return err
		}
	}
	return nil
}

func (d *dataDecoder) appendElement(v *fastjson.Value) error {
	switch t := v.Type(); t {
	case fastjson.TypeNumber:
		if err := d.appendNumber(d.req.numberText(v)); err != nil {
			return err
		}
	case fastjson.TypeTrue, fastjson.TypeFalse:
		if d.dt != engine.BOOL {
			return requestErrorf("input %q: data[%d] is non-numeric (%s)", d.name, d.n, t)
		}
		b := byte(0)
		if t == fastjson.TypeTrue {
			b = 1
		}
		d.buf = append(d.buf, b)
	default:
		if d.dt == engine.BOOL {
			return requestErrorf("input %q: data[%d] is not a boolean or 0/1 (%s)", d.name, d.n, t)
		}
		return requestErrorf("input %q: data[%d] is non-numeric (%s)", d.name, d.n, t)
	}
	d.n++
	return nil
}

// appendNumber appends the number whose JSON text is raw.
func (d *dataDecoder) appendNumber(raw []byte) error {
	num, ok := scanNumber(raw)
	if !ok {
		return requestErrorf("input %q: data[%d] = %s is not a valid JSON number", d.name, d.n, string(raw))
	}
	return d.appendScanned(num, raw)
}

// appendScanned appends num, scanned from the JSON text raw.
func (d *dataDecoder) appendScanned(num jsonNumber, raw []byte) error {
	switch d.dt {
	case engine.FP32:
		f, ok := num.float32(raw)
		if !ok {
			return d.outOfRange(raw)
		}
		d.buf = binary.LittleEndian.AppendUint32(d.buf, math.Float32bits(f))
		return nil
	case engine.FP64:
		f, ok := num.float64(raw)
		if !ok {
			return d.outOfRange(raw)
		}
		d.buf = binary.LittleEndian.AppendUint64(d.buf, math.Float64bits(f))
		return nil
	}
	i, st := num.int64()
	if st == numFraction {
		return requestErrorf("input %q: data[%d] = %s is not an integer, as %s needs", d.name, d.n, string(raw), d.dt)
	}
	if st == numOutOfRange {
		return d.outOfRange(raw)
	}
	switch d.dt {
	case engine.INT64:
		d.buf = binary.LittleEndian.AppendUint64(d.buf, uint64(i))
	case engine.INT32:
		if i < math.MinInt32 || i > math.MaxInt32 {
			return d.outOfRange(raw)
		}
		d.buf = binary.LittleEndian.AppendUint32(d.buf, uint32(int32(i)))
	case engine.INT8:
		if i < math.MinInt8 || i > math.MaxInt8 {
			return d.outOfRange(raw)
		}
		d.buf = append(d.buf, byte(int8(i)))
	case engine.UINT8:
		if i < 0 || i > math.MaxUint8 {
			return d.outOfRange(raw)
		}
		d.buf = append(d.buf, byte(i))
	case engine.BOOL:
		if i != 0 && i != 1 {
			return requestErrorf("input %q: data[%d] = %s is not a boolean or 0/1", d.name, d.n, string(raw))
		}
		d.buf = append(d.buf, byte(i))
	default:
		panic(fmt.Sprintf("BUG: input %q has datatype %s", d.name, d.dt))
	}
	return nil
}

func (d *dataDecoder) outOfRange(raw []byte) error {
	return requestErrorf("input %q: data[%d] = %s is out of range for %s", d.name, d.n, string(raw), d.dt)
}
