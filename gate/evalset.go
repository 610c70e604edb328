package gate

import (
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"math"
	"slices"
	"strconv"
	"strings"
)

// DefaultMaxRows is the row limit ReadEvalSet applies when
// EvalConfig.MaxRows is zero.
const DefaultMaxRows = 1_000_000

// Column maps one named feature of an evaluation set onto the model's input.
// Callers fill it from the manifest's feature schema, so that gate imports no
// other switchyard package.
type Column struct {
	// Name is the column's name in the header of eval.csv.
	Name string
	// Position is the feature's index in a row of the model's single input,
	// in [0, len(EvalConfig.Columns)).
	Position int
	// Category lists the allowed values of a category feature, which is
	// encoded as the index of its value in this list. Nil or empty means a
	// numeric feature.
	Category []string
}

// EvalConfig says how ReadEvalSet reads an evaluation set. Its zero value is
// not valid: Label is required.
type EvalConfig struct {
	// Label names the label column. Required.
	Label string
	// Columns is the feature schema. Every column it names must be in the
	// header, and their positions must be 0..len(Columns)-1, each once.
	// Header columns that are neither in the schema nor the label are
	// ignored. Nil means no schema: every column but the label is a numeric
	// feature, in header order, at positions 0..F-1.
	Columns []Column
	// Width, when positive, is the model input's feature count; the set's
	// feature count must equal it. Zero means unchecked.
	Width int
	// Classes, when positive, makes the model a classifier with that many
	// classes: every label must be an integer in [0, Classes). Zero means a
	// regressor, whose labels are any finite number.
	Classes int
	// MaxRows bounds the number of data rows; a set with more is an error.
	// Zero means DefaultMaxRows.
	MaxRows int
	// SliceBy, when not empty, names a header column (any column, a
	// feature or the label included) whose cells, trimmed and compared as
	// text, divide the rows into slices; see EvalSet.SliceValues.
	SliceBy string
}

// EvalSet is an evaluation set read by ReadEvalSet. It is not modified after
// ReadEvalSet returns, so it is safe for concurrent reads; callers that
// modify it own the consequences.
type EvalSet struct {
	// Features holds Rows rows of Width float32 values, row-major, in the
	// order of the model's input.
	Features []float32
	// Labels holds one label per row: a class index for a classifier, the
	// target value for a regressor.
	Labels []float64
	// Rows is the number of data rows.
	Rows int
	// Width is the number of features per row.
	Width int
	// SliceValues lists the distinct values of the EvalConfig.SliceBy
	// column in the order they first occur, and SliceOf holds, for each
	// row, the index of its value in SliceValues. Both are nil when SliceBy
	// is empty.
	SliceValues []string
	SliceOf     []int32
}

// Row returns the features of row i, which shares memory with s.Features.
// It panics if i is out of range.
func (s *EvalSet) Row(i int) []float32 {
	return s.Features[i*s.Width : (i+1)*s.Width : (i+1)*s.Width]
}

// feature says where one header column goes in a row of the model's input.
type feature struct {
	field int            // index in the CSV record
	pos   int            // index in the model's input row
	name  string         // column name, for errors
	cat   map[string]int // allowed category values and their codes; nil for a number
}

// ReadEvalSet reads an evaluation set in CSV form (eval.csv) from r: a header
// row, then one row per example. Features are mapped as cfg describes; cells
// and header names are trimmed of surrounding spaces, and empty lines are
// skipped. Numeric cells must parse as finite float32 values. When
// cfg.SliceBy names a column, each row's cell in it is recorded too
// (EvalSet.SliceValues and SliceOf).
//
// A malformed set, or one that does not fit cfg, fails with an error wrapping
// ErrEvalSet that names the line (1-based; the header is line 1) and, for
// errors about a cell or a header column, the column. An invalid cfg also
// fails with an error wrapping ErrEvalSet. Errors from r other than io.EOF
// are returned wrapped. ReadEvalSet reads r to the end or to the first error,
// holds no state, and is safe for concurrent use on distinct readers. The
// whole set is held in memory: bound r's size if it is untrusted.
func ReadEvalSet(r io.Reader, cfg EvalConfig) (*EvalSet, error) {
	maxRows, err := checkConfig(cfg)
	if err != nil {
		return nil, err
	}
	cr := csv.NewReader(r)
	cr.FieldsPerRecord = -1 // counted below, to word the error
	cr.ReuseRecord = true

	header, err := cr.Read()
	if err == io.EOF {
		return nil, fmt.Errorf("eval set line 1: empty file: %w", ErrEvalSet)
	}
	if err != nil {
		return nil, csvError(err)
	}
	names := make([]string, len(header))
	for i, h := range header {
		names[i] = strings.TrimSpace(h)
	}
	names[0] = strings.TrimPrefix(names[0], "\ufeff") // a byte-order mark
	feats, label, err := mapHeader(names, cfg)
	if err != nil {
		return nil, err
	}
	sliceBy := -1
	var sliceCode map[string]int32 // slice value -> index in s.SliceValues
	if cfg.SliceBy != "" {
		if sliceBy = slices.Index(names, cfg.SliceBy); sliceBy < 0 {
			return nil, fmt.Errorf("eval set line 1, column %q: no slice column: %w", cfg.SliceBy, ErrEvalSet)
		}
		sliceCode = make(map[string]int32)
	}

	s := &EvalSet{Width: len(feats)}
	row := make([]float32, s.Width)
	for {
		rec, err := cr.Read()
		if err == io.EOF {
			break
		}
		if err != nil {
			return nil, csvError(err)
		}
		line, _ := cr.FieldPos(0)
		if s.Rows == maxRows {
			return nil, fmt.Errorf("eval set line %d: more than %d rows: %w", line, maxRows, ErrEvalSet)
		}
		if len(rec) < len(names) {
			return nil, fmt.Errorf("eval set line %d, column %q: missing; the row has %d columns, the header %d: %w",
				line, names[len(rec)], len(rec), len(names), ErrEvalSet)
		}
		if len(rec) > len(names) {
			return nil, fmt.Errorf("eval set line %d: the row has %d columns, the header %d: %w",
				line, len(rec), len(names), ErrEvalSet)
		}
		for _, f := range feats {
			v, err := parseFeature(strings.TrimSpace(rec[f.field]), f.cat)
			if err != nil {
				line, _ := cr.FieldPos(f.field)
				return nil, fmt.Errorf("eval set line %d, column %q: %v: %w", line, f.name, err, ErrEvalSet)
			}
			row[f.pos] = v
		}
		y, err := parseLabel(strings.TrimSpace(rec[label]), cfg.Classes)
		if err != nil {
			line, _ := cr.FieldPos(label)
			return nil, fmt.Errorf("eval set line %d, column %q: %v: %w", line, names[label], err, ErrEvalSet)
		}
		if sliceBy >= 0 {
			v := strings.TrimSpace(rec[sliceBy])
			code, seen := sliceCode[v]
			if !seen {
				code = int32(len(s.SliceValues))
				v = strings.Clone(v) // not the whole line the reader allocated
				sliceCode[v] = code
				s.SliceValues = append(s.SliceValues, v)
			}
			s.SliceOf = append(s.SliceOf, code)
		}
		s.Features = append(s.Features, row...)
		s.Labels = append(s.Labels, y)
		s.Rows++
	}
	if s.Rows == 0 {
		return nil, fmt.Errorf("eval set line 2: no rows after the header: %w", ErrEvalSet)
	}
	return s, nil
}

// checkConfig validates cfg and returns its row limit.
func checkConfig(cfg EvalConfig) (int, error) {
	if cfg.Label == "" {
		return 0, fmt.Errorf("eval set config: no label column named: %w", ErrEvalSet)
	}
	if cfg.Width < 0 || cfg.Classes < 0 || cfg.MaxRows < 0 {
		return 0, fmt.Errorf("eval set config: negative Width, Classes or MaxRows: %w", ErrEvalSet)
	}
	if cfg.Columns != nil {
		if len(cfg.Columns) == 0 {
			return 0, fmt.Errorf("eval set config: empty feature schema: %w", ErrEvalSet)
		}
		if cfg.Width > 0 && cfg.Width != len(cfg.Columns) {
			return 0, fmt.Errorf("eval set config: the schema has %d features, the model input %d: %w",
				len(cfg.Columns), cfg.Width, ErrEvalSet)
		}
		seen := make([]bool, len(cfg.Columns))
		names := make(map[string]bool, len(cfg.Columns))
		for _, c := range cfg.Columns {
			switch {
			case c.Name == "" || c.Name == cfg.Label || names[c.Name]:
				return 0, fmt.Errorf("eval set config: feature %q: empty, duplicate or the label: %w", c.Name, ErrEvalSet)
			case c.Position < 0 || c.Position >= len(cfg.Columns) || seen[c.Position]:
				return 0, fmt.Errorf("eval set config: feature %q: position %d is outside [0, %d) or taken: %w",
					c.Name, c.Position, len(cfg.Columns), ErrEvalSet)
			}
			names[c.Name] = true
			seen[c.Position] = true
		}
	}
	if cfg.MaxRows == 0 {
		return DefaultMaxRows, nil
	}
	return cfg.MaxRows, nil
}

// mapHeader checks the header and maps its columns onto the model's input.
// It returns the features and the index of the label column.
func mapHeader(names []string, cfg EvalConfig) ([]feature, int, error) {
	index := make(map[string]int, len(names))
	for i, n := range names {
		if n == "" {
			return nil, 0, fmt.Errorf("eval set line 1, column %d: empty name: %w", i+1, ErrEvalSet)
		}
		if _, dup := index[n]; dup {
			return nil, 0, fmt.Errorf("eval set line 1, column %q: duplicate: %w", n, ErrEvalSet)
		}
		index[n] = i
	}
	label, ok := index[cfg.Label]
	if !ok {
		return nil, 0, fmt.Errorf("eval set line 1, column %q: no label column: %w", cfg.Label, ErrEvalSet)
	}

	if cfg.Columns == nil {
		feats := make([]feature, 0, len(names)-1)
		for i, n := range names {
			if i != label {
				feats = append(feats, feature{field: i, pos: len(feats), name: n})
			}
		}
		if len(feats) == 0 {
			return nil, 0, fmt.Errorf("eval set line 1: no feature columns: %w", ErrEvalSet)
		}
		if cfg.Width > 0 && len(feats) != cfg.Width {
			return nil, 0, fmt.Errorf("eval set line 1: %d feature columns, the model input has %d: %w",
				len(feats), cfg.Width, ErrEvalSet)
		}
		return feats, label, nil
	}

	feats := make([]feature, len(cfg.Columns))
	for i, c := range cfg.Columns {
		field, ok := index[c.Name]
		if !ok {
			return nil, 0, fmt.Errorf("eval set line 1, column %q: missing from the header: %w", c.Name, ErrEvalSet)
		}
		feats[i] = feature{field: field, pos: c.Position, name: c.Name}
		if len(c.Category) > 0 {
			feats[i].cat = make(map[string]int, len(c.Category))
			for code, v := range c.Category {
				if _, dup := feats[i].cat[v]; !dup {
					feats[i].cat[v] = code
				}
			}
		}
	}
	return feats, label, nil
}

// parseFeature parses one feature cell: a category value when cat is not
// nil, a finite float32 otherwise.
func parseFeature(cell string, cat map[string]int) (float32, error) {
	if cat != nil {
		code, ok := cat[cell]
		if !ok {
			return 0, fmt.Errorf("%q is not an allowed value", cell)
		}
		return float32(code), nil
	}
	if cell == "" {
		return 0, errors.New("empty cell")
	}
	v, err := strconv.ParseFloat(cell, 64)
	if err != nil && !errors.Is(err, strconv.ErrRange) {
		return 0, fmt.Errorf("%q is not a number", cell)
	}
	f := float32(v)
	if math.IsNaN(v) || math.IsInf(float64(f), 0) {
		return 0, fmt.Errorf("%q is not a finite float32", cell)
	}
	return f, nil
}

// parseLabel parses one label cell: an integer class in [0, classes) when
// classes > 0, a finite number otherwise.
func parseLabel(cell string, classes int) (float64, error) {
	if cell == "" {
		return 0, errors.New("empty label")
	}
	v, err := strconv.ParseFloat(cell, 64)
	if err != nil && !errors.Is(err, strconv.ErrRange) {
		return 0, fmt.Errorf("label %q is not a number", cell)
	}
	if math.IsNaN(v) || math.IsInf(v, 0) {
		return 0, fmt.Errorf("label %q is not finite", cell)
	}
	if classes > 0 && (v != math.Trunc(v) || v < 0 || v >= float64(classes)) {
		return 0, fmt.Errorf("label %q is outside the known classes 0 to %d", cell, classes-1)
	}
	return v, nil
}

// csvError wraps an error from encoding/csv, naming its line.
func csvError(err error) error {
	var pe *csv.ParseError
	if errors.As(err, &pe) {
		return fmt.Errorf("eval set line %d: %v: %w", pe.Line, pe.Err, ErrEvalSet)
	}
	return fmt.Errorf("read eval set: %w", err)
}
