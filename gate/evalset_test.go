package gate

import (
	"errors"
	"reflect"
	"strings"
	"testing"
)

func TestReadEvalSetSuccess(t *testing.T) {
	f := func(in string, cfg EvalConfig, wantFeatures []float32, wantLabels []float64, wantWidth int) {
		t.Helper()
		s, err := ReadEvalSet(strings.NewReader(in), cfg)
		if err != nil {
			t.Fatalf("ReadEvalSet(%q) error: %v", in, err)
		}
		if !reflect.DeepEqual(s.Features, wantFeatures) || !reflect.DeepEqual(s.Labels, wantLabels) ||
			s.Width != wantWidth || s.Rows != len(wantLabels) {
			t.Fatalf("ReadEvalSet(%q) = %v %v rows %d width %d; want %v %v rows %d width %d",
				in, s.Features, s.Labels, s.Rows, s.Width, wantFeatures, wantLabels, len(wantLabels), wantWidth)
		}
	}
	cls := EvalConfig{Label: "y", Classes: 2}

	// No schema: every non-label column in header order, wherever the label is.
	f("a,b,y\n1,2,0\n3.5,-4,1\n", cls, []float32{1, 2, 3.5, -4}, []float64{0, 1}, 2)
	f("y,a,b\n0,1,2\n1,3.5,-4\n", cls, []float32{1, 2, 3.5, -4}, []float64{0, 1}, 2)
	f("a,y,b\n1,0,2\n", EvalConfig{Label: "y", Classes: 2, Width: 2}, []float32{1, 2}, []float64{0}, 2)
	// Spaces, a byte-order mark, CRLF, blank lines, quotes and a last line
	// without a newline.
	f("\ufeff a , y \r\n\r\n 1e-3 ,\"1\"\r\n2, 0", cls, []float32{0.001, 2}, []float64{1, 0}, 1)
	// Class labels written as floats with no fractional part.
	f("a,y\n1,2.0\n", EvalConfig{Label: "y", Classes: 3}, []float32{1}, []float64{2}, 1)

	// Schema: positions reorder the columns; extra columns are ignored.
	schema := []Column{{Name: "b", Position: 0}, {Name: "a", Position: 1}}
	f("id,a,b,y\nx1,1,2,0\nx2,3,4,1\n", EvalConfig{Label: "y", Classes: 2, Columns: schema, Width: 2},
		[]float32{2, 1, 4, 3}, []float64{0, 1}, 2)

	// Category encoding: the index of the value in the allowed list.
	colour := []Column{
		{Name: "colour", Position: 1, Category: []string{"red", "green", "blue"}},
		{Name: "size", Position: 0},
	}
	f("colour,size,y\nblue,1.5,0\nred,2,1\n green ,3,2\n", EvalConfig{Label: "y", Classes: 3, Columns: colour},
		[]float32{1.5, 2, 2, 0, 3, 1}, []float64{0, 1, 2}, 2)

	// One-hot categories fill a block of len(Category) columns; bools are
	// true/false (any case) or 1/0. Records' field names and values.
	records := []Column{
		{Name: "country", Position: 1, Category: []string{"FR", "DE", "US"}, OneHot: true},
		{Name: "foreign", Position: 0, Bool: true},
		{Name: "amount", Position: 4},
		{Name: "channel", Position: 5, Category: []string{"web", "pos"}},
	}
	f("amount,country,foreign,channel,y\n12.5,DE,true,pos,1\n3,FR,0,web,0\n0,US,FALSE,web,0\n1,FR,1,pos,1\n",
		EvalConfig{Label: "y", Classes: 2, Columns: records, Width: 6},
		[]float32{
			1, 0, 1, 0, 12.5, 1,
			0, 1, 0, 0, 3, 0,
			0, 0, 0, 1, 0, 0,
			1, 1, 0, 0, 1, 1,
		}, []float64{1, 0, 0, 1}, 6)

	// Regressor labels: any finite number.
	f("x,price\n1,12.5\n2,-3e2\n3,0\n", EvalConfig{Label: "price"}, []float32{1, 2, 3}, []float64{12.5, -300, 0}, 1)

	// Exactly MaxRows rows.
	f("a,y\n1,0\n2,1\n", EvalConfig{Label: "y", Classes: 2, MaxRows: 2}, []float32{1, 2}, []float64{0, 1}, 1)

	// Exactly MaxBytes bytes.
	f("a,y\n1,0\n2,1\n", EvalConfig{Label: "y", Classes: 2, MaxBytes: 12}, []float32{1, 2}, []float64{0, 1}, 1)
}

// TestReadEvalSetNames reads headers whose names are any a data frame's
// columns may have, written as CSV quotes them, and matches them against
// the schema's names.
func TestReadEvalSetNames(t *testing.T) {
	cols := []Column{
		{Name: "sepal length (cm)", Position: 0},
		{Name: "a,b", Position: 1},
		{Name: `say "hi"`, Position: 2},
		{Name: "café", Position: 3, Category: []string{"oui", "non"}},
		{Name: "日本", Position: 4, Bool: true},
		{Name: "petal.width", Position: 5},
		{Name: "<script>", Position: 6},
	}
	in := "\ufeff\"sepal length (cm)\",\"a,b\",\"say \"\"hi\"\"\",café, 日本 ,petal.width,<script>,label y\n" +
		"5.1,1,2,non,true,0.2,7,1\n"
	s, err := ReadEvalSet(strings.NewReader(in), EvalConfig{Label: "label y", Classes: 2, Columns: cols})
	if err != nil {
		t.Fatalf("ReadEvalSet(%q) error: %v", in, err)
	}
	if want := []float32{5.1, 1, 2, 1, 1, 0.2, 7}; !reflect.DeepEqual(s.Features, want) {
		t.Fatalf("ReadEvalSet(%q) = %v; want %v", in, s.Features, want)
	}
}

func TestFirstRow(t *testing.T) {
	in := "\ufeff a ,\"b,\"\"c\"\"\",日本,y\n 1.5 ,x, true ,0\n2,z,false,1\n"
	names, cells, err := FirstRow(strings.NewReader(in))
	if err != nil {
		t.Fatalf("FirstRow(%q) error: %v", in, err)
	}
	if want := []string{"a", `b,"c"`, "日本", "y"}; !reflect.DeepEqual(names, want) {
		t.Fatalf("FirstRow(%q) names = %q; want %q", in, names, want)
	}
	if want := []string{"1.5", "x", "true", "0"}; !reflect.DeepEqual(cells, want) {
		t.Fatalf("FirstRow(%q) cells = %q; want %q", in, cells, want)
	}
	f := func(in, want string) {
		t.Helper()
		_, _, err := FirstRow(strings.NewReader(in))
		if !errors.Is(err, ErrEvalSet) || !strings.Contains(err.Error(), want) {
			t.Fatalf("FirstRow(%q) error %v; want one wrapping ErrEvalSet, containing %q", in, err, want)
		}
	}
	f("", "line 1: empty file")
	f("a,y\n", "line 2: no rows after the header")
	f("a,y\n1\n", "line 2: the row has 1 columns, the header 2")
	f("a\"b,y\n1,0\n", `line 1, column 2: bare " in non-quoted-field (a name or cell holding a quote is written in quotes`)
}

func TestReadEvalSetFailure(t *testing.T) {
	f := func(in string, cfg EvalConfig, want ...string) {
		t.Helper()
		s, err := ReadEvalSet(strings.NewReader(in), cfg)
		if !errors.Is(err, ErrEvalSet) {
			t.Fatalf("ReadEvalSet(%q) = %v, %v; want an error wrapping ErrEvalSet", in, s, err)
		}
		for _, w := range want {
			if !strings.Contains(err.Error(), w) {
				t.Fatalf("ReadEvalSet(%q) error %q; want it to contain %q", in, err, w)
			}
		}
	}
	cls := EvalConfig{Label: "y", Classes: 2}
	schema := EvalConfig{Label: "y", Classes: 2, Columns: []Column{
		{Name: "a", Position: 0},
		{Name: "c", Position: 1, Category: []string{"x", "z"}},
	}}

	// Empty file, header without rows.
	f("", cls, "line 1", "empty file")
	f("\n\n", cls, "line 1", "empty file")
	f("a,y\n", cls, "line 2", "no rows")

	// Bad header.
	f("a\"b,y\n1,0\n", cls, "line 1, column 2", `bare " in non-quoted-field (a name or cell holding a quote is written in quotes, its quotes doubled: "say ""hi""")`)
	f("a,,y\n1,2,0\n", cls, "line 1", "column 2", "empty name")
	f("a,a,y\n1,2,0\n", cls, "line 1", `column "a"`, "duplicate")
	f("a,b\n1,2\n", cls, "line 1", `column "y"`, "no label")
	f("y\n1\n", cls, "line 1", "no feature columns")
	f("a,y\n1,0\n", schema, "line 1", `column "c"`, "missing")
	f("a,b,y\n1,2,0\n", EvalConfig{Label: "y", Classes: 2, Width: 3}, "line 1", "2 feature columns", "has 3")

	// Wrong column count.
	f("a,b,y\n1,2,0\n1,2\n", cls, "line 3", `column "y"`, "missing")
	f("a,b,y\n1,2,0\n1,2,0,9\n", cls, "line 3", "4 columns", "header 3")

	// Non-numeric, empty, NaN and infinite cells, including labels.
	f("a,b,y\n1,2,0\n1,abc,0\n", cls, "line 3", `column "b"`, `"abc" is not a number`)
	f("a,b,y\n1,,0\n", cls, "line 2", `column "b"`, "empty")
	f("a,b,y\n1,NaN,0\n", cls, "line 2", `column "b"`, "finite")
	f("a,b,y\n-Inf,1,0\n", cls, "line 2", `column "a"`, "finite")
	f("a,b,y\n1e39,1,0\n", cls, "line 2", `column "a"`, "float32")
	f("a,y\n1,cat\n", cls, "line 2", `column "y"`, "not a number")
	f("a,y\n1,\n", cls, "line 2", `column "y"`, "empty")
	f("a,price\n1,NaN\n", EvalConfig{Label: "price"}, "line 2", `column "price"`, "finite")

	// Category value outside the allowed list.
	f("a,c,y\n1,x,0\n2,q,1\n", schema, "line 3", `column "c"`, `"q" is not an allowed value`)

	// One-hot and bool cells.
	records := EvalConfig{Label: "y", Classes: 2, Columns: []Column{
		{Name: "c", Position: 0, Category: []string{"x", "z"}, OneHot: true},
		{Name: "b", Position: 2, Bool: true},
	}}
	f("c,b,y\nx,1,0\nq,0,1\n", records, "line 3", `column "c"`, `"q" is not an allowed value`)
	f("c,b,y\nx,yes,0\n", records, "line 2", `column "b"`, `"yes" is not true, false, 1 or 0`)
	f("c,b,y\nx,,0\n", records, "line 2", `column "b"`, `"" is not true, false, 1 or 0`)

	// Label outside the known classes.
	f("a,y\n1,0\n2,2\n", cls, "line 3", `column "y"`, "outside the known classes")
	f("a,y\n1,-1\n", cls, "line 2", `column "y"`, "outside")
	f("a,y\n1,0.5\n", cls, "line 2", `column "y"`, "outside")

	// Lines count physical lines, including a quoted cell across two.
	f("a,b,y\n\"1\nx\",2,0\n", cls, "line 2", `column "a"`, "not a number")
	f("a,b,y\n\"1\n\",2,0\n3,q,1\n", cls, "line 4", `column "b"`)

	// Broken CSV quoting.
	f("a,y\n1\"2,0\n", cls, "line 2")

	// More rows than MaxRows.
	f("a,y\n1,0\n2,1\n3,0\n", EvalConfig{Label: "y", Classes: 2, MaxRows: 2}, "line 4", "more than 2 rows")

	// More bytes than MaxBytes: the last row cut at the limit is not
	// reported as malformed, nor is a header cut within.
	f("a,y\n1,0\n2,1\n", EvalConfig{Label: "y", Classes: 2, MaxBytes: 11}, "more than 11 bytes")
	f("a,y\n1,0\n", EvalConfig{Label: "y", Classes: 2, MaxBytes: 2}, "more than 2 bytes")

	// Invalid configs.
	f("a,y\n1,0\n", EvalConfig{}, "config", "no label")
	f("a,y\n1,0\n", EvalConfig{Label: "y", MaxBytes: -1}, "config")
	f("a,y\n1,0\n", EvalConfig{Label: "y", MaxRows: -1}, "config")
	f("a,y\n1,0\n", EvalConfig{Label: "y", Columns: []Column{}}, "config", "empty feature schema")
	f("a,y\n1,0\n", EvalConfig{Label: "y", Columns: []Column{{Name: "a", Position: 1}}}, "config", "position 1")
	f("a,b,y\n1,2,0\n", EvalConfig{Label: "y", Columns: []Column{{Name: "a"}, {Name: "b"}}}, "config", `"b"`, "taken")
	f("a,y\n1,0\n", EvalConfig{Label: "y", Columns: []Column{{Name: "y"}}}, "config", `"y"`)
	f("a,y\n1,0\n", EvalConfig{Label: "y", Width: 2, Columns: []Column{{Name: "a"}}}, "config", "1 features", "2")
	// The width counts one-hot blocks; blocks must not overlap or leave gaps.
	hot := Column{Name: "c", Category: []string{"x", "z", "w"}, OneHot: true}
	f("c,y\nx,0\n", EvalConfig{Label: "y", Width: 1, Columns: []Column{hot}}, "config", "1 features filling 3 columns, the model input 1")
	f("a,c,y\n1,x,0\n", EvalConfig{Label: "y", Columns: []Column{{Name: "a", Position: 1}, hot}}, "config", `feature "c": position 0, width 3`, "taken")
	f("a,c,y\n1,x,0\n", EvalConfig{Label: "y", Columns: []Column{{Name: "a", Position: 0}, {Name: "c", Position: 2, Category: hot.Category, OneHot: true}}},
		"config", `feature "c": position 2, width 3: outside [0, 4)`)
	f("c,y\nx,0\n", EvalConfig{Label: "y", Columns: []Column{{Name: "c", OneHot: true}}}, "config", `feature "c": one-hot without categories`)
	f("c,y\nx,0\n", EvalConfig{Label: "y", Columns: []Column{{Name: "c", Bool: true, Category: []string{"x"}}}}, "config", `feature "c": both a bool and a category`)
}

func TestReadEvalSetSliceBy(t *testing.T) {
	f := func(in, by string, wantValues []string, wantOf []int32) {
		t.Helper()
		s, err := ReadEvalSet(strings.NewReader(in), EvalConfig{Label: "y", Classes: 2, SliceBy: by,
			Columns: []Column{{Name: "a", Position: 0}}})
		if err != nil {
			t.Fatalf("ReadEvalSet(%q, SliceBy %q) error: %v", in, by, err)
		}
		if !reflect.DeepEqual(s.SliceValues, wantValues) || !reflect.DeepEqual(s.SliceOf, wantOf) {
			t.Fatalf("ReadEvalSet(%q, SliceBy %q) slices %q %v; want %q %v", in, by, s.SliceValues, s.SliceOf, wantValues, wantOf)
		}
	}
	in := "a,country,y\n1, FR ,0\n2,DE,1\n\n3,FR,1\n4,,0\n5,de,0\n"
	// First-seen order, trimmed, compared as text: "de" is not "DE", and
	// an empty cell is a value of its own.
	f(in, "country", []string{"FR", "DE", "", "de"}, []int32{0, 1, 0, 2, 3})
	// A feature column, compared as text too, and the label column.
	f("a,y\n1,0\n1.0,1\n1,1\n", "a", []string{"1", "1.0"}, []int32{0, 1, 0})
	f("a,y\n1,0\n2,1\n3,1\n", "y", []string{"0", "1"}, []int32{0, 1, 1})
	// No SliceBy: no slices.
	f(in, "", nil, nil)

	_, err := ReadEvalSet(strings.NewReader(in), EvalConfig{Label: "y", Classes: 2, SliceBy: "region",
		Columns: []Column{{Name: "a", Position: 0}}})
	if !errors.Is(err, ErrEvalSet) || !strings.Contains(err.Error(), `line 1, column "region": no slice column`) {
		t.Fatalf("ReadEvalSet(SliceBy region) error %v; want line 1 and the column named", err)
	}
}

func TestEvalSetRow(t *testing.T) {
	s, err := ReadEvalSet(strings.NewReader("a,b,y\n1,2,0\n3,4,1\n"), EvalConfig{Label: "y", Classes: 2})
	if err != nil {
		t.Fatal(err)
	}
	if got := s.Row(1); !reflect.DeepEqual(got, []float32{3, 4}) || cap(got) != 2 {
		t.Fatalf("Row(1) = %v (cap %d); want [3 4] (cap 2)", got, cap(got))
	}
}

func FuzzReadEvalSet(f *testing.F) {
	f.Add("a,b,label\n1,2,0\n3,4,1\n")
	f.Add("x,label\n1.5,0\n")
	f.Add("a,label\n\"1\n2\",0\n")
	f.Fuzz(func(t *testing.T, data string) {
		set, err := ReadEvalSet(strings.NewReader(data), EvalConfig{Label: "label", Classes: 2, MaxRows: 1000})
		if err != nil {
			return
		}
		if len(set.Labels) != set.Rows || len(set.Features) != set.Rows*set.Width {
			t.Fatalf("a set of %d rows of width %d holds %d labels and %d features", set.Rows, set.Width, len(set.Labels), len(set.Features))
		}
	})
}
