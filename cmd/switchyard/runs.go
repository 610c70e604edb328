package main

import (
	"context"
	"fmt"
	"io"
	"strings"
	"text/tabwriter"
	"time"
)

func runRuns(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlagSet("runs", "[list | show ID] [--server URL | --registry DIR [--data-dir DIR]] [flags]", stderr)
	var o opsFlags
	o.register(fs)
	exp := fs.String("experiment-id", "", "list only this experiment's runs (default: those of every active experiment)")
	max := fs.Int("max-results", 100, "most runs listed, newest first")
	pos, err := parseInterspersed(fs, args)
	if err != nil {
		return err
	}
	sub := "list"
	if len(pos) > 0 {
		sub, pos = pos[0], pos[1:]
	}
	switch {
	case sub == "list" && len(pos) > 0:
		return usageError(fs, "runs list takes no argument, not %q", pos[0])
	case sub == "list" && *max <= 0:
		return usageError(fs, "--max-results %d is not positive", *max)
	case sub == "show" && len(pos) != 1:
		return usageError(fs, "runs show takes one run ID")
	case sub != "list" && sub != "show":
		return usageError(fs, "unknown runs command %q: use list or show", sub)
	}
	src, err := o.open(ctx)
	if err != nil {
		return err
	}
	defer src.Close()
	if sub == "show" {
		r, err := src.Run(ctx, pos[0])
		if err != nil {
			return err
		}
		printRun(stdout, r)
		return nil
	}
	var ids []string
	if *exp != "" {
		ids = []string{*exp}
	}
	runs, err := src.Runs(ctx, ids, *max)
	if err != nil {
		return err
	}
	tw := tabwriter.NewWriter(stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "RUN ID\tNAME\tEXPERIMENT\tSTATUS\tUSER\tSTART")
	for _, r := range runs {
		i := r.Info
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\n", i.RunID, orDash(i.RunName), i.ExperimentID, i.Status, orDash(i.UserID), msTime(i.StartTime))
	}
	return tw.Flush()
}

// printRun writes everything MLflow's runs/get returns of a run (its
// info, params, latest metrics and tags) with the values as runs/get
// gives them, then its datasets and the model versions it produced.
func printRun(w io.Writer, r *runView) {
	i := r.Info
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintf(tw, "run %s\n", i.RunID)
	fmt.Fprintln(tw, "info:")
	fmt.Fprintf(tw, "  run_id:\t%s\n", i.RunID)
	fmt.Fprintf(tw, "  run_name:\t%s\n", i.RunName)
	fmt.Fprintf(tw, "  experiment_id:\t%s\n", i.ExperimentID)
	fmt.Fprintf(tw, "  user_id:\t%s\n", i.UserID)
	fmt.Fprintf(tw, "  status:\t%s\n", i.Status)
	fmt.Fprintf(tw, "  start_time:\t%d (%s)\n", i.StartTime, msTime(i.StartTime))
	if i.EndTime != 0 {
		fmt.Fprintf(tw, "  end_time:\t%d (%s)\n", i.EndTime, msTime(i.EndTime))
	}
	fmt.Fprintf(tw, "  artifact_uri:\t%s\n", i.ArtifactURI)
	fmt.Fprintf(tw, "  lifecycle_stage:\t%s\n", i.LifecycleStage)
	section := func(name string, n int) bool {
		if n == 0 {
			fmt.Fprintf(tw, "%s: none\n", name)
			return false
		}
		fmt.Fprintf(tw, "%s:\n", name)
		return true
	}
	if section("params", len(r.Params)) {
		for _, p := range r.Params {
			fmt.Fprintf(tw, "  %s\t= %s\n", p.Key, p.Value)
		}
	}
	if section("metrics (latest value, step, timestamp)", len(r.Metrics)) {
		for _, m := range r.Metrics {
			fmt.Fprintf(tw, "  %s\t= %s\tstep %d\ttimestamp %d\n", m.Key, m.Value, m.Step, m.Timestamp)
		}
	}
	if section("tags", len(r.Tags)) {
		for _, t := range r.Tags {
			fmt.Fprintf(tw, "  %s\t= %s\n", t.Key, t.Value)
		}
	}
	if section("datasets", len(r.Datasets)) {
		for _, d := range trainFirst(r.Datasets, func(d datasetView) string { return d.Role }) {
			fmt.Fprintf(tw, "  %s\tsha256 %s\t%d rows\t%d columns (%s)\t%s\n", d.Role, d.SHA256, d.Rows, len(d.Columns), strings.Join(d.Columns, ", "), d.Path)
		}
	}
	if section("lineage (model versions it produced)", len(r.Versions)) {
		for _, v := range r.Versions {
			fmt.Fprintf(tw, "  %s version %d\n", v.Model, v.Version)
		}
	}
	tw.Flush()
}

// msTime formats Unix milliseconds as an RFC 3339 time in UTC.
func msTime(ms int64) string {
	if ms == 0 {
		return "-"
	}
	return time.UnixMilli(ms).UTC().Format("2006-01-02T15:04:05.000Z07:00")
}

func orDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}
