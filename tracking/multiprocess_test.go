package tracking

import (
	"context"
	"fmt"
	"sync"
	"testing"
)

// TestTwoStoresWriteOneDatabase opens the same data directory twice, as
// a server and a CLI command (switchyard publish, demo) do, and writes
// through both at once: a transaction that read before it wrote used to
// fail at once with SQLITE_BUSY instead of waiting its turn.
func TestTwoStoresWriteOneDatabase(t *testing.T) {
	ctx := context.Background()
	db := newTestDB(t)
	var stores [2]*Store
	for i := range stores {
		s, err := db.open(Config{})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() {
			if err := s.Close(); err != nil {
				t.Error(err)
			}
		})
		stores[i] = s
	}
	const n = 60
	errs := make(chan error, 2*n)
	var wg sync.WaitGroup
	wg.Go(func() {
		for i := range n {
			if _, err := stores[0].CreateRun(ctx, RunSpec{RunName: fmt.Sprintf("run-%d", i)}); err != nil {
				errs <- fmt.Errorf("create run %d: %w", i, err)
			}
		}
	})
	wg.Go(func() {
		for i := range n {
			if err := stores[1].Audit(ctx, Entry{Actor: "test", Action: "loaded", Model: "m", Versions: []int{i + 1}}); err != nil {
				errs <- fmt.Errorf("audit %d: %w", i, err)
			}
		}
	})
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	runs, _, err := stores[1].SearchRuns(ctx, RunQuery{ExperimentIDs: []string{DefaultExperimentID}, MaxResults: 1000})
	if err != nil {
		t.Fatal(err)
	}
	if len(runs) != n {
		t.Errorf("the second store sees %d runs; want %d", len(runs), n)
	}
}
