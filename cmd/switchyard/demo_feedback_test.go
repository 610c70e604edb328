package main

import (
	"bytes"
	"context"
	"errors"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/switchyard-ml/switchyard/internal/demo"
	"github.com/switchyard-ml/switchyard/tracking"
)

// TestDemoFeedbackTraffic runs demo --feedback's traffic against a real
// server that logs its predictions: records of a world where nothing is
// fraud, then, after the shift, of one where everything is, each label
// fed back after a delay. Every label the server takes lands on the
// prediction it belongs to: in the log, ordered by time, the labels are
// legit, then fraud, with one switch, and none were dropped.
func TestDemoFeedbackTraffic(t *testing.T) {
	ctx := context.Background()
	reg := filepath.Join(t.TempDir(), "registry")
	if out, err := runCmd(t, "demo", "--registry", reg); err != nil {
		t.Fatalf("demo = %v\n%s", err, out)
	}
	addr := serve(t, "--registry", reg, "--prediction-log")
	world := func(seed uint64, fraud bool) *demoWorld {
		d := demo.GenerateShifted(seed, 50)
		w := &demoWorld{}
		for i := range d.Len() {
			w.bodies, w.fraud = append(w.bodies, recordsBody(d.Row(i))), append(w.fraud, fraud)
		}
		return w
	}
	var out, errs lockedWriter
	var outBuf, errBuf strings.Builder
	out.w, errs.w = &outBuf, &errBuf
	client := &http.Client{Timeout: demoRequestTimeout}
	tr := demoTraffic{url: "http://" + addr + "/v1/models/" + demoModel + ":predict", rate: 100, client: client, stdout: &out, stderr: &errs,
		world: world(1, false), shifted: world(2, true), shiftAfter: 500 * time.Millisecond,
		feedback: newDemoFeedback("http://"+addr+"/v1/feedback", client, 200*time.Millisecond, &errs)}
	tctx, stop := context.WithCancel(ctx)
	var wg sync.WaitGroup
	wg.Add(2)
	go func() {
		defer wg.Done()
		tr.run(tctx)
	}()
	go func() {
		defer wg.Done()
		tr.feedback.run(tctx)
	}()
	deadline := time.Now().Add(15 * time.Second)
	for tr.feedback.accepted.Load() < 100 && time.Now().Before(deadline) {
		time.Sleep(50 * time.Millisecond)
	}
	stop()
	wg.Wait()
	accepted := tr.feedback.accepted.Load()
	if accepted < 100 || tr.feedback.dropped.Load() != 0 || errBuf.Len() != 0 {
		t.Fatalf("%d labels accepted, %d dropped; want at least 100 and none; stderr: %s", accepted, tr.feedback.dropped.Load(), errBuf.String())
	}
	if !strings.Contains(outBuf.String(), "demo traffic: the world shifted after 500ms") {
		t.Fatalf("the traffic did not say the world shifted: %q", outBuf.String())
	}

	// A batch in flight when the traffic stopped may still be taken: read
	// the labels once two readings agree.
	st := openStore(t, filepath.Join(reg, ".switchyard"))
	var labels []string
	for prev := -1; prev != len(labels); time.Sleep(200 * time.Millisecond) {
		prev, labels = len(labels), labels[:0]
		for p, err := range st.Predictions(ctx, tracking.PredictionQuery{Model: demoModel, Labelled: true}) {
			if err != nil {
				t.Fatal(err)
			}
			labels = append(labels, string(p.Label))
		}
	}
	switches := 0
	for i := 1; i < len(labels); i++ {
		if labels[i] != labels[i-1] {
			switches++
		}
	}
	// A batch in flight may have been taken without its answer read.
	if int64(len(labels)) < accepted || int64(len(labels)) > accepted+demoFeedbackBatch || len(labels) == 0 || labels[0] != `"legit"` || labels[len(labels)-1] != `"fraud"` || switches != 1 {
		t.Fatalf("%d labelled predictions (%d accepted), %d switches, from %s to %s; want legit, then fraud",
			len(labels), accepted, switches, labels[0], labels[len(labels)-1])
	}

	// switchyard export writes them as demo retrain reads them.
	path := filepath.Join(t.TempDir(), "export.csv")
	if out, err := runCmd(t, "export", demoModel, "--registry", reg, "--labelled", "--format", "csv", "--out", path); err != nil {
		t.Fatalf("export = %v\n%s", err, out)
	}
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	read, err := demo.ReadCSV(bytes.NewReader(data))
	if err != nil {
		t.Fatalf("ReadCSV(the export) = %v", err)
	}
	if read.Data.Len() != len(labels) || read.Unlabelled != 0 || read.NoInputs != 0 {
		t.Fatalf("ReadCSV(the export) = %d rows, %d unlabelled, %d without inputs; want the %d labelled", read.Data.Len(), read.Unlabelled, read.NoInputs, len(labels))
	}
	for i, y := range read.Data.Y {
		if want := map[string]int{`"legit"`: 0, `"fraud"`: 1}[labels[i]]; y != want {
			t.Fatalf("the export's row %d is labelled %d; the log says %s", i, y, labels[i])
		}
	}
}

// TestDemoFeedbackQueue checks that a full queue of labels drops the
// next and counts it, without blocking the traffic.
func TestDemoFeedbackQueue(t *testing.T) {
	f := newDemoFeedback("http://127.0.0.1:1/v1/feedback", http.DefaultClient, time.Hour, nil)
	for range demoFeedbackQueue + 3 {
		f.offer("p", true)
	}
	if got := f.dropped.Load(); got != 3 || len(f.queue) != demoFeedbackQueue {
		t.Fatalf("%d offered to a queue of %d: %d dropped, %d queued; want 3 and %d", demoFeedbackQueue+3, demoFeedbackQueue, got, len(f.queue), demoFeedbackQueue)
	}
}

// TestDemoPredictionID reads the first prediction id of a records answer, and
// refuses an answer without one.
func TestDemoPredictionID(t *testing.T) {
	id, err := demoPredictionID([]byte(`{"model_name":"fraud","model_version":"2","predictions":[{"label":"legit"}],"prediction_ids":["ab-01","ab-02"]}`))
	if err != nil || id != "ab-01" {
		t.Fatalf("demoPredictionID = %q, %v; want ab-01", id, err)
	}
	for _, bad := range []string{`{"predictions":[]}`, `{"prediction_ids":[""]}`, `not json`} {
		if id, err := demoPredictionID([]byte(bad)); err == nil {
			t.Fatalf("demoPredictionID(%s) = %q; want an error", bad, id)
		}
	}
}

// TestDemoServeFeedback runs demo --serve --feedback: the model's
// policy.yaml gains the quality: and retrain: blocks, the latter running
// this executable's demo retrain, and the server logs the traffic's
// predictions and takes their labels.
func TestDemoServeFeedback(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	reg := filepath.Join(t.TempDir(), "registry")
	var out lockedWriter
	var outBuf strings.Builder
	out.w = &outBuf
	done := make(chan error, 1)
	go func() {
		done <- run(ctx, []string{"demo", "--registry", reg, "--serve", "--addr", "127.0.0.1:0", "--log-level", "error",
			"--feedback", "--traffic", "100", "--shift-after", "0", "--label-delay", "100ms"}, &out, &out)
	}()
	st := (*tracking.Store)(nil)
	labelled := 0
	deadline := time.Now().Add(20 * time.Second)
	for labelled < 50 && time.Now().Before(deadline) {
		time.Sleep(100 * time.Millisecond)
		if st == nil {
			if s, err := tracking.Open(ctx, filepath.Join(reg, ".switchyard"), tracking.Config{}); err == nil {
				st = s
				defer st.Close()
			}
			continue
		}
		labelled = 0
		for _, err := range st.Predictions(ctx, tracking.PredictionQuery{Model: demoModel, Labelled: true}) {
			if err != nil {
				break
			}
			labelled++
		}
	}
	cancel()
	if err := <-done; err != nil || labelled < 50 {
		t.Fatalf("demo --serve --feedback = %v, %d labelled predictions; want at least 50\n%s", err, labelled, outBuf.String())
	}
	if !strings.Contains(outBuf.String(), "each prediction's true label fed back 100ms after its answer (--feedback), the world never shifting") {
		t.Errorf("the demo does not say what its traffic feeds back:\n%s", outBuf.String())
	}
	pol, err := readDemoPolicy(reg, demoModel)
	if err != nil {
		t.Fatal(err)
	}
	exe, _ := os.Executable()
	if r := pol.Retrain; r == nil || len(r.Command) < 3 || r.Command[0] != exe || r.Command[1] != "demo" || r.Command[2] != "retrain" ||
		!slices.Contains(r.On, "accuracy_drop") {
		t.Fatalf("the policy's retrain block = %+v; want %s demo retrain on accuracy_drop", pol.Retrain, exe)
	}
	if q := pol.Quality; q.Window == nil || *q.Window != 2000 || q.MaxAccuracyDrop == nil || *q.MaxAccuracyDrop != 0.03 {
		t.Fatalf("the policy's quality block = %+v", q)
	}
}

// TestDemoFeedbackUsage checks that --feedback and its flags are refused,
// with the reason, where they have no traffic to shape, and that nothing
// is published then.
func TestDemoFeedbackUsage(t *testing.T) {
	reg := filepath.Join(t.TempDir(), "registry")
	f := func(want string, args ...string) {
		t.Helper()
		out, err := runCmd(t, append([]string{"demo", "--registry", reg}, args...)...)
		if !errors.Is(err, errUsage) || !strings.Contains(out, want) {
			t.Fatalf("demo %v = %v; want a usage error saying %q\n%s", args, err, want, out)
		}
		if _, err := os.Stat(reg); !errors.Is(err, os.ErrNotExist) {
			t.Fatalf("demo %v: the registry exists after a usage error (%v)", args, err)
		}
	}
	f("--feedback feeds back the labels of the background traffic of --serve", "--feedback")
	f("--feedback feeds back the labels of the background traffic of --serve", "--serve", "--feedback", "--traffic", "0")
	f("give --feedback too", "--serve", "--shift-after", "10s")
	f("give --feedback too", "--serve", "--label-delay", "1s")
	f("want durations of 0 or more", "--serve", "--feedback", "--shift-after", "-1s")
}
