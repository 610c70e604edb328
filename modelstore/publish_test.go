package modelstore_test

import (
	"bytes"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"testing"

	"github.com/switchyard-ml/switchyard/modelstore"
)

// TestPublishEvalAndLineage checks that an evaluation set is written into
// the version as eval.csv, its label column and the lineage into the
// manifest, and that ReadManifest, ModelNames and VersionDir find them.
func TestPublishEvalAndLineage(t *testing.T) {
	dir := t.TempDir()
	eval := []byte("x0,x1,x2,y\n1,2,3,0\n")
	seed := int64(7)
	lin := &modelstore.Lineage{RunID: "r1", DatasetPath: "/data/train.csv", DatasetSHA256: sha,
		EvalDatasetPath: "/data/eval.csv", EvalDatasetSHA256: sha, CodeRevision: "abc", Seed: &seed}
	v, err := modelstore.Publish(dir, "m", small(1).Marshal(), modelstore.PublishOptions{Lineage: lin, EvalCSV: eval, EvalLabel: "y"})
	if err != nil || v != 1 {
		t.Fatalf("Publish = %d, %v; want version 1", v, err)
	}
	vdir := modelstore.VersionDir(dir, "m", 1)
	if got, err := os.ReadFile(filepath.Join(vdir, modelstore.EvalFile)); err != nil || !bytes.Equal(got, eval) {
		t.Fatalf("eval.csv = %q, %v; want %q", got, err, eval)
	}
	m, err := modelstore.ReadManifest(vdir)
	if err != nil {
		t.Fatal(err)
	}
	if m.EvalLabel != "y" || m.Lineage == nil || !reflect.DeepEqual(m.Lineage, lin) {
		t.Fatalf("manifest = %+v, lineage %+v; want eval_label y and lineage %+v", m, m.Lineage, lin)
	}
	// A version without an evaluation set has no eval.csv.
	if _, err := modelstore.Publish(dir, "m", small(2).Marshal(), modelstore.PublishOptions{}); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(modelstore.VersionDir(dir, "m", 2), modelstore.EvalFile)); !errors.Is(err, fs.ErrNotExist) {
		t.Fatalf("stat eval.csv of a version published without one = %v; want ErrNotExist", err)
	}
	if err := os.MkdirAll(filepath.Join(dir, ".switchyard"), 0o755); err != nil {
		t.Fatal(err)
	}
	if names, err := modelstore.ModelNames(dir); err != nil || !slices.Equal(names, []string{"m"}) {
		t.Fatalf("ModelNames = %v, %v; want [m]", names, err)
	}
	if _, err := modelstore.ReadManifest(modelstore.VersionDir(dir, "m", 3)); !errors.Is(err, fs.ErrNotExist) {
		t.Fatalf("ReadManifest(missing version) = %v; want ErrNotExist", err)
	}
}

// TestPublishProfile checks that a profile is written into the version
// as profile.json, as given, and that a version without one has none.
func TestPublishProfile(t *testing.T) {
	dir := t.TempDir()
	profile := []byte(`{"format":1}`)
	if _, err := modelstore.Publish(dir, "m", small(1).Marshal(), modelstore.PublishOptions{Profile: profile}); err != nil {
		t.Fatal(err)
	}
	if got, err := os.ReadFile(filepath.Join(modelstore.VersionDir(dir, "m", 1), modelstore.ProfileFile)); err != nil || !bytes.Equal(got, profile) {
		t.Fatalf("profile.json = %q, %v; want %q", got, err, profile)
	}
	if _, err := modelstore.Publish(dir, "m", small(2).Marshal(), modelstore.PublishOptions{}); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(modelstore.VersionDir(dir, "m", 2), modelstore.ProfileFile)); !errors.Is(err, fs.ErrNotExist) {
		t.Fatalf("stat profile.json of a version published without one = %v; want ErrNotExist", err)
	}
}

// TestPublishEvalNeedsLabel checks that an evaluation set and its label
// column come together, and that a refused publish leaves nothing behind.
func TestPublishEvalNeedsLabel(t *testing.T) {
	dir := t.TempDir()
	f := func(opts modelstore.PublishOptions) {
		t.Helper()
		if _, err := modelstore.Publish(dir, "m", small(1).Marshal(), opts); err == nil {
			t.Fatalf("Publish(%+v) succeeded", opts)
		}
	}
	f(modelstore.PublishOptions{EvalCSV: []byte("a,y\n1,0\n")})
	f(modelstore.PublishOptions{EvalLabel: "y"})
	if _, all, err := modelstore.Versions(dir, "m"); err != nil || len(all) != 0 {
		t.Fatalf("versions after refused publishes = %v, %v; want none", all, err)
	}
}
