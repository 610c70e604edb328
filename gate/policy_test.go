package gate

import (
	"reflect"
	"testing"
)

func TestPolicyEvalConfig(t *testing.T) {
	f := func(p Policy, want EvalConfig) {
		t.Helper()
		cols := want.Columns
		if got := p.EvalConfig("eval_label", 2, 3, cols); !reflect.DeepEqual(got, want) {
			t.Fatalf("EvalConfig(%+v) = %+v; want %+v", p, got, want)
		}
	}
	cols := []Column{{Name: "a"}, {Name: "b", Position: 1}, {Name: "c", Position: 2}}
	f(Policy{}, EvalConfig{Label: "eval_label", Classes: 2, Width: 3})
	f(Policy{Label: "is_fraud", MaxRows: 500, Slices: &SlicePolicy{Feature: "country", MinRows: 5}},
		EvalConfig{Label: "is_fraud", Columns: cols, Classes: 2, Width: 3, MaxRows: 500, SliceBy: "country"})
}
