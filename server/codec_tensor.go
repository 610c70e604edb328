package server

import (
	"fmt"
	"math"
	"slices"
	"strings"

	"github.com/valyala/fastjson"

	"github.com/switchyard-ml/switchyard/engine"
	"github.com/switchyard-ml/switchyard/server/internal/httpapi"
)

// inputIndex is sig.InputIndex for a name held as bytes.
func inputIndex(sig *engine.Signature, name []byte) int {
	for i := range sig.Inputs {
		if sig.Inputs[i].Name == string(name) {
			return i
		}
	}
	return -1
}

// decodeInputs decodes "inputs" v into r.inputs, taking binary data from bin.
func decodeInputs(v *fastjson.Value, sig *engine.Signature, r *inferRequest, bin *binarySection) error {
	if v == nil {
		return httpapi.RequestErrorf(`missing "inputs"`)
	}
	if v.Type() != fastjson.TypeArray {
		return httpapi.RequestErrorf(`"inputs" must be an array, not %s`, v.Type())
	}
	list := v.GetArray()
	if len(list) == 0 {
		return httpapi.RequestErrorf(`"inputs" must not be empty`)
	}
	r.inputs = withLen(r.inputs, len(sig.Inputs)) // entries are clean: reset ran
	for k, in := range list {
		if err := decodeInput(in, k, sig, r, bin); err != nil {
			return err
		}
	}
	for i := range r.inputs {
		if r.inputs[i].DType == engine.DTypeInvalid {
			return httpapi.RequestErrorf("missing input %q", sig.Inputs[i].Name)
		}
	}
	return bin.finish()
}

// decodeInput decodes inputs[k], v, into its place in r.inputs. Its data is
// the JSON "data" or, when it declares binary_data_size, the next bytes of
// bin.
func decodeInput(v *fastjson.Value, k int, sig *engine.Signature, r *inferRequest, bin *binarySection) error {
	if v.Type() != fastjson.TypeObject {
		return httpapi.RequestErrorf("inputs[%d] must be an object, not %s", k, v.Type())
	}
	name, err := nameOf(v, "inputs", k)
	if err != nil {
		return err
	}
	i := inputIndex(sig, name)
	if i < 0 {
		return httpapi.RequestErrorf("unknown input %q; the model's inputs are %s", name, tensorNames(sig.Inputs))
	}
	info := &sig.Inputs[i]
	t := &r.inputs[i]
	if t.DType != engine.DTypeInvalid {
		return httpapi.RequestErrorf("input %q appears more than once", info.Name)
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
			return httpapi.RequestErrorf(`input %q: has both "data" and parameters.binary_data_size; binary data must come without "data"`, info.Name)
		}
		return copyBinaryInput(t, n, size, bin)
	}
	if data == nil {
		return httpapi.RequestErrorf(`input %q: missing "data"`, info.Name)
	}
	if data.Type() != fastjson.TypeArray {
		return httpapi.RequestErrorf(`input %q: "data" must be an array, not %s`, info.Name, data.Type())
	}
	if c := countElements(data); c != n {
		return httpapi.RequestErrorf(`input %q: "data" holds %d elements, but shape %s needs %d`,
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
		return httpapi.RequestErrorf(`input %q: missing "datatype"`, info.Name)
	}
	if v.Type() != fastjson.TypeString {
		return httpapi.RequestErrorf(`input %q: "datatype" must be a string, not %s`, info.Name, v.Type())
	}
	b, _ := v.StringBytes() // cannot fail: v is a string
	dt, ok := engine.ParseDType(string(b))
	switch {
	case ok && dt == info.DType:
		return nil
	case ok:
		return httpapi.RequestErrorf("input %q: datatype %s does not match the model's %s", info.Name, dt, info.DType)
	case slices.Contains(otherV2DTypes[:], string(b)):
		return httpapi.RequestErrorf("input %q: datatype %s is not supported; supported are %s", info.Name, b, supportedDTypes())
	}
	return httpapi.RequestErrorf("input %q: unknown datatype %q; supported are %s", info.Name, b, supportedDTypes())
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
		return dst, 0, httpapi.RequestErrorf(`input %q: missing "shape"`, info.Name)
	}
	if v.Type() != fastjson.TypeArray {
		return dst, 0, httpapi.RequestErrorf(`input %q: "shape" must be an array of non-negative integers, not %s`, info.Name, v.Type())
	}
	for k, e := range v.GetArray() {
		if e.Type() != fastjson.TypeNumber {
			return dst, 0, httpapi.RequestErrorf("input %q: shape[%d] must be a non-negative integer, not %s", info.Name, k, e.Type())
		}
		raw := r.numberText(e)
		num, ok := scanNumber(raw)
		if !ok {
			return dst, 0, httpapi.RequestErrorf("input %q: shape[%d] = %s is not a valid JSON number", info.Name, k, numberWord(raw))
		}
		d, st := num.int64()
		if st != numOK || d < 0 {
			return dst, 0, httpapi.RequestErrorf("input %q: shape[%d] must be a non-negative integer, not %s", info.Name, k, string(raw))
		}
		dst = append(dst, d)
	}
	if !engine.ShapeFits(dst, info.Shape) {
		return dst, 0, httpapi.RequestErrorf("input %q: shape %s does not match the model's shape %s",
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
			return dst, 0, httpapi.RequestErrorf("input %q: shape %s has too many elements", info.Name, shapeText(dst))
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
