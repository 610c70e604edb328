package demo

import (
	"errors"
	"slices"
	"testing"
)

func TestHoldOut(t *testing.T) {
	d := Generate(3, 12)
	train, eval := HoldOut(d)
	if train.Len() != 10 || eval.Len() != 2 {
		t.Fatalf("HoldOut(12 rows) = %d and %d rows; want 10 and 2", train.Len(), eval.Len())
	}
	if !slices.Equal(eval.Row(0), d.Row(4)) || !slices.Equal(eval.Row(1), d.Row(9)) || !slices.Equal(train.Row(4), d.Row(5)) {
		t.Fatal("HoldOut did not hold out rows 4 and 9")
	}
	if eval.Y[1] != d.Y[9] {
		t.Fatal("HoldOut separated a row from its label")
	}
}

func TestBuildRetrainedFailure(t *testing.T) {
	f := func(recent, eval *Dataset, want error) {
		t.Helper()
		if _, err := BuildRetrained(1, recent, eval); !errors.Is(err, want) {
			t.Fatalf("BuildRetrained(%d rows, %d rows) error = %v; want %v", recent.Len(), eval.Len(), err, want)
		}
	}
	d := GenerateShifted(1, 200)
	f(&Dataset{}, d, ErrEmpty)
	f(d, &Dataset{}, ErrEmpty)
	legit := &Dataset{X: d.Row(0), Y: []int{0}}
	f(d, legit, ErrOneClass)
}
