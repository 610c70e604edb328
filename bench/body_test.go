package bench

import (
	"bytes"
	"encoding/binary"
	"encoding/json"
	"math"
	"testing"
)

func TestInferBody(t *testing.T) {
	f := func(input string, rows, features int) {
		t.Helper()
		b := InferBody(input, rows, features, 7)
		var got struct {
			Inputs []struct {
				Name     string
				Datatype string
				Shape    []int
				Data     []float64
			}
		}
		if err := json.Unmarshal(b, &got); err != nil {
			t.Fatalf("InferBody(%q, %d, %d) = %s: %v", input, rows, features, b, err)
		}
		in := got.Inputs[0]
		if len(got.Inputs) != 1 || in.Name != input || in.Datatype != "FP32" || len(in.Shape) != 2 ||
			in.Shape[0] != rows || in.Shape[1] != features || len(in.Data) != rows*features {
			t.Fatalf("InferBody(%q, %d, %d) = %s", input, rows, features, b)
		}
		for _, v := range in.Data {
			if v < -1 || v >= 1 {
				t.Fatalf("InferBody(%q, %d, %d) has %v outside [-1, 1)", input, rows, features, v)
			}
		}
		if again := InferBody(input, rows, features, 7); !bytes.Equal(again, b) {
			t.Fatalf("InferBody is not deterministic")
		}
	}
	f("input", 1, 30)
	f("features", 3, 8)
	f(`odd "name"`, 2, 1)
}

func TestInferBinaryBody(t *testing.T) {
	const rows, features = 3, 5
	b, n := InferBinaryBody("x", rows, features, 9)
	var head struct {
		Inputs []struct {
			Name       string
			Datatype   string
			Shape      []int
			Data       []float64
			Parameters struct {
				BinaryDataSize int `json:"binary_data_size"`
			}
		}
		Parameters struct {
			BinaryDataOutput bool `json:"binary_data_output"`
		}
	}
	if n <= 0 || n > len(b) {
		t.Fatalf("InferBinaryBody: JSON length %d of a %d-byte body", n, len(b))
	}
	if err := json.Unmarshal(b[:n], &head); err != nil {
		t.Fatalf("InferBinaryBody: JSON header %s: %v", b[:n], err)
	}
	in := head.Inputs[0]
	if len(head.Inputs) != 1 || in.Name != "x" || in.Datatype != "FP32" || len(in.Shape) != 2 || in.Shape[0] != rows ||
		in.Shape[1] != features || in.Data != nil || in.Parameters.BinaryDataSize != rows*features*4 || !head.Parameters.BinaryDataOutput {
		t.Fatalf("InferBinaryBody: JSON header %s", b[:n])
	}
	if got := len(b) - n; got != rows*features*4 {
		t.Fatalf("InferBinaryBody: %d bytes of tensor data; want %d", got, rows*features*4)
	}
	// The same values as the JSON request for the same arguments.
	var plain struct{ Inputs []struct{ Data []float32 } }
	if err := json.Unmarshal(InferBody("x", rows, features, 9), &plain); err != nil {
		t.Fatal(err)
	}
	for i, want := range plain.Inputs[0].Data {
		got := math.Float32frombits(binary.LittleEndian.Uint32(b[n+4*i:]))
		if got != want {
			t.Fatalf("value %d: binary %v, JSON %v", i, got, want)
		}
	}
}
