package main

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"

	"github.com/switchyard-ml/switchyard/internal/demo"
	"github.com/switchyard-ml/switchyard/modelstore"
)

// writeDemoCSV writes n rows of the demo's transactions, drawn from seed,
// as WriteCSV does, to a file in dir and returns its path.
func writeDemoCSV(t *testing.T, dir, name string, seed uint64, n int) string {
	t.Helper()
	var buf bytes.Buffer
	if err := demo.WriteCSV(&buf, demo.Generate(seed, n)); err != nil {
		t.Fatal(err)
	}
	return writeFile(t, dir, name, buf.Bytes())
}

// TestSchemaInferDemo infers the schema of the demo's training data and
// publishes the demo's model with it: the types are the demo's, every
// category value is listed, every observed value is within the bounds,
// and the file written reads back as the schema inferred.
func TestSchemaInferDemo(t *testing.T) {
	dir := t.TempDir()
	train := writeDemoCSV(t, dir, "train.csv", 1, 4000)
	eval := writeDemoCSV(t, dir, "eval.csv", 2, 500)
	out := filepath.Join(dir, "schema.yaml")
	if msg, err := runCmd(t, "schema", "infer", "--from", train, "--label", demo.LabelColumn, "--out", out); err != nil {
		t.Fatalf("schema infer = %v\n%s", err, msg)
	}
	raw, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	got, err := modelstore.ParseSchema(raw)
	if err != nil {
		t.Fatalf("ParseSchema(schema infer's file) = %v\n%s", err, raw)
	}
	f, err := os.Open(train)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	inf, err := inferSchema(f, inferConfig{Label: demo.LabelColumn, Encoding: modelstore.EncodeOneHot, MaxCategories: defaultMaxCategories, Widen: 0.1})
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(got, &inf.Schema) {
		t.Errorf("the file reads back as %+v; want %+v", got, inf.Schema)
	}
	if !strings.HasPrefix(string(raw), "# Records schema inferred by `switchyard schema infer`") || !strings.Contains(string(raw), "REVIEW IT BEFORE YOU PUBLISH") {
		t.Errorf("the file does not open with its review note:\n%s", raw)
	}

	want := demo.Features()
	if len(got.Features) != len(want) {
		t.Fatalf("inferred %d features; want the demo's %d", len(got.Features), len(want))
	}
	data := demo.Generate(1, 4000)
	for i, w := range want {
		g := got.Features[i] // the demo's categories come last, as the layout puts them
		if g.Name != w.Name || g.Type != w.Type {
			t.Errorf("feature %d is %s %s; want %s %s", i, g.Name, g.Type, w.Name, w.Type)
			continue
		}
		if g.Type == modelstore.TypeCategory {
			if vs := slices.Sorted(slices.Values(w.Values)); !slices.Equal(g.Values, vs) {
				t.Errorf("%s: values %v; want %v", g.Name, g.Values, vs)
			}
		}
		if g.Type == modelstore.TypeNumber || g.Type == modelstore.TypeInteger {
			for r := range data.Len() {
				if v := data.Row(r)[w.Column]; v < *g.Min || v > *g.Max {
					t.Fatalf("%s: row %d holds %v, outside the bounds [%v, %v]", g.Name, r, v, *g.Min, *g.Max)
				}
			}
		}
	}
	if got.Classes != nil {
		t.Errorf("classes %v; want none for 0/1 labels", got.Classes)
	}

	fraud, err := demo.BuildFraud(1)
	if err != nil {
		t.Fatal(err)
	}
	writeFile(t, dir, "model.onnx", fraud.Model)
	if msg, err := runCmd(t, "publish", "--registry", filepath.Join(dir, "registry"), "--model", "fraud", "--onnx", filepath.Join(dir, "model.onnx"),
		"--schema", out, "--eval", eval, "--label", demo.LabelColumn, "--train-data", train); err != nil {
		t.Fatalf("publish --schema (inferred) = %v\n%s", err, msg)
	}
}

// TestSchemaInferRoundTrip checks that what schema infer writes reads
// back as the schema it inferred, whatever the names and values hold.
func TestSchemaInferRoundTrip(t *testing.T) {
	f := func(csv string, cfg inferConfig) {
		t.Helper()
		cfg.MaxCategories = cmpOrInt(cfg.MaxCategories, defaultMaxCategories)
		cfg.Encoding = cmpOr(cfg.Encoding, modelstore.EncodeOneHot)
		inf, err := inferSchema(strings.NewReader(csv), cfg)
		if err != nil {
			t.Fatalf("inferSchema(%q) = %v", csv, err)
		}
		text := inf.appendYAML(nil)
		got, err := modelstore.ParseSchema(text)
		if err != nil {
			t.Fatalf("ParseSchema(appendYAML) = %v\n%s", err, text)
		}
		if !reflect.DeepEqual(got, &inf.Schema) {
			t.Fatalf("appendYAML reads back as %+v; want %+v\n%s", got, inf.Schema, text)
		}
	}
	f("a,b\n1,x\n2,y\n", inferConfig{})
	f("amount (EUR),card.present,pays,größe\n1.5,true,NO,1\n2,False,yes,2\n", inferConfig{})
	f("x,y\n1,\"a, \"\"quoted\"\" value\"\n2,null-ish\n3,#hash\n", inferConfig{Label: "x"})
	f("x,class\n1,churned\n2,stayed\n3,true\n", inferConfig{Label: "class", Encoding: modelstore.EncodeValue})
	f("x,y\n-5,1e3\n7,-2.5\n", inferConfig{Widen: 0})
}

// cmpOrInt returns a unless it is zero, else b.
func cmpOrInt(a, b int) int {
	if a != 0 {
		return a
	}
	return b
}

// TestSchemaInferTypes pins how cells are typed and what is noted.
func TestSchemaInferTypes(t *testing.T) {
	csv := "n,i,b,z,c,mixed,gaps,y\n" +
		"1.5,1,true,0,FR,1,,no\n" +
		"2,3,False,1,DE,N/A-ish,4,yes\n" +
		"3.0,-2,TRUE,1,FR,3,NA,no\n"
	inf, err := inferSchema(strings.NewReader(csv), inferConfig{Label: "y", Encoding: modelstore.EncodeOneHot, MaxCategories: 10, Widen: 0})
	if err != nil {
		t.Fatal(err)
	}
	types := map[string]string{}
	for _, f := range inf.Schema.Features {
		types[f.Name] = f.Type
	}
	want := map[string]string{"n": "number", "i": "integer", "b": "bool", "z": "integer", "c": "category", "mixed": "category", "gaps": "integer"}
	if !reflect.DeepEqual(types, want) {
		t.Errorf("types %v; want %v", types, want)
	}
	var names []string
	for _, f := range inf.Schema.Features {
		names = append(names, f.Name)
	}
	if want := []string{"n", "i", "b", "z", "gaps", "c", "mixed"}; !slices.Equal(names, want) {
		t.Errorf("layout %v; want %v (categories last, as pandas.get_dummies)", names, want)
	}
	if want := []string{"no", "yes"}; !slices.Equal(inf.Schema.Classes, want) {
		t.Errorf("classes %v; want %v", inf.Schema.Classes, want)
	}
	if inf.Width != 5+2+3 {
		t.Errorf("width %d; want 10", inf.Width)
	}
	text := string(inf.appendYAML(nil))
	for _, want := range []string{
		`# mixed: mixes 2 numbers or bools with text (such as "N/A-ish" on line 3): read as a category`,
		"# gaps: 2 of 3 rows have no value",
		"# n: observed 1.5 to 3; bounds as observed",
		`# label column "y": classes sorted`,
		"classes: [\"no\", \"yes\"]",
	} {
		if !strings.Contains(text, want) {
			t.Errorf("the file lacks %q:\n%s", want, text)
		}
	}
}

func TestSchemaInferBounds(t *testing.T) {
	f := func(lo, hi float64, integer bool, widen, wantLo, wantHi float64) {
		t.Helper()
		gotLo, gotHi, _ := bounds(lo, hi, integer, widen)
		if gotLo != wantLo || gotHi != wantHi {
			t.Errorf("bounds(%v, %v, %v, %v) = %v, %v; want %v, %v", lo, hi, integer, widen, gotLo, gotHi, wantLo, wantHi)
		}
	}
	f(0.75, 1780.64, false, 0.1, 0, 1959)
	f(0, 23, true, 0.1, 0, 26)
	f(-10, 10, false, 0.1, -12, 12)
	f(0.5, 0.75, false, 0.1, 0.475, 0.775)
	f(3, 3, false, 0.1, 3, 3)
	f(1.25, 2.5, false, 0, 1.25, 2.5)
}

// TestSchemaInferFailure checks that data that cannot be a schema is
// refused with a message that says why and what to do.
func TestSchemaInferFailure(t *testing.T) {
	f := func(csv, label, want string) {
		t.Helper()
		_, err := inferSchema(strings.NewReader(csv), inferConfig{Label: label, Encoding: modelstore.EncodeOneHot, MaxCategories: 3, Widen: 0.1})
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("inferSchema(%q) = %v; want an error holding %q", csv, err, want)
		}
	}
	f("", "", "the file is empty: want a header row of column names")
	f("a,b\n", "", "a header row but no data rows")
	f("a,b\n1,2\n3\n", "", "line 3 has 1 fields, but the header has 2 columns")
	f("a,b\n1,2\n3,4,5\n", "", "line 3 has 3 fields")
	f("a,b\n1,w\n2,x\n3,y\n4,z\n", "", `column "b" has more than 3 distinct values that are not numbers (such as "w" on line 2): free text cannot be a feature`)
	f("a,b\n1,\n2,NA\n", "", `column "b" is empty in every row`)
	f("a,a\n1,2\n", "", `columns 1 and 2 are both named "a"`)
	f("a,,c\n1,2,3\n", "", "column 2 has no name")
	f("a,b\n1,2\n", "y", `--label "y" is not a column; the columns are "a", "b"`)
	f("y\n1\n", "y", `the only column is the label "y": no features`)
	f("a,b\n1,\"x\n", "", "extraneous or missing \" in quoted-field")
}

// TestSchemaInferCommand checks the verb's flags and files: --out refuses
// to overwrite without --force, bad flags are usage errors, and a file
// that cannot be read is named.
func TestSchemaInferCommand(t *testing.T) {
	dir := t.TempDir()
	writeFile(t, dir, "train.csv", []byte("a,y\n1,0\n2,1\n"))
	train, out := filepath.Join(dir, "train.csv"), filepath.Join(dir, "schema.yaml")
	if msg, err := runCmd(t, "schema", "infer", "--from", train, "--label", "y", "--out", out); err != nil {
		t.Fatalf("schema infer = %v\n%s", err, msg)
	}
	msg, err := runCmd(t, "schema", "infer", "--from", train, "--label", "y", "--out", out)
	if err == nil || !strings.Contains(err.Error(), "exists: remove it, or pass --force") {
		t.Errorf("schema infer over an existing --out = %v (%s); want a refusal", err, msg)
	}
	if msg, err := runCmd(t, "schema", "infer", "--from", train, "--label", "y", "--out", out, "--force"); err != nil {
		t.Errorf("schema infer --force = %v\n%s", err, msg)
	}
	stdout, err := runCmd(t, "schema", "infer", "--from", train)
	if err != nil || !strings.Contains(stdout, "features:") {
		t.Errorf("schema infer to standard output = %v\n%s", err, stdout)
	}
	for _, args := range [][]string{
		{"schema"}, {"schema", "guess"}, {"schema", "infer"}, {"schema", "infer", "--from", train, "--encoding", "onehot"},
		{"schema", "infer", "--from", train, "--max-categories", "0"}, {"schema", "infer", "--from", train, "--widen", "-1"},
	} {
		if msg, err := runCmd(t, args...); !errors.Is(err, errUsage) {
			t.Errorf("%v = %v; want a usage error\n%s", args, err, msg)
		}
	}
	_, err = runCmd(t, "schema", "infer", "--from", dir)
	if err == nil || !strings.Contains(err.Error(), dir) {
		t.Errorf("schema infer --from a directory = %v; want an error naming it", err)
	}
}

// FuzzSchemaInfer checks that no CSV makes inferSchema panic, and that
// whatever it infers, written as schema infer writes it, reads back as
// the same schema: names and values with any characters are quoted right.
func FuzzSchemaInfer(f *testing.F) {
	f.Add("a,b\n1,x\n2,y\n", "")
	f.Add("amount (EUR),card.present,pays,größe\n1.5,true,NO,1\n2,False,yes,2\n", "größe")
	f.Add("x,y\n1,\"a, \"\"quoted\"\" value\"\n2,null-ish\n3,#hash\n", "x")
	f.Add("x,class\n1,churned\n2,stayed\n3,true\n", "class")
	f.Add("x,y\n-5,1e3\n7,-2.5\n", "")
	f.Add("\ufeffk: v,- [a]\n'1',{b}\n", "")
	f.Fuzz(func(t *testing.T, csv, label string) {
		inf, err := inferSchema(strings.NewReader(csv), inferConfig{Label: label, Encoding: modelstore.EncodeOneHot, MaxCategories: 5, Widen: 0.1})
		if err != nil {
			return
		}
		text := inf.appendYAML(nil)
		got, err := modelstore.ParseSchema(text)
		if err != nil {
			t.Fatalf("ParseSchema(appendYAML) = %v\n%s", err, text)
		}
		if !reflect.DeepEqual(got, &inf.Schema) {
			t.Fatalf("appendYAML reads back as %+v; want %+v\n%s", got, inf.Schema, text)
		}
	})
}
