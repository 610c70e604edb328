package bench

import (
	"encoding/json"
	"math/rand/v2"
	"strconv"
)

// InferBody returns a V2 JSON inference request carrying rows rows of
// features FP32 values each for the input called input, drawn uniformly
// from [-1, 1) by a generator seeded with seed: the same arguments always
// give the same bytes. The returned slice belongs to the caller.
func InferBody(input string, rows, features int, seed uint64) []byte {
	rng := rand.New(rand.NewPCG(seed, 0x62656e6368))
	b := make([]byte, 0, 64+rows*features*12)
	b = append(b, `{"inputs":[{"name":`...)
	name, _ := json.Marshal(input) // a string always marshals
	b = append(b, name...)
	b = append(b, `,"datatype":"FP32","shape":[`...)
	b = strconv.AppendInt(b, int64(rows), 10)
	b = append(b, ',')
	b = strconv.AppendInt(b, int64(features), 10)
	b = append(b, `],"data":[`...)
	for i := range rows * features {
		if i > 0 {
			b = append(b, ',')
		}
		b = strconv.AppendFloat(b, float64(float32(rng.Float64()*2-1)), 'g', -1, 32)
	}
	return append(b, "]}]}"...)
}

// randomFloats fills dst with values drawn uniformly from [-1, 1) by a
// generator seeded with seed.
func randomFloats(dst []float32, seed uint64) {
	rng := rand.New(rand.NewPCG(seed, 0x62656e6368))
	for i := range dst {
		dst[i] = float32(rng.Float64()*2 - 1)
	}
}
