package tracking

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"
)

// logSeries logs n predictions of model m, ids prefix-0..n-1, one batch of
// batch at a time, answered a millisecond apart from at.
func logSeries(t *testing.T, s *Store, m, prefix string, n, batch int, at time.Time) {
	t.Helper()
	for i := 0; i < n; i += batch {
		var ps []Prediction
		for j := i; j < min(n, i+batch); j++ {
			ps = append(ps, Prediction{ID: fmt.Sprintf("%s-%06d", prefix, j), Time: at.Add(time.Duration(j) * time.Millisecond),
				Model: m, Version: 1 + j%2, Inputs: []byte{byte(j), byte(j >> 8)}, Scores: []float64{float64(j) / 1e6}})
		}
		if err := s.LogPredictions(context.Background(), ps); err != nil {
			t.Fatal(err)
		}
	}
}

func checkFound(t *testing.T, s *Store, id string, j int) {
	t.Helper()
	p, err := s.Prediction(context.Background(), id)
	if err != nil {
		t.Fatalf("Prediction(%s): %v", id, err)
	}
	if p.Version != 1+j%2 || len(p.Inputs) != 2 || p.Inputs[0] != byte(j) || p.Scores[0] != float64(j)/1e6 {
		t.Fatalf("Prediction(%s) = %+v", id, p)
	}
}

func TestSegmentsSealIndexAndFind(t *testing.T) {
	ctx := context.Background()
	db := newTestDB(t)
	s, err := db.open(Config{SegmentBytes: 64 << 10})
	if err != nil {
		t.Fatal(err)
	}
	at := time.Unix(1_800_000_000, 0)
	logSeries(t, s, "m", "a", 20000, 500, at)
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	idx, _ := filepath.Glob(filepath.Join(db.dir, PredictionsDir, "m", "*"+idxExt))
	segs, _ := filepath.Glob(filepath.Join(db.dir, PredictionsDir, "m", "*"+segExt))
	if len(idx) < 5 || len(idx) != len(segs) {
		t.Fatalf("%d indexes for %d segments; want one each, several", len(idx), len(segs))
	}
	// Reopened: every prediction is found through the indexes.
	s = openAt(t, db, Config{})
	for _, j := range []int{0, 1, 499, 500, 7777, 19999} {
		checkFound(t, s, fmt.Sprintf("a-%06d", j), j)
	}
	if _, err := s.Prediction(ctx, "a-020000"); !errors.Is(err, ErrNotFound) {
		t.Errorf("an id past the last: %v; want ErrNotFound", err)
	}
	// A scan yields them all, in order, from since, of a version.
	var n, last int
	for p, err := range s.Predictions(ctx, PredictionQuery{Model: "m", Version: 2, Since: at.Add(10 * time.Second)}) {
		if err != nil {
			t.Fatal(err)
		}
		var j int
		fmt.Sscanf(p.ID, "a-%d", &j)
		if p.Version != 2 || j < 10000 || j <= last {
			t.Fatalf("scan yielded %s (version %d) after %d", p.ID, p.Version, last)
		}
		last = j
		n++
	}
	if n != 5000 {
		t.Errorf("scan of version 2 from 10 s yielded %d; want 5000", n)
	}
}

func TestSegmentCutByACrashIsRecovered(t *testing.T) {
	ctx := context.Background()
	db := newTestDB(t)
	s, err := db.open(Config{})
	if err != nil {
		t.Fatal(err)
	}
	logSeries(t, s, "m", "c", 100, 50, time.Now())
	// The process dies: no index is written, its lock goes with it, and
	// the last record is cut in half.
	o := s.preds.open["m"]
	path := o.path
	o.f.Close()
	delete(s.preds.open, "m")
	s.Close()
	st, _ := os.Stat(path)
	if err := os.Truncate(path, st.Size()-5); err != nil {
		t.Fatal(err)
	}
	s = openAt(t, db, Config{})
	for j := range 99 {
		checkFound(t, s, fmt.Sprintf("c-%06d", j), j)
	}
	if _, err := s.Prediction(ctx, "c-000099"); !errors.Is(err, ErrNotFound) {
		t.Errorf("the cut record: %v; want ErrNotFound", err)
	}
	if _, err := os.Stat(strings.TrimSuffix(path, segExt) + idxExt); err != nil {
		t.Errorf("the recovered segment was not sealed: %v", err)
	}
	// Logging goes on in a new segment, and the old one holds 99.
	logSeries(t, s, "m", "d", 10, 10, time.Now())
	checkFound(t, s, "d-000009", 9)
	n := 0
	for _, err := range s.Predictions(ctx, PredictionQuery{Model: "m"}) {
		if err != nil {
			t.Fatal(err)
		}
		n++
	}
	if n != 109 {
		t.Errorf("%d predictions after recovery; want 109", n)
	}
}

func TestSegmentOfAnotherWriterIsRead(t *testing.T) {
	ctx := context.Background()
	db := newTestDB(t)
	writer := openAt(t, db, Config{})
	logSeries(t, writer, "m", "w", 300, 100, time.Now())
	// Another process (here another store on the same directory) sees
	// the segment being written, locked, and reads it to its end without
	// taking it for a crashed one.
	reader := openAt(t, db, Config{})
	checkFound(t, reader, "w-000299", 299)
	var ids []string
	for p, err := range reader.Predictions(ctx, PredictionQuery{Model: "m"}) {
		if err != nil {
			t.Fatal(err)
		}
		ids = append(ids, p.ID)
	}
	if len(ids) != 300 || !slices.IsSorted(ids) {
		t.Errorf("reader saw %d predictions (sorted %v); want 300 in order", len(ids), slices.IsSorted(ids))
	}
	if m, _ := filepath.Glob(filepath.Join(db.dir, PredictionsDir, "m", "*"+idxExt)); len(m) != 0 {
		t.Errorf("the reader sealed the writer's segment: %v", m)
	}
	// The writer goes on in the same segment.
	logSeries(t, writer, "m", "x", 10, 10, time.Now())
	checkFound(t, reader, "x-000009", 9)
}

func TestPredictionsLabelledJoinsInputs(t *testing.T) {
	ctx := context.Background()
	s := openTest(t)
	logSeries(t, s, "m", "l", 50, 50, time.Now())
	res, err := s.Feedback(ctx, []Label{{"l-000003", []byte(`"fraud"`)}, {"l-000010", []byte(`0`)}})
	if err != nil || res[0].Status != FeedbackAccepted || res[1].Status != FeedbackAccepted {
		t.Fatalf("feedback = %+v, %v", res, err)
	}
	if p := res[0].Prediction; p.Version != 2 || p.Scores[0] != 3/1e6 || string(p.Label) != `"fraud"` {
		t.Errorf("accepted label's prediction = %+v", p)
	}
	var got []string
	for p, err := range s.Predictions(ctx, PredictionQuery{Model: "m", Labelled: true}) {
		if err != nil {
			t.Fatal(err)
		}
		got = append(got, fmt.Sprintf("%s=%s/%d", p.ID, p.Label, p.Inputs[0]))
	}
	if fmt.Sprint(got) != `[l-000003="fraud"/3 l-000010=0/10]` {
		t.Errorf("labelled predictions = %v", got)
	}
	// Every prediction, with labels joined where given.
	n, labelled := 0, 0
	for p, err := range s.Predictions(ctx, PredictionQuery{Model: "m"}) {
		if err != nil {
			t.Fatal(err)
		}
		n++
		if p.Label != nil {
			labelled++
		}
	}
	if n != 50 || labelled != 2 {
		t.Errorf("%d predictions, %d labelled; want 50, 2", n, labelled)
	}
	for _, q := range []PredictionQuery{{}, {Model: "../x"}} {
		for _, err := range s.Predictions(ctx, q) {
			if !errors.Is(err, ErrInvalid) {
				t.Errorf("query %+v: %v; want ErrInvalid", q, err)
			}
		}
	}
}

// TestIndexPrefixCollision logs two ids whose hashes share the 32 bits
// an index entry keeps, in an open and then a sealed segment: each is
// found as itself.
func TestIndexPrefixCollision(t *testing.T) {
	seen := map[uint64]string{}
	var a, b string
	for i := 0; a == ""; i++ {
		id := fmt.Sprintf("c-%d", i)
		p := hashID(id) >> 32
		if other, ok := seen[p]; ok {
			a, b = other, id
		}
		seen[p] = id
	}
	ctx := context.Background()
	db := newTestDB(t)
	s, err := db.open(Config{})
	if err != nil {
		t.Fatal(err)
	}
	ps := []Prediction{{ID: a, Model: "m", Version: 1}, {ID: "x", Model: "m", Version: 3}, {ID: b, Model: "m", Version: 2}}
	if err := s.LogPredictions(ctx, ps); err != nil {
		t.Fatal(err)
	}
	check := func(s *Store, when string) {
		for id, v := range map[string]int{a: 1, b: 2} {
			if p, err := s.Prediction(ctx, id); err != nil || p.ID != id || p.Version != v {
				t.Errorf("%s: Prediction(%s) = %+v, %v; want version %d", when, id, p, err, v)
			}
		}
	}
	check(s, "open segment")
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	check(openAt(t, db, Config{}), "sealed segment")
}

// TestFinderKeepsItsSnapshotFresh: a finder lists the segments once for
// many lookups, in old segments and new, and a lookup that misses its
// snapshot looks again, finding what was written since.
func TestFinderKeepsItsSnapshotFresh(t *testing.T) {
	db := newTestDB(t)
	s, err := db.open(Config{SegmentBytes: 64 << 10})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	at := time.Unix(1_800_000_000, 0)
	logSeries(t, s, "m", "a", 5000, 500, at)
	f := s.preds.finder("")
	for _, j := range []int{0, 2500, 4999} {
		if p, ok, err := f.find(fmt.Sprintf("a-%06d", j)); err != nil || !ok || p.Inputs[0] != byte(j) {
			t.Fatalf("find(a-%06d) = %+v, %v, %v", j, p, ok, err)
		}
	}
	listed := len(f.segs["m"])
	logSeries(t, s, "m", "b", 5000, 500, at.Add(time.Hour))
	if p, ok, err := f.find("b-004999"); err != nil || !ok || p.Scores[0] != 4999/1e6 {
		t.Fatalf("find of a prediction written after the snapshot = %+v, %v, %v", p, ok, err)
	}
	if len(f.segs["m"]) <= listed {
		t.Errorf("the snapshot holds %d segments after the miss, %d before; want more", len(f.segs["m"]), listed)
	}
	if _, ok, err := f.find("c-000000"); err != nil || ok {
		t.Errorf("find of an unknown id = %v, %v; want false", ok, err)
	}
}

// TestPruneSweepsWhatACrashLeft: the retention pass removes the
// temporary files and the index without data that a crash can leave, once
// they are a minute old, and keeps the segments and a fresh temporary
// file (a writer's, about to be renamed).
func TestPruneSweepsWhatACrashLeft(t *testing.T) {
	ctx := context.Background()
	db := newTestDB(t)
	s, err := db.open(Config{SegmentBytes: 64 << 10})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	at := time.Now().Add(-time.Hour)
	logSeries(t, s, "m", "a", 5000, 500, at)
	dir := filepath.Join(db.dir, PredictionsDir, "m")
	old := time.Now().Add(-2 * time.Minute)
	for _, n := range []string{"1-x.seg.new", "2-y.idx.new", "3-z.idx", "4-w.seg.new"} {
		p := filepath.Join(dir, n)
		if err := os.WriteFile(p, []byte("left"), 0o644); err != nil {
			t.Fatal(err)
		}
		if n != "4-w.seg.new" {
			if err := os.Chtimes(p, old, old); err != nil {
				t.Fatal(err)
			}
		}
	}
	if _, err := s.PrunePredictions(ctx, "m", at.Add(-time.Hour), 0); err != nil {
		t.Fatal(err)
	}
	left, _ := filepath.Glob(filepath.Join(dir, "*"))
	var names []string
	for _, p := range left {
		if n := filepath.Base(p); !strings.HasSuffix(n, segExt) && !strings.HasSuffix(n, idxExt) || strings.HasPrefix(n, "3-") {
			names = append(names, n)
		}
	}
	if !slices.Equal(names, []string{"4-w.seg.new"}) {
		t.Errorf("left besides the segments: %v; want only the fresh 4-w.seg.new", names)
	}
	checkFound(t, s, "a-004999", 4999)
}
