package tracking

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"
)

// logN logs n predictions of model m version 1, with ids p-0..p-(n-1).
func logN(t *testing.T, s *Store, n int) {
	t.Helper()
	ps := make([]Prediction, n)
	for i := range ps {
		ps[i] = Prediction{ID: fmt.Sprint("p-", i), Model: "m", Version: 1, Scores: []float64{float64(i%10) / 10}}
	}
	if err := s.LogPredictions(context.Background(), ps); err != nil {
		t.Fatal(err)
	}
}

func TestFeedbackJoinsAThousandLabels(t *testing.T) {
	ctx := context.Background()
	s := openTest(t)
	logN(t, s, 1000)
	labels := make([]Label, 1000)
	for i := range labels {
		labels[i] = Label{PredictionID: fmt.Sprint("p-", i), Value: []byte(fmt.Sprint(i % 2))}
	}
	res, err := s.Feedback(ctx, labels)
	if err != nil {
		t.Fatal(err)
	}
	for i, r := range res {
		if r.Status != FeedbackAccepted || r.PredictionID != labels[i].PredictionID {
			t.Fatalf("result %d = %+v", i, r)
		}
	}
	n := 0
	for p, err := range s.Labelled(ctx, "m", 1, time.Time{}, 0) {
		if err != nil {
			t.Fatal(err)
		}
		var i int
		fmt.Sscanf(p.ID, "p-%d", &i)
		if string(p.Label) != fmt.Sprint(i%2) {
			t.Errorf("%s: label %s", p.ID, p.Label)
		}
		n++
	}
	if n != 1000 {
		t.Errorf("Labelled yielded %d; want 1000", n)
	}
}

func TestFeedbackDuplicateConflictUnknown(t *testing.T) {
	ctx := context.Background()
	s := openTest(t)
	logN(t, s, 3)
	if _, err := s.Feedback(ctx, []Label{{"p-0", []byte(`"fraud"`)}, {"p-1", []byte(`1.5`)}}); err != nil {
		t.Fatal(err)
	}
	res, err := s.Feedback(ctx, []Label{
		{"p-0", []byte(` "fraud" `)}, // the same label again
		{"p-1", []byte(`1.50`)},      // the same number, written otherwise
		{"p-0", []byte(`"legit"`)},   // another label: the first is kept
		{"nope", []byte(`1`)},        // never logged
		{"p-2", []byte(`0`)},         // the rest is taken
	})
	if err != nil {
		t.Fatal(err)
	}
	want := []FeedbackStatus{FeedbackDuplicate, FeedbackDuplicate, FeedbackConflict, FeedbackUnknown, FeedbackAccepted}
	for i, r := range res {
		if r.Status != want[i] {
			t.Errorf("item %d: %+v; want %s", i, r, want[i])
		}
		if (r.Message != "") != (want[i] == FeedbackConflict || want[i] == FeedbackUnknown) {
			t.Errorf("item %d: message %q", i, r.Message)
		}
	}
	if p, _ := s.Prediction(ctx, "p-0"); string(p.Label) != `"fraud"` {
		t.Errorf("p-0 label = %s; want the first, \"fraud\"", p.Label)
	}
	if p, _ := s.Prediction(ctx, "p-2"); string(p.Label) != `0` {
		t.Errorf("p-2 label = %s; want 0", p.Label)
	}
}

func TestFeedbackRefusesMalformedLabels(t *testing.T) {
	ctx := context.Background()
	s := openTest(t)
	logN(t, s, 2)
	for _, bad := range []string{``, `null`, `true`, `[1]`, `{"a":1}`, `"x`} {
		_, err := s.Feedback(ctx, []Label{{"p-0", []byte(`1`)}, {"p-1", []byte(bad)}})
		if !errors.Is(err, ErrInvalid) {
			t.Errorf("label %q: %v; want ErrInvalid", bad, err)
		}
	}
	if _, err := s.Feedback(ctx, []Label{{"", []byte(`1`)}}); !errors.Is(err, ErrInvalid) {
		t.Errorf("no prediction id: %v; want ErrInvalid", err)
	}
	if _, err := s.Feedback(ctx, make([]Label, MaxFeedbackBatch+1)); !errors.Is(err, ErrInvalid) {
		t.Errorf("too many labels: %v; want ErrInvalid", err)
	}
	if p, _ := s.Prediction(ctx, "p-0"); p.Label != nil {
		t.Errorf("a refused batch joined a label: %s", p.Label)
	}
}

func TestFeedbackAfterRetentionIsUnknown(t *testing.T) {
	ctx := context.Background()
	s := openTest(t)
	if err := s.LogPredictions(ctx, []Prediction{{ID: "old", Model: "m", Time: time.Now().Add(-8 * 24 * time.Hour)}}); err != nil {
		t.Fatal(err)
	}
	if _, err := s.PrunePredictions(ctx, "m", time.Now().Add(-DefaultLogRetention), 0); err != nil {
		t.Fatal(err)
	}
	res, err := s.Feedback(ctx, []Label{{"old", []byte(`1`)}})
	if err != nil || res[0].Status != FeedbackUnknown {
		t.Errorf("feedback past retention = %+v, %v; want unknown", res, err)
	}
}

// TestReplicasJoinTheSameLabels: two replicas on one PostgreSQL database
// labelling the same predictions at once (each has them in its own log)
// both answer every label, and each prediction keeps one label: the
// first, which the other reports as a duplicate or a conflict.
func TestReplicasJoinTheSameLabels(t *testing.T) {
	if cluster == nil {
		t.Skip("two replicas share a database on PostgreSQL; SQLite is one machine's")
	}
	db := newTestDB(t)
	a, b := openAt(t, db, Config{}), openAt(t, testDB{dir: t.TempDir(), dsn: db.dsn}, Config{})
	const n = 400
	logN(t, a, n)
	logN(t, b, n)
	results := make([][]FeedbackResult, 2)
	var wg sync.WaitGroup
	for r, s := range []*Store{a, b} {
		wg.Go(func() {
			for first := 0; first < n; first += 20 {
				var labels []Label
				for i := first; i < first+20; i++ {
					labels = append(labels, Label{PredictionID: fmt.Sprint("p-", i), Value: []byte(fmt.Sprint(r))})
				}
				res, err := s.Feedback(context.Background(), labels)
				if err != nil {
					t.Errorf("replica %d, labels from %d: %v", r, first, err)
					return
				}
				results[r] = append(results[r], res...)
			}
		})
	}
	wg.Wait()
	if t.Failed() {
		return
	}
	for i := range n {
		ra, rb := results[0][i].Status, results[1][i].Status
		if (ra == FeedbackAccepted) == (rb == FeedbackAccepted) || ra != FeedbackAccepted && ra != FeedbackConflict || rb != FeedbackAccepted && rb != FeedbackConflict {
			t.Fatalf("p-%d: %s on one replica, %s on the other; want one accepted, one conflict", i, ra, rb)
		}
	}
}
