package gate

import (
	"bufio"
	"cmp"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"math"
	"slices"
	"strconv"
	"strings"

	"github.com/switchyard-ml/switchyard/internal/suggest"
)

// DefaultMaxRows is the row limit ReadEvalSet applies when
// EvalConfig.MaxRows is zero.
const DefaultMaxRows = 1_000_000

// Column maps one named feature of an evaluation set onto the model's input.
// Callers fill it from the manifest's feature schema, so that gate imports no
// other switchyard package. A column's cells are the values a record of the
// records API holds for the feature: a number, a category's value, or a bool.
type Column struct {
	// Name is the column's name in the header of eval.csv.
	Name string
	// Position is the feature's first index in a row of the model's single
	// input. It fills Width() indices from there.
	Position int
	// Category lists the allowed values of a category feature, which is
	// encoded as the index of its value in this list, or, with OneHot, as
	// a 1 at that index of a block of len(Category) columns whose others
	// are 0. Nil or empty means a numeric or bool feature.
	Category []string
	// OneHot encodes the category as a one-hot block; it requires
	// Category.
	OneHot bool
	// Bool makes the feature a bool: cells true or false (any case), 1 or
	// 0, encoded as 1 or 0. It excludes Category.
	Bool bool
}

// Width is the number of indices c fills in a row of the model's input:
// len(Category) for a one-hot category, 1 otherwise.
func (c *Column) Width() int {
	if c.OneHot {
		return len(c.Category)
	}
	return 1
}

// EvalConfig says how ReadEvalSet reads an evaluation set. Its zero value is
// not valid: Label is required.
type EvalConfig struct {
	// Label names the label column. Required.
	Label string
	// Columns is the feature schema. Every column it names must be in the
	// header, and together they must fill the indices 0..W-1 of a row,
	// each once, W being the sum of their widths (Column.Width).
	// Header columns that are neither in the schema nor the label are
	// ignored. Nil means no schema: every column but the label is a numeric
	// feature, in header order, at positions 0..F-1.
	Columns []Column
	// Width, when positive, is the model input's feature count; the set's
	// must equal it (with Columns, the sum of their widths). Zero means
	// unchecked.
	Width int
	// Classes, when positive, makes the model a classifier with that many
	// classes: every label must be an integer in [0, Classes). Zero means a
	// regressor, whose labels are any finite number.
	Classes int
	// MaxRows bounds the number of data rows; a set with more is an error.
	// Zero means DefaultMaxRows.
	MaxRows int
	// MaxBytes bounds the bytes ReadEvalSet reads from its reader; a set
	// with more is an error, found after at most MaxBytes+1 bytes. Zero
	// means DefaultMaxBytes.
	MaxBytes int64
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
	field   int            // index in the CSV record
	pos     int            // first index in the model's input row
	name    string         // column name, for errors
	cat     map[string]int // allowed category values and their codes; nil for a number or bool
	oneHot  int            // the width of a one-hot category's block; 0 for an index
	boolean bool           // a bool: true, false, 1 or 0
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
// whole set is held in memory, bounded by cfg.MaxRows and cfg.MaxBytes: a
// set past either fails, once it has read at most MaxBytes+1 bytes.
func ReadEvalSet(r io.Reader, cfg EvalConfig) (*EvalSet, error) {
	maxRows, err := checkConfig(cfg)
	if err != nil {
		return nil, err
	}
	lr := &io.LimitedReader{R: r, N: cmp.Or(cfg.MaxBytes, DefaultMaxBytes) + 1}
	// tooLarge reports a set that passed its byte limit; it is checked
	// before any other error, which the cut at the limit may have caused.
	tooLarge := func() error {
		if lr.N > 0 {
			return nil
		}
		return fmt.Errorf("eval set: more than %d bytes (the limit; sample the set): %w", cmp.Or(cfg.MaxBytes, DefaultMaxBytes), ErrEvalSet)
	}
	cr := csv.NewReader(skipBOM(lr))
	cr.FieldsPerRecord = -1 // counted below, to word the error
	cr.ReuseRecord = true

	header, err := cr.Read()
	if err := tooLarge(); err != nil {
		return nil, err
	}
	if err == io.EOF {
		return nil, fmt.Errorf("eval set line 1: empty file: %w", ErrEvalSet)
	}
	if err != nil {
		return nil, csvError(err)
	}
	names := headerNames(header)
	feats, width, label, err := mapHeader(names, cfg)
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

	s := &EvalSet{Width: width}
	row := make([]float32, s.Width)
	for {
		rec, err := cr.Read()
		if err := tooLarge(); err != nil {
			return nil, err
		}
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
		for i := range feats {
			if err := feats[i].put(row, strings.TrimSpace(rec[feats[i].field])); err != nil {
				line, _ := cr.FieldPos(feats[i].field)
				return nil, fmt.Errorf("eval set line %d, column %q: %v: %w", line, feats[i].name, err, ErrEvalSet)
			}
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

// headerNames returns the column names of a CSV header as ReadEvalSet
// reads them: each trimmed of surrounding spaces, the first of a
// byte-order mark. A name may hold anything else, quoted as CSV quotes
// (a comma, a quote doubled, a line break).
func headerNames(header []string) []string {
	names := make([]string, len(header))
	for i, h := range header {
		names[i] = strings.TrimSpace(h)
	}
	names[0] = strings.TrimSpace(strings.TrimPrefix(names[0], "\ufeff")) // a byte-order mark
	return names
}

// skipBOM returns a reader of r without the byte-order mark r may start
// with, so that a first header name in quotes ("\ufeff\"a,b\"", as a
// spreadsheet writes UTF-8 CSV) is read as quoted.
func skipBOM(r io.Reader) io.Reader {
	br := bufio.NewReader(r)
	if b, err := br.Peek(3); err == nil && string(b) == "\ufeff" {
		_, _ = br.Discard(3)
	}
	return br
}

// FirstRow reads the header and the first data row of an evaluation set
// in CSV form from r, reading no further, and returns the header's names
// as ReadEvalSet matches them against a schema's (trimmed, without a
// byte-order mark) and the row's cells, trimmed, one per name. It checks
// nothing else; a set that has no data row, or whose first row has not
// one cell per name, is an error wrapping ErrEvalSet. It is for showing
// an example record, not for judging a model.
func FirstRow(r io.Reader) (names, cells []string, err error) {
	cr := csv.NewReader(skipBOM(r))
	cr.FieldsPerRecord = -1
	header, err := cr.Read()
	if err == io.EOF {
		return nil, nil, fmt.Errorf("eval set line 1: empty file: %w", ErrEvalSet)
	}
	if err != nil {
		return nil, nil, csvError(err)
	}
	row, err := cr.Read()
	if err == io.EOF {
		return nil, nil, fmt.Errorf("eval set line 2: no rows after the header: %w", ErrEvalSet)
	}
	if err != nil {
		return nil, nil, csvError(err)
	}
	if len(row) != len(header) {
		line, _ := cr.FieldPos(0)
		return nil, nil, fmt.Errorf("eval set line %d: the row has %d columns, the header %d: %w", line, len(row), len(header), ErrEvalSet)
	}
	for i := range row {
		row[i] = strings.TrimSpace(row[i])
	}
	return headerNames(header), row, nil
}

// checkConfig validates cfg and returns its row limit.
func checkConfig(cfg EvalConfig) (int, error) {
	if cfg.Label == "" {
		return 0, fmt.Errorf("eval set config: no label column named: %w", ErrEvalSet)
	}
	if cfg.Width < 0 || cfg.Classes < 0 || cfg.MaxRows < 0 || cfg.MaxBytes < 0 {
		return 0, fmt.Errorf("eval set config: negative Width, Classes, MaxRows or MaxBytes: %w", ErrEvalSet)
	}
	if cfg.Columns != nil {
		if len(cfg.Columns) == 0 {
			return 0, fmt.Errorf("eval set config: empty feature schema: %w", ErrEvalSet)
		}
		width := 0
		for i := range cfg.Columns {
			width += cfg.Columns[i].Width()
		}
		if cfg.Width > 0 && cfg.Width != width {
			return 0, fmt.Errorf("eval set config: the schema has %d features filling %d columns, the model input %d: %w",
				len(cfg.Columns), width, cfg.Width, ErrEvalSet)
		}
		seen := make([]bool, width)
		names := make(map[string]bool, len(cfg.Columns))
		for i := range cfg.Columns {
			c := &cfg.Columns[i]
			w := c.Width()
			switch {
			case c.Name == "" || c.Name == cfg.Label || names[c.Name]:
				return 0, fmt.Errorf("eval set config: feature %q: empty, duplicate or the label: %w", c.Name, ErrEvalSet)
			case c.OneHot && len(c.Category) == 0:
				return 0, fmt.Errorf("eval set config: feature %q: one-hot without categories: %w", c.Name, ErrEvalSet)
			case c.Bool && len(c.Category) > 0:
				return 0, fmt.Errorf("eval set config: feature %q: both a bool and a category: %w", c.Name, ErrEvalSet)
			case c.Position < 0 || c.Position > width-w || slices.Contains(seen[c.Position:c.Position+w], true):
				return 0, fmt.Errorf("eval set config: feature %q: position %d, width %d: outside [0, %d) or taken: %w",
					c.Name, c.Position, w, width, ErrEvalSet)
			}
			names[c.Name] = true
			for j := range w {
				seen[c.Position+j] = true
			}
		}
	}
	if cfg.MaxRows == 0 {
		return DefaultMaxRows, nil
	}
	return cfg.MaxRows, nil
}

// mapHeader checks the header and maps its columns onto the model's input,
// whose config checkConfig has validated. It returns the features, the
// number of values they fill per row, and the index of the label column.
func mapHeader(names []string, cfg EvalConfig) ([]feature, int, int, error) {
	index := make(map[string]int, len(names))
	for i, n := range names {
		if n == "" {
			return nil, 0, 0, fmt.Errorf("eval set line 1, column %d: empty name: %w", i+1, ErrEvalSet)
		}
		if _, dup := index[n]; dup {
			return nil, 0, 0, fmt.Errorf("eval set line 1, column %q: duplicate: %w", n, ErrEvalSet)
		}
		index[n] = i
	}
	label, ok := index[cfg.Label]
	if !ok {
		return nil, 0, 0, fmt.Errorf("eval set line 1, column %q: no label column of that name%s; the header has %s: %w",
			cfg.Label, suggest.Hint(cfg.Label, names), listColumns(names), ErrEvalSet)
	}

	if cfg.Columns == nil {
		feats := make([]feature, 0, len(names)-1)
		for i, n := range names {
			if i != label {
				feats = append(feats, feature{field: i, pos: len(feats), name: n})
			}
		}
		if len(feats) == 0 {
			return nil, 0, 0, fmt.Errorf("eval set line 1: no feature columns: %w", ErrEvalSet)
		}
		if cfg.Width > 0 && len(feats) != cfg.Width {
			return nil, 0, 0, fmt.Errorf("eval set line 1: %d feature columns, the model input has %d: %w",
				len(feats), cfg.Width, ErrEvalSet)
		}
		return feats, len(feats), label, nil
	}

	feats := make([]feature, len(cfg.Columns))
	width := 0
	for i := range cfg.Columns {
		c := &cfg.Columns[i]
		field, ok := index[c.Name]
		if !ok {
			return nil, 0, 0, fmt.Errorf("eval set line 1, column %q: missing from the header%s; the header has %s: %w",
				c.Name, suggest.Hint(c.Name, names), listColumns(names), ErrEvalSet)
		}
		width += c.Width()
		feats[i] = feature{field: field, pos: c.Position, name: c.Name, boolean: c.Bool}
		if c.OneHot {
			feats[i].oneHot = len(c.Category)
		}
		if len(c.Category) > 0 {
			feats[i].cat = make(map[string]int, len(c.Category))
			for code, v := range c.Category {
				if _, dup := feats[i].cat[v]; !dup {
					feats[i].cat[v] = code
				}
			}
		}
	}
	return feats, width, label, nil
}

// listColumns names a header's columns for an error message, quoted, the
// first 20 of them and how many more.
func listColumns(names []string) string {
	const most = 20
	var b strings.Builder
	for i, n := range names[:min(len(names), most)] {
		if i > 0 {
			b.WriteString(", ")
		}
		b.WriteString(strconv.Quote(n))
	}
	if len(names) > most {
		fmt.Fprintf(&b, " and %d more", len(names)-most)
	}
	return b.String()
}

// put parses one feature cell and writes its encoding into row: a
// category's index, or its one-hot block; a bool as 1 or 0; a number as
// itself.
func (f *feature) put(row []float32, cell string) error {
	switch {
	case f.cat != nil:
		code, ok := f.cat[cell]
		if !ok {
			return fmt.Errorf("%q is not an allowed value", cell)
		}
		if f.oneHot == 0 {
			row[f.pos] = float32(code)
			return nil
		}
		clear(row[f.pos : f.pos+f.oneHot])
		row[f.pos+code] = 1
	case f.boolean:
		switch {
		case cell == "1" || strings.EqualFold(cell, "true"):
			row[f.pos] = 1
		case cell == "0" || strings.EqualFold(cell, "false"):
			row[f.pos] = 0
		default:
			return fmt.Errorf("%q is not true, false, 1 or 0", cell)
		}
	default:
		v, err := parseNumber(cell)
		if err != nil {
			return err
		}
		row[f.pos] = v
	}
	return nil
}

// parseNumber parses a numeric feature cell: a finite float32.
func parseNumber(cell string) (float32, error) {
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
		if errors.Is(pe.Err, csv.ErrBareQuote) {
			return fmt.Errorf("eval set line %d, column %d: %v (a name or cell holding a quote is written in quotes, "+
				`its quotes doubled: "say ""hi"""): %w`, pe.Line, pe.Column, pe.Err, ErrEvalSet)
		}
		return fmt.Errorf("eval set line %d: %v: %w", pe.Line, pe.Err, ErrEvalSet)
	}
	return fmt.Errorf("read eval set: %w", err)
}
