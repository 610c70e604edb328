package ops_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/switchyard-ml/switchyard/drift"
	"github.com/switchyard-ml/switchyard/engine"
	"github.com/switchyard-ml/switchyard/internal/onnx"
	"github.com/switchyard-ml/switchyard/modelstore"
	"github.com/switchyard-ml/switchyard/ops"
)

// profileCSV returns n rows of a, b, label and c (the label between
// features, as a header may have it), deterministic.
func profileCSV(n int) ([]byte, [][3]float32) {
	var b bytes.Buffer
	b.WriteString("a,b,label,c\n")
	rows := make([][3]float32, n)
	for i := range rows {
		rows[i] = [3]float32{float32(i%7) - 3, float32(i%5) * 0.5, float32(i % 11)}
		fmt.Fprintf(&b, "%g,%g,%d,%g\n", rows[i][0], rows[i][1], i%2, rows[i][2])
	}
	return b.Bytes(), rows
}

// parseProfile decodes a profile.json as the tests read it.
func parseProfile(t *testing.T, b []byte) *drift.Profile {
	t.Helper()
	var p drift.Profile
	if err := json.Unmarshal(b, &p); err != nil {
		t.Fatalf("profile.json: %v", err)
	}
	return &p
}

// column returns the profile's column named name, failing the test if
// there is none.
func column(t *testing.T, cols []drift.ColumnProfile, name string) *drift.ColumnProfile {
	t.Helper()
	for i := range cols {
		if cols[i].Name == name {
			return &cols[i]
		}
	}
	t.Fatalf("no column %q among %+v", name, cols)
	return nil
}

func openSession(t *testing.T, model []byte) *engine.Session {
	t.Helper()
	sess, err := engine.New(model, engine.Config{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { sess.Close() })
	return sess
}

// TestBuildProfileByPosition: without a schema the columns are the
// input's by position (the CSV's columns but the label, in order), and
// the score is the positive class's output of the model on the rows.
func TestBuildProfileByPosition(t *testing.T) {
	csv, rows := profileCSV(40)
	mlp := onnx.RandomMLP(7, onnx.ActivationSoftmax, 3, 2)
	b, err := ops.BuildProfile(context.Background(), openSession(t, mlp.Model().Marshal()), nil,
		ops.ProfileData{CSV: csv, Label: "label", Source: "test.csv"})
	if err != nil {
		t.Fatal(err)
	}
	p := parseProfile(t, b)
	if p.Rows != 40 || len(p.Features) != 3 || !strings.HasPrefix(p.Source, "test.csv (sha256 ") {
		t.Fatalf("profile rows %d, %d features, source %q; want 40, 3, test.csv with its sha256", p.Rows, len(p.Features), p.Source)
	}
	var want [3]float64
	var score float64
	for _, r := range rows {
		for j := range want {
			want[j] += float64(r[j]) / 40
		}
		score += float64(mlp.Predict(r[:])[1]) / 40
	}
	for j, c := range p.Features {
		if c.Name != ops.InputColumn(j) || c.Kind != drift.Numeric || c.Count != 40 || math.Abs(c.Mean-want[j]) > 1e-6 {
			t.Errorf("feature %d = %s %s count %d mean %v; want %s numeric 40 %v", j, c.Name, c.Kind, c.Count, c.Mean, ops.InputColumn(j), want[j])
		}
	}
	if len(p.Scores) != 1 || p.Scores[0].Name != ops.ScoreColumn || math.Abs(p.Scores[0].Mean-score) > 1e-5 {
		t.Fatalf("scores = %+v; want one %q of mean %v", p.Scores, ops.ScoreColumn, score)
	}
}

// TestBuildProfileSchema: with a schema the columns are its features in
// the input's order, categories by value and bools as true/false; a
// classifier of three classes has a score per class, of a sample of the
// rows when there are more than the sample size.
func TestBuildProfileSchema(t *testing.T) {
	features := []modelstore.Feature{
		{Name: "color", Type: modelstore.TypeCategory, Values: []string{"red", "green"}, Encoding: modelstore.EncodeOneHot, Position: 2},
		{Name: "x", Type: modelstore.TypeNumber, Position: 0},
		{Name: "flag", Type: modelstore.TypeBool, Position: 1},
	}
	var csv bytes.Buffer
	csv.WriteString("flag,color,y,x\n")
	for i := range 30 {
		fmt.Fprintf(&csv, "%t,%s,%d,%d\n", i%3 == 0, []string{"red", "green"}[i%2], i%3, i)
	}
	model := onnx.RandomMLP(3, onnx.ActivationSoftmax, 4, 3).Model().Marshal()
	b, err := ops.BuildProfile(context.Background(), openSession(t, model), features,
		ops.ProfileData{CSV: csv.Bytes(), Label: "y", Source: "s", Options: drift.ProfileOptions{SampleRows: 10}})
	if err != nil {
		t.Fatal(err)
	}
	p := parseProfile(t, b)
	var names []string
	for _, c := range p.Features {
		names = append(names, c.Name+":"+string(c.Kind))
	}
	if got := strings.Join(names, " "); got != "x:numeric flag:categorical color:categorical" {
		t.Fatalf("features = %s; want x, flag, color in input order", got)
	}
	if f := column(t, p.Features, "flag").Frequencies; f["true"] != 10 || f["false"] != 20 {
		t.Errorf("flag frequencies = %v; want 10 true, 20 false", f)
	}
	if f := column(t, p.Features, "color").Frequencies; f["red"] != 15 || f["green"] != 15 {
		t.Errorf("color frequencies = %v; want 15 each", f)
	}
	if x := column(t, p.Features, "x"); x.Count != 30 || x.Min != 0 || x.Max != 29 {
		t.Errorf("x = %+v; want 30 values 0 to 29", x)
	}
	if len(p.Scores) != 3 {
		t.Fatalf("scores = %+v; want one per class", p.Scores)
	}
	for j, s := range p.Scores {
		if s.Name != fmt.Sprintf("score[%d]", j) || s.Count != 10 {
			t.Errorf("score %d = %s of %d rows; want score[%d] of the 10 sampled", j, s.Name, s.Count, j)
		}
	}
}

// TestBuildProfileFailure: data that do not fit the model or its schema,
// and a model the gate cannot feed, are refused with a clear error.
func TestBuildProfileFailure(t *testing.T) {
	sess := openSession(t, small(1))
	schema := []modelstore.Feature{{Name: "a", Type: modelstore.TypeNumber, Position: 0},
		{Name: "b", Type: modelstore.TypeNumber, Position: 1}, {Name: "c", Type: modelstore.TypeNumber, Position: 2}}
	f := func(name, csv, label string, features []modelstore.Feature, want string) {
		t.Helper()
		_, err := ops.BuildProfile(context.Background(), sess, features, ops.ProfileData{CSV: []byte(csv), Label: label, Source: "d.csv"})
		if err == nil || !strings.Contains(err.Error(), want) || !strings.Contains(err.Error(), "d.csv") {
			t.Errorf("%s: BuildProfile = %v; want an error naming d.csv and saying %q", name, err, want)
		}
	}
	f("no label", "a,b,c\n1,2,3\n", "label", nil, `"label": no label column`)
	f("too few columns", "a,b,label\n1,2,0\n", "label", nil, "2 feature columns, the model input has 3")
	f("not a number", "a,b,c,label\n1,x,3,0\n", "label", nil, `"b"`)
	f("no rows", "a,b,c,label\n", "label", nil, "no rows")
	f("schema column missing", "a,b,label\n1,2,0\n", "label", schema, `"c": missing from the header`)
}

// TestBuildProfileUnfitModel: a model the gate cannot feed (an INT64
// input) has no profile, and the error says why.
func TestBuildProfileUnfitModel(t *testing.T) {
	m := &onnx.Model{Graph: onnx.Graph{Name: "cast",
		Inputs:  []onnx.ValueInfo{{Name: "x", Type: onnx.Int64, Shape: []onnx.Dim{onnx.DimParam("N"), onnx.DimValue(2)}}},
		Outputs: []onnx.ValueInfo{{Name: "y", Type: onnx.Float, Shape: []onnx.Dim{onnx.DimParam("N"), onnx.DimValue(2)}}},
		Nodes:   []onnx.Node{{OpType: "Cast", Inputs: []string{"x"}, Outputs: []string{"y"}, Attrs: []onnx.Attr{onnx.IntAttr("to", 1)}}},
	}}
	_, err := ops.BuildProfile(context.Background(), openSession(t, m.Marshal()), nil,
		ops.ProfileData{CSV: []byte("a,b,label\n1,2,0\n"), Label: "label", Source: "d.csv"})
	if err == nil || !strings.Contains(err.Error(), "FP32") {
		t.Fatalf("BuildProfile of an INT64 model = %v; want an error about its input", err)
	}
}

// evalRegistry returns a registry with version 1 of m, published with
// an evaluation set, and the set.
func evalRegistry(t *testing.T) (string, []byte) {
	t.Helper()
	dir := t.TempDir()
	csv, _ := profileCSV(50)
	model := onnx.RandomMLP(1, onnx.ActivationSoftmax, 3, 2).Model().Marshal() // passes the gate's sanity checks
	if _, err := modelstore.Publish(dir, "m", model, modelstore.PublishOptions{CreatedBy: "test", EvalCSV: csv, EvalLabel: "label"}); err != nil {
		t.Fatal(err)
	}
	return dir, csv
}

// TestWriteProfile: a version published without a profile gains one
// from its evaluation set, whole, and still loads and serves; a second
// one is refused unless replacing is asked for.
func TestWriteProfile(t *testing.T) {
	ctx := context.Background()
	reg, _ := evalRegistry(t)
	path, err := ops.WriteProfile(ctx, reg, "m", 1, ops.ProfileSpec{})
	if err != nil {
		t.Fatal(err)
	}
	if want := filepath.Join(modelstore.VersionDir(reg, "m", 1), drift.ProfileFile); path != want {
		t.Fatalf("WriteProfile wrote %s; want %s", path, want)
	}
	first, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	p := parseProfile(t, first)
	if p.Rows != 50 || len(p.Features) != 3 || len(p.Scores) != 1 || !strings.Contains(p.Source, "eval.csv") {
		t.Fatalf("profile = %d rows, %d features, %d scores, source %q; want the 50 rows of eval.csv", p.Rows, len(p.Features), len(p.Scores), p.Source)
	}
	if fi, err := os.Stat(path); err != nil || fi.Mode().Perm() != 0o644 {
		t.Fatalf("profile.json mode = %v, %v; want 0644", fi, err)
	}
	assertNoTemp(t, reg)

	if _, err := ops.WriteProfile(ctx, reg, "m", 1, ops.ProfileSpec{}); !errors.Is(err, ops.ErrProfileExists) {
		t.Fatalf("second WriteProfile = %v; want ErrProfileExists", err)
	}
	// The version, which gained a file after its manifest, still loads;
	// a serving version that gains one is not reloaded.
	st, err := modelstore.Open(ctx, modelstore.Config{Dir: reg, Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	v, err := st.Lookup("m", 1)
	if err != nil || v.Number != 1 {
		t.Fatalf("Lookup(m, 1) after the profile = %v, %v; want version 1", v, err)
	}
	other, _ := profileCSV(20)
	if _, err := ops.WriteProfile(ctx, reg, "m", 1, ops.ProfileSpec{Replace: true,
		Data: &ops.ProfileData{CSV: other, Label: "label", Source: "other.csv"}}); err != nil {
		t.Fatal(err)
	}
	if b, _ := os.ReadFile(path); parseProfile(t, b).Rows != 20 {
		t.Fatal("Replace kept the old profile")
	}
	assertNoTemp(t, reg)
	if err := st.Load(ctx, "m"); err != nil {
		t.Fatal(err)
	}
	if again, err := st.Lookup("m", 1); err != nil || again != v {
		t.Fatalf("Lookup(m, 1) after a new profile = %p, %v; want the version loaded before, %p", again, err, v)
	}
}

// TestWriteProfileRefusals: an unknown model or version, a version
// without an evaluation set, and data that do not fit write nothing.
func TestWriteProfileRefusals(t *testing.T) {
	ctx := context.Background()
	reg, _ := evalRegistry(t)
	if _, err := modelstore.Publish(reg, "m", small(2), modelstore.PublishOptions{CreatedBy: "test"}); err != nil {
		t.Fatal(err)
	}
	f := func(name string, model string, version int, spec ops.ProfileSpec, want string, sentinel error) {
		t.Helper()
		_, err := ops.WriteProfile(ctx, reg, model, version, spec)
		if err == nil || !strings.Contains(err.Error(), want) || sentinel != nil && !errors.Is(err, sentinel) {
			t.Errorf("%s: WriteProfile = %v; want an error saying %q", name, err, want)
		}
		for _, v := range []int{1, 2} {
			if _, err := os.Stat(filepath.Join(modelstore.VersionDir(reg, "m", v), drift.ProfileFile)); !errors.Is(err, os.ErrNotExist) {
				t.Errorf("%s: version %d has a profile.json (%v)", name, v, err)
			}
		}
		assertNoTemp(t, reg)
	}
	f("unknown version", "m", 3, ops.ProfileSpec{}, "no version 3", modelstore.ErrNotFound)
	f("unknown model", "nope", 1, ops.ProfileSpec{}, "no version 1", modelstore.ErrNotFound)
	f("bad name", "../m", 1, ops.ProfileSpec{}, "", modelstore.ErrNotFound)
	f("no eval set", "m", 2, ops.ProfileSpec{}, "no evaluation set", nil)
	f("bad data", "m", 1, ops.ProfileSpec{Data: &ops.ProfileData{CSV: []byte("a,label\n1,0\n"), Label: "label", Source: "bad.csv"}},
		"bad.csv", nil)

	// A model.onnx that is not the one its manifest vouches for is not run.
	if err := os.WriteFile(filepath.Join(modelstore.VersionDir(reg, "m", 1), modelstore.ModelFile), small(9), 0o644); err != nil {
		t.Fatal(err)
	}
	f("tampered model", "m", 1, ops.ProfileSpec{}, "sha256", nil)
}

// assertNoTemp fails the test if a version of m holds a temporary file.
func assertNoTemp(t *testing.T, reg string) {
	t.Helper()
	left, err := filepath.Glob(filepath.Join(reg, "m", "*", ".*"))
	if err != nil || len(left) > 0 {
		t.Fatalf("temporary files left: %v, %v", left, err)
	}
}

// TestProfileOfExternalData: a model whose weights lie in an extra file
// is profiled with that file beside it, and nothing is left behind.
func TestProfileOfExternalData(t *testing.T) {
	mlp := onnx.RandomMLP(5, onnx.ActivationSoftmax, 3, 2)
	m, weights := onnx.Externalize(mlp.Model(), "weights.bin", 0)
	csv, _ := profileCSV(10)
	tmp := t.TempDir()
	t.Setenv("TMPDIR", tmp)
	d := ops.ProfileData{CSV: csv, Label: "label", Source: "d.csv"}
	b, err := ops.ProfileOf(context.Background(), m.Marshal(), map[string][]byte{"weights.bin": weights}, nil, engine.Config{}, d)
	if err != nil {
		t.Fatal(err)
	}
	if p := parseProfile(t, b); p.Rows != 10 || len(p.Scores) != 1 {
		t.Fatalf("profile = %+v; want 10 rows and a score", p)
	}
	if left, _ := os.ReadDir(tmp); len(left) > 0 {
		t.Fatalf("left in TMPDIR: %v", left)
	}
	if _, err := ops.ProfileOf(context.Background(), m.Marshal(), nil, nil, engine.Config{}, d); err == nil {
		t.Fatal("ProfileOf without the model's external data succeeded")
	}
}
