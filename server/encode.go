package server

import (
	"encoding/binary"
	"fmt"
	"math"
	"strconv"

	"github.com/switchyard-ml/switchyard/engine"
	"github.com/switchyard-ml/switchyard/server/internal/httpapi"
)

// appendInferResponse appends the V2 JSON response to dst and returns the
// extended slice:
//
//	{"model_name":"fraud","model_version":"2","id":"...","parameters":{"prediction_id":"3f9a1c0b5e7d2a48-000000000000002a"},
//	 "outputs":[{"name":"probabilities","datatype":"FP32","shape":[1,2],"data":[0.1,0.9]}]}
//
// id is omitted when nil, and "parameters" when predictionID is nil (the
// Open Inference Protocol puts a response's parameters beside its id).
// outs[j] is sig.Outputs[j]'s tensor and is written only when selected[j]
// is true (a nil selected writes them all), in that order. Floats are
// written as the shortest text that reads back as the same value. It
// allocates only when dst lacks capacity.
//
// binary is empty when every output is written as JSON, as above. Otherwise
// it holds one flag per output, and an output whose flag is set is written
// without "data" but with its size,
//
//	{"name":"probabilities","datatype":"FP32","shape":[1,2],"parameters":{"binary_data_size":8}}
//
// and its bytes are for appendBinaryOutputs to append after the JSON.
//
// An output written as JSON that holds NaN or ±Inf, which JSON cannot carry,
// or any output whose Data does not match its shape and datatype, yields an
// error naming the output and dst truncated to its original length.
func appendInferResponse(dst []byte, model, version string, id, predictionID []byte, outs []engine.Tensor, selected, binary []bool) ([]byte, error) {
	if selected != nil && len(selected) != len(outs) {
		panic(fmt.Sprintf("BUG: %d outputs but %d selections", len(outs), len(selected)))
	}
	if len(binary) != 0 && len(binary) != len(outs) {
		panic(fmt.Sprintf("BUG: %d outputs but %d binary flags", len(outs), len(binary)))
	}
	start := len(dst)
	dst = append(dst, `{"model_name":`...)
	dst = httpapi.AppendJSONString(dst, model)
	dst = append(dst, `,"model_version":`...)
	dst = httpapi.AppendJSONString(dst, version)
	if id != nil {
		dst = append(dst, `,"id":`...)
		dst = httpapi.AppendJSONBytes(dst, id)
	}
	if predictionID != nil {
		dst = append(dst, `,"parameters":{"prediction_id":`...)
		dst = httpapi.AppendJSONBytes(dst, predictionID)
		dst = append(dst, '}')
	}
	dst = append(dst, `,"outputs":[`...)
	first := true
	for j := range outs {
		if selected != nil && !selected[j] {
			continue
		}
		if !first {
			dst = append(dst, ',')
		}
		first = false
		var err error
		if dst, err = appendOutput(dst, &outs[j], len(binary) != 0 && binary[j]); err != nil {
			return dst[:start], err
		}
	}
	return append(dst, "]}"...), nil
}

// appendOutput appends one output object, with its data as JSON or, when
// binary is set, only the size of its binary data.
func appendOutput(dst []byte, t *engine.Tensor, binary bool) ([]byte, error) {
	size := t.DType.Size()
	if size == 0 {
		return dst, fmt.Errorf("output %q has invalid datatype %d", t.Name, t.DType)
	}
	n := engine.Elements(t.Shape)
	if int64(len(t.Data)) != n*int64(size) {
		return dst, fmt.Errorf("output %q holds %d bytes, but shape %s of %s needs %d",
			t.Name, len(t.Data), shapeText(t.Shape), t.DType, n*int64(size))
	}
	dst = append(dst, `{"name":`...)
	dst = httpapi.AppendJSONString(dst, t.Name)
	dst = append(dst, `,"datatype":"`...)
	dst = append(dst, t.DType.String()...)
	dst = append(dst, `","shape":[`...)
	for i, d := range t.Shape {
		if i > 0 {
			dst = append(dst, ',')
		}
		dst = strconv.AppendInt(dst, d, 10)
	}
	dst = append(dst, "],"...)
	if binary {
		dst = append(dst, `"parameters":{"binary_data_size":`...)
		dst = strconv.AppendInt(dst, int64(len(t.Data)), 10)
		return append(dst, "}}"...), nil
	}
	dst = append(dst, `"data":[`...)
	var err error
	if dst, err = appendData(dst, t); err != nil {
		return dst, err
	}
	return append(dst, "]}"...), nil
}

// appendData appends t's elements, comma-separated; t.Data has been checked
// to hold whole elements.
func appendData(dst []byte, t *engine.Tensor) ([]byte, error) {
	data := t.Data
	le := binary.LittleEndian
	switch t.DType {
	case engine.FP32:
		for i := 0; i < len(data); i += 4 {
			f := math.Float32frombits(le.Uint32(data[i:]))
			if f != f || f > math.MaxFloat32 || f < -math.MaxFloat32 {
				return dst, nonFinite(t.Name, float64(f), i/4)
			}
			dst = appendSep(dst, i)
			dst = strconv.AppendFloat(dst, float64(f), 'g', -1, 32)
		}
	case engine.FP64:
		for i := 0; i < len(data); i += 8 {
			f := math.Float64frombits(le.Uint64(data[i:]))
			if math.IsNaN(f) || math.IsInf(f, 0) {
				return dst, nonFinite(t.Name, f, i/8)
			}
			dst = appendSep(dst, i)
			dst = strconv.AppendFloat(dst, f, 'g', -1, 64)
		}
	case engine.INT64:
		for i := 0; i < len(data); i += 8 {
			dst = appendSep(dst, i)
			dst = strconv.AppendInt(dst, int64(le.Uint64(data[i:])), 10)
		}
	case engine.INT32:
		for i := 0; i < len(data); i += 4 {
			dst = appendSep(dst, i)
			dst = strconv.AppendInt(dst, int64(int32(le.Uint32(data[i:]))), 10)
		}
	case engine.INT8:
		for i, b := range data {
			dst = appendSep(dst, i)
			dst = strconv.AppendInt(dst, int64(int8(b)), 10)
		}
	case engine.UINT8:
		for i, b := range data {
			dst = appendSep(dst, i)
			dst = strconv.AppendUint(dst, uint64(b), 10)
		}
	case engine.BOOL:
		for i, b := range data {
			dst = appendSep(dst, i)
			if b != 0 {
				dst = append(dst, "true"...)
			} else {
				dst = append(dst, "false"...)
			}
		}
	default:
		panic(fmt.Sprintf("BUG: output %q has datatype %s", t.Name, t.DType))
	}
	return dst, nil
}

// appendSep appends the comma that precedes every element but the first,
// whose byte offset is 0.
func appendSep(dst []byte, offset int) []byte {
	if offset > 0 {
		dst = append(dst, ',')
	}
	return dst
}

func nonFinite(name string, f float64, i int) error {
	return fmt.Errorf("output %q holds %v at element %d, which JSON cannot carry", name, f, i)
}
