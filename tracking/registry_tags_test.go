package tracking

import (
	"context"
	"errors"
	"slices"
	"testing"
)

// TestRegistryTags sets, replaces and deletes the tags of a registered
// model and of a version that nothing recorded before.
func TestRegistryTags(t *testing.T) {
	ctx := context.Background()
	s := openTest(t)
	if err := s.SetRegisteredModelTag(ctx, "fraud", Tag{"team", "risk"}); err != nil {
		t.Fatal(err)
	}
	if err := s.SetRegisteredModelTag(ctx, "fraud", Tag{"team", "ops"}); err != nil {
		t.Fatal(err)
	}
	if err := s.SetModelVersionTag(ctx, "fraud", 2, Tag{"validated", "yes"}); err != nil {
		t.Fatal(err)
	}
	rm, err := s.RegisteredModel(ctx, "fraud")
	if err != nil || !slices.Equal(rm.Tags, []Tag{{"team", "ops"}}) {
		t.Fatalf("RegisteredModel = %+v, %v; want tag team=ops", rm, err)
	}
	mv, err := s.ModelVersion(ctx, "fraud", 2)
	if err != nil || !slices.Equal(mv.Tags, []Tag{{"validated", "yes"}}) {
		t.Fatalf("ModelVersion = %+v, %v; want tag validated=yes", mv, err)
	}
	for _, err := range []error{
		s.DeleteRegisteredModelTag(ctx, "fraud", "team"),
		s.DeleteRegisteredModelTag(ctx, "fraud", "never-set"),
		s.DeleteModelVersionTag(ctx, "fraud", 2, "validated"),
	} {
		if err != nil {
			t.Fatal(err)
		}
	}
	if rm, _ := s.RegisteredModel(ctx, "fraud"); len(rm.Tags) != 0 {
		t.Errorf("after DeleteRegisteredModelTag: %+v", rm.Tags)
	}
	if mv, _ := s.ModelVersion(ctx, "fraud", 2); len(mv.Tags) != 0 {
		t.Errorf("after DeleteModelVersionTag: %+v", mv.Tags)
	}
	for _, err := range []error{
		s.SetRegisteredModelTag(ctx, "fraud", Tag{"../x", "v"}),
		s.SetModelVersionTag(ctx, "fraud", 2, Tag{"", "v"}),
		s.DeleteModelVersionTag(ctx, "fraud", 2, "/abs"),
	} {
		if !errors.Is(err, ErrInvalid) {
			t.Errorf("bad tag key = %v; want ErrInvalid", err)
		}
	}
}
