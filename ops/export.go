package ops

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"iter"
	"maps"
	"os"
	"slices"
	"strings"
	"time"

	"github.com/switchyard-ml/switchyard/modelstore"
	"github.com/switchyard-ml/switchyard/tracking"
)

// The formats Export writes, as ExportOptions.Format names them.
const (
	// ExportCSV is RFC 4180 CSV with a header row: one set of columns, so
	// every version exported must have the same input columns.
	ExportCSV = "csv"
	// ExportJSONL is one JSON object per line, each with its version's
	// columns, so versions whose columns differ may be exported together.
	ExportJSONL = "jsonl"
)

// PredictionReader is what Export reads the logged predictions from:
// *tracking.Store implements it.
type PredictionReader interface {
	// Predictions yields the predictions q selects, labels joined, in the
	// order they were answered, one at a time.
	Predictions(ctx context.Context, q tracking.PredictionQuery) iter.Seq2[tracking.Prediction, error]
}

// ExportOptions selects and shapes what Export writes.
type ExportOptions struct {
	// Model is required.
	Model string
	// Version, when not 0, exports only that version's predictions; it
	// must be a version in the registry.
	Version int
	// Since, when not zero, exports only predictions answered at or
	// after it.
	Since time.Time
	// Labelled exports only predictions with a label joined.
	Labelled bool
	// Format is ExportCSV or ExportJSONL; required.
	Format string
}

// ExportSummary is what Export wrote.
type ExportSummary struct {
	// Rows is the number of predictions written, Labelled how many of
	// them have a label.
	Rows, Labelled int64
	// Skipped counts the predictions selected but not written, by why:
	// their inputs are not one row of their version's inputs (not kept,
	// or a V2 request of several rows), or their version cannot be read
	// from the registry (deleted, or its manifest is broken).
	Skipped map[string]int64
	// Bytes is how many bytes were written, SHA256 their hex sha256: the
	// dataset's digest that a retraining run records.
	Bytes  int64
	SHA256 string
}

// SkippedTotal is the number of predictions Export left out.
func (s *ExportSummary) SkippedTotal() int64 {
	var n int64
	for _, c := range s.Skipped {
		n += c
	}
	return n
}

// exportWriteBuffer is the buffer between Export and its writer.
const exportWriteBuffer = 64 << 10

// Export streams the predictions of the log that opts selects to w, in
// the order they were answered, as CSV or JSONL, and returns what it
// wrote. It holds one prediction at a time: its memory does not grow with
// the log.
//
// Each row has the prediction's id, time (RFC 3339, UTC), version and arm
// (empty when the rollout named none); then its inputs, read back through
// its version's manifest in the registry at registryDir: a records
// schema's features by name (a number or an integer as itself, a bool as
// true or false, a category as its value, from its index or its one-hot
// block), else input_0..input_{k-1}, every element of every input's row;
// then its score (the positive class's probability for a binary
// classifier, the value for a regressor: the score the rollout and the
// drift monitor read), its label as given (a class name or a number) and
// the time the label was joined. A value missing or that the schema
// cannot name is empty in CSV and null in JSONL. Predictions whose inputs
// are not one row, or whose version cannot be read, are left out and
// counted in ExportSummary.Skipped.
//
// CSV has one header for every row, so a CSV export of versions whose
// input columns differ is refused before anything is written, naming the
// versions (ErrExportColumns): export one with Version, or use JSONL.
// Export fails when the model has no version in the registry, or
// opts.Version is not one. An error after writing began leaves w with
// part of the export; ExportFile publishes an export whole.
func Export(ctx context.Context, log PredictionReader, registryDir string, opts ExportOptions, w io.Writer) (ExportSummary, error) {
	sum := ExportSummary{Skipped: map[string]int64{}}
	if opts.Format != ExportCSV && opts.Format != ExportJSONL {
		return sum, fmt.Errorf("export: format %q: want %s or %s", opts.Format, ExportCSV, ExportJSONL)
	}
	if opts.Version < 0 {
		return sum, fmt.Errorf("export: version %d: want a positive version", opts.Version)
	}
	layouts, header, err := exportLayouts(registryDir, opts)
	if err != nil {
		return sum, err
	}
	h := sha256.New()
	cw := &countingWriter{w: io.MultiWriter(w, h)}
	var rw rowWriter
	if opts.Format == ExportCSV {
		rw = newCSVRows(cw, header)
	} else {
		rw = newJSONRows(cw)
	}
	if err := rw.start(); err != nil {
		return sum, fmt.Errorf("export %s: %w", opts.Model, err)
	}
	var cells []cell
	q := tracking.PredictionQuery{Model: opts.Model, Version: opts.Version, Since: opts.Since, Labelled: opts.Labelled}
	for p, err := range log.Predictions(ctx, q) {
		if err != nil {
			return sum, fmt.Errorf("export %s: %w", opts.Model, err)
		}
		l, ok := layouts[p.Version]
		if !ok {
			l, err = readLayout(registryDir, opts.Model, p.Version)
			if err != nil {
				l = nil
			}
			layouts[p.Version] = l // nil: unreadable, remembered
		}
		switch {
		case l == nil:
			sum.Skipped["version not readable from the registry"]++
			continue
		case header != nil && !l.sameColumns(header):
			sum.Skipped["columns differ from the CSV header's"]++
			continue
		}
		cells = slices.Grow(cells[:0], len(l.columns))[:len(l.columns)]
		if err := l.decode(p.Inputs, cells); err != nil {
			sum.Skipped["inputs not one row"]++
			continue
		}
		if err := rw.row(&p, l, cells); err != nil {
			return sum, fmt.Errorf("export %s: %w", opts.Model, err)
		}
		sum.Rows++
		if p.Label != nil {
			sum.Labelled++
		}
	}
	if err := rw.flush(); err != nil {
		return sum, fmt.Errorf("export %s: %w", opts.Model, err)
	}
	sum.Bytes, sum.SHA256 = cw.n, hex.EncodeToString(h.Sum(nil))
	return sum, nil
}

// exportLayouts reads the layouts of the versions opts exports that are
// in the registry, and for CSV the one they share (the header's). It
// fails when the model has no complete version, when opts.Version is not
// one, and, for CSV, when no version can be read or the readable ones
// differ in their columns.
func exportLayouts(registryDir string, opts ExportOptions) (map[int]*exportLayout, *exportLayout, error) {
	if !modelstore.ValidName(opts.Model) {
		return nil, nil, fmt.Errorf("export: %q is not a model name", opts.Model)
	}
	if _, err := os.Stat(registryDir); err != nil {
		return nil, nil, fmt.Errorf("export: registry: %w", err)
	}
	complete, _, err := modelstore.Versions(registryDir, opts.Model)
	if err != nil {
		return nil, nil, fmt.Errorf("export %s: %w", opts.Model, err)
	}
	if len(complete) == 0 {
		return nil, nil, fmt.Errorf("export: model %q has no version in the registry %s", opts.Model, registryDir)
	}
	layouts := map[int]*exportLayout{}
	if opts.Version != 0 {
		if !slices.Contains(complete, opts.Version) {
			return nil, nil, fmt.Errorf("export: model %q has no version %d in the registry %s (it has %v)", opts.Model, opts.Version, registryDir, complete)
		}
		l, err := readLayout(registryDir, opts.Model, opts.Version)
		if err != nil {
			return nil, nil, fmt.Errorf("export %s: %w", opts.Model, err)
		}
		layouts[opts.Version] = l
		return layouts, l, nil
	}
	var errs []error
	for _, v := range complete {
		l, err := readLayout(registryDir, opts.Model, v)
		if err != nil {
			errs = append(errs, err)
		}
		layouts[v] = l // nil: unreadable, its predictions are skipped
	}
	if opts.Format != ExportCSV {
		return layouts, nil, nil
	}
	// CSV: the readable versions must agree on their columns.
	groups := map[string][]int{}
	var header *exportLayout
	for _, v := range complete {
		if l := layouts[v]; l != nil {
			key := strings.Join(l.names(), ",")
			if len(groups[key]) == 0 && header == nil {
				header = l
			}
			groups[key] = append(groups[key], v)
		}
	}
	switch {
	case header == nil:
		return nil, nil, fmt.Errorf("export %s: no version's inputs can be read: %w", opts.Model, errors.Join(errs...))
	case len(groups) > 1:
		var parts []string
		for _, vs := range slices.SortedFunc(maps.Values(groups), func(a, b []int) int { return a[0] - b[0] }) {
			parts = append(parts, fmt.Sprintf("versions %v have the columns %s", vs, strings.Join(layouts[vs[0]].names(), ",")))
		}
		return nil, nil, fmt.Errorf("export %s: %w (%s): a CSV has one header; export one version (--version), or use --format jsonl",
			opts.Model, ErrExportColumns, strings.Join(parts, "; "))
	}
	return layouts, header, nil
}

// countingWriter counts the bytes written through it.
type countingWriter struct {
	w io.Writer
	n int64
}

func (c *countingWriter) Write(p []byte) (int, error) {
	n, err := c.w.Write(p)
	c.n += int64(n)
	return n, err
}
