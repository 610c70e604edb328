package bench

import (
	"bytes"
	"encoding/json"
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
