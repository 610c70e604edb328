package main

import (
	"context"
	"encoding/csv"
	"errors"
	"flag"
	"fmt"
	"io"
	"math"
	"os"
	"slices"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/switchyard-ml/switchyard/engine"
	"github.com/switchyard-ml/switchyard/internal/regfile"
	"github.com/switchyard-ml/switchyard/modelstore"
)

const schemaSynopsis = `infer --from CSV [--label COL] [--out FILE] [--encoding one_hot|value]
       [--max-categories N] [--widen FRACTION] [--force]

Reads CSV, training data with a header row, and writes a records schema for
publish --schema: one feature per column but the label, typed from the cells
(bool: every cell true or false; integer: every cell a whole number written
without a point; number: every cell a number; category: text with at most
--max-categories distinct values, listed sorted), with bounds from the observed
range, and the label's class names when its cells are text. Empty cells and
NA, N/A, NaN, null and None count as missing. Features are laid out as
pandas.get_dummies lays out a data frame: the numbers, integers and bools in
the CSV's order, then the categories (one-hot by default), all in one FP32
input. Review the file before publishing: its bounds and categories are what
the data shows, not what the domain allows. The CSV is read once, streaming,
up to 1 GiB.`

// Limits of schema infer, to refuse input that cannot be a schema.
const (
	// inferMaxBytes bounds the CSV read, as the gate bounds an eval set.
	inferMaxBytes = 1 << 30
	// inferMaxColumns bounds the CSV's columns.
	inferMaxColumns = 4096
	// defaultMaxCategories is --max-categories' default: a text column
	// with more distinct values is free text, not a category.
	defaultMaxCategories = 50
)

// missingMarkers are the cells read as missing values besides the empty
// cell: pandas' usual spellings of NA.
var missingMarkers = []string{"NA", "N/A", "NaN", "nan", "null", "NULL", "None"}

// runSchema runs `switchyard schema infer`.
func runSchema(_ context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlagSet("schema", schemaSynopsis, stderr)
	from := fs.String("from", "", "training data, a `CSV` file with a header row (required)")
	label := fs.String("label", "", "the label `column`: not a feature; its class names become classes when they are text")
	out := fs.String("out", "", "write the schema to `FILE` (default: standard output)")
	force := fs.Bool("force", false, "overwrite --out if it exists")
	encoding := fs.String("encoding", modelstore.EncodeOneHot, "how categories reach the model: one_hot (a column per value) or value (the value's index)")
	maxCats := fs.Int("max-categories", defaultMaxCategories, "most distinct values of a text column read as a category; more is free text, refused")
	widen := fs.Float64("widen", 0.1, "widen each number's observed range by this `fraction` of it on each side (0: the observed bounds)")
	if len(args) == 0 || args[0] != "infer" {
		if len(args) > 0 && (args[0] == "-h" || args[0] == "--help" || args[0] == "help") {
			fs.Usage()
			return flag.ErrHelp
		}
		return usageError(fs, "want schema infer")
	}
	if err := parseFlags(fs, args[1:]); err != nil {
		return err
	}
	switch {
	case *from == "":
		return usageError(fs, "--from is required: the training data, a CSV file with a header row")
	case *encoding != modelstore.EncodeOneHot && *encoding != modelstore.EncodeValue:
		return usageError(fs, "--encoding %q: want one_hot or value", *encoding)
	case *maxCats < 1:
		return usageError(fs, "--max-categories %d: want at least 1", *maxCats)
	case !(*widen >= 0 && *widen <= 10):
		return usageError(fs, "--widen %v: want a fraction between 0 and 10", *widen)
	}
	f, err := regfile.Open(*from, regfile.Limit{Max: inferMaxBytes,
		Remedy: "schema infer reads at most that much: infer from a sample of the rows"})
	if err != nil {
		return fmt.Errorf("--from: %w", err)
	}
	inf, err := inferSchema(f, inferConfig{Label: *label, Encoding: *encoding, MaxCategories: *maxCats, Widen: *widen})
	f.Close()
	if err != nil {
		return fmt.Errorf("--from %s: %w", *from, err)
	}
	inf.Source = *from
	text := inf.appendYAML(nil)
	if *out == "" {
		_, err := stdout.Write(text)
		fmt.Fprintf(stderr, "%s; review it before publishing\n", inf.summary())
		return err
	}
	if err := writeNewFile(*out, text, *force); err != nil {
		return fmt.Errorf("--out: %w", err)
	}
	fmt.Fprintf(stdout, "wrote %s: %s; review it before publishing\n", *out, inf.summary())
	return nil
}

// writeNewFile writes data to path, refusing to replace a file unless
// force is set, so that a schema or policy someone edited is not lost.
func writeNewFile(path string, data []byte, force bool) error {
	flags := os.O_WRONLY | os.O_CREATE | os.O_EXCL
	if force {
		flags = os.O_WRONLY | os.O_CREATE | os.O_TRUNC
	}
	f, err := os.OpenFile(path, flags, 0o644)
	if errors.Is(err, os.ErrExist) {
		return fmt.Errorf("%s exists: remove it, or pass --force to overwrite it", path)
	}
	if err != nil {
		return err
	}
	if _, err := f.Write(data); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}

// inferConfig says how inferSchema reads a CSV.
type inferConfig struct {
	// Label names the label column; empty means every column is a feature.
	Label string
	// Encoding is modelstore.EncodeOneHot or EncodeValue, for categories.
	Encoding string
	// MaxCategories is the most distinct values of a category.
	MaxCategories int
	// Widen is the fraction of a number's observed range added on each
	// side of it.
	Widen float64
}

// inferred is a schema inferred from data, with what was observed, for
// the comments of the file written.
type inferred struct {
	Schema modelstore.Schema
	// Notes holds comment lines per feature, in the order of
	// Schema.Features.
	Notes [][]string
	// LabelNote says what was made of the label column; empty without one.
	LabelNote []string
	// Rows is the number of data rows read; Width the input's columns.
	Rows, Width int
	// Label is the label column's name; Source the file read.
	Label, Source string
}

// column is what inferSchema observes of one column.
type column struct {
	name            string
	filled, missing int
	numbers, ints   int // cells that are finite numbers; of them, written as integers
	bools           int
	min, max        float64
	values          map[string]struct{} // distinct filled cells, at most limit+1
	overflow        bool                // more than limit distinct values
	text            string              // the first cell that is neither a number nor a bool
	textLine        int
}

func (c *column) observe(cell string, line, limit int) {
	cell = strings.TrimSpace(cell)
	if cell == "" || slices.Contains(missingMarkers, cell) {
		c.missing++
		return
	}
	c.filled++
	if !c.overflow {
		if _, ok := c.values[cell]; !ok {
			if len(c.values) == limit {
				c.overflow = true
			} else {
				c.values[cell] = struct{}{}
			}
		}
	}
	if strings.EqualFold(cell, "true") || strings.EqualFold(cell, "false") {
		c.bools++
		return
	}
	v, err := strconv.ParseFloat(cell, 64)
	if err != nil || math.IsInf(v, 0) || math.IsNaN(v) {
		if c.text == "" {
			c.text, c.textLine = cell, line
		}
		return
	}
	if c.numbers == 0 {
		c.min, c.max = v, v
	}
	c.min, c.max = min(c.min, v), max(c.max, v)
	c.numbers++
	if _, err := strconv.ParseInt(cell, 10, 64); err == nil {
		c.ints++
	}
}

// sortedValues returns the column's distinct values, sorted as pandas and
// sklearn's encoders sort them (by code point).
func (c *column) sortedValues() []string {
	vs := make([]string, 0, len(c.values))
	for v := range c.values {
		vs = append(vs, v)
	}
	slices.Sort(vs)
	return vs
}

// inferSchema reads a CSV with a header row from r and infers a records
// schema for a model whose one input, "input", is FP32 [rows, width]: one
// feature per column but cfg.Label, laid out as pandas.get_dummies lays
// out a data frame. The result has passed modelstore.Schema.Check against
// such a model. Errors say what in the data keeps it from being a
// schema: no rows, ragged rows, free text, an empty column.
func inferSchema(r io.Reader, cfg inferConfig) (*inferred, error) {
	cr := csv.NewReader(r)
	cr.FieldsPerRecord = -1
	cr.ReuseRecord = true
	header, err := cr.Read()
	if err == io.EOF {
		return nil, errors.New("the file is empty: want a header row of column names, then one row per example")
	}
	if err != nil {
		return nil, err
	}
	if len(header) > inferMaxColumns {
		return nil, fmt.Errorf("the header has %d columns; schema infer reads at most %d", len(header), inferMaxColumns)
	}
	cols := make([]column, len(header))
	label := -1
	for i, h := range header {
		if i == 0 {
			h = strings.TrimPrefix(h, "\ufeff")
		}
		h = strings.TrimSpace(h)
		if h == "" {
			return nil, fmt.Errorf("column %d has no name in the header row", i+1)
		}
		if !utf8.ValidString(h) {
			return nil, fmt.Errorf("column %d's name %q is not UTF-8 text: save the CSV as UTF-8", i+1, h)
		}
		for j := range i {
			if cols[j].name == h {
				return nil, fmt.Errorf("columns %d and %d are both named %q", j+1, i+1, h)
			}
		}
		cols[i] = column{name: h, values: map[string]struct{}{}}
		if h == cfg.Label {
			label = i
		}
	}
	if cfg.Label != "" && label < 0 {
		names := make([]string, len(cols))
		for i := range cols {
			names[i] = strconv.Quote(cols[i].name)
		}
		return nil, fmt.Errorf("--label %q is not a column; the columns are %s", cfg.Label, strings.Join(names, ", "))
	}
	if len(cols) == 1 && label == 0 {
		return nil, fmt.Errorf("the only column is the label %q: no features", cfg.Label)
	}
	rows := 0
	for {
		rec, err := cr.Read()
		if err == io.EOF {
			break
		}
		if err != nil {
			return nil, err
		}
		line, _ := cr.FieldPos(0)
		if len(rec) != len(cols) {
			return nil, fmt.Errorf("line %d has %d fields, but the header has %d columns: every row needs one field per column", line, len(rec), len(cols))
		}
		rows++
		for i, cell := range rec {
			limit := cfg.MaxCategories
			if i == label {
				limit = max(limit, defaultMaxCategories)
			}
			cols[i].observe(cell, line, limit)
		}
	}
	if rows == 0 {
		return nil, errors.New("the file has a header row but no data rows")
	}
	inf := &inferred{Rows: rows, Label: cfg.Label, Schema: modelstore.Schema{UnknownFields: modelstore.UnknownReject}}
	var categories []int
	for i := range cols {
		c := &cols[i]
		if i == label {
			if err := inf.inferLabel(c); err != nil {
				return nil, err
			}
			continue
		}
		f, notes, err := inferFeature(c, rows, cfg)
		if err != nil {
			return nil, err
		}
		if f.Type == modelstore.TypeCategory {
			categories = append(categories, len(inf.Schema.Features))
		}
		inf.Schema.Features = append(inf.Schema.Features, f)
		inf.Notes = append(inf.Notes, notes)
	}
	// Lay out as pandas.get_dummies does: the other columns in order,
	// then the categories.
	order := make([]int, 0, len(inf.Schema.Features))
	for i, f := range inf.Schema.Features {
		if f.Type != modelstore.TypeCategory {
			order = append(order, i)
		}
	}
	order = append(order, categories...)
	fs, notes := make([]modelstore.Feature, 0, len(order)), make([][]string, 0, len(order))
	for _, i := range order {
		f := inf.Schema.Features[i]
		f.Position = inf.Width
		inf.Width++
		if f.Encoding == modelstore.EncodeOneHot {
			inf.Width += len(f.Values) - 1
			inf.Notes[i] = append(inf.Notes[i], fmt.Sprintf("one-hot in columns %d to %d", f.Position, inf.Width-1))
		}
		fs, notes = append(fs, f), append(notes, inf.Notes[i])
	}
	inf.Schema.Features, inf.Notes = fs, notes
	if _, err := inf.Schema.Check(inf.signature()); err != nil {
		return nil, fmt.Errorf("the inferred schema is not valid: %w", err)
	}
	return inf, nil
}

// inferFeature types one feature column and bounds it.
func inferFeature(c *column, rows int, cfg inferConfig) (modelstore.Feature, []string, error) {
	f := modelstore.Feature{Name: c.name}
	var notes []string
	if c.filled == 0 {
		return f, nil, fmt.Errorf("column %q is empty in every row: drop it from the data", c.name)
	}
	if c.missing > 0 {
		notes = append(notes, fmt.Sprintf("%d of %d rows have no value: a record must send one (set default if the model has one)", c.missing, rows))
	}
	switch {
	case c.bools == c.filled:
		f.Type = modelstore.TypeBool
		notes = append(notes, "true or false in every row with a value")
	case c.numbers == c.filled:
		f.Type = modelstore.TypeNumber
		if c.ints == c.filled {
			f.Type = modelstore.TypeInteger
		}
		lo, hi, note := bounds(c.min, c.max, f.Type == modelstore.TypeInteger, cfg.Widen)
		f.Min, f.Max = &lo, &hi
		notes = append(notes, note)
	case c.overflow:
		return f, nil, fmt.Errorf("column %q has more than %d distinct values that are not numbers (such as %q on line %d): free text cannot be a feature; drop the column, encode it as numbers, or raise --max-categories if it is a category",
			c.name, cfg.MaxCategories, c.text, c.textLine)
	default:
		f.Type = modelstore.TypeCategory
		f.Values = c.sortedValues()
		for _, v := range f.Values {
			if !utf8.ValidString(v) {
				return f, nil, fmt.Errorf("column %q holds %q, which is not UTF-8 text: save the CSV as UTF-8", c.name, v)
			}
		}
		if cfg.Encoding == modelstore.EncodeOneHot {
			f.Encoding = modelstore.EncodeOneHot
		}
		if c.numbers+c.bools > 0 {
			notes = append(notes, fmt.Sprintf("mixes %d numbers or bools with text (such as %q on line %d): read as a category; if the text marks missing values, clean the data and infer again",
				c.numbers+c.bools, c.text, c.textLine))
		}
		notes = append(notes, fmt.Sprintf("%d values seen, sorted as pandas.get_dummies and sklearn's OneHotEncoder sort them", len(f.Values)))
	}
	return f, notes, nil
}

// bounds returns a number's bounds: the observed range [lo, hi] widened
// by widen times its width on each side, not below 0 when lo is not,
// rounded outward (to whole numbers for an integer), and the comment that
// says so.
func bounds(lo, hi float64, integer bool, widen float64) (float64, float64, string) {
	observed := fmt.Sprintf("observed %s to %s", formatNumber(lo), formatNumber(hi))
	r := hi - lo
	if widen == 0 || r == 0 {
		if r == 0 {
			observed += " (a constant: is the feature needed?)"
		}
		return lo, hi, observed + "; bounds as observed"
	}
	wlo, whi := lo-widen*r, hi+widen*r
	if lo >= 0 && wlo < 0 {
		wlo = 0
	}
	if integer {
		wlo, whi = math.Floor(wlo), math.Ceil(whi)
	} else {
		// Round outward to about three significant digits of the range.
		decimals := max(0, 2-int(math.Floor(math.Log10(r))))
		scale := math.Pow(10, float64(decimals))
		wlo = roundTo(math.Floor(wlo*scale)/scale, decimals)
		whi = roundTo(math.Ceil(whi*scale)/scale, decimals)
	}
	note := fmt.Sprintf("%s; bounds widened by %s%% of that range", observed, formatNumber(widen*100))
	if lo >= 0 && wlo == 0 {
		note += " (not below 0)"
	}
	return wlo, whi, note
}

// roundTo returns v as its text with the given decimals reads back, to
// drop the binary noise of a scaled division.
func roundTo(v float64, decimals int) float64 {
	r, _ := strconv.ParseFloat(strconv.FormatFloat(v, 'f', decimals, 64), 64)
	return r
}

// inferLabel records what the label column says: class names when its
// cells are text, else a note.
func (inf *inferred) inferLabel(c *column) error {
	switch {
	case c.filled == 0:
		inf.LabelNote = append(inf.LabelNote, "the label column is empty in every row")
	case c.numbers == c.filled && c.ints == c.filled:
		inf.LabelNote = append(inf.LabelNote,
			fmt.Sprintf("label column %q: integers %s to %s, read as class indices (no classes written: they keep their indices as names)", c.name, formatNumber(c.min), formatNumber(c.max)),
			"or as a regressor's target; either way eval.csv may hold them as they are")
	case c.numbers == c.filled:
		inf.LabelNote = append(inf.LabelNote, fmt.Sprintf("label column %q: numbers %s to %s, a regressor's target (no classes)", c.name, formatNumber(c.min), formatNumber(c.max)))
	case c.overflow:
		inf.LabelNote = append(inf.LabelNote, fmt.Sprintf("label column %q has more than %d distinct values: no classes written", c.name, len(c.values)))
	default:
		inf.Schema.Classes = c.sortedValues()
		for _, v := range inf.Schema.Classes {
			if !utf8.ValidString(v) {
				return fmt.Errorf("label column %q holds %q, which is not UTF-8 text: save the CSV as UTF-8", c.name, v)
			}
		}
		inf.LabelNote = append(inf.LabelNote,
			fmt.Sprintf("label column %q: classes sorted as sklearn's LabelEncoder sorts them; the model's probabilities must come in this order,", c.name),
			"and eval.csv's labels are class indices: 0 for the first class, 1 for the next")
	}
	if c.missing > 0 {
		inf.LabelNote = append(inf.LabelNote, fmt.Sprintf("%d rows have no label: drop them from eval.csv", c.missing))
	}
	return nil
}

// signature returns the signature of the model the schema was inferred
// for: one FP32 input of Width columns and, with classes, their
// probabilities.
func (inf *inferred) signature() *engine.Signature {
	sig := &engine.Signature{Inputs: []engine.TensorInfo{{Name: "input", DType: engine.FP32, Shape: []int64{-1, int64(inf.Width)}}}}
	if n := len(inf.Schema.Classes); n > 0 {
		sig.Outputs = []engine.TensorInfo{{Name: "probabilities", DType: engine.FP32, Shape: []int64{-1, int64(n)}}}
	}
	return sig
}
