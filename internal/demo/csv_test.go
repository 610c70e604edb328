package demo

import (
	"bytes"
	"encoding/csv"
	"encoding/json"
	"errors"
	"slices"
	"strconv"
	"strings"
	"testing"
)

// cell returns the text WriteCSV and AppendJSON give value v of field j.
func cell(t *testing.T, j int, v float64) string {
	t.Helper()
	f := Features()[j]
	switch f.Type {
	case TypeBool:
		return strconv.FormatBool(v == 1)
	case TypeCategory:
		return f.Values[int(v)]
	}
	return strconv.FormatFloat(v, 'f', -1, 64)
}

func TestWriteCSV(t *testing.T) {
	d := Generate(5, 300)
	var buf bytes.Buffer
	if err := WriteCSV(&buf, d); err != nil {
		t.Fatalf("WriteCSV: %v", err)
	}
	records, err := csv.NewReader(&buf).ReadAll()
	if err != nil {
		t.Fatalf("reading back: %v", err)
	}
	want := "amount,hour,distance_from_home_km,transactions_last_24h,card_age_days,avg_amount_30d,card_present,merchant_category,country,label"
	if got := strings.Join(records[0], ","); got != want {
		t.Fatalf("header = %q; want %q", got, want)
	}
	if len(records) != d.Len()+1 {
		t.Fatalf("%d records; want %d", len(records), d.Len()+1)
	}
	for i, rec := range records[1:] {
		for j, v := range d.Row(i) {
			if want := cell(t, j, v); rec[j] != want {
				t.Fatalf("row %d column %d = %q; want %q", i, j, rec[j], want)
			}
			if j < CardPresent {
				if got, err := strconv.ParseFloat(rec[j], 64); err != nil || got != v {
					t.Fatalf("row %d column %d = %q does not parse back to %v", i, j, rec[j], v)
				}
			}
		}
		if rec[NumFeatures] != strconv.Itoa(d.Y[i]) {
			t.Fatalf("row %d label = %q; want %d", i, rec[NumFeatures], d.Y[i])
		}
	}
	// Every value of every category, and both bools, appear.
	for j, f := range Features() {
		seen := map[string]bool{}
		for _, rec := range records[1:] {
			seen[rec[j]] = true
		}
		switch f.Type {
		case TypeCategory:
			for _, v := range f.Values {
				if !seen[v] {
					t.Errorf("%s: value %q never appears in 300 rows", f.Name, v)
				}
			}
		case TypeBool:
			if len(seen) != 2 || !seen["true"] || !seen["false"] {
				t.Errorf("%s: values %v; want true and false", f.Name, seen)
			}
		}
	}
}

// failingWriter accepts n bytes, then fails.
type failingWriter struct{ n int }

var errDiskFull = errors.New("disk full")

func (w *failingWriter) Write(p []byte) (int, error) {
	if len(p) > w.n {
		k := w.n
		w.n = 0
		return k, errDiskFull
	}
	w.n -= len(p)
	return len(p), nil
}

func TestWriteCSVFailure(t *testing.T) {
	f := func(n, budget int) {
		t.Helper()
		if err := WriteCSV(&failingWriter{n: budget}, Generate(1, n)); !errors.Is(err, errDiskFull) {
			t.Fatalf("WriteCSV(%d rows) into a writer failing after %d bytes = %v; want %v", n, budget, err, errDiskFull)
		}
	}
	f(10, 0)        // the error surfaces at Flush
	f(20000, 1<<16) // the error surfaces mid-stream
}

func TestAppendJSON(t *testing.T) {
	d := Generate(2, 200)
	names := make([]string, NumFeatures)
	for j, f := range Features() {
		names[j] = f.Name
	}
	for i := range d.Len() {
		b := AppendJSON([]byte("x"), d.Row(i))
		if b[0] != 'x' {
			t.Fatalf("AppendJSON overwrote dst")
		}
		var rec map[string]any
		if err := json.Unmarshal(b[1:], &rec); err != nil {
			t.Fatalf("row %d: %s: %v", i, b[1:], err)
		}
		// The fields come in the order of Features.
		dec := json.NewDecoder(bytes.NewReader(b[1:]))
		dec.Token()
		var order []string
		for dec.More() {
			k, _ := dec.Token()
			order = append(order, k.(string))
			var v any
			dec.Decode(&v)
		}
		if !slices.Equal(order, names) {
			t.Fatalf("row %d: fields %v; want %v", i, order, names)
		}
		for j, v := range d.Row(i) {
			var got string
			switch x := rec[names[j]].(type) {
			case float64:
				got = strconv.FormatFloat(x, 'f', -1, 64)
			case bool:
				got = strconv.FormatBool(x)
			case string:
				got = x
			}
			if want := cell(t, j, v); got != want {
				t.Fatalf("row %d: %s = %v; want %s", i, names[j], rec[names[j]], want)
			}
		}
	}
}
