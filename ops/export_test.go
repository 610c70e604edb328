package ops_test

import (
	"bufio"
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/binary"
	"encoding/csv"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/switchyard-ml/switchyard/internal/onnx"
	"github.com/switchyard-ml/switchyard/modelstore"
	"github.com/switchyard-ml/switchyard/ops"
	"github.com/switchyard-ml/switchyard/tracking"
)

// exportFeatures is the records schema of the export tests' model: a
// number, an integer, a bool, a one-hot category and a category by its
// index, in 7 columns of one FP32 input.
func exportFeatures() []modelstore.Feature {
	return []modelstore.Feature{
		{Name: "amount", Type: modelstore.TypeNumber, Position: 0},
		{Name: "hour", Type: modelstore.TypeInteger, Position: 1},
		{Name: "card_present", Type: modelstore.TypeBool, Position: 2},
		{Name: "country", Type: modelstore.TypeCategory, Values: []string{"FR", "DE", "US"}, Encoding: modelstore.EncodeOneHot, Position: 3},
		{Name: "channel", Type: modelstore.TypeCategory, Values: []string{"web", "shop"}, Position: 6},
	}
}

// exportModel is a binary classifier over 7 columns.
func exportModel(seed float32) []byte {
	w := make([]float32, 7)
	for i := range w {
		w[i] = seed * float32(i+1) / 10
	}
	return (&onnx.LogReg{Weights: w, Bias: []float32{0}}).Model().Marshal()
}

// exportRecord is one logged prediction of the export tests, as it was
// sent and labelled.
type exportRecord struct {
	id           string
	amount       float32
	hour         int
	cardPresent  bool
	country      int
	channel      int
	score        float64
	label        any // nil, a string or a number
	version, row int
}

// inputs encodes r as the server logs a records row: 7 float32s.
func (r *exportRecord) inputs() []byte {
	row := make([]float32, 7)
	row[0], row[1] = r.amount, float32(r.hour)
	if r.cardPresent {
		row[2] = 1
	}
	row[3+r.country] = 1
	row[6] = float32(r.channel)
	b := make([]byte, 0, 28)
	for _, x := range row {
		b = binary.LittleEndian.AppendUint32(b, math.Float32bits(x))
	}
	return b
}

// exportFixture publishes version 1 of "fraud" with exportFeatures and
// version 2 with the same schema, logs n predictions alternating between
// them (a minute apart from base), labels every third with "fraud" or
// "legit" and every fifth unlabelled one with a number, and returns the
// registry, the store and the records.
func exportFixture(t *testing.T, n int, base time.Time) (string, *tracking.Store, []exportRecord) {
	t.Helper()
	reg := t.TempDir()
	for v := 1; v <= 2; v++ {
		if _, err := modelstore.Publish(reg, "fraud", exportModel(float32(v)), modelstore.PublishOptions{CreatedBy: "test",
			Features: exportFeatures(), Classes: []string{"legit", "fraud"}}); err != nil {
			t.Fatal(err)
		}
	}
	st := openTracking(t)
	recs := make([]exportRecord, n)
	ps := make([]tracking.Prediction, n)
	var labels []tracking.Label
	for i := range recs {
		r := &recs[i]
		*r = exportRecord{id: fmt.Sprintf("p-%04d", i), amount: float32(i) * 1.25, hour: i % 24, cardPresent: i%2 == 0,
			country: i % 3, channel: i % 2, score: float64(i%10) / 10, version: 1 + i%2, row: i}
		switch {
		case i%3 == 0:
			r.label = []string{"legit", "fraud"}[i%2]
		case i%5 == 0:
			r.label = float64(i) / 4
		}
		ps[i] = tracking.Prediction{ID: r.id, Time: base.Add(time.Duration(i) * time.Minute), Model: "fraud", Version: r.version,
			Arm: "stable", Inputs: r.inputs(), Scores: []float64{r.score}}
		if r.label != nil {
			raw, _ := json.Marshal(r.label)
			labels = append(labels, tracking.Label{PredictionID: r.id, Value: raw})
		}
	}
	ctx := context.Background()
	if err := st.LogPredictions(ctx, ps); err != nil {
		t.Fatal(err)
	}
	if _, err := st.Feedback(ctx, labels); err != nil {
		t.Fatal(err)
	}
	return reg, st, recs
}

// wantRow is r's row as the export writes it in CSV, by column.
func (r *exportRecord) wantRow(base time.Time) map[string]string {
	label := ""
	switch l := r.label.(type) {
	case string:
		label = l
	case float64:
		label = strconv.FormatFloat(l, 'g', -1, 64)
	}
	return map[string]string{
		"prediction_id": r.id, "time": base.Add(time.Duration(r.row) * time.Minute).UTC().Format(time.RFC3339Nano),
		"version": strconv.Itoa(r.version), "arm": "stable",
		"amount": strconv.FormatFloat(float64(r.amount), 'g', -1, 32), "hour": strconv.Itoa(r.hour),
		"card_present": strconv.FormatBool(r.cardPresent), "country": []string{"FR", "DE", "US"}[r.country],
		"channel": []string{"web", "shop"}[r.channel], "score": strconv.FormatFloat(r.score, 'g', -1, 64), "label": label,
	}
}

func export(t *testing.T, st *tracking.Store, reg string, opts ops.ExportOptions) (ops.ExportSummary, []byte) {
	t.Helper()
	var buf bytes.Buffer
	sum, err := ops.Export(context.Background(), st, reg, opts, &buf)
	if err != nil {
		t.Fatalf("Export(%+v) = %v", opts, err)
	}
	digest := sha256.Sum256(buf.Bytes())
	if sum.SHA256 != hex.EncodeToString(digest[:]) || sum.Bytes != int64(buf.Len()) {
		t.Errorf("Export(%+v) summary %+v; the bytes' sha256 is %x, %d bytes", opts, sum, digest, buf.Len())
	}
	return sum, buf.Bytes()
}

// readCSV parses an export: its header and rows by column name.
func readCSV(t *testing.T, data []byte) ([]string, []map[string]string) {
	t.Helper()
	all, err := csv.NewReader(bytes.NewReader(data)).ReadAll()
	if err != nil || len(all) == 0 {
		t.Fatalf("export is not CSV with a header: %v\n%s", err, data)
	}
	rows := make([]map[string]string, len(all)-1)
	for i, rec := range all[1:] {
		rows[i] = map[string]string{}
		for j, name := range all[0] {
			rows[i][name] = rec[j]
		}
	}
	return all[0], rows
}

func TestExportCSVReadsEveryFieldBack(t *testing.T) {
	base := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	reg, st, recs := exportFixture(t, 60, base)

	sum, data := export(t, st, reg, ops.ExportOptions{Model: "fraud", Format: ops.ExportCSV})
	header, rows := readCSV(t, data)
	wantHeader := []string{"prediction_id", "time", "version", "arm", "amount", "hour", "card_present", "country", "channel", "score", "label", "label_time"}
	if !slices.Equal(header, wantHeader) {
		t.Fatalf("header = %v; want %v", header, wantHeader)
	}
	if len(rows) != len(recs) || sum.Rows != int64(len(recs)) || sum.SkippedTotal() != 0 {
		t.Fatalf("%d rows, summary %+v; want %d", len(rows), sum, len(recs))
	}
	labelled := 0
	for i, r := range recs {
		got := rows[i]
		for col, want := range r.wantRow(base) {
			if got[col] != want {
				t.Errorf("row %d %s = %q; want %q", i, col, got[col], want)
			}
		}
		if (r.label != nil) != (got["label_time"] != "") {
			t.Errorf("row %d: label %v, label_time %q", i, r.label, got["label_time"])
		}
		if r.label != nil {
			labelled++
		}
	}
	if sum.Labelled != int64(labelled) {
		t.Errorf("summary labelled %d; want %d", sum.Labelled, labelled)
	}

	// --labelled, --version and --since select as the log does.
	sum, data = export(t, st, reg, ops.ExportOptions{Model: "fraud", Format: ops.ExportCSV, Labelled: true, Version: 2,
		Since: base.Add(30 * time.Minute)})
	_, rows = readCSV(t, data)
	var want []string
	for _, r := range recs {
		if r.label != nil && r.version == 2 && r.row >= 30 {
			want = append(want, r.id)
		}
	}
	var got []string
	for _, row := range rows {
		got = append(got, row["prediction_id"])
	}
	if !slices.Equal(got, want) || sum.Rows != int64(len(want)) || sum.Labelled != sum.Rows || len(want) == 0 {
		t.Errorf("labelled v2 since +30m = %v (summary %+v); want %v", got, sum, want)
	}
}

func TestExportJSONLReadsEveryFieldBack(t *testing.T) {
	base := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	reg, st, recs := exportFixture(t, 30, base)
	sum, data := export(t, st, reg, ops.ExportOptions{Model: "fraud", Format: ops.ExportJSONL})
	sc := bufio.NewScanner(bytes.NewReader(data))
	i := 0
	for ; sc.Scan(); i++ {
		var got map[string]any
		dec := json.NewDecoder(strings.NewReader(sc.Text()))
		dec.UseNumber()
		if err := dec.Decode(&got); err != nil {
			t.Fatalf("line %d: %v: %s", i+1, err, sc.Text())
		}
		r := recs[i]
		want := r.wantRow(base)
		if got["prediction_id"] != r.id || got["time"] != want["time"] || got["version"] != json.Number(want["version"]) ||
			got["amount"] != json.Number(want["amount"]) || got["hour"] != json.Number(want["hour"]) ||
			got["card_present"] != r.cardPresent || got["country"] != want["country"] || got["channel"] != want["channel"] ||
			got["score"] != json.Number(want["score"]) {
			t.Errorf("line %d = %v; want %v", i+1, got, want)
		}
		switch l := r.label.(type) {
		case nil:
			if got["label"] != nil || got["label_time"] != nil {
				t.Errorf("line %d: label %v at %v; want null", i+1, got["label"], got["label_time"])
			}
		case string:
			if got["label"] != l {
				t.Errorf("line %d: label %v; want %q", i+1, got["label"], l)
			}
		case float64:
			if n, _ := got["label"].(json.Number).Float64(); n != l {
				t.Errorf("line %d: label %v; want %v", i+1, got["label"], l)
			}
		}
	}
	if i != len(recs) || sum.Rows != int64(i) {
		t.Errorf("%d lines, summary %+v; want %d", i, sum, len(recs))
	}
}

// TestExportVersionsThatDiffer: CSV refuses versions whose columns differ,
// naming them, before it writes anything; JSONL writes each with its own.
func TestExportVersionsThatDiffer(t *testing.T) {
	base := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	reg, st, _ := exportFixture(t, 4, base)
	// Version 3 has no schema: input_0..input_6.
	if _, err := modelstore.Publish(reg, "fraud", exportModel(3), modelstore.PublishOptions{CreatedBy: "test"}); err != nil {
		t.Fatal(err)
	}
	in := make([]byte, 28)
	binary.LittleEndian.PutUint32(in[4:], math.Float32bits(2.5))
	ctx := context.Background()
	if err := st.LogPredictions(ctx, []tracking.Prediction{
		{ID: "v3", Time: base.Add(time.Hour), Model: "fraud", Version: 3, Inputs: in, Scores: []float64{0.5}},
		{ID: "v3-two-rows", Time: base.Add(time.Hour), Model: "fraud", Version: 3, Inputs: append(in, in...), Scores: []float64{0.5, 0.5}},
		{ID: "v3-no-inputs", Time: base.Add(time.Hour), Model: "fraud", Version: 3, Scores: []float64{0.5}},
		{ID: "v9", Time: base.Add(time.Hour), Model: "fraud", Version: 9, Inputs: in},
	}); err != nil {
		t.Fatal(err)
	}

	var buf bytes.Buffer
	_, err := ops.Export(ctx, st, reg, ops.ExportOptions{Model: "fraud", Format: ops.ExportCSV}, &buf)
	if !errors.Is(err, ops.ErrExportColumns) || !strings.Contains(err.Error(), "--version") || buf.Len() != 0 {
		t.Errorf("CSV of versions that differ = %v, %d bytes written; want a refusal naming them, nothing written", err, buf.Len())
	}
	if err == nil || !strings.Contains(err.Error(), "versions [1 2] have the columns amount,hour,card_present,country,channel") ||
		!strings.Contains(err.Error(), "versions [3] have the columns input_0,input_1") {
		t.Errorf("refusal %v does not name both groups of versions", err)
	}

	sum, data := export(t, st, reg, ops.ExportOptions{Model: "fraud", Format: ops.ExportJSONL})
	lines := strings.Split(strings.TrimSpace(string(data)), "\n")
	if len(lines) != 5 || sum.Rows != 5 || sum.Skipped["inputs not one row"] != 2 || sum.Skipped["version not readable from the registry"] != 1 {
		t.Fatalf("JSONL of every version: %d lines, summary %+v; want 5, 2 skipped for their inputs, 1 for its version\n%s", len(lines), sum, data)
	}
	var v3 map[string]any
	if err := json.Unmarshal([]byte(lines[4]), &v3); err != nil || v3["input_1"] != 2.5 || v3["input_0"] != 0.0 || v3["prediction_id"] != "v3" {
		t.Errorf("version 3's line = %s (%v); want input_0..input_6 with input_1 2.5", lines[4], err)
	}

	// One version in CSV is fine.
	_, data = export(t, st, reg, ops.ExportOptions{Model: "fraud", Version: 3, Format: ops.ExportCSV})
	header, rows := readCSV(t, data)
	if len(rows) != 1 || header[4] != "input_0" || rows[0]["input_1"] != "2.5" {
		t.Errorf("CSV of version 3 = %v %v", header, rows)
	}
}

func TestExportFailure(t *testing.T) {
	reg, st, _ := exportFixture(t, 2, time.Now())
	f := func(reg string, opts ops.ExportOptions, want string) {
		t.Helper()
		var buf bytes.Buffer
		_, err := ops.Export(context.Background(), st, reg, opts, &buf)
		if err == nil || !strings.Contains(err.Error(), want) || buf.Len() != 0 {
			t.Errorf("Export(%+v) = %v, %d bytes; want an error mentioning %q, nothing written", opts, err, buf.Len(), want)
		}
	}
	f(reg, ops.ExportOptions{Model: "fraud", Format: "xlsx"}, `format "xlsx": want csv or jsonl`)
	f(reg, ops.ExportOptions{Model: "fraud"}, `format "": want csv or jsonl`)
	f(reg, ops.ExportOptions{Model: "nope", Format: ops.ExportCSV}, `model "nope" has no version in the registry`)
	f(reg, ops.ExportOptions{Model: "../x", Format: ops.ExportCSV}, `"../x" is not a model name`)
	f(reg, ops.ExportOptions{Model: "fraud", Version: 7, Format: ops.ExportCSV}, `model "fraud" has no version 7 in the registry`)
	f(reg, ops.ExportOptions{Model: "fraud", Version: -1, Format: ops.ExportCSV}, "version -1")
	f(reg+"/missing", ops.ExportOptions{Model: "fraud", Format: ops.ExportCSV}, "registry")

	// The log failing midway is an error, and the store is still there.
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := ops.Export(ctx, st, reg, ops.ExportOptions{Model: "fraud", Format: ops.ExportCSV}, &bytes.Buffer{}); err == nil {
		t.Error("Export with a cancelled context = nil; want the log's error")
	}
	if _, data := export(t, st, reg, ops.ExportOptions{Model: "fraud", Format: ops.ExportCSV}); bytes.Count(data, []byte("\n")) != 3 {
		t.Errorf("after the failures the export has %q; want a header and 2 rows", data)
	}
}
