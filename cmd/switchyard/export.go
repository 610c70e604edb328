package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"maps"
	"os"
	"slices"
	"strings"
	"time"

	"github.com/switchyard-ml/switchyard/ops"
)

// runExport writes a model's logged predictions, with their inputs by
// name and their joined labels, as CSV or JSONL (ops.Export), from the
// registry and the data directory's prediction log. There is no --server
// form: the log is read where it is kept.
func runExport(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlagSet("export", "MODEL --format csv|jsonl [--version V] [--since T] [--labelled] [--out FILE] [--registry DIR] [--data-dir DIR]", stderr)
	registry := fs.String("registry", "registry", "registry directory: each version's manifest names its inputs")
	dataDir := fs.String("data-dir", "", "the data directory whose prediction log to read (default REGISTRY/.switchyard)")
	format := fs.String("format", "", "csv (a header, one set of columns: one schema) or jsonl (an object a line); required")
	version := fs.Int("version", 0, "only this version's predictions (default: every version's)")
	since := fs.String("since", "", "only predictions answered in this `DURATION` back from now (24h), or since this RFC 3339 time")
	labelled := fs.Bool("labelled", false, "only predictions with a label joined (POST /v1/feedback, switchyard feedback)")
	out := fs.String("out", "", "write to `FILE`, whole or not at all (a temporary file renamed over it); default: standard output")
	pos, err := parseInterspersed(fs, args)
	if err != nil {
		return err
	}
	if len(pos) != 1 {
		return usageError(fs, "export takes one MODEL, not %q", pos)
	}
	if *format != ops.ExportCSV && *format != ops.ExportJSONL {
		return usageError(fs, "--format %q: want csv or jsonl", *format)
	}
	if *version < 0 {
		return usageError(fs, "--version %d: want a positive version", *version)
	}
	opts := ops.ExportOptions{Model: pos[0], Version: *version, Labelled: *labelled, Format: *format}
	if *since != "" {
		if opts.Since, err = parseSince(*since, time.Now()); err != nil {
			return usageError(fs, "%v", err)
		}
	}
	if _, err := os.Stat(*registry); err != nil {
		return fmt.Errorf("registry: %w", err)
	}
	st, err := openTracking(ctx, dataDirOf(*dataDir, *registry), false)
	if err != nil {
		if errors.Is(err, errNoDatabase) {
			return fmt.Errorf("%w: no prediction log to export (serve --prediction-log keeps one)", err)
		}
		return err
	}
	defer st.Close()
	var sum ops.ExportSummary
	report := stdout
	if *out != "" {
		sum, err = ops.ExportFile(ctx, st, *registry, opts, *out)
	} else {
		report = stderr // standard output is the data
		sum, err = ops.Export(ctx, st, *registry, opts, stdout)
	}
	if err != nil {
		return err
	}
	where := "standard output"
	if *out != "" {
		where = *out
	}
	fmt.Fprintf(report, "exported %d predictions of %s (%d labelled) to %s, %d bytes, sha256 %s\n",
		sum.Rows, opts.Model, sum.Labelled, where, sum.Bytes, sum.SHA256)
	if n := sum.SkippedTotal(); n > 0 {
		var why []string
		for _, k := range slices.Sorted(maps.Keys(sum.Skipped)) {
			why = append(why, fmt.Sprintf("%d: %s", sum.Skipped[k], k))
		}
		fmt.Fprintf(report, "left out %d predictions (%s)\n", n, strings.Join(why, "; "))
	}
	return nil
}
