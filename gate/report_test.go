package gate_test

import (
	"fmt"
	"math"
	"strings"
	"testing"

	"github.com/switchyard-ml/switchyard/gate"
)

// cells splits a markdown table row into its trimmed cells.
func cells(line string) []string {
	parts := strings.Split(strings.Trim(line, "|"), " | ")
	for i := range parts {
		parts[i] = strings.TrimSpace(parts[i])
	}
	return parts
}

func TestMarkdownOfRun(t *testing.T) {
	set := binarySet(t, 30, true, slicePart{country: "FR", rows: 400}, slicePart{country: "DE", rows: 150})
	stable := subject(t, "version 3", good())
	p := gate.Policy{
		Slices:  &gate.SlicePolicy{Feature: "country"},
		Metrics: map[string]gate.Threshold{gate.MetricAUC: {Min: ptr(0.7), MaxRegression: ptr(0.01)}},
	}
	v := run(t, p, set, subject(t, "version 4", worse()), &stable)
	md := v.Markdown()
	t.Logf("\n%s", md)
	lines := strings.Split(strings.TrimSuffix(md, "\n"), "\n")

	if want := "## FAIL: version 4 against version 3 on 550 rows"; lines[0] != want {
		t.Fatalf("heading %q; want %q", lines[0], want)
	}
	if lines[1] != "" {
		t.Fatalf("line 2 %q; want a blank line", lines[1])
	}
	header := "| metric | slice | candidate | stable | change | threshold | result |"
	if lines[2] != header || lines[3] != "| --- | --- | --- | --- | --- | --- | --- |" {
		t.Fatalf("table head\n%s\n%s\nwant\n%s", lines[2], lines[3], header)
	}
	rows := lines[4 : 4+len(v.Metrics)]
	for i, m := range v.Metrics {
		c := cells(rows[i])
		if len(c) != 7 || c[0] != m.Name {
			t.Fatalf("row %d %q; want 7 cells for %s", i, rows[i], m.Name)
		}
	}
	// The whole set's AUC row, with its numbers, change, threshold and
	// result.
	auc := metric(t, v, "auc", "")
	c := cells(rows[1])
	want := []string{"auc", "all", fmt.Sprintf("%.4g", float64(auc.Candidate)), fmt.Sprintf("%.4g", float64(auc.Stable)),
		fmt.Sprintf("%.4g", float64(auc.Candidate-auc.Stable)), "min 0.7, max_regression 0.01", "**FAIL**"}
	if strings.Join(c, "|") != strings.Join(want, "|") {
		t.Fatalf("auc row %q; want %q", c, want)
	}
	// A slice row names its slice and rows; an unheld metric shows dashes.
	de := cells(rows[13]) // after the whole set's 13 metrics
	if de[1] != "country=DE (150 rows)" || de[0] != "accuracy" || de[5] != "—" || de[6] != "—" {
		t.Fatalf("DE accuracy row %q; want slice country=DE (150 rows), no threshold", de)
	}
	if lines[4+len(v.Metrics)] != "" {
		t.Fatalf("no blank line after the table: %q", lines[4+len(v.Metrics)])
	}
	reasons := lines[5+len(v.Metrics):]
	if len(reasons) != len(v.Reasons) || len(reasons) == 0 {
		t.Fatalf("%d reason lines for %d reasons", len(reasons), len(v.Reasons))
	}
	for i, r := range v.Reasons {
		if reasons[i] != "- "+r {
			t.Fatalf("reason line %q; want %q", reasons[i], "- "+r)
		}
	}
}

func TestMarkdownColumns(t *testing.T) {
	nan := gate.Number(math.NaN())
	v := &gate.Verdict{Pass: true, Candidate: "version 1", Rows: 10,
		Metrics: []gate.Metric{
			{Name: "auc", Rows: 10, Candidate: 0.81234567, Stable: nan, Pass: true},
			{Name: "rows_per_second", Rows: 10, Candidate: 123456.7, Stable: nan, Pass: true},
			{Name: "ece", Rows: 10, Candidate: nan, Stable: nan, Pass: true},
		},
		Reasons: []string{"version 1 passed | the sanity checks on 10 rows."}}
	want := "## PASS: version 1 on 10 rows\n\n" +
		"| metric | candidate | threshold | result |\n" +
		"| --- | --- | --- | --- |\n" +
		"| auc | 0.8123 | — | — |\n" +
		"| rows_per_second | 123457 | — | — |\n" +
		"| ece | — | — | — |\n\n" +
		"- version 1 passed | the sanity checks on 10 rows.\n"
	if got := v.Markdown(); got != want {
		t.Fatalf("Markdown() =\n%s\nwant\n%s", got, want)
	}

	// Close values get the digits that tell them apart; a pipe in a cell
	// is escaped.
	v = &gate.Verdict{Candidate: "version 2", Stable: "version 1", Rows: 10,
		Metrics: []gate.Metric{{Name: "accuracy", Slice: "city=a|b", Rows: 3, Candidate: 0.912345, Stable: 0.912349,
			Threshold: &gate.Threshold{MaxRegressionPct: ptr(1.0)}, Pass: false}},
		Reasons: []string{"r"}}
	if got, want := strings.Split(v.Markdown(), "\n")[4],
		`| accuracy | city=a\|b (3 rows) | 0.91234 | 0.91235 | -4e-06 | max_regression_pct 1 | **FAIL** |`; got != want {
		t.Fatalf("row %s; want %s", got, want)
	}

	if got, want := gate.Refuse("version 2", "no model.onnx.").Markdown(), "## FAIL: version 2 (not evaluated)\n\n- no model.onnx.\n"; got != want {
		t.Fatalf("Markdown() = %q; want %q", got, want)
	}
}
