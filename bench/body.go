package bench

import (
	"encoding/binary"
	"encoding/json"
	"math"
	"math/rand/v2"
	"strconv"
)

// InferBody returns a V2 JSON inference request carrying rows rows of
// features FP32 values each for the input called input, drawn uniformly
// from [-1, 1) by a generator seeded with seed: the same arguments always
// give the same bytes. The returned slice belongs to the caller.
func InferBody(input string, rows, features int, seed uint64) []byte {
	vals := make([]float32, rows*features)
	randomFloats(vals, seed)
	b := make([]byte, 0, 64+len(vals)*12)
	b = appendInputHeader(b, input, rows, features)
	b = append(b, `,"data":[`...)
	for i, v := range vals {
		if i > 0 {
			b = append(b, ',')
		}
		b = strconv.AppendFloat(b, float64(v), 'g', -1, 32)
	}
	return append(b, "]}]}"...)
}

// BinaryHeader is the request and response header of the V2 binary tensor
// data extension: the length of the JSON that starts the body, before the
// tensors' bytes.
const BinaryHeader = "Inference-Header-Content-Length"

// InferBinaryBody returns the request InferBody returns for the same
// arguments, with the same values, in the V2 binary tensor data extension:
// a JSON header that gives the input's binary_data_size and asks for every
// output as binary data, then the rows as little-endian FP32. jsonLen is the
// length of the JSON header, the value the request's BinaryHeader must
// carry. The returned slice belongs to the caller.
func InferBinaryBody(input string, rows, features int, seed uint64) (body []byte, jsonLen int) {
	vals := make([]float32, rows*features)
	randomFloats(vals, seed)
	b := make([]byte, 0, 160+len(vals)*4)
	b = appendInputHeader(b, input, rows, features)
	b = append(b, `,"parameters":{"binary_data_size":`...)
	b = strconv.AppendInt(b, int64(len(vals)*4), 10)
	b = append(b, `}}],"parameters":{"binary_data_output":true}}`...)
	jsonLen = len(b)
	for _, v := range vals {
		b = binary.LittleEndian.AppendUint32(b, math.Float32bits(v))
	}
	return b, jsonLen
}

// appendInputHeader appends the start of a request with one FP32 input of
// shape [rows, features], up to the input's last member.
func appendInputHeader(b []byte, input string, rows, features int) []byte {
	b = append(b, `{"inputs":[{"name":`...)
	name, _ := json.Marshal(input) // a string always marshals
	b = append(b, name...)
	b = append(b, `,"datatype":"FP32","shape":[`...)
	b = strconv.AppendInt(b, int64(rows), 10)
	b = append(b, ',')
	b = strconv.AppendInt(b, int64(features), 10)
	return append(b, ']')
}

// randomFloats fills dst with values drawn uniformly from [-1, 1) by a
// generator seeded with seed.
func randomFloats(dst []float32, seed uint64) {
	rng := rand.New(rand.NewPCG(seed, 0x62656e6368))
	for i := range dst {
		dst[i] = float32(rng.Float64()*2 - 1)
	}
}
