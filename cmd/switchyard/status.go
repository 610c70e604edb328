package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/switchyard-ml/switchyard/tracking"
)

func runStatus(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlagSet("status", "[MODEL] [--lineage] [--server URL | --registry DIR [--data-dir DIR]]", stderr)
	var o opsFlags
	o.register(fs)
	lineage := fs.Bool("lineage", false, "for each model, follow the serving version to its run and datasets, with their hashes")
	pos, err := parseInterspersed(fs, args)
	if err != nil {
		return err
	}
	if len(pos) > 1 {
		return usageError(fs, "status takes at most one MODEL, not %q", pos)
	}
	model := ""
	if len(pos) == 1 {
		model = pos[0]
	}
	src, err := o.open(ctx)
	if err != nil {
		return err
	}
	defer src.Close()
	models, err := src.Models(ctx, model)
	if err != nil {
		return err
	}
	if !*lineage {
		printStatus(stdout, models, src.Live())
		return nil
	}
	for i, m := range models {
		if i > 0 {
			fmt.Fprintln(stdout)
		}
		if err := printLineage(ctx, stdout, src, m); err != nil {
			return err
		}
	}
	return nil
}

// printStatus writes each version of each model: its state, its share of
// traffic, the gate's verdict and the run it came from, then the gate's
// reasons, live quality and cost of the versions that have them. On disk,
// with no server, versions have no state but "on disk", no traffic and
// no cost.
func printStatus(w io.Writer, models []modelView, live bool) {
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "MODEL\tVERSION\tSTATE\tTRAFFIC\tGATE\tRUN\tREASON")
	for _, m := range models {
		if len(m.Versions) == 0 {
			fmt.Fprintf(tw, "%s\t-\tno versions\t-\t-\t-\t-\n", m.Name)
		}
		for _, v := range m.Versions {
			traffic := "-"
			if live {
				traffic = strconv.FormatFloat(float64(v.TrafficBP)/100, 'f', -1, 64) + "%"
			}
			run := "-"
			if v.Lineage != nil && v.Lineage.RunID != "" {
				run = v.Lineage.RunID
			}
			verdict := "-"
			if v.Gate != nil {
				verdict = map[bool]string{true: "pass", false: "fail"}[v.Gate.Pass]
			}
			fmt.Fprintf(tw, "%s\t%d\t%s\t%s\t%s\t%s\t%s\n", m.Name, v.Version, v.State, traffic, verdict, run, orDash(oneLine(v.Reason)))
		}
	}
	tw.Flush()
	for _, m := range models {
		if m.Rollout != nil {
			fmt.Fprint(w, "rollout.json ")
			printState(w, m.Name, m.Rollout)
		}
		for _, v := range m.Versions {
			if g := v.Gate; g != nil && (!g.Pass || v.Version == newest(m)) {
				fmt.Fprintf(w, "gate on %s version %d: %s\n", m.Name, v.Version, strings.Join(g.Reasons, " "))
			}
		}
		for _, v := range m.Versions {
			if v.Quality != nil {
				fmt.Fprintf(w, "quality of %s version %d: %s\n", m.Name, v.Version, qualityLine(v.Quality))
			}
		}
		for _, v := range m.Versions {
			if v.Cost != nil {
				fmt.Fprintf(w, "cost of %s version %d: %s\n", m.Name, v.Version, costLine(v.Cost))
			}
		}
		if a := m.Analysis; a != nil {
			fmt.Fprintf(w, "last analysis %s: %s: %s\n", a.At.UTC().Format(time.RFC3339), a.Action, strings.Join(a.Reasons, "; "))
		}
	}
}

// qualityLine says a version's live quality in one line: its state and
// labels, then each live figure beside the gate's, CBPE's estimate and
// the alarms in force.
func qualityLine(q *qualityView) string {
	var b strings.Builder
	b.WriteString(q.Status)
	if q.Reason != "" {
		b.WriteString(" (" + oneLine(q.Reason) + ")")
	}
	fmt.Fprintf(&b, ", %d labelled", q.Labelled)
	if q.LabelledShare != nil {
		fmt.Fprintf(&b, " (%.0f%% of predictions)", 100**q.LabelledShare)
	}
	if q.Labelled > 0 {
		fmt.Fprintf(&b, ", label delay %s", time.Duration(q.LabelDelayMedianSeconds*float64(time.Second)).Round(time.Millisecond))
	}
	figure := func(name string, live, gate *float64) {
		if live == nil && gate == nil {
			return
		}
		fmt.Fprintf(&b, "; %s %s live, %s gate", name, figureText(live), figureText(gate))
	}
	figure("accuracy", q.Live.Accuracy, q.Offline.Accuracy)
	figure("auc", q.Live.AUC, q.Offline.AUC)
	figure("rmse", q.Live.RMSE, q.Offline.RMSE)
	figure("mae", q.Live.MAE, q.Offline.MAE)
	if e := q.Estimated; e != nil {
		fmt.Fprintf(&b, "; estimated accuracy %.3f, auc %s", e.Accuracy, figureText(e.AUC))
	}
	if len(q.Alarms) > 0 {
		b.WriteString("; ALARM " + strings.Join(q.Alarms, ", "))
	}
	return b.String()
}

// costLine says a version's cost in one line: its predictions, compute
// seconds, seconds per prediction and, with a price, dollars per 1,000
// predictions.
func costLine(c *costView) string {
	line := fmt.Sprintf("%d predictions, %.3fs compute, %s a prediction", c.Predictions, c.ComputeSeconds,
		time.Duration(c.SecondsPerPrediction*float64(time.Second)).Round(time.Microsecond/10))
	if c.DollarsPer1k != nil {
		line += ", $" + strconv.FormatFloat(*c.DollarsPer1k, 'g', 3, 64) + " per 1,000"
	}
	return line
}

// figureText writes a figure to three places, or "-".
func figureText(x *float64) string {
	if x == nil {
		return "-"
	}
	return strconv.FormatFloat(*x, 'f', 3, 64)
}

// newest returns the number of m's newest version, or 0.
func newest(m modelView) int {
	if len(m.Versions) == 0 {
		return 0
	}
	return m.Versions[len(m.Versions)-1].Version
}

// printLineage writes the lineage of a model's serving version: the
// version, the run that produced it, and the data that run used, with
// their hashes. On disk, with no server to say what serves, it follows
// the newest version, which a server starting now would serve once ready.
func printLineage(ctx context.Context, w io.Writer, src opsSource, m modelView) error {
	var v *versionView
	for i := range m.Versions {
		switch {
		case src.Live() && m.Versions[i].Version == m.ServingVersion:
			v = &m.Versions[i]
		case !src.Live() && i == len(m.Versions)-1:
			v = &m.Versions[i] // the newest: they are in ascending order
		}
	}
	if v == nil {
		fmt.Fprintf(w, "%s: no version serves\n", m.Name)
		return nil
	}
	if src.Live() {
		fmt.Fprintf(w, "%s: serving version %d (%s, %s%% of traffic)\n", m.Name, v.Version, v.State, strconv.FormatFloat(float64(v.TrafficBP)/100, 'f', -1, 64))
	} else {
		fmt.Fprintf(w, "%s: newest version %d (on disk; no server was asked what serves)\n", m.Name, v.Version)
	}
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	defer tw.Flush()
	fmt.Fprintf(tw, "  model.onnx\tsha256 %s\n", orDash(v.SHA256))
	lin := v.Lineage
	if lin == nil || lin.RunID == "" {
		fmt.Fprintf(tw, "  run\tnone recorded\n")
		return nil
	}
	r, err := src.Run(ctx, lin.RunID)
	switch {
	case err == nil:
		fmt.Fprintf(tw, "  run\t%s (%s, experiment %s, %s, by %s)\n", r.Info.RunID, r.Info.RunName, r.Info.ExperimentID, r.Info.Status, orDash(r.Info.UserID))
	case errors.Is(err, errNoDatabase) || errors.Is(err, errNotFound) || errors.Is(err, tracking.ErrNotFound):
		fmt.Fprintf(tw, "  run\t%s (not in the tracking store)\n", lin.RunID)
		r = nil
	default:
		return err
	}
	var rr tracking.Repro
	if r != nil {
		tags := make([]tracking.Tag, len(r.Tags))
		for i, t := range r.Tags {
			tags[i] = tracking.Tag{Key: t.Key, Value: t.Value}
		}
		rr = tracking.ReproOf(tags)
	}
	fmt.Fprintf(tw, "  code revision\t%s\n", orDash(firstOf(lin.CodeRevision, rr.CodeRevision)))
	seed := rr.Seed
	if lin.Seed != nil {
		seed = strconv.FormatInt(*lin.Seed, 10)
	}
	fmt.Fprintf(tw, "  seed\t%s\n", orDash(seed))
	// The datasets the run recorded, then those only the manifest names.
	seen := map[string]bool{}
	if r != nil {
		for _, d := range trainFirst(r.Datasets, func(d datasetView) string { return d.Role }) {
			seen[d.Role+d.SHA256] = true
			fmt.Fprintf(tw, "  %s data\tsha256 %s, %d rows, %d columns, %s\n", d.Role, d.SHA256, d.Rows, len(d.Columns), d.Path)
		}
	}
	for _, d := range []datasetView{{Role: tracking.RoleTrain, SHA256: lin.DatasetSHA256, Path: lin.DatasetPath}, {Role: tracking.RoleEval, SHA256: lin.EvalDatasetSHA256, Path: lin.EvalDatasetPath}} {
		if d.SHA256 != "" && !seen[d.Role+d.SHA256] {
			fmt.Fprintf(tw, "  %s data\tsha256 %s, %s\n", d.Role, d.SHA256, orDash(d.Path))
		}
	}
	return nil
}

// oneLine returns s with its line breaks as spaces, for a table cell.
func oneLine(s string) string {
	return strings.Join(strings.Fields(s), " ")
}
