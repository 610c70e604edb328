package stream_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/switchyard-ml/switchyard/internal/natstest"
	"github.com/switchyard-ml/switchyard/stream"
	"github.com/switchyard-ml/switchyard/tracking"
)

// replica is one replica's side of the stream, with a real tracking
// store and prediction log in its own data directory.
type replica struct {
	dir   string
	store *tracking.Store
	log   *tracking.PredictionLog
	conn  *stream.Conn
	reg   *prometheus.Registry

	mu        sync.Mutex
	fed       []string // ids OnPredictions got
	labelled  []string // ids OnLabels got
	stopCons  context.CancelFunc
	consDone  chan error
	stopOther func()
}

// newReplica opens a replica on url with its data in dir; cfg's URL,
// Dir, Log and feeds are filled in. It stops at cleanup.
func newReplica(t *testing.T, url, dir string, cfg stream.Config) *replica {
	t.Helper()
	ctx := context.Background()
	r := &replica{dir: dir, reg: prometheus.NewPedanticRegistry()}
	var err error
	if r.store, err = tracking.Open(ctx, dir, tracking.Config{}); err != nil {
		t.Fatal(err)
	}
	cfg.URL, cfg.Dir, cfg.Log = url, filepath.Join(dir, "stream"), r.store
	cfg.OnPredictions = func(ps []tracking.Prediction) {
		r.mu.Lock()
		defer r.mu.Unlock()
		for _, p := range ps {
			r.fed = append(r.fed, p.ID)
		}
	}
	cfg.OnLabels = func(ps []tracking.Prediction) {
		r.mu.Lock()
		defer r.mu.Unlock()
		for _, p := range ps {
			r.labelled = append(r.labelled, p.ID)
		}
	}
	if r.conn, err = stream.Open(ctx, cfg, r.reg); err != nil {
		r.store.Close()
		t.Fatal(err)
	}
	if r.log, err = tracking.NewPredictionLog(r.store, tracking.LogConfig{FlushEvery: 10 * time.Millisecond, OnBatch: r.conn.Offer}, r.reg); err != nil {
		t.Fatal(err)
	}
	pctx, stopPub := context.WithCancel(ctx)
	lctx, stopLog := context.WithCancel(ctx)
	var wg sync.WaitGroup
	pubDone := make(chan struct{})
	go func() { r.conn.Publish(pctx); close(pubDone) }()
	wg.Go(func() { r.log.Run(lctx) })
	r.startConsumer()
	r.stopOther = sync.OnceFunc(func() {
		r.stopConsumer(t)
		stopLog()
		wg.Wait()
		stopPub()
		<-pubDone
		r.conn.Close()
		r.store.Close()
	})
	t.Cleanup(r.stopOther)
	return r
}

func (r *replica) startConsumer() {
	ctx, stop := context.WithCancel(context.Background())
	r.stopCons, r.consDone = stop, make(chan error, 1)
	go func() { r.consDone <- r.conn.Consume(ctx) }()
}

func (r *replica) stopConsumer(t *testing.T) {
	if r.stopCons == nil {
		return
	}
	r.stopCons()
	if err := <-r.consDone; err != nil {
		t.Errorf("Consume = %v", err)
	}
	r.stopCons = nil
}

// predict logs n predictions of model with ids prefix-0..n-1, each with
// two FP32 inputs and a score.
func (r *replica) predict(model, prefix string, n int) []string {
	ids := make([]string, n)
	for i := range ids {
		ids[i] = fmt.Sprintf("%s-%04d", prefix, i)
		rec := r.log.Take(model, []byte(ids[i]))
		rec.Set(1, "", time.Now())
		rec.AppendInputs([]byte{0, 0, 128, 63, 0, 0, 0, 64})
		rec.AddScore(float64(i) / float64(n))
		r.log.Offer(rec)
	}
	return ids
}

// count returns how many predictions of model the replica's log holds.
func (r *replica) count(t *testing.T, model string) int {
	t.Helper()
	n := 0
	for _, err := range r.store.Predictions(context.Background(), tracking.PredictionQuery{Model: model}) {
		if err != nil {
			t.Fatal(err)
		}
		n++
	}
	return n
}

// counter sums the values of the counter name (all its labels) on the
// replica's registry.
func (r *replica) counter(t *testing.T, name string) float64 {
	t.Helper()
	mfs, err := r.reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	var sum float64
	for _, mf := range mfs {
		if mf.GetName() == name {
			for _, m := range mf.GetMetric() {
				sum += m.GetCounter().GetValue()
			}
		}
	}
	return sum
}

// eventually waits up to 20 s for cond, which reports what it saw.
func eventually(t *testing.T, what string, cond func() (bool, string)) {
	t.Helper()
	var saw string
	for deadline := time.Now().Add(20 * time.Second); time.Now().Before(deadline); time.Sleep(10 * time.Millisecond) {
		var ok bool
		if ok, saw = cond(); ok {
			return
		}
	}
	t.Fatalf("%s: never; last saw %s", what, saw)
}

// findAll reports whether the replica's log holds every id.
func (r *replica) findAll(ids []string) (bool, string) {
	for _, id := range ids {
		if _, err := r.store.Prediction(context.Background(), id); err != nil {
			return false, err.Error()
		}
	}
	return true, "all"
}

// TestPredictionsReachEveryReplica logs predictions on A and finds each
// on B by id, whole, with B's sidecars fed; A's own batches come back to
// it and are not appended twice.
func TestPredictionsReachEveryReplica(t *testing.T) {
	srv := natstest.Start(t)
	a := newReplica(t, srv.URL(), t.TempDir(), stream.Config{})
	b := newReplica(t, srv.URL(), t.TempDir(), stream.Config{})
	ids := a.predict("fraud", "a", 50)
	eventually(t, "B holds A's predictions", func() (bool, string) { return b.findAll(ids) })
	p, err := b.store.Prediction(context.Background(), ids[7])
	if err != nil || p.Model != "fraud" || p.Version != 1 || len(p.Inputs) != 8 || len(p.Scores) != 1 || p.Scores[0] != 7.0/50 {
		t.Fatalf("B's prediction %s = %+v, %v; want A's record whole", ids[7], p, err)
	}
	eventually(t, "B's sidecars fed", func() (bool, string) {
		b.mu.Lock()
		defer b.mu.Unlock()
		return len(b.fed) == 50, fmt.Sprint(len(b.fed))
	})
	more := b.predict("fraud", "b", 10)
	eventually(t, "A holds B's predictions", func() (bool, string) { return a.findAll(more) })
	// A's own batches came back to it through the stream: skipped.
	if n := a.count(t, "fraud"); n != 60 {
		t.Errorf("A holds %d predictions; want 60 (its 50 once, B's 10)", n)
	}
	if n := b.count(t, "fraud"); n != 60 {
		t.Errorf("B holds %d predictions; want 60", n)
	}
	if got := a.counter(t, "switchyard_stream_published_total"); got != 50 {
		t.Errorf("A published %v predictions; want 50", got)
	}
	a.mu.Lock()
	if len(a.fed) != 10 {
		t.Errorf("A's sidecars got %d of the stream's predictions; want B's 10 (its own came from its writer)", len(a.fed))
	}
	a.mu.Unlock()
}

// TestLabelsJoinOnEveryReplica publishes labels accepted on B for a
// prediction A made; A joins them, first label winning, and feeds its
// quality monitor once.
func TestLabelsJoinOnEveryReplica(t *testing.T) {
	srv := natstest.Start(t)
	a := newReplica(t, srv.URL(), t.TempDir(), stream.Config{})
	b := newReplica(t, srv.URL(), t.TempDir(), stream.Config{})
	ids := a.predict("fraud", "a", 3)
	eventually(t, "B holds A's predictions", func() (bool, string) { return b.findAll(ids) })
	ctx := context.Background()
	res, err := b.store.Feedback(ctx, []tracking.Label{{PredictionID: ids[0], Value: json.RawMessage(`"fraud"`)}})
	if err != nil || res[0].Status != tracking.FeedbackAccepted {
		t.Fatalf("B's Feedback = %+v, %v", res, err)
	}
	for range 2 { // the second is a client's retry: harmless
		if err := b.conn.PublishLabels(ctx, "fraud", []tracking.Prediction{res[0].Prediction}); err != nil {
			t.Fatal(err)
		}
	}
	eventually(t, "A joins B's label", func() (bool, string) {
		p, err := a.store.Prediction(ctx, ids[0])
		return err == nil && string(p.Label) == `"fraud"`, fmt.Sprintf("%s %v", p.Label, err)
	})
	// Another label for it, published elsewhere: the first one stays.
	late := res[0].Prediction
	late.Label = json.RawMessage(`"legit"`)
	if err := b.conn.PublishLabels(ctx, "fraud", []tracking.Prediction{late}); err != nil {
		t.Fatal(err)
	}
	// A label for a prediction A has not seen (its batch lost): A keeps
	// it all the same, since the label carries the prediction.
	orphan := tracking.Prediction{ID: "elsewhere-1", Model: "fraud", Version: 1, Time: time.Now(), Scores: []float64{0.9},
		Label: json.RawMessage(`1`), LabelTime: time.Now()}
	if err := b.conn.PublishLabels(ctx, "fraud", []tracking.Prediction{orphan}); err != nil {
		t.Fatal(err)
	}
	eventually(t, "A joins the orphan label", func() (bool, string) {
		n := 0
		for p, err := range a.store.Labelled(ctx, "fraud", 1, time.Time{}, 0) {
			if err != nil {
				return false, err.Error()
			}
			if p.ID == "elsewhere-1" || (p.ID == ids[0] && string(p.Label) == `"fraud"`) {
				n++
			}
		}
		return n == 2, fmt.Sprint(n)
	})
	a.mu.Lock()
	defer a.mu.Unlock()
	if strings.Join(a.labelled, ",") != ids[0]+",elsewhere-1" {
		t.Errorf("A's quality monitor got labels of %v; want each accepted label once", a.labelled)
	}
}

// TestConsumerRestartAppendsNothingTwice restarts B's consumer, then
// again with its position set back as a crash between an append and
// its record leaves it, and B's log still holds each prediction once.
func TestConsumerRestartAppendsNothingTwice(t *testing.T) {
	srv := natstest.Start(t)
	a := newReplica(t, srv.URL(), t.TempDir(), stream.Config{})
	b := newReplica(t, srv.URL(), t.TempDir(), stream.Config{})
	ids := a.predict("fraud", "a", 20)
	eventually(t, "B holds A's predictions", func() (bool, string) { return b.findAll(ids) })
	b.stopConsumer(t)
	b.startConsumer()
	b.stopConsumer(t)
	// The crash: the position as it was before the last batches.
	if err := os.WriteFile(filepath.Join(b.dir, "stream", "applied"), nil, 0o644); err != nil {
		t.Fatal(err)
	}
	b.startConsumer()
	more := a.predict("fraud", "a2", 5)
	eventually(t, "B holds A's later predictions", func() (bool, string) { return b.findAll(more) })
	if n := b.count(t, "fraud"); n != 25 {
		t.Errorf("B holds %d predictions after its restarts; want 25, each once", n)
	}
}

// TestConsumerAfterCrash: a replica killed while it consumes leaves its
// consumer on the server (until JetStream's inactivity threshold, five
// minutes); the replica started again on the same data directory
// consumes at once, from its recorded position.
func TestConsumerAfterCrash(t *testing.T) {
	srv := natstest.Start(t)
	a := newReplica(t, srv.URL(), t.TempDir(), stream.Config{})
	b := newReplica(t, srv.URL(), t.TempDir(), stream.Config{})
	ids := a.predict("fraud", "a", 20)
	eventually(t, "B holds A's predictions", func() (bool, string) { return b.findAll(ids) })
	// The crash: B's connection ends before its consumer could be deleted.
	b.conn.Close()
	b.stopOther()
	again := newReplica(t, srv.URL(), b.dir, stream.Config{})
	more := a.predict("fraud", "a2", 5)
	eventually(t, "B, started again, holds A's later predictions", func() (bool, string) { return again.findAll(more) })
	if n := again.count(t, "fraud"); n != 25 {
		t.Errorf("B holds %d predictions after its crash; want 25, each once", n)
	}
}

// TestBadMessagesAreSkipped publishes what no replica wrote: B refuses
// each, counted, with its log intact, and applies what follows.
func TestBadMessagesAreSkipped(t *testing.T) {
	srv := natstest.Start(t)
	b := newReplica(t, srv.URL(), t.TempDir(), stream.Config{})
	a := newReplica(t, srv.URL(), t.TempDir(), stream.Config{})
	nc, err := nats.Connect(srv.URL())
	if err != nil {
		t.Fatal(err)
	}
	defer nc.Close()
	for subject, data := range map[string]string{
		"switchyard.predictions.fraud": "\x05\x00\x00\x00garbage", // a record past the batch
		"switchyard.predictions.x..y":  "",                        // not a subject of the stream
		"switchyard.feedback.fraud":    `[{"prediction_id": "", "label": 1}]`,
		"switchyard.feedback.other":    `not json`,
	} {
		if _, err := nc.Request("$JS.API.STREAM.INFO.SWITCHYARD", nil, 5*time.Second); err != nil {
			t.Fatal(err)
		}
		if err := nc.Publish(subject, []byte(data)); err != nil {
			t.Fatal(err)
		}
	}
	// A record whose checksum fails.
	ids := a.predict("fraud", "a", 1)
	eventually(t, "B holds A's prediction", func() (bool, string) { return b.findAll(ids) })
	if err := nc.Publish("switchyard.predictions.fraud", corrupt(t, a, ids[0])); err != nil {
		t.Fatal(err)
	}
	more := a.predict("fraud", "a2", 3)
	eventually(t, "B applies what follows", func() (bool, string) { return b.findAll(more) })
	eventually(t, "B refuses the bad messages", func() (bool, string) {
		n := b.counter(t, "switchyard_stream_refused_total")
		return n >= 4, fmt.Sprint(n)
	})
	if n := b.count(t, "fraud"); n != 4 {
		t.Errorf("B holds %d predictions; want A's 4, nothing of the bad messages", n)
	}
}

// corrupt returns a's batch of the one prediction id with a payload
// byte flipped, so that its checksum fails.
func corrupt(t *testing.T, a *replica, id string) []byte {
	t.Helper()
	segs, err := filepath.Glob(filepath.Join(a.dir, tracking.PredictionsDir, "fraud", "*.seg"))
	if err != nil || len(segs) == 0 {
		t.Fatalf("A's segments: %v %v", segs, err)
	}
	b, err := os.ReadFile(segs[0])
	if err != nil {
		t.Fatal(err)
	}
	rec := b[len("SYPLOG2\n"):]
	if !strings.Contains(string(rec), id) {
		t.Fatalf("A's first segment does not begin with %s", id)
	}
	rec = append([]byte(nil), rec...)
	rec[len(rec)-1] ^= 0xff
	return rec
}

// TestStoppedServerDropsAndCounts stops nats-server: logging goes on
// without blocking, the batches that cannot be published are dropped and
// counted, the replica's own log keeps them, and once the server is back
// the stream carries new batches again.
func TestStoppedServerDropsAndCounts(t *testing.T) {
	srv := natstest.Start(t)
	a := newReplica(t, srv.URL(), t.TempDir(), stream.Config{Buffer: 2, Attempts: 1, AckTimeout: 200 * time.Millisecond})
	b := newReplica(t, srv.URL(), t.TempDir(), stream.Config{})
	srv.Stop()
	var ids []string
	for i := range 40 { // about 40 batches: the writer flushes every 10 ms
		ids = append(ids, a.predict("fraud", fmt.Sprintf("down%02d", i), 5)...)
		time.Sleep(10 * time.Millisecond)
	}
	eventually(t, "A counts the batches it could not publish", func() (bool, string) {
		n := a.counter(t, "switchyard_stream_dropped_total")
		return n > 0, fmt.Sprint(n)
	})
	eventually(t, "A's own log keeps every prediction", func() (bool, string) { return a.findAll(ids) })
	srv.Restart()
	after := a.predict("fraud", "up", 5)
	eventually(t, "B gets A's batches once the server is back", func() (bool, string) { return b.findAll(after) })
}

// TestOpenRefusesBadConfig checks Open's clear errors.
func TestOpenRefusesBadConfig(t *testing.T) {
	store, err := tracking.Open(context.Background(), t.TempDir(), tracking.Config{})
	if err != nil {
		t.Fatal(err)
	}
	defer store.Close()
	f := func(url, want string) {
		t.Helper()
		_, err := stream.Open(context.Background(), stream.Config{URL: url, Dir: t.TempDir(), Log: store, ConnectTimeout: time.Second}, prometheus.NewPedanticRegistry())
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("Open(%q) = %v; want an error saying %q", url, err, want)
		}
	}
	f("", "no NATS URL")
	f("http://127.0.0.1:4222", `the scheme is "http"`)
	f("nats://127.0.0.1", "want nats://host:port")
	f("nats://127.0.0.1:port", `NATS URL "nats://127.0.0.1:port"`)
	f("nats://127.0.0.1:99999", "not a port number")
	f("nats://127.0.0.1:4222/x", "without a path")
	f("nats://127.0.0.1:1", "connect to nats://127.0.0.1:1")
	if _, err := stream.Open(context.Background(), stream.Config{URL: "nats://127.0.0.1:4222"}, prometheus.NewPedanticRegistry()); !errors.Is(err, stream.ErrConfig) {
		t.Errorf("Open without Dir and Log = %v; want ErrConfig", err)
	}
}
