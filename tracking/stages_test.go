package tracking

import (
	"context"
	"errors"
	"testing"
)

func TestCanonicalStage(t *testing.T) {
	for in, want := range map[string]string{"none": "None", "STAGING": "Staging", "Production": "Production", "archived": "Archived"} {
		if got, err := CanonicalStage(in); got != want || err != nil {
			t.Errorf("CanonicalStage(%q) = %q, %v; want %q", in, got, err, want)
		}
	}
	for _, in := range []string{"", "Prod", "Deleted_Internal"} {
		if _, err := CanonicalStage(in); !errors.Is(err, ErrInvalid) {
			t.Errorf("CanonicalStage(%q) = %v; want ErrInvalid", in, err)
		}
	}
}

// TestTransitionModelVersionStage records stages, archives the others in
// the stage on demand, and refuses what MLflow refuses, recording nothing.
func TestTransitionModelVersionStage(t *testing.T) {
	s := openTest(t)
	ctx := context.Background()
	if err := s.PutModelVersion(ctx, ModelVersion{Name: "m", Version: 1, Description: "first"}); err != nil {
		t.Fatal(err)
	}
	for v := 1; v <= 2; v++ {
		if _, _, err := s.TransitionModelVersionStage(ctx, "m", v, StageProduction, false); err != nil {
			t.Fatal(err)
		}
	}
	from, archived, err := s.TransitionModelVersionStage(ctx, "m", 3, StageProduction, true)
	if err != nil || from != StageNone || len(archived) != 2 || archived[0] != 1 || archived[1] != 2 {
		t.Fatalf("transition with archive = %q, %v, %v; want None, [1 2]", from, archived, err)
	}
	mv, err := s.ModelVersion(ctx, "m", 1)
	if err != nil || mv.CurrentStage != StageArchived || mv.Description != "first" {
		t.Fatalf("version 1 = %+v, %v; want Archived, its description kept", mv, err)
	}
	for _, c := range []struct {
		stage   string
		archive bool
	}{{"production", false}, {StageArchived, true}, {StageNone, true}} {
		if _, _, err := s.TransitionModelVersionStage(ctx, "m", 3, c.stage, c.archive); !errors.Is(err, ErrInvalid) {
			t.Errorf("transition to %q (archive %t) = %v; want ErrInvalid", c.stage, c.archive, err)
		}
	}
	stages, err := s.ModelVersionStages(ctx, "m")
	if err != nil || len(stages) != 3 || stages[3] != StageProduction || stages[2] != StageArchived {
		t.Fatalf("stages = %v, %v", stages, err)
	}
}

// TestSeeRegisteredModel records a model first seen with its creation
// time once; later sights keep it.
func TestSeeRegisteredModel(t *testing.T) {
	s := openTest(t)
	ctx := context.Background()
	m, err := s.SeeRegisteredModel(ctx, "m", 1000)
	if err != nil || m.CreationTime != 1000 || m.LastUpdatedTime != 1000 {
		t.Fatalf("first sight = %+v, %v", m, err)
	}
	if m, err = s.SeeRegisteredModel(ctx, "m", 5000); err != nil || m.CreationTime != 1000 {
		t.Fatalf("second sight = %+v, %v; want created at 1000 still", m, err)
	}
	if err := s.UpdateRegisteredModel(ctx, "m", "desc"); err != nil {
		t.Fatal(err)
	}
	if m, err = s.SeeRegisteredModel(ctx, "m", 5000); err != nil || m.CreationTime != 1000 || m.LastUpdatedTime <= 1000 || m.Description != "desc" {
		t.Fatalf("after an update = %+v, %v; want created at 1000, updated later", m, err)
	}
}
