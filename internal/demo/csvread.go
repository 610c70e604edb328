package demo

import (
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"math"
	"slices"
	"strconv"
)

// Labelled is what ReadCSV read: the rows that can be trained on, and a
// count of those it had to leave out.
type Labelled struct {
	// Data holds the rows that have every field and a label, in the
	// order of the file.
	Data *Dataset
	// Unlabelled counts the rows whose label cell is empty: predictions
	// no label has been fed back for yet.
	Unlabelled int
	// NoInputs counts the rows whose field cells are all empty: logged
	// predictions whose inputs were not sampled.
	NoInputs int
}

// ReadCSV reads labelled transactions from r, a CSV file with a header:
// WriteCSV's, or an export of logged predictions (switchyard export), whose
// other columns (prediction_id, time, version, arm, score, label_time and
// any more) it ignores. The header must name every field of Features and
// LabelColumn, each once, in any order. A field's cell is what WriteCSV
// writes (a number, an integer, true or false, a category's value) and
// must be within the field's bounds; a label is fraud or 1, legit or 0.
// Rows with an empty label, or with every field empty, are counted and
// left out. A malformed file fails with an error that names the line, and
// the field or column, and nothing of it is returned.
func ReadCSV(r io.Reader) (*Labelled, error) {
	cr := csv.NewReader(r)
	cr.ReuseRecord = true
	header, err := cr.Read()
	if errors.Is(err, io.EOF) {
		return nil, errors.New("demo: read csv: empty file, not even a header")
	}
	if err != nil {
		return nil, fmt.Errorf("demo: read csv: %w", err)
	}
	cols, label, err := csvColumns(header)
	if err != nil {
		return nil, err
	}
	fs := Features()
	out := &Labelled{Data: &Dataset{}}
	row := make([]float64, NumFeatures)
	for {
		rec, err := cr.Read()
		if errors.Is(err, io.EOF) {
			return out, nil
		}
		if err != nil {
			return nil, fmt.Errorf("demo: read csv: %w", err)
		}
		line, _ := cr.FieldPos(0)
		empty := 0
		for _, c := range cols {
			if rec[c] == "" {
				empty++
			}
		}
		if empty == NumFeatures {
			out.NoInputs++
			continue
		}
		for j, c := range cols {
			if row[j], err = parseField(&fs[j], rec[c]); err != nil {
				return nil, fmt.Errorf("demo: read csv: line %d: field %q: %w", line, fs[j].Name, err)
			}
		}
		y := 0
		switch rec[label] {
		case "":
			out.Unlabelled++
			continue
		case "fraud", "1":
			y = 1
		case "legit", "0":
		default:
			return nil, fmt.Errorf("demo: read csv: line %d: %s %q: want fraud or 1, legit or 0", line, LabelColumn, rec[label])
		}
		out.Data.X = append(out.Data.X, row...)
		out.Data.Y = append(out.Data.Y, y)
	}
}

// csvColumns returns, for header, the column of each field of Features,
// in their order, and the label's column.
func csvColumns(header []string) (cols []int, label int, err error) {
	cols = make([]int, NumFeatures)
	for j, f := range Features() {
		if cols[j], err = csvColumn(header, f.Name); err != nil {
			return nil, 0, err
		}
	}
	if label, err = csvColumn(header, LabelColumn); err != nil {
		return nil, 0, err
	}
	return cols, label, nil
}

// csvColumn returns the column header names name in, which must be one.
func csvColumn(header []string, name string) (int, error) {
	i := slices.Index(header, name)
	switch {
	case i < 0:
		return 0, fmt.Errorf("demo: read csv: line 1: the header has no column %q", name)
	case slices.Index(header[i+1:], name) >= 0:
		return 0, fmt.Errorf("demo: read csv: line 1: the header names %q twice", name)
	}
	return i, nil
}

// parseField returns the value a row holds for cell s of field f.
func parseField(f *Feature, s string) (float64, error) {
	switch f.Type {
	case TypeBool:
		switch s {
		case "true":
			return 1, nil
		case "false":
			return 0, nil
		}
		return 0, fmt.Errorf("%q: want true or false", s)
	case TypeCategory:
		if i := slices.Index(f.Values, s); i >= 0 {
			return float64(i), nil
		}
		return 0, fmt.Errorf("%q: want one of %v", s, f.Values)
	}
	v, err := strconv.ParseFloat(s, 64)
	switch {
	case err != nil || math.IsNaN(v) || math.IsInf(v, 0):
		return 0, fmt.Errorf("%q: want a finite number", s)
	case f.Type == TypeInteger && v != math.Trunc(v):
		return 0, fmt.Errorf("%q: want an integer", s)
	case v < f.Min || v > f.Max:
		return 0, fmt.Errorf("%s is outside [%s, %s]", s, g(f.Min), g(f.Max))
	}
	return v, nil
}
