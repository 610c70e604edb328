package server

import (
	"encoding/binary"
	"fmt"
	"math"

	"github.com/valyala/fastjson"

	"github.com/switchyard-ml/switchyard/engine"
	"github.com/switchyard-ml/switchyard/server/internal/httpapi"
)

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
			return httpapi.RequestErrorf("input %q: data[%d] is non-numeric (%s)", d.name, d.n, t)
		}
		b := byte(0)
		if t == fastjson.TypeTrue {
			b = 1
		}
		d.buf = append(d.buf, b)
	default:
		if d.dt == engine.BOOL {
			return httpapi.RequestErrorf("input %q: data[%d] is not a boolean or 0/1 (%s)", d.name, d.n, t)
		}
		return httpapi.RequestErrorf("input %q: data[%d] is non-numeric (%s)", d.name, d.n, t)
	}
	d.n++
	return nil
}

// appendNumber appends the number whose JSON text is raw.
func (d *dataDecoder) appendNumber(raw []byte) error {
	num, ok := scanNumber(raw)
	switch {
	case !ok && nonFiniteText(raw): // NaN or an infinity: see parseLenient
		return httpapi.RequestErrorf("input %q: data[%d] = %s is not finite; JSON cannot carry NaN or infinities, binary data can",
			d.name, d.n, numberWord(raw))
	case !ok:
		return httpapi.RequestErrorf("input %q: data[%d] = %s is not a valid JSON number", d.name, d.n, string(raw))
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
		return httpapi.RequestErrorf("input %q: data[%d] = %s is not an integer, as %s needs", d.name, d.n, string(raw), d.dt)
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
			return httpapi.RequestErrorf("input %q: data[%d] = %s is not a boolean or 0/1", d.name, d.n, string(raw))
		}
		d.buf = append(d.buf, byte(i))
	default:
		panic(fmt.Sprintf("BUG: input %q has datatype %s", d.name, d.dt))
	}
	return nil
}

func (d *dataDecoder) outOfRange(raw []byte) error {
	return httpapi.RequestErrorf("input %q: data[%d] = %s is out of range for %s", d.name, d.n, string(raw), d.dt)
}
