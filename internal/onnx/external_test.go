package onnx

import (
	"bytes"
	"encoding/binary"
	"math"
	"reflect"
	"testing"
)

func TestExternalizeMovesLargeInitializers(t *testing.T) {
	big := make([]float32, 300) // 1200 bytes: over the threshold
	for i := range big {
		big[i] = float32(i) / 7
	}
	ints := []int64{1, -2, 3} // 24 bytes: stays inline
	raw := bytes.Repeat([]byte{7}, 1100)
	m := &Model{Graph: Graph{Name: "g", Initializers: []Tensor{
		FloatTensor("w", []int64{300}, big),
		Int64Tensor("i", []int64{3}, ints),
		RawTensor("r", Uint8, []int64{1100}, raw),
	}}}
	out, data := Externalize(m, "weights.bin", 1024)

	var want []byte
	for _, v := range big {
		want = binary.LittleEndian.AppendUint32(want, math.Float32bits(v))
	}
	want = append(want, raw...)
	if !bytes.Equal(data, want) {
		t.Fatalf("Externalize data = %d bytes; want the float bytes then the raw bytes (%d)", len(data), len(want))
	}
	if m.Graph.Initializers[0].External != nil {
		t.Fatal("Externalize modified its argument")
	}
	got := decodeModel(t, out.Marshal()).Graph.Initializers
	wantInit := []Tensor{
		{Name: "w", Type: Float, Dims: []int64{300}, External: &ExternalData{Location: "weights.bin", Offset: 0, Length: 1200}},
		{Name: "i", Type: Int64, Dims: []int64{3}, Int64s: ints},
		{Name: "r", Type: Uint8, Dims: []int64{1100}, External: &ExternalData{Location: "weights.bin", Offset: 1200, Length: 1100}},
	}
	if !reflect.DeepEqual(got, wantInit) {
		t.Fatalf("decoded initializers = %+v; want %+v", got, wantInit)
	}
}
