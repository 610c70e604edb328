package tracking

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"math"
	"strings"
	"sync"
	"testing"
	"time"
)

func TestExperiments(t *testing.T) {
	ctx := context.Background()
	s := openTest(t)
	def, err := s.Experiment(ctx, DefaultExperimentID)
	if err != nil || def.Name != "Default" || def.ArtifactLocation != "mlflow-artifacts:/0" || def.LifecycleStage != StageActive {
		t.Fatalf("default experiment = %+v, %v", def, err)
	}
	id, err := s.CreateExperiment(ctx, "fraud", "", []Tag{{"team", "risk"}})
	if err != nil || id != "1" {
		t.Fatalf("CreateExperiment = %q, %v; want 1", id, err)
	}
	e, err := s.ExperimentByName(ctx, "fraud")
	if err != nil || e.ID != "1" || e.ArtifactLocation != "mlflow-artifacts:/1" || len(e.Tags) != 1 || e.Tags[0] != (Tag{"team", "risk"}) {
		t.Fatalf("ExperimentByName = %+v, %v", e, err)
	}
	f := func(what string, err, want error) {
		t.Helper()
		if !errors.Is(err, want) {
			t.Errorf("%s = %v; want %v", what, err, want)
		}
	}
	_, err = s.CreateExperiment(ctx, "fraud", "", nil)
	f("CreateExperiment(existing)", err, ErrExists)
	_, err = s.CreateExperiment(ctx, " ", "", nil)
	f("CreateExperiment(blank)", err, ErrInvalid)
	_, err = s.Experiment(ctx, "42")
	f("Experiment(42)", err, ErrNotFound)
	_, err = s.Experiment(ctx, "abc")
	f("Experiment(abc)", err, ErrNotFound)
	_, err = s.ExperimentByName(ctx, "nope")
	f("ExperimentByName(nope)", err, ErrNotFound)
	f("DeleteExperiment(0)", s.DeleteExperiment(ctx, "0"), ErrInvalid)
	f("UpdateExperiment(to Default)", s.UpdateExperiment(ctx, id, "Default"), ErrExists)
	f("SetExperimentTag(bad key)", s.SetExperimentTag(ctx, id, Tag{"../x", "v"}), ErrInvalid)

	if err := s.UpdateExperiment(ctx, id, "fraud-v2"); err != nil {
		t.Fatal(err)
	}
	if err := s.SetExperimentTag(ctx, id, Tag{"team", "fraud"}); err != nil {
		t.Fatal(err)
	}
	run, err := s.CreateRun(ctx, RunSpec{ExperimentID: id, UserID: "ana"})
	if err != nil {
		t.Fatal(err)
	}
	if err := s.DeleteExperiment(ctx, id); err != nil {
		t.Fatal(err)
	}
	f("UpdateExperiment(deleted)", s.UpdateExperiment(ctx, id, "x"), ErrInvalid)
	_, err = s.CreateRun(ctx, RunSpec{ExperimentID: id})
	f("CreateRun(deleted experiment)", err, ErrInvalid)
	if r, _ := s.Run(ctx, run.Info.RunID); r.Info.LifecycleStage != StageDeleted {
		t.Fatalf("a run of a deleted experiment is %s", r.Info.LifecycleStage)
	}
	page, _, err := s.SearchExperiments(ctx, ExperimentQuery{})
	if err != nil || len(page) != 1 || page[0].ID != "0" {
		t.Fatalf("active experiments = %v, %v; want only Default", page, err)
	}
	if err := s.RestoreExperiment(ctx, id); err != nil {
		t.Fatal(err)
	}
	if r, _ := s.Run(ctx, run.Info.RunID); r.Info.LifecycleStage != StageActive {
		t.Fatalf("a run of a restored experiment is %s", r.Info.LifecycleStage)
	}
	page, next, err := s.SearchExperiments(ctx, ExperimentQuery{Filter: "name LIKE 'fraud%' and tags.team = 'fraud'"})
	if err != nil || len(page) != 1 || page[0].Name != "fraud-v2" || next != "" {
		t.Fatalf("search = %v, %q, %v", page, next, err)
	}
	page, next, err = s.SearchExperiments(ctx, ExperimentQuery{MaxResults: 1, OrderBy: []string{"name DESC"}})
	if err != nil || len(page) != 1 || page[0].Name != "fraud-v2" || next == "" {
		t.Fatalf("first page = %v, %q, %v", page, next, err)
	}
	page, next, err = s.SearchExperiments(ctx, ExperimentQuery{MaxResults: 1, OrderBy: []string{"name DESC"}, PageToken: next})
	if err != nil || len(page) != 1 || page[0].Name != "Default" || next != "" {
		t.Fatalf("second page = %v, %q, %v", page, next, err)
	}
	_, _, err = s.SearchExperiments(ctx, ExperimentQuery{PageToken: "garbage"})
	f("SearchExperiments(bad token)", err, ErrInvalid)
	_, _, err = s.SearchExperiments(ctx, ExperimentQuery{Filter: "metrics.x > 1"})
	f("SearchExperiments(metric filter)", err, ErrInvalid)
}

func TestRunLifecycle(t *testing.T) {
	ctx := context.Background()
	s := openTest(t)
	run, err := s.CreateRun(ctx, RunSpec{UserID: "ana", RunName: "baseline", StartTime: 1000, Tags: []Tag{{"stage", "dev"}}})
	if err != nil {
		t.Fatal(err)
	}
	id := run.Info.RunID
	if len(id) != 32 || run.Info.Status != StatusRunning || run.Info.ExperimentID != "0" ||
		run.Info.ArtifactURI != "mlflow-artifacts:/0/"+id+"/artifacts" || run.Info.RunName != "baseline" {
		t.Fatalf("run = %+v", run.Info)
	}
	metrics := []Metric{{"loss", 0.9, 10, 0}, {"loss", 0.5, 20, 1}, {"loss", 0.7, 30, 1}, {"auc", math.NaN(), 10, 0}}
	if err := s.LogBatch(ctx, id, metrics, []Param{{"lr", "0.1"}, {"depth", "6"}}, []Tag{{"stage", "prod"}}); err != nil {
		t.Fatal(err)
	}
	if err := s.LogBatch(ctx, id, []Metric{{"auc", 0.8, 10, 0}}, []Param{{"lr", "0.1"}}, nil); err != nil {
		t.Fatalf("logging the same param value again: %v", err)
	}
	err = s.LogBatch(ctx, id, []Metric{{"extra", 1, 1, 0}}, []Param{{"lr", "0.2"}}, nil)
	if !errors.Is(err, ErrInvalid) || !strings.Contains(err.Error(), "changing param values is not allowed") {
		t.Fatalf("changing a param = %v", err)
	}
	got, err := s.Run(ctx, id)
	if err != nil {
		t.Fatal(err)
	}
	latest := map[string]Metric{}
	for _, m := range got.Metrics {
		latest[m.Key] = m
	}
	if l := latest["loss"]; l.Value != 0.7 || l.Step != 1 || l.Timestamp != 30 {
		t.Errorf("latest loss = %+v; want step 1, timestamp 30, 0.7", l)
	}
	if a := latest["auc"]; a.Value != 0.8 {
		t.Errorf("latest auc = %+v; want 0.8 (NaN counts least at the same step)", a)
	}
	if _, ok := latest["extra"]; ok {
		t.Error("a batch that failed on a param still logged its metric")
	}
	if fmt.Sprint(got.Params) != "[{depth 6} {lr 0.1}]" || fmt.Sprint(got.Tags) != "[{mlflow.runName baseline} {stage prod}]" {
		t.Errorf("params %v, tags %v", got.Params, got.Tags)
	}
	hist, err := s.MetricHistory(ctx, id, "loss")
	if err != nil || len(hist) != 3 || hist[0].Value != 0.9 || hist[2].Value != 0.7 {
		t.Fatalf("history = %v, %v", hist, err)
	}
	hist, err = s.MetricHistory(ctx, id, "auc")
	if err != nil || len(hist) != 2 || !math.IsNaN(hist[0].Value) {
		t.Fatalf("auc history = %v, %v; want the NaN kept", hist, err)
	}
	info, err := s.UpdateRun(ctx, id, RunUpdate{Status: StatusFinished, EndTime: 5000, RunName: "final"})
	if err != nil || info.Status != StatusFinished || info.EndTime != 5000 || info.RunName != "final" {
		t.Fatalf("UpdateRun = %+v, %v", info, err)
	}
	if err := s.DeleteTag(ctx, id, "stage"); err != nil {
		t.Fatal(err)
	}
	f := func(what string, err, want error) {
		t.Helper()
		if !errors.Is(err, want) {
			t.Errorf("%s = %v; want %v", what, err, want)
		}
	}
	f("DeleteTag(gone)", s.DeleteTag(ctx, id, "stage"), ErrNotFound)
	_, err = s.UpdateRun(ctx, id, RunUpdate{Status: "DONE"})
	f("UpdateRun(bad status)", err, ErrInvalid)
	_, err = s.Run(ctx, "nope")
	f("Run(nope)", err, ErrNotFound)
	f("LogBatch(nope)", s.LogBatch(ctx, "nope", nil, []Param{{"a", "b"}}, nil), ErrNotFound)
	_, err = s.MetricHistory(ctx, "nope", "loss")
	f("MetricHistory(nope)", err, ErrNotFound)
	_, err = s.CreateRun(ctx, RunSpec{ExperimentID: "9"})
	f("CreateRun(unknown experiment)", err, ErrNotFound)

	if err := s.DeleteRun(ctx, id); err != nil {
		t.Fatal(err)
	}
	f("LogBatch(deleted)", s.LogBatch(ctx, id, []Metric{{"x", 1, 1, 0}}, nil, nil), ErrInvalid)
	f("DeleteRun(nope)", s.DeleteRun(ctx, "nope"), ErrNotFound)
	if err := s.RestoreRun(ctx, id); err != nil {
		t.Fatal(err)
	}
	if err := s.LogBatch(ctx, id, []Metric{{"x", 1, 1, 0}}, nil, nil); err != nil {
		t.Fatalf("LogBatch after restore: %v", err)
	}
}

func TestLogBatchLimits(t *testing.T) {
	ctx := context.Background()
	s := openTest(t)
	run, err := s.CreateRun(ctx, RunSpec{})
	if err != nil {
		t.Fatal(err)
	}
	id := run.Info.RunID
	n := func(k int, f func(i int) any) []any {
		out := make([]any, k)
		for i := range out {
			out[i] = f(i)
		}
		return out
	}
	params := func(k int) []Param {
		var out []Param
		for _, p := range n(k, func(i int) any { return Param{fmt.Sprint("p", i), "v"} }) {
			out = append(out, p.(Param))
		}
		return out
	}
	metrics := func(k int) []Metric {
		var out []Metric
		for _, m := range n(k, func(i int) any { return Metric{fmt.Sprint("m", i%7), 1, int64(i), 0} }) {
			out = append(out, m.(Metric))
		}
		return out
	}
	f := func(what string, err error, want string) {
		t.Helper()
		if !errors.Is(err, ErrInvalid) || !strings.Contains(err.Error(), want) {
			t.Errorf("%s = %v; want ErrInvalid mentioning %q", what, err, want)
		}
	}
	f("101 params", s.LogBatch(ctx, id, nil, params(101), nil), "at most 100 params")
	f("1001 metrics", s.LogBatch(ctx, id, metrics(1001), nil, nil), "at most 1000 metrics")
	f("1001 entities", s.LogBatch(ctx, id, metrics(950), params(51), nil), "in total")
	f("a long param", s.LogBatch(ctx, id, nil, []Param{{"p", strings.Repeat("x", MaxParamValueLength+1)}}, nil), "exceeded length limit")
	f("a long key", s.LogBatch(ctx, id, nil, []Param{{strings.Repeat("k", 251), "v"}}, nil), "exceeded length limit")
	f("a bad key", s.LogBatch(ctx, id, nil, []Param{{"a;b", "v"}}, nil), "invalid param name")
	f("a path key", s.LogBatch(ctx, id, []Metric{{"../up", 1, 1, 0}}, nil, nil), "must not resolve")
	f("an empty key", s.LogBatch(ctx, id, nil, nil, []Tag{{"", "v"}}), "missing value")
	f("duplicate params", s.LogBatch(ctx, id, nil, []Param{{"a", "1"}, {"a", "2"}}, nil), "duplicate parameter keys")
	if err := s.LogBatch(ctx, id, metrics(1000), nil, nil); err != nil {
		t.Fatalf("1000 metrics: %v", err)
	}
	if err := s.LogBatch(ctx, id, nil, params(100), nil); err != nil {
		t.Fatalf("100 params: %v", err)
	}
	r, _ := s.Run(ctx, id)
	if len(r.Params) != 100 || len(r.Metrics) != 7 {
		t.Fatalf("after the refused batches: %d params, %d metrics; want 100 and 7", len(r.Params), len(r.Metrics))
	}
}

func TestSearchRuns(t *testing.T) {
	ctx := context.Background()
	s := openTest(t)
	exp, _ := s.CreateExperiment(ctx, "e", "", nil)
	var ids []string
	for i := range 5 {
		r, err := s.CreateRun(ctx, RunSpec{ExperimentID: exp, RunName: fmt.Sprint("run-", i), StartTime: int64(1000 + i)})
		if err != nil {
			t.Fatal(err)
		}
		ids = append(ids, r.Info.RunID)
		model := []string{"xgboost", "logreg"}[i%2]
		if err := s.LogBatch(ctx, r.Info.RunID, []Metric{{"auc", 0.5 + float64(i)/10, 1, 0}, {"log loss", float64(5 - i), 1, 0}},
			[]Param{{"model", model}}, []Tag{{"team", "Fraud"}}); err != nil {
			t.Fatal(err)
		}
		if i == 4 {
			if _, err := s.UpdateRun(ctx, r.Info.RunID, RunUpdate{Status: StatusFinished}); err != nil {
				t.Fatal(err)
			}
		}
	}
	other, _ := s.CreateRun(ctx, RunSpec{}) // in experiment 0: never found below
	_ = other
	f := func(filter string, order []string, want ...int) {
		t.Helper()
		runs, _, err := s.SearchRuns(ctx, RunQuery{ExperimentIDs: []string{exp}, Filter: filter, OrderBy: order})
		if err != nil {
			t.Errorf("SearchRuns(%q, %v) = %v", filter, order, err)
			return
		}
		var got []int
		for _, r := range runs {
			for i, id := range ids {
				if r.Info.RunID == id {
					got = append(got, i)
				}
			}
		}
		if fmt.Sprint(got) != fmt.Sprint(want) {
			t.Errorf("SearchRuns(%q, %v) = runs %v; want %v", filter, order, got, want)
		}
	}
	f("", nil, 4, 3, 2, 1, 0) // newest first
	f("metrics.auc > 0.65", nil, 4, 3, 2)
	f("metrics.auc >= 0.7 and params.model = 'xgboost'", nil, 4, 2)
	f("metrics.`log loss` < 2", nil, 4)
	f(`params.model != "xgboost"`, nil, 3, 1)
	f("tags.team = 'Fraud' and attributes.status = 'FINISHED'", nil, 4)
	f("status = 'RUNNING'", []string{"attributes.start_time ASC"}, 0, 1, 2, 3)
	f("tags.team LIKE 'fr%'", nil)
	f("tags.team ILIKE 'fr%'", nil, 4, 3, 2, 1, 0)
	f("attributes.run_name IN ('run-1', 'run-3')", nil, 3, 1)
	f("", []string{"metrics.auc ASC"}, 0, 1, 2, 3, 4)
	f("", []string{"params.model DESC", "metrics.auc DESC"}, 4, 2, 0, 3, 1)
	f("metrics.missing > 0", nil)

	page, next, err := s.SearchRuns(ctx, RunQuery{ExperimentIDs: []string{exp}, MaxResults: 2})
	if err != nil || len(page) != 2 || next == "" {
		t.Fatalf("page 1 = %d runs, %q, %v", len(page), next, err)
	}
	seen := 2
	for next != "" {
		page, next, err = s.SearchRuns(ctx, RunQuery{ExperimentIDs: []string{exp}, MaxResults: 2, PageToken: next})
		if err != nil {
			t.Fatal(err)
		}
		seen += len(page)
	}
	if seen != 5 {
		t.Fatalf("pages held %d runs; want 5", seen)
	}
	for _, bad := range []string{"metrics.auc > 'high'", "params.model > 1", "foo.x = 1", "metrics.auc >", "auc = 1 or x = 2",
		"params.model = unquoted", "attributes.nope = 'x'", "metrics.auc ~ 1", "tags.x = 'unclosed"} {
		if _, _, err := s.SearchRuns(ctx, RunQuery{ExperimentIDs: []string{exp}, Filter: bad}); !errors.Is(err, ErrInvalid) {
			t.Errorf("SearchRuns(filter %q) = %v; want ErrInvalid", bad, err)
		}
	}
	for _, q := range []RunQuery{
		{ExperimentIDs: []string{exp}, OrderBy: []string{"metrics.auc SIDEWAYS"}},
		{ExperimentIDs: []string{exp}, MaxResults: MaxResultsLimit + 1},
		{ExperimentIDs: []string{exp}, ViewType: "SOME"},
		{ExperimentIDs: []string{"x"}},
		{},
	} {
		if _, _, err := s.SearchRuns(ctx, q); !errors.Is(err, ErrInvalid) {
			t.Errorf("SearchRuns(%+v) = %v; want ErrInvalid", q, err)
		}
	}
}

func TestLineageAndAudit(t *testing.T) {
	ctx := context.Background()
	s := openTest(t)
	run, _ := s.CreateRun(ctx, RunSpec{})
	id := run.Info.RunID
	d := Dataset{SHA256: strings.Repeat("ab", 32), Path: "train.csv", Rows: 100, Columns: []string{"a", "b"}}
	if err := s.UseDataset(ctx, id, RoleTrain, d); err != nil {
		t.Fatal(err)
	}
	run2, _ := s.CreateRun(ctx, RunSpec{})
	if err := s.UseDataset(ctx, run2.Info.RunID, RoleEval, d); err != nil {
		t.Fatalf("a second run referencing the same data version: %v", err)
	}
	d2 := d
	d2.Rows = 99
	if err := s.UseDataset(ctx, id, RoleTrain, d2); !errors.Is(err, ErrInvalid) {
		t.Fatalf("the same sha256 with other rows = %v; want ErrInvalid", err)
	}
	if err := s.UseDataset(ctx, id, "test", d); !errors.Is(err, ErrInvalid) {
		t.Fatalf("an unknown role = %v; want ErrInvalid", err)
	}
	r, _ := s.Run(ctx, id)
	if len(r.Datasets) != 1 || r.Datasets[0].Dataset.SHA256 != d.SHA256 || r.Datasets[0].Role != RoleTrain || fmt.Sprint(r.Datasets[0].Columns) != "[a b]" {
		t.Fatalf("datasets = %+v", r.Datasets)
	}
	if err := s.LinkVersion(ctx, "fraud", 3, id); err != nil {
		t.Fatal(err)
	}
	if err := s.LinkVersion(ctx, "fraud", 3, run2.Info.RunID); !errors.Is(err, ErrExists) {
		t.Fatalf("relinking a version = %v; want ErrExists", err)
	}
	if err := s.LinkVersion(ctx, "fraud", 4, "nope"); !errors.Is(err, ErrNotFound) {
		t.Fatalf("linking to an unknown run = %v; want ErrNotFound", err)
	}
	if got, err := s.VersionRun(ctx, "fraud", 3); err != nil || got != id {
		t.Fatalf("VersionRun = %q, %v", got, err)
	}
	if _, err := s.VersionRun(ctx, "fraud", 9); !errors.Is(err, ErrNotFound) {
		t.Fatalf("VersionRun(9) = %v", err)
	}
	t0 := time.Now().Add(-time.Hour)
	for i, e := range []Entry{
		{Time: t0, Actor: "ana", Action: "publish", Model: "fraud", Versions: []int{3}, Reason: "nightly"},
		{Actor: "controller", Action: "promote", Model: "fraud", Versions: []int{2, 3}, Reason: "canary healthy", Details: map[string]any{"p99_ratio": 1.02}},
		{Actor: "ana", Action: "publish", Model: "churn", Versions: []int{1}},
	} {
		if err := s.Audit(ctx, e); err != nil {
			t.Fatalf("Audit %d: %v", i, err)
		}
	}
	if err := s.Audit(ctx, Entry{Action: "x", Model: "m"}); !errors.Is(err, ErrInvalid) {
		t.Fatalf("an entry without an actor = %v", err)
	}
	log, err := s.AuditLog(ctx, AuditQuery{Model: "fraud"})
	if err != nil || len(log) != 2 || log[0].Action != "promote" || log[0].Details["p99_ratio"] != 1.02 || fmt.Sprint(log[0].Versions) != "[2 3]" {
		t.Fatalf("audit log = %+v, %v", log, err)
	}
	log, _ = s.AuditLog(ctx, AuditQuery{Since: time.Now().Add(-time.Minute)})
	if len(log) != 2 {
		t.Fatalf("entries of the last minute: %d; want 2", len(log))
	}
}

// TestConcurrentWritesBatch writes from many goroutines at once: every
// write is acknowledged and present, and a failing write among them does
// not undo the others of its transaction.
func TestConcurrentWritesBatch(t *testing.T) {
	ctx := context.Background()
	s := openTest(t)
	run, _ := s.CreateRun(ctx, RunSpec{})
	id := run.Info.RunID
	if err := s.LogBatch(ctx, id, nil, []Param{{"fixed", "a"}}, nil); err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	var failures sync.Map
	for g := range 8 {
		wg.Go(func() {
			for i := range 50 {
				err := s.LogBatch(ctx, id, []Metric{{"m", float64(i), int64(i), int64(g*100 + i)}}, nil, nil)
				if err != nil {
					failures.Store(fmt.Sprint(g, i), err)
				}
				// Every tenth write fails on purpose, inside the same batches.
				if i%10 == 0 {
					if err := s.LogBatch(ctx, id, nil, []Param{{"fixed", "b"}}, nil); !errors.Is(err, ErrInvalid) {
						failures.Store(fmt.Sprint("bad", g, i), err)
					}
				}
			}
		})
	}
	wg.Wait()
	failures.Range(func(k, v any) bool {
		t.Errorf("write %v: %v", k, v)
		return true
	})
	hist, err := s.MetricHistory(ctx, id, "m")
	if err != nil || len(hist) != 400 {
		t.Fatalf("history holds %d values, %v; want 400", len(hist), err)
	}
	if err := s.IntegrityCheck(ctx); err != nil {
		t.Fatal(err)
	}
}

func TestClosedStore(t *testing.T) {
	s, err := newTestDB(t).open(Config{})
	if err != nil {
		t.Fatal(err)
	}
	s.Close()
	if _, err := s.CreateRun(context.Background(), RunSpec{}); !errors.Is(err, ErrClosed) {
		t.Fatalf("CreateRun after Close = %v; want ErrClosed", err)
	}
}

// TestUniqueViolationIsErrExists: a write that a unique constraint
// refuses, as a replica's check-then-insert that another replica
// overtook is, fails with ErrExists, not a raw database error, and the
// store goes on.
func TestUniqueViolationIsErrExists(t *testing.T) {
	ctx := context.Background()
	s := openTest(t)
	if _, err := s.CreateExperiment(ctx, "raced", "", nil); err != nil {
		t.Fatal(err)
	}
	err := s.exec(ctx, func(ctx context.Context, tx *sql.Tx) error { // checked before the first committed
		_, err := tx.ExecContext(ctx, `INSERT INTO experiments (name, artifact_location, creation_time, last_update_time) VALUES (?, '', 0, 0)`, "raced")
		return err
	})
	if !errors.Is(err, ErrExists) {
		t.Fatalf("a second experiment of the same name = %v; want ErrExists", err)
	}
	if _, err := s.CreateExperiment(ctx, "next", "", nil); err != nil {
		t.Errorf("the store after the refusal: %v", err)
	}
}
