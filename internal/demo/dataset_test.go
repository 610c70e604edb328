package demo

import (
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

func TestGenerateRanges(t *testing.T) {
	d := Generate(3, 20000)
	if d.Len() != 20000 || len(d.X) != 20000*NumFeatures {
		t.Fatalf("Generate(3, 20000) has %d labels and %d values", d.Len(), len(d.X))
	}
	valid := []func(v float64) bool{
		Amount:              func(v float64) bool { return v >= 0.5 },
		HourOfDay:           func(v float64) bool { return v >= 0 && v <= 23 && v == float64(int(v)) },
		DistanceFromHomeKm:  func(v float64) bool { return v >= 0 },
		MerchantRiskScore:   func(v float64) bool { return v >= 0 && v <= 1 },
		TransactionsLast24h: func(v float64) bool { return v >= 0 && v == float64(int(v)) },
		IsForeign:           func(v float64) bool { return v == 0 || v == 1 },
		CardPresent:         func(v float64) bool { return v == 0 || v == 1 },
		AccountAgeDays:      func(v float64) bool { return v >= 1 && v <= 7300 && v == float64(int(v)) },
	}
	names := FeatureNames()
	positives := 0
	for i := range d.Len() {
		for j, v := range d.Row(i) {
			if !valid[j](v) {
				t.Fatalf("row %d: %s = %v is out of range", i, names[j], v)
			}
		}
		if y := d.Y[i]; y != 0 && y != 1 {
			t.Fatalf("row %d: label %d", i, y)
		}
		positives += d.Y[i]
	}
	if rate := float64(positives) / float64(d.Len()); rate < 0.08 || rate > 0.12 {
		t.Fatalf("fraud rate %.3f; want about 0.10", rate)
	}
}

func TestFeatureNames(t *testing.T) {
	names := FeatureNames()
	if len(names) != NumFeatures {
		t.Fatalf("FeatureNames() has %d names; want %d", len(names), NumFeatures)
	}
	f := func(i int, want string) {
		t.Helper()
		if names[i] != want {
			t.Fatalf("FeatureNames()[%d] = %q; want %q", i, names[i], want)
		}
	}
	f(Amount, "amount")
	f(HourOfDay, "hour_of_day")
	f(DistanceFromHomeKm, "distance_from_home_km")
	f(MerchantRiskScore, "merchant_risk_score")
	f(TransactionsLast24h, "transactions_last_24h")
	f(IsForeign, "is_foreign")
	f(CardPresent, "card_present")
	f(AccountAgeDays, "account_age_days")
	names[0] = "changed"
	if FeatureNames()[0] != "amount" {
		t.Fatalf("FeatureNames() returned a shared slice")
	}
}

func TestSplit(t *testing.T) {
	d := Generate(1, 10)
	head, tail := d.Split(7)
	if head.Len() != 7 || tail.Len() != 3 || !reflect.DeepEqual(tail.Row(0), d.Row(7)) {
		t.Fatalf("Split(7) = %d and %d rows", head.Len(), tail.Len())
	}
	if x := d.Float32(); len(x) != 10*NumFeatures || x[NumFeatures+Amount] != float32(d.Row(1)[Amount]) {
		t.Fatalf("Float32() does not match X")
	}
}
