package server

import (
	"encoding/binary"
	"fmt"
	"math"
	"strconv"

	"github.com/switchyard-ml/switchyard/engine"
	"github.com/switchyard-ml/switchyard/server/internal/httpapi"
)

// appendPredictResponse appends the answer to a records request of rows
// instances to dst and returns the extended slice:
//
//	{"model_name":"fraud","model_version":"2",
//	 "predictions":[{"label":"fraud","probabilities":{"legit":0.1,"fraud":0.9}}],
//	 "prediction_ids":["3f9a1c0b5e7d2a48-000000000000002a"]}
//
// out is the output sch answers with. A classifier's prediction (width
// k >= 2) gives each class's probability by class name, in column order,
// and the label, the class of the largest probability (the first on a
// tie, as ONNX ArgMax picks); class names come from sch.classes, or are
// "0", "1", ... without them. A regressor's (width 1) is {"value": x}.
// Floats are written as the shortest text that reads back as the same
// FP32 or FP64 value, as V2 writes them. Instance k gets the prediction
// id of counter first+k.
//
// An output whose shape or size does not match rows rows of the width,
// or that holds NaN or ±Inf, yields an error and dst truncated to its
// original length. It allocates only when dst lacks capacity.
func appendPredictResponse(dst []byte, model, version string, sch *recordSchema, out *engine.Tensor, rows int,
	ids *predictionIDs, first uint64) ([]byte, error) {
	start := len(dst)
	size := out.DType.Size()
	if out.DType != engine.FP32 && out.DType != engine.FP64 || len(out.Data) != rows*sch.width*size ||
		len(out.Shape) == 0 || out.Shape[0] != int64(rows) {
		return dst, fmt.Errorf("output %q is %s of shape %s holding %d bytes; the records API reads %d rows of %d FP32 or FP64 values",
			out.Name, out.DType, shapeText(out.Shape), len(out.Data), rows, sch.width)
	}
	dst = append(dst, `{"model_name":`...)
	dst = httpapi.AppendJSONString(dst, model)
	dst = append(dst, `,"model_version":`...)
	dst = httpapi.AppendJSONString(dst, version)
	dst = append(dst, `,"predictions":[`...)
	for row := range rows {
		if row > 0 {
			dst = append(dst, ',')
		}
		var err error
		if dst, err = appendPrediction(dst, sch, out, row); err != nil {
			return dst[:start], err
		}
	}
	dst = append(dst, `],"prediction_ids":[`...)
	for k := range rows {
		if k > 0 {
			dst = append(dst, ',')
		}
		dst = append(dst, '"')
		dst = ids.appendID(dst, first+uint64(k))
		dst = append(dst, '"')
	}
	return append(dst, "]}"...), nil
}

// appendPrediction appends the prediction of one row of out.
func appendPrediction(dst []byte, sch *recordSchema, out *engine.Tensor, row int) ([]byte, error) {
	k := sch.width
	base := row * k
	if k == 1 {
		dst = append(dst, `{"value":`...)
		dst, err := appendOutputFloat(dst, out, base)
		return append(dst, '}'), err
	}
	best := 0
	for j := 1; j < k; j++ {
		if outputFloat(out, base+j) > outputFloat(out, base+best) {
			best = j
		}
	}
	dst = append(dst, `{"label":`...)
	dst = appendClassName(dst, sch.classes, best)
	dst = append(dst, `,"probabilities":{`...)
	for j := range k {
		if j > 0 {
			dst = append(dst, ',')
		}
		dst = appendClassName(dst, sch.classes, j)
		dst = append(dst, ':')
		var err error
		if dst, err = appendOutputFloat(dst, out, base+j); err != nil {
			return dst, err
		}
	}
	return append(dst, "}}"...), nil
}

// appendClassName appends the quoted name of class j: classes[j], or j
// in decimal when the schema names no classes.
func appendClassName(dst []byte, classes []string, j int) []byte {
	if j < len(classes) {
		return httpapi.AppendJSONString(dst, classes[j])
	}
	dst = append(dst, '"')
	dst = strconv.AppendInt(dst, int64(j), 10)
	return append(dst, '"')
}

// outputFloat returns element i of out, FP32 or FP64.
func outputFloat(out *engine.Tensor, i int) float64 {
	if out.DType == engine.FP32 {
		return float64(math.Float32frombits(binary.LittleEndian.Uint32(out.Data[i*4:])))
	}
	return math.Float64frombits(binary.LittleEndian.Uint64(out.Data[i*8:]))
}

// appendOutputFloat appends element i of out as appendData writes it, or
// fails when it is NaN or infinite.
func appendOutputFloat(dst []byte, out *engine.Tensor, i int) ([]byte, error) {
	f := outputFloat(out, i)
	if math.IsNaN(f) || math.IsInf(f, 0) {
		return dst, nonFinite(out.Name, f, i)
	}
	if out.DType == engine.FP32 {
		return strconv.AppendFloat(dst, f, 'g', -1, 32), nil
	}
	return strconv.AppendFloat(dst, f, 'g', -1, 64), nil
}
