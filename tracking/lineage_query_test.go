package tracking

import (
	"context"
	"errors"
	"fmt"
	"testing"
)

func TestRunVersions(t *testing.T) {
	ctx := context.Background()
	s := openTest(t)
	run, _ := s.CreateRun(ctx, RunSpec{})
	other, _ := s.CreateRun(ctx, RunSpec{})
	id := run.Info.RunID
	for _, v := range []VersionRef{{"fraud", 3}, {"churn", 1}, {"fraud", 2}} {
		if err := s.LinkVersion(ctx, v.Model, v.Version, id); err != nil {
			t.Fatal(err)
		}
	}
	if err := s.LinkVersion(ctx, "fraud", 4, other.Info.RunID); err != nil {
		t.Fatal(err)
	}
	f := func(runID, want string) {
		t.Helper()
		got, err := s.RunVersions(ctx, runID)
		if err != nil || fmt.Sprint(got) != want {
			t.Fatalf("RunVersions(%s) = %v, %v; want %s", runID, got, err, want)
		}
	}
	f(id, "[{churn 1} {fraud 2} {fraud 3}]")
	f(other.Info.RunID, "[{fraud 4}]")
	f("nope", "[]")
	if err := CheckBatch([]Metric{{Key: "../x"}}, nil, nil); !errors.Is(err, ErrInvalid) {
		t.Fatalf("CheckBatch(bad metric key) = %v; want ErrInvalid", err)
	}
	if err := CheckBatch(nil, []Param{{"lr", "0.1"}, {"lr", "0.2"}}, nil); !errors.Is(err, ErrInvalid) {
		t.Fatalf("CheckBatch(one param, two values) = %v; want ErrInvalid", err)
	}
}
