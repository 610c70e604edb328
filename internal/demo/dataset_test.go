package demo

import (
	"math"
	"reflect"
	"testing"
)

func TestGenerateDeterministic(t *testing.T) {
	a, b, c := Generate(1, 500), Generate(1, 500), Generate(2, 500)
	if !reflect.DeepEqual(a, b) {
		t.Fatalf("Generate(1, 500) differs between calls")
	}
	if reflect.DeepEqual(a.X, c.X) {
		t.Fatalf("Generate(1, 500) and Generate(2, 500) are equal")
	}
	// A longer dataset from the same seed starts with the same rows.
	long := Generate(1, 1000)
	if head, _ := long.Split(500); !reflect.DeepEqual(head, a) {
		t.Fatalf("Generate(1, 1000) does not start with Generate(1, 500)")
	}
}

// TestGenerateRanges checks that every generated record is one the
// records API accepts under the schema Features describes, and that the
// fraud rate is what Generate documents.
func TestGenerateRanges(t *testing.T) {
	d := Generate(3, 20000)
	if d.Len() != 20000 || len(d.X) != 20000*NumFeatures {
		t.Fatalf("Generate(3, 20000) has %d labels and %d values", d.Len(), len(d.X))
	}
	features := Features()
	positives := 0
	for i := range d.Len() {
		for j, v := range d.Row(i) {
			f := features[j]
			ok := false
			switch f.Type {
			case TypeNumber:
				ok = v >= f.Min && v <= f.Max
			case TypeInteger:
				ok = v >= f.Min && v <= f.Max && v == math.Trunc(v)
			case TypeBool:
				ok = v == 0 || v == 1
			case TypeCategory:
				ok = v >= 0 && int(v) < len(f.Values) && v == math.Trunc(v)
			}
			if !ok {
				t.Fatalf("row %d: %s = %v is out of range (%+v)", i, f.Name, v, f)
			}
		}
		if y := d.Y[i]; y != 0 && y != 1 {
			t.Fatalf("row %d: label %d", i, y)
		}
		positives += d.Y[i]
	}
	if rate := float64(positives) / float64(d.Len()); rate < 0.05 || rate > 0.08 {
		t.Fatalf("fraud rate %.3f; want about 0.06", rate)
	}
}

// TestFeatures checks the schema's layout: the fields in row order,
// their columns filling the input once each.
func TestFeatures(t *testing.T) {
	fs := Features()
	if len(fs) != NumFeatures {
		t.Fatalf("Features() has %d fields; want %d", len(fs), NumFeatures)
	}
	f := func(i int, name, typ string) {
		t.Helper()
		if fs[i].Name != name || fs[i].Type != typ || fs[i].Description == "" {
			t.Fatalf("Features()[%d] = %+v; want %s, %s, described", i, fs[i], name, typ)
		}
	}
	f(Amount, "amount", TypeNumber)
	f(Hour, "hour", TypeInteger)
	f(DistanceFromHomeKm, "distance_from_home_km", TypeNumber)
	f(TransactionsLast24h, "transactions_last_24h", TypeInteger)
	f(CardAgeDays, "card_age_days", TypeInteger)
	f(AvgAmount30d, "avg_amount_30d", TypeNumber)
	f(CardPresent, "card_present", TypeBool)
	f(MerchantCategory, "merchant_category", TypeCategory)
	f(Country, "country", TypeCategory)
	column := 0
	for _, ft := range fs {
		if ft.Column != column {
			t.Fatalf("%s starts at column %d; want %d", ft.Name, ft.Column, column)
		}
		column++
		if ft.Type == TypeCategory {
			column += len(ft.Values) - 1
		}
	}
	if column != InputWidth {
		t.Fatalf("the fields fill %d columns; want InputWidth %d", column, InputWidth)
	}
	fs[0].Name = "changed"
	if Features()[0].Name != "amount" {
		t.Fatalf("Features() returned a shared slice")
	}
}

func TestEncode(t *testing.T) {
	record := []float64{1794.18, 3, 6512.4, 7, 12, 38.5, 0, 4, 4} // electronics, US
	want := []float32{1794.18, 3, 6512.4, 7, 12, 38.5, 0, 0, 0, 0, 0, 1, 0, 0, 0, 0, 0, 1}
	if got := Encode(record); !reflect.DeepEqual(got, want) {
		t.Fatalf("Encode(%v) = %v; want %v", record, got, want)
	}
	d := Generate(1, 10)
	x := d.Input()
	if len(x) != 10*InputWidth {
		t.Fatalf("Input() has %d values; want %d", len(x), 10*InputWidth)
	}
	for i := range d.Len() {
		if got := x[i*InputWidth : (i+1)*InputWidth]; !reflect.DeepEqual(got, Encode(d.Row(i))) {
			t.Fatalf("Input() row %d = %v; want Encode's %v", i, got, Encode(d.Row(i)))
		}
	}
}

func TestSplit(t *testing.T) {
	d := Generate(1, 10)
	head, tail := d.Split(7)
	if head.Len() != 7 || tail.Len() != 3 || !reflect.DeepEqual(tail.Row(0), d.Row(7)) {
		t.Fatalf("Split(7) = %d and %d rows", head.Len(), tail.Len())
	}
}
