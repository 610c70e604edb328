package demo

import (
	"bytes"
	"encoding/csv"
	"errors"
	"strconv"
	"strings"
	"testing"
)

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
	wantHeader := strings.Join(append(FeatureNames(), "label"), ",")
	if got := strings.Join(records[0], ","); got != wantHeader {
		t.Fatalf("header = %q; want %q", got, wantHeader)
	}
	if len(records) != d.Len()+1 {
		t.Fatalf("%d records; want %d", len(records), d.Len()+1)
	}
	for i, rec := range records[1:] {
		for j, want := range d.Row(i) {
			if got, err := strconv.ParseFloat(rec[j], 64); err != nil || got != want {
				t.Fatalf("row %d column %d = %q; want %v", i, j, rec[j], want)
			}
		}
		if rec[NumFeatures] != strconv.Itoa(d.Y[i]) {
			t.Fatalf("row %d label = %q; want %d", i, rec[NumFeatures], d.Y[i])
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
