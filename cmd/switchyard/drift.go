package main

import (
	"cmp"
	"context"
	"fmt"
	"io"
	"maps"
	"net/http"
	"net/url"
	"os"
	"slices"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/switchyard-ml/switchyard/drift"
)

// runDrift prints a running server's drift report of a model as a table:
// GET /admin/models/{m}/drift. The report lives in the server's monitor,
// so there is no offline form.
func runDrift(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlagSet("drift", "MODEL [--version V] [--server URL]", stderr)
	server := fs.String("server", "http://localhost:8080", "`URL` of the running switchyard whose drift monitor to ask")
	token := fs.String("token", cmp.Or(os.Getenv("SWITCHYARD_TOKEN"), os.Getenv(envAdminToken)), "bearer token for --server (default $SWITCHYARD_TOKEN, else $SWITCHYARD_ADMIN_TOKEN)")
	version := fs.Int("version", 0, "only this version (default: every version the monitor has seen)")
	pos, err := parseInterspersed(fs, args)
	if err != nil {
		return err
	}
	if len(pos) != 1 {
		return usageError(fs, "drift takes one MODEL, not %q", pos)
	}
	if *version < 0 {
		return usageError(fs, "--version %d: want a positive version", *version)
	}
	base := strings.TrimRight(*server, "/")
	if !strings.Contains(base, "://") {
		base = "http://" + base
	}
	if _, err := url.Parse(base); err != nil {
		return fmt.Errorf("--server: %w", err)
	}
	src := &remoteSource{base: base, token: *token, client: &http.Client{Timeout: 30 * time.Second}}
	q := url.Values{}
	if *version > 0 {
		q.Set("version", strconv.Itoa(*version))
	}
	var rep drift.Report
	if err := src.get(ctx, "/admin/models/"+url.PathEscape(pos[0])+"/drift", q, &rep); err != nil {
		return err
	}
	printDrift(stdout, &rep)
	return nil
}

// printDrift writes each version's report: its status, then the newest
// full window's table of features and the prediction, then the dataset's
// verdict.
func printDrift(w io.Writer, rep *drift.Report) {
	if len(rep.Versions) == 0 {
		fmt.Fprintf(w, "%s: no drift report yet: the monitor has seen no request of it\n", rep.Model)
		return
	}
	for i, v := range rep.Versions {
		if i > 0 {
			fmt.Fprintln(w)
		}
		fmt.Fprintf(w, "%s version %d: %s (sample %g)\n", rep.Model, v.Version, v.Status, v.Sample)
		if v.Reason != "" {
			fmt.Fprintf(w, "  %s\n", oneLine(v.Reason))
		}
		if v.Window != nil {
			printWindow(w, "window", v.Window)
		}
		if v.Current != nil {
			printWindow(w, "current (rolling)", v.Current)
		}
	}
}

func printWindow(w io.Writer, what string, r *drift.WindowReport) {
	dataset := "no"
	if r.DatasetDrift {
		dataset = "YES"
	}
	fmt.Fprintf(w, "%s %s .. %s, %d rows: dataset drift %s (%.2f of the features)\n", what,
		r.Start.UTC().Format(time.RFC3339), r.End.UTC().Format(time.RFC3339), r.Rows, dataset, r.DatasetShare)
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "  FEATURE\tTEST\tSTATISTIC\tP-VALUE\tTHRESHOLD\tDRIFT\tREFERENCE\tCURRENT")
	row := func(name string, res *drift.Result) {
		p := "-"
		if res.PValue != nil {
			p = strconv.FormatFloat(*res.PValue, 'g', 4, 64)
		}
		d := "no"
		if res.Drifted {
			d = "YES"
		}
		fmt.Fprintf(tw, "  %s\t%s\t%.4g\t%s\t%g\t%s\t%s\t%s\n", name, res.Test, res.Statistic, p, res.Threshold, d,
			summary(&res.Reference), summary(&res.Current))
	}
	for i := range r.Features {
		row(r.Features[i].Column, &r.Features[i])
	}
	if r.Prediction != nil {
		row(r.Prediction.Column+" (prediction)", r.Prediction)
	}
	tw.Flush()
	for _, p := range r.Problems {
		fmt.Fprintf(w, "  not judged: %s\n", oneLine(p))
	}
}

// summary describes a distribution in a few words: mean and std, or the
// most frequent values with their shares.
func summary(s *drift.Summary) string {
	switch {
	case s.Mean != nil && s.Std != nil:
		return fmt.Sprintf("mean %.4g sd %.4g", *s.Mean, *s.Std)
	case len(s.Top) > 0:
		keys := slices.SortedFunc(maps.Keys(s.Top), func(a, b string) int {
			return cmp.Or(cmp.Compare(s.Top[b], s.Top[a]), cmp.Compare(a, b))
		})
		parts := make([]string, 0, min(len(keys), 3))
		for _, k := range keys[:min(len(keys), 3)] {
			parts = append(parts, fmt.Sprintf("%s %.0f%%", k, 100*s.Top[k]))
		}
		return strings.Join(parts, ", ")
	}
	return "-"
}
