package tracking

import (
	"context"
	"encoding/json"
	"errors"
	"testing"
	"time"
)

// remoteBatch encodes ps as a writer's batch.
func remoteBatch(ps ...Prediction) []byte {
	var b []byte
	for i := range ps {
		b = appendRecord(b, &ps[i])
	}
	return b
}

// TestAppendBatchSkipsWhatIsLogged appends a batch twice with dedup:
// the second is skipped whole; DecodeBatch reads it back.
func TestAppendBatchSkipsWhatIsLogged(t *testing.T) {
	s := openTest(t)
	at := time.Unix(1700000000, 0)
	batch := remoteBatch(Prediction{ID: "r-1", Time: at, Version: 3, Inputs: []byte{9}, Scores: []float64{0.5}},
		Prediction{ID: "r-2", Time: at, Version: 3})
	f := func(dedup bool, want int) {
		t.Helper()
		if n, err := s.AppendBatch("fraud", batch, dedup); n != want || err != nil {
			t.Fatalf("AppendBatch(dedup %v) = %d, %v; want %d", dedup, n, err, want)
		}
	}
	f(true, 2)
	f(true, 0)
	n := 0
	for _, err := range s.Predictions(context.Background(), PredictionQuery{Model: "fraud"}) {
		if err != nil {
			t.Fatal(err)
		}
		n++
	}
	if n != 2 {
		t.Errorf("the log holds %d predictions; want 2", n)
	}
	ps, err := DecodeBatch(nil, "fraud", batch)
	if err != nil || len(ps) != 2 || ps[0].ID != "r-1" || ps[0].Model != "fraud" || string(ps[0].Inputs) != "\x09" || ps[0].Scores[0] != 0.5 {
		t.Errorf("DecodeBatch = %+v, %v", ps, err)
	}
}

// TestAppendBatchRefusesBadBatches: a batch that does not check is
// refused whole with ErrInvalid, and the log is left as it was.
func TestAppendBatchRefusesBadBatches(t *testing.T) {
	s := openTest(t)
	good := remoteBatch(Prediction{ID: "ok-1", Time: time.Now(), Version: 1})
	if _, err := s.AppendBatch("fraud", good, false); err != nil {
		t.Fatal(err)
	}
	flipped := remoteBatch(Prediction{ID: "bad-1", Time: time.Now(), Version: 1})
	flipped[len(flipped)-1] ^= 1
	noID := remoteBatch(Prediction{ID: "", Time: time.Now()})
	f := func(model string, batch []byte) {
		t.Helper()
		if n, err := s.AppendBatch(model, append(remoteBatch(Prediction{ID: "first", Time: time.Now()}), batch...), false); n != 0 || !errors.Is(err, ErrInvalid) {
			t.Errorf("AppendBatch(%q, %q) = %d, %v; want ErrInvalid", model, batch, n, err)
		}
	}
	f("fraud", flipped)                  // a checksum that fails
	f("fraud", good[:len(good)-1])       // a cut record
	f("fraud", []byte{1, 2, 3})          // a cut header
	f("fraud", noID)                     // no prediction id
	f("../x", good)                      // not a model name
	f("fraud", []byte{255, 255, 255, 0}) // a length past the limit
	if _, err := s.Prediction(context.Background(), "first"); !errors.Is(err, ErrNotFound) {
		t.Errorf("a refused batch left a record: %v", err)
	}
	if _, err := s.Prediction(context.Background(), "ok-1"); err != nil {
		t.Errorf("the log lost what it held: %v", err)
	}
	if _, err := s.AppendBatch("fraud", remoteBatch(Prediction{ID: "ok-2", Time: time.Now()}), false); err != nil {
		t.Errorf("the log takes no batch after the refusals: %v", err)
	}
}

// TestJoinLabelsFirstWins joins a label that carries its prediction
// with no record of it here, then another: the first stays.
func TestJoinLabelsFirstWins(t *testing.T) {
	ctx := context.Background()
	s := openTest(t)
	p := Prediction{ID: "x-1", Model: "fraud", Version: 2, Time: time.Unix(1700000000, 0), Scores: []float64{0.8},
		Label: json.RawMessage(`"fraud"`), LabelTime: time.Unix(1700000100, 0)}
	f := func(label string, want FeedbackStatus) {
		t.Helper()
		q := p
		q.Label = json.RawMessage(label)
		res, err := s.JoinLabels(ctx, []Prediction{q})
		if err != nil || res[0].Status != want {
			t.Fatalf("JoinLabels(%s) = %+v, %v; want %s", label, res, err, want)
		}
	}
	f(`"fraud"`, FeedbackAccepted)
	f(` "fraud" `, FeedbackDuplicate)
	f(`"legit"`, FeedbackConflict)
	for got, err := range s.Labelled(ctx, "fraud", 2, time.Time{}, 0) {
		if err != nil || got.ID != "x-1" || string(got.Label) != `"fraud"` || !got.LabelTime.Equal(p.LabelTime) || got.Scores[0] != 0.8 {
			t.Errorf("Labelled = %+v, %v", got, err)
		}
	}
	if _, err := s.JoinLabels(ctx, []Prediction{{ID: "y", Model: "fraud", Label: json.RawMessage(`{}`)}}); !errors.Is(err, ErrInvalid) {
		t.Errorf("JoinLabels of an object = %v; want ErrInvalid", err)
	}
}
