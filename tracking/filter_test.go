package tracking

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
)

// clauses joins n comparisons made from format and their index with AND.
func clauses(format string, n int) string {
	parts := make([]string, n)
	for i := range parts {
		parts[i] = fmt.Sprintf(format, i)
	}
	return strings.Join(parts, " and ")
}

// quotedList returns ('0', '1', ...) with n values.
func quotedList(n int) string {
	vals := make([]string, n)
	for i := range vals {
		vals[i] = fmt.Sprintf("'%d'", i)
	}
	return "(" + strings.Join(vals, ", ") + ")"
}

// TestFilterLimitsSuccess runs the largest filters the limits accept, of
// the kinds that nest deepest in SQL, and checks that SQLite runs them
// and they match.
func TestFilterLimitsSuccess(t *testing.T) {
	ctx := context.Background()
	s := openTest(t)
	exp, _ := s.CreateExperiment(ctx, "e", "", nil)
	r, err := s.CreateRun(ctx, RunSpec{ExperimentID: exp})
	if err != nil {
		t.Fatal(err)
	}
	var metrics []Metric
	var params []Param
	var tags []Tag
	for i := range MaxFilterClauses {
		metrics = append(metrics, Metric{fmt.Sprint("m", i), 1, 1, 0})
		params = append(params, Param{fmt.Sprint("p", i), "7"})
		tags = append(tags, Tag{fmt.Sprint("t", i), "y"})
	}
	if err := s.LogBatch(ctx, r.Info.RunID, metrics, params, tags); err != nil {
		t.Fatal(err)
	}
	perList := MaxFilterValues / MaxFilterClauses
	f := func(filter string) {
		t.Helper()
		runs, _, err := s.SearchRuns(ctx, RunQuery{ExperimentIDs: []string{exp}, Filter: filter,
			OrderBy: []string{"metrics.m0 DESC", "params.p1", "tags.t"}})
		if err != nil || len(runs) != 1 {
			t.Fatalf("SearchRuns(%d-byte filter) = %d runs, %v; want the run", len(filter), len(runs), err)
		}
	}
	f(clauses("metrics.m%d > 0", MaxFilterClauses))
	f(clauses("params.p%d IN "+quotedList(perList), MaxFilterClauses))
	f(clauses("tags.t%d != 'x'", MaxFilterClauses/2) + " and " + clauses("attributes.run_name != 'x%d'", MaxFilterClauses/2))

	_, _, err = s.SearchExperiments(ctx, ExperimentQuery{Filter: clauses("tags.t%d != 'x'", MaxFilterClauses)})
	if err != nil {
		t.Fatalf("SearchExperiments(%d tag clauses) = %v", MaxFilterClauses, err)
	}
}

// TestFilterLimitsFailure checks that filters past the limits, such as
// issue 23's probe of about 1,000 AND clauses, are refused with ErrInvalid
// (400 INVALID_PARAMETER_VALUE) and a short message, instead of reaching
// SQLite and failing there with a 500.
func TestFilterLimitsFailure(t *testing.T) {
	ctx := context.Background()
	s := openTest(t)
	exp, _ := s.CreateExperiment(ctx, "e", "", nil)
	f := func(filter, want string) {
		t.Helper()
		_, _, err := s.SearchRuns(ctx, RunQuery{ExperimentIDs: []string{exp}, Filter: filter})
		if !errors.Is(err, ErrInvalid) || !strings.Contains(err.Error(), want) || len(err.Error()) > 200 {
			t.Errorf("SearchRuns(%d-byte filter) = %v; want a short ErrInvalid saying %q", len(filter), err, want)
		}
		_, _, err = s.SearchExperiments(ctx, ExperimentQuery{Filter: filter})
		if !errors.Is(err, ErrInvalid) {
			t.Errorf("SearchExperiments(%d-byte filter) = %v; want ErrInvalid", len(filter), err)
		}
	}
	f(clauses("metrics.m%d > 0", MaxFilterClauses+1), "more than 100 comparisons")
	f(clauses("attributes.run_name = 'x%d'", 1000), "more than 100 comparisons")
	f(clauses("params.p%d IN "+quotedList(11), MaxFilterClauses), "more than 1000 values")
	f("attributes.run_id IN "+quotedList(40000), "more than 1000 values")
}
