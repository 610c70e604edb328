package bench

import (
	"context"
	"encoding/json"
	"slices"
	"testing"
)

// TestRecordsBodies checks that the records request and the V2 request
// carry the same values: the V2 row is the records instance encoded as
// recordsFeatures says.
func TestRecordsBodies(t *testing.T) {
	records, v2 := recordsBodies(1)
	var rec struct{ Instances []map[string]any }
	var inf struct {
		Inputs []struct {
			Name  string
			Shape []int
			Data  []float32
		}
	}
	if err := json.Unmarshal(records, &rec); err != nil || len(rec.Instances) != 1 {
		t.Fatalf("records body %s: %v", records, err)
	}
	if err := json.Unmarshal(v2, &inf); err != nil || len(inf.Inputs) != 1 || !slices.Equal(inf.Inputs[0].Shape, []int{1, 30}) {
		t.Fatalf("V2 body %s: %v", v2, err)
	}
	inst, row := rec.Instances[0], inf.Inputs[0].Data
	var want []float32
	for _, f := range recordsFeatures() {
		switch v := inst[f.Name].(type) {
		case float64:
			want = append(want, float32(v))
		case string:
			for _, c := range f.Values {
				want = append(want, map[bool]float32{true: 1}[c == v])
			}
		case bool:
			want = append(want, map[bool]float32{true: 1}[v])
		default:
			t.Fatalf("records body %s: field %s is %#v", records, f.Name, inst[f.Name])
		}
	}
	if len(inst) != 28 || !slices.Equal(row, want) {
		t.Fatalf("V2 row %v; the records instance %v encodes as %v", row, inst, want)
	}
}

// TestRecordsCostSmoke runs the records-cost scenario for one round of
// short phases against a real `switchyard serve`, built from this module.
// It checks that every measurement was taken, never how fast.
func TestRecordsCostSmoke(t *testing.T) {
	rep := smokeRounds(t, func(ctx context.Context, cfg RoundsConfig) (*RecordsReport, error) {
		return RecordsCost(ctx, RecordsConfig{RoundsConfig: cfg})
	})
	checkRoundPhases(t, rep.Phases, 1, func(p RecordsPhase) bool { return p.Records })
	checkRatio(t, &rep.RoundsReport)
	checkReport(t, rep, "--records-cost", "V2", "records", "median", "÷ one-row V2", verdict(rep.Goals[0]))
}
