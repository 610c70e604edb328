package main

import (
	"bytes"
	"context"
	"encoding/csv"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/switchyard-ml/switchyard/internal/onnx"
	"github.com/switchyard-ml/switchyard/modelstore"
)

// loopFeatures is the records schema of the model the feedback and export
// tests serve: a number, an integer, a bool, a one-hot category and a
// category by its index, in 7 columns.
func loopFeatures() []modelstore.Feature {
	return []modelstore.Feature{
		{Name: "amount", Type: modelstore.TypeNumber, Position: 0},
		{Name: "hour", Type: modelstore.TypeInteger, Position: 1},
		{Name: "card_present", Type: modelstore.TypeBool, Position: 2},
		{Name: "country", Type: modelstore.TypeCategory, Values: []string{"FR", "DE", "US"}, Encoding: modelstore.EncodeOneHot, Position: 3},
		{Name: "channel", Type: modelstore.TypeCategory, Values: []string{"web", "shop"}, Position: 6},
	}
}

// loopRecord is the i-th record the tests send.
func loopRecord(i int) map[string]any {
	return map[string]any{"amount": float64(i) * 2.5, "hour": i % 24, "card_present": i%2 == 0,
		"country": []string{"FR", "DE", "US"}[i%3], "channel": []string{"web", "shop"}[i%2]}
}

// servedLog publishes the schema'd model "fraud", serves the registry with
// the prediction log on, sends n records and returns the registry, the
// server's address, a function that stops it, and the prediction ids, once
// every prediction is in the log.
func servedLog(t *testing.T, n int) (reg, addr string, stop func() error, ids []string) {
	t.Helper()
	reg = t.TempDir()
	w := []float32{0.01, 0.1, -1, 0.5, -0.5, 0.2, 1}
	if _, err := modelstore.Publish(reg, "fraud", (&onnx.LogReg{Weights: w, Bias: []float32{0}}).Model().Marshal(), modelstore.PublishOptions{
		CreatedBy: "test", Features: loopFeatures(), Classes: []string{"legit", "fraud"}}); err != nil {
		t.Fatal(err)
	}
	addr, stopOnce := startServe(t, "--registry", reg, "--prediction-log", "--drain-delay", "0")
	stop = sync.OnceValue(stopOnce)
	t.Cleanup(func() { stop() })
	instances := make([]map[string]any, n)
	for i := range instances {
		instances[i] = loopRecord(i)
	}
	body, _ := json.Marshal(map[string]any{"instances": instances})
	resp, err := http.Post("http://"+addr+"/v1/models/fraud:predict", "application/json", bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	var ans struct {
		PredictionIDs []string `json:"prediction_ids"`
	}
	err = json.NewDecoder(resp.Body).Decode(&ans)
	resp.Body.Close()
	if err != nil || resp.StatusCode != 200 || len(ans.PredictionIDs) != n {
		t.Fatalf("predict = %d, %v, %d ids", resp.StatusCode, err, len(ans.PredictionIDs))
	}
	// The log commits in batches: wait until the last prediction is in
	// it, labelling it "fraud".
	last := ans.PredictionIDs[n-1]
	for deadline := time.Now().Add(10 * time.Second); ; {
		r, err := http.Post("http://"+addr+"/v1/feedback", "application/json",
			strings.NewReader(fmt.Sprintf(`{"prediction_id": %q, "label": "fraud"}`, last)))
		if err != nil {
			t.Fatal(err)
		}
		r.Body.Close()
		if r.StatusCode == 200 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("prediction %s never reached the log (feedback %d)", last, r.StatusCode)
		}
		time.Sleep(20 * time.Millisecond)
	}
	return reg, addr, stop, ans.PredictionIDs
}

// writeLabels writes a labels file of lines after the header.
func writeLabels(t *testing.T, header string, lines ...string) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "labels.csv")
	if err := os.WriteFile(path, []byte(header+"\n"+strings.Join(lines, "\n")+"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

// TestFeedbackFileThenExport sends labels from a file to a real server
// that logged real predictions, then exports them, and reads every field
// back.
func TestFeedbackFileThenExport(t *testing.T) {
	reg, addr, stop, ids := servedLog(t, 20)
	label := func(i int) string { return []string{"fraud", "legit"}[i%2] }
	var lines []string
	for i := range 15 {
		lines = append(lines, ids[i]+","+label(i))
	}
	lines = append(lines,
		ids[15]+", 1 ",                        // a number: sent as 1
		ids[19]+",fraud",                      // labelled already, the same: duplicate
		ids[0]+",legit",                       // labelled fraud above: conflict
		"0000000000000000-00000000deadbeef,1", // never answered: unknown
	)
	file := writeLabels(t, "prediction_id,label", lines...)
	out, err := runCmd(t, "feedback", "--file", file, "--server", addr, "--batch", "4")
	if !errors.Is(err, errFailed) || !strings.Contains(out, "sent 19 labels in 5 requests to http://"+addr+": 16 accepted, 1 duplicate, 1 conflict, 1 unknown") ||
		!strings.Contains(out, "refused (the first 2 of 2):") || !strings.Contains(out, ids[0]+"  conflict") ||
		!strings.Contains(out, "0000000000000000-00000000deadbeef  unknown") {
		t.Fatalf("feedback with refusals = %v (want errFailed, exit 1)\n%s", err, out)
	}

	// Every label taken: exit 0. The columns may come in either order.
	if out, err := runCmd(t, "feedback", "--file", writeLabels(t, "label,prediction_id", "legit,"+ids[16]), "--server", addr); err != nil ||
		!strings.Contains(out, "1 accepted, 0 duplicate, 0 conflict, 0 unknown") {
		t.Errorf("feedback of one new label = %v\n%s", err, out)
	}

	// A malformed line stops it; what came before, in sent batches, stays.
	file = writeLabels(t, "prediction_id,label", ids[17]+",fraud", ids[18]+",legit,extra", ids[14]+",fraud")
	out, err = runCmd(t, "feedback", "--file", file, "--server", addr, "--batch", "1")
	if err == nil || errors.Is(err, errFailed) || !strings.Contains(err.Error(), file+":3: wrong number of fields; the 1 labels up to line 2 were sent, nothing after it") ||
		!strings.Contains(out, "sent 1 labels in 1 requests") {
		t.Errorf("feedback of a malformed file = %v\n%s", err, out)
	}
	file = writeLabels(t, "prediction_id,label", ids[18]+",legit", ",fraud")
	if _, err := runCmd(t, "feedback", "--file", file, "--server", addr); err == nil ||
		!strings.Contains(err.Error(), file+":3: empty prediction_id; nothing was sent") {
		t.Errorf("feedback with an empty id = %v; want line 3 named, nothing sent", err)
	}
	for header, want := range map[string]string{"id,label": `:1: header "id,label"`, "prediction_id,label,weight": "want the two columns"} {
		if _, err := runCmd(t, "feedback", "--file", writeLabels(t, header, ids[18]+",legit"), "--server", addr); err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("feedback with the header %q = %v; want %q", header, err, want)
		}
	}
	if _, err := runCmd(t, "feedback", "--server", addr); !errors.Is(err, errUsage) {
		t.Errorf("feedback without --file = %v; want a usage error", err)
	}
	if _, err := runCmd(t, "feedback", "--file", writeLabels(t, "prediction_id,label", ids[18]+",legit"), "--server", "127.0.0.1:1"); err == nil ||
		!strings.Contains(err.Error(), "nothing was sent") {
		t.Errorf("feedback to no server = %v; want the request's error, nothing sent", err)
	}
	if err := stop(); err != nil {
		t.Fatal(err)
	}

	// The export: the labelled predictions, inputs by name, labels as given.
	labelled := map[string]string{ids[19]: "fraud", ids[16]: "legit", ids[17]: "fraud", ids[15]: "1"}
	for i := range 15 {
		labelled[ids[i]] = label(i)
	}
	csvFile := filepath.Join(t.TempDir(), "export.csv")
	out, err = runCmd(t, "export", "fraud", "--registry", reg, "--format", "csv", "--labelled", "--out", csvFile)
	if err != nil || !strings.Contains(out, "exported 19 predictions of fraud (19 labelled) to "+csvFile) {
		t.Fatalf("export --labelled = %v\n%s", err, out)
	}
	data, err := os.ReadFile(csvFile)
	if err != nil {
		t.Fatal(err)
	}
	recs, err := csv.NewReader(bytes.NewReader(data)).ReadAll()
	if err != nil || len(recs) != 20 {
		t.Fatalf("export: %d records, %v\n%s", len(recs), err, data)
	}
	if got := strings.Join(recs[0], ","); got != "prediction_id,time,version,arm,amount,hour,card_present,country,channel,score,label,label_time" {
		t.Fatalf("export header = %s", got)
	}
	index := map[string]int{}
	for i, id := range ids {
		index[id] = i
	}
	for _, rec := range recs[1:] {
		i, ok := index[rec[0]]
		r := loopRecord(i)
		want := []string{rec[0], rec[1], "1", "", strconv.FormatFloat(r["amount"].(float64), 'g', -1, 32), strconv.Itoa(r["hour"].(int)),
			strconv.FormatBool(r["card_present"].(bool)), r["country"].(string), r["channel"].(string), rec[9], labelled[rec[0]], rec[11]}
		if !ok || strings.Join(rec, "|") != strings.Join(want, "|") {
			t.Errorf("export row %v; want %v", rec, want)
		}
		if p, err := strconv.ParseFloat(rec[9], 64); err != nil || p <= 0 || p >= 1 {
			t.Errorf("export row %s: score %q is not a probability", rec[0], rec[9])
		}
		if _, err := time.Parse(time.RFC3339Nano, rec[11]); err != nil {
			t.Errorf("export row %s: label_time %q: %v", rec[0], rec[11], err)
		}
	}

	// JSONL to standard output, every prediction; the summary goes to
	// standard error.
	var stdout, stderr bytes.Buffer
	if err := run(context.Background(), []string{"export", "fraud", "--registry", reg, "--format", "jsonl"}, &stdout, &stderr); err != nil {
		t.Fatalf("export --format jsonl = %v\n%s", err, stderr.String())
	}
	lines = strings.Split(strings.TrimSpace(stdout.String()), "\n")
	if len(lines) != 20 || !strings.Contains(stderr.String(), "exported 20 predictions of fraud (19 labelled) to standard output") {
		t.Fatalf("export jsonl: %d lines\n%s", len(lines), stderr.String())
	}
	for _, l := range lines {
		var row map[string]any
		if err := json.Unmarshal([]byte(l), &row); err != nil {
			t.Fatalf("export jsonl line %s: %v", l, err)
		}
		i := index[row["prediction_id"].(string)]
		r := loopRecord(i)
		if row["country"] != r["country"] || row["card_present"] != r["card_present"] || row["hour"] != float64(r["hour"].(int)) {
			t.Errorf("export jsonl line %s; want %v", l, r)
		}
		if want, ok := labelled[ids[i]]; ok && fmt.Sprint(row["label"]) != want || !ok && row["label"] != nil {
			t.Errorf("export jsonl line %s: label %v; want %q", l, row["label"], want)
		}
	}
}

func TestExportCommandFailure(t *testing.T) {
	reg := t.TempDir()
	if _, err := modelstore.Publish(reg, "m", smallModel(1), modelstore.PublishOptions{CreatedBy: "test"}); err != nil {
		t.Fatal(err)
	}
	f := func(want string, args ...string) {
		t.Helper()
		out, err := runCmd(t, append([]string{"export"}, args...)...)
		if err == nil || !strings.Contains(out+err.Error(), want) {
			t.Errorf("export %v = %v; want an error mentioning %q\n%s", args, err, want, out)
		}
	}
	f(`--format "": want csv or jsonl`, "m", "--registry", reg)
	f(`--format "xml": want csv or jsonl`, "m", "--registry", reg, "--format", "xml")
	f("export takes one MODEL", "--registry", reg, "--format", "csv")
	f("--version -2", "m", "--registry", reg, "--format", "csv", "--version", "-2")
	f(`--since "soon"`, "m", "--registry", reg, "--format", "csv", "--since", "soon")
	f("no tracking database", "m", "--registry", reg, "--format", "csv")
	f("registry", "m", "--registry", filepath.Join(reg, "missing"), "--format", "csv")
	dataDir := t.TempDir()
	st, err := openTracking(context.Background(), dataDir, true)
	if err != nil {
		t.Fatal(err)
	}
	st.Close()
	f(`model "nope" has no version in the registry`, "nope", "--registry", reg, "--data-dir", dataDir, "--format", "csv")
	out := filepath.Join(t.TempDir(), "x.csv")
	f("has no version 3", "m", "--registry", reg, "--data-dir", dataDir, "--format", "csv", "--version", "3", "--out", out)
	if _, err := os.Stat(out); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("a failed export left %s: %v", out, err)
	}
	if entries, _ := os.ReadDir(filepath.Dir(out)); len(entries) != 0 {
		t.Errorf("a failed export left files behind: %v", entries)
	}
	var stdout bytes.Buffer
	if err := run(context.Background(), []string{"export", "m", "--registry", reg, "--data-dir", dataDir, "--format", "csv"}, &stdout, io.Discard); err != nil ||
		stdout.String() != "prediction_id,time,version,arm,input_0,input_1,input_2,score,label,label_time\n" {
		t.Errorf("export of an empty log = %v, %q; want the header alone", err, stdout.String())
	}
}
