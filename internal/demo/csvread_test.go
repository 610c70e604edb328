package demo

import (
	"bytes"
	"slices"
	"strings"
	"testing"
)

// TestReadCSVSuccess reads back what WriteCSV wrote, and an export of
// logged predictions with extra columns in another order, unlabelled
// rows and rows without inputs.
func TestReadCSVSuccess(t *testing.T) {
	d := Generate(5, 300)
	var buf bytes.Buffer
	if err := WriteCSV(&buf, d); err != nil {
		t.Fatal(err)
	}
	got, err := ReadCSV(&buf)
	if err != nil {
		t.Fatalf("ReadCSV(WriteCSV) = %v", err)
	}
	if !slices.Equal(got.Data.X, d.X) || !slices.Equal(got.Data.Y, d.Y) || got.Unlabelled != 0 || got.NoInputs != 0 {
		t.Fatalf("ReadCSV(WriteCSV) = %d rows, %d unlabelled, %d without inputs; want the %d rows written", got.Data.Len(), got.Unlabelled, got.NoInputs, d.Len())
	}

	export := `prediction_id,time,version,arm,country,merchant_category,card_present,avg_amount_30d,card_age_days,transactions_last_24h,distance_from_home_km,hour,amount,score,label,label_time
a-1,2026-12-06T07:00:00Z,2,stable,FR,digital_goods,false,40.5,300,2,3.5,14,12.25,0.01,fraud,2026-12-06T07:00:05Z
a-2,2026-12-06T07:00:01Z,2,canary,US,travel,true,80,12,1,6600,3,150,0.4,legit,2026-12-06T07:00:06Z
a-3,2026-12-06T07:00:02Z,2,stable,DE,fuel,true,20,1000,0,700,9,30,0.02,,
a-4,2026-12-06T07:00:03Z,2,stable,,,,,,,,,,0.5,1,2026-12-06T07:00:07Z
a-5,2026-12-06T07:00:04Z,3,canary,GB,grocery,false,1000.5,0,7,800,23,0.5,0.9,0,2026-12-06T07:00:08Z
`
	got, err = ReadCSV(strings.NewReader(export))
	if err != nil {
		t.Fatalf("ReadCSV(export) = %v", err)
	}
	want := &Dataset{X: []float64{
		12.25, 14, 3.5, 2, 300, 40.5, 0, float64(digitalGoods), 0,
		150, 3, 6600, 1, 12, 80, 1, float64(travel), 4,
		0.5, 23, 800, 7, 0, 1000.5, 0, float64(grocery), 3,
	}, Y: []int{1, 0, 0}}
	if !slices.Equal(got.Data.X, want.X) || !slices.Equal(got.Data.Y, want.Y) {
		t.Fatalf("ReadCSV(export) = %v %v; want %v %v", got.Data.X, got.Data.Y, want.X, want.Y)
	}
	if got.Unlabelled != 1 || got.NoInputs != 1 {
		t.Fatalf("ReadCSV(export): %d unlabelled, %d without inputs; want 1 and 1", got.Unlabelled, got.NoInputs)
	}
}

// TestReadCSVFailure checks that each malformed file fails with an error
// naming its line and what is wrong, and returns nothing.
func TestReadCSVFailure(t *testing.T) {
	const header = "amount,hour,distance_from_home_km,transactions_last_24h,card_age_days,avg_amount_30d,card_present,merchant_category,country,label\n"
	const good = "12.5,14,3.5,2,300,40.5,false,grocery,FR,0\n"
	f := func(in string, wants ...string) {
		t.Helper()
		got, err := ReadCSV(strings.NewReader(in))
		if err == nil {
			t.Fatalf("ReadCSV(%q) = %d rows; want an error", in, got.Data.Len())
		}
		for _, w := range wants {
			if !strings.Contains(err.Error(), w) {
				t.Fatalf("ReadCSV(%q) error = %q; want it to say %q", in, err, w)
			}
		}
		if got != nil {
			t.Fatalf("ReadCSV(%q) returned rows with its error", in)
		}
	}
	f("", "empty file")
	f(strings.Replace(header, "hour,", "", 1), "line 1", `no column "hour"`)
	f(strings.Replace(header, ",label", ",score", 1), "line 1", `no column "label"`)
	f(strings.Replace(header, "label", "amount", 1), "line 1", `"amount" twice`)
	f(header+good+"12.5,14,3.5,2,300,40.5,false,grocery,FR,maybe\n", "line 3", `label "maybe"`)
	f(header+good+"12.5,24,3.5,2,300,40.5,false,grocery,FR,1\n", "line 3", `field "hour"`, "outside [0, 23]")
	f(header+"12.5,14.5,3.5,2,300,40.5,false,grocery,FR,1\n", "line 2", `field "hour"`, "integer")
	f(header+"NaN,14,3.5,2,300,40.5,false,grocery,FR,1\n", "line 2", `field "amount"`, "finite number")
	f(header+good+good+"12.5,14,3.5,2,300,40.5,yes,grocery,FR,1\n", "line 4", `field "card_present"`, "true or false")
	f(header+"12.5,14,3.5,2,300,40.5,false,casino,FR,1\n", "line 2", `field "merchant_category"`, `"casino"`)
	f(header+"12.5,14,,2,300,40.5,false,grocery,FR,1\n", "line 2", `field "distance_from_home_km"`)
	f(header+good+"12.5,14,3.5\n", "line 3", "wrong number of fields")
}
