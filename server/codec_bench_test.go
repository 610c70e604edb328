package server

import (
	"fmt"
	"math/rand/v2"
	"strconv"
	"strings"
	"testing"

	"github.com/switchyard-ml/switchyard/engine"
)

// codecBenchSig is a fraud model taking rows of 30 FP32 features.
func codecBenchSig() *engine.Signature {
	return &engine.Signature{
		Inputs: []engine.TensorInfo{{Name: "input", DType: engine.FP32, Shape: []int64{-1, 30}}},
		Outputs: []engine.TensorInfo{
			{Name: "label", DType: engine.INT64, Shape: []int64{-1}},
			{Name: "probabilities", DType: engine.FP32, Shape: []int64{-1, 2}},
		},
	}
}

// codecBenchRequest returns a request of rows rows of 30 features, from a
// fixed seed. Features are written as clients holding float32 write them
// (shortest form, up to 9 digits) or, with digits17, as clients that widened
// them to float64 first, such as Python's json.dumps(array.tolist()).
func codecBenchRequest(rows int, digits17 bool) []byte {
	rng := rand.New(rand.NewPCG(uint64(rows), 30))
	var sb strings.Builder
	fmt.Fprintf(&sb, `{"id":"6f1c2b9e-8d4a-4f7e-b3a1-2c5d9e0f7a18","inputs":[{"name":"input","shape":[%d,30],"datatype":"FP32","data":[`, rows)
	for r := range rows {
		if r > 0 {
			sb.WriteByte(',')
		}
		sb.WriteByte('[')
		for c := range 30 {
			if c > 0 {
				sb.WriteByte(',')
			}
			v := float32(rng.NormFloat64())
			if digits17 {
				sb.WriteString(strconv.FormatFloat(float64(v), 'g', 17, 64))
			} else {
				sb.WriteString(strconv.FormatFloat(float64(v), 'g', -1, 32))
			}
		}
		sb.WriteByte(']')
	}
	sb.WriteString(`]}]}`)
	return []byte(sb.String())
}

func BenchmarkDecodeInferRequest(b *testing.B) {
	for _, bc := range []struct {
		name     string
		rows     int
		digits17 bool
	}{
		{"rows=1", 1, false},
		{"rows=64", 64, false},
		{"rows=1/digits=17", 1, true},
		{"rows=64/digits=17", 64, true},
	} {
		b.Run(bc.name, func(b *testing.B) {
			sig := codecBenchSig()
			body := codecBenchRequest(bc.rows, bc.digits17)
			var r inferRequest
			if err := decodeInferRequest(body, nil, sig, &r); err != nil {
				b.Fatal(err)
			}
			b.SetBytes(int64(len(body)))
			b.ReportAllocs()
			for b.Loop() {
				if err := decodeInferRequest(body, nil, sig, &r); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

func BenchmarkAppendInferResponse(b *testing.B) {
	for _, rows := range []int{1, 64} {
		b.Run(fmt.Sprintf("rows=%d", rows), func(b *testing.B) {
			rng := rand.New(rand.NewPCG(uint64(rows), 2))
			probs := make([]float32, 2*rows)
			for i := 0; i < len(probs); i += 2 {
				p := rng.Float32()
				probs[i], probs[i+1] = 1-p, p
			}
			outs := []engine.Tensor{codecTensor("probabilities", []int64{int64(rows), 2}, probs)}
			id := []byte("6f1c2b9e-8d4a-4f7e-b3a1-2c5d9e0f7a18")
			selected := []bool{true}
			buf, err := appendInferResponse(nil, "fraud", "2", id, nil, outs, selected, nil)
			if err != nil {
				b.Fatal(err)
			}
			b.SetBytes(int64(len(buf)))
			b.ReportAllocs()
			for b.Loop() {
				buf, err = appendInferResponse(buf[:0], "fraud", "2", id, nil, outs, selected, nil)
				if err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// BenchmarkDecodeInferRequestParallel shares the parser pool between
// goroutines, as concurrent handlers do.
func BenchmarkDecodeInferRequestParallel(b *testing.B) {
	sig := codecBenchSig()
	body := codecBenchRequest(1, false)
	b.SetBytes(int64(len(body)))
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		var r inferRequest
		for pb.Next() {
			if err := decodeInferRequest(body, nil, sig, &r); err != nil {
				b.Error(err)
				return
			}
		}
	})
}

// BenchmarkDecodeBinaryRequest decodes 64 rows of 256 FP32 features sent as
// binary data and, for comparison, the same rows as JSON (shortest float32
// form). Bytes per second count the whole body.
func BenchmarkDecodeBinaryRequest(b *testing.B) {
	const rows, cols = 64, 256
	sig := &engine.Signature{
		Inputs:  []engine.TensorInfo{{Name: "input", DType: engine.FP32, Shape: []int64{-1, cols}}},
		Outputs: []engine.TensorInfo{{Name: "output", DType: engine.FP32, Shape: []int64{-1, 2}}},
	}
	rng := rand.New(rand.NewPCG(rows, cols))
	x := make([]float32, rows*cols)
	for i := range x {
		x[i] = float32(rng.NormFloat64())
	}
	in := codecTensor("input", []int64{rows, cols}, x)
	jsonBody, _ := new(binaryBuilder).json(in).request("")
	binBody, header := new(binaryBuilder).binary(in).request("")
	for _, bc := range []struct {
		name   string
		body   []byte
		header string
	}{
		{"json", jsonBody, ""},
		{"binary", binBody, header},
	} {
		b.Run(bc.name, func(b *testing.B) {
			var r inferRequest
			if err := decodeBody(bc.body, bc.header, sig, &r); err != nil {
				b.Fatal(err)
			}
			b.SetBytes(int64(len(bc.body)))
			b.ReportAllocs()
			for b.Loop() {
				if err := decodeBody(bc.body, bc.header, sig, &r); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
