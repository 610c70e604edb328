package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"
	"text/tabwriter"

	"github.com/switchyard-ml/switchyard/modelstore"
	"github.com/switchyard-ml/switchyard/tracking"
)

const reproSynopsis = `MODEL VERSION [--registry DIR] [--data-dir DIR] [--check FILE]

Prints how VERSION of MODEL was made: its run, code revision, seed, datasets
with their sha256, parameters, metrics and environment. With --check FILE,
compares FILE (a model rebuilt from that record) with the version's
model.onnx: exit status 0 when bit-exact, 1 when not.`

func runRepro(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlagSet("repro", reproSynopsis, stderr)
	registry := fs.String("registry", "registry", "registry directory")
	dataDir := fs.String("data-dir", "", "tracking database and artifacts (default REGISTRY/.switchyard)")
	check := fs.String("check", "", "a rebuilt model `FILE` to compare, byte for byte, with the version's model.onnx")
	pos, err := parseInterspersed(fs, args)
	if err != nil {
		return err
	}
	if len(pos) != 2 {
		return usageError(fs, "repro takes a MODEL and a VERSION")
	}
	model := pos[0]
	version, err := strconv.Atoi(pos[1])
	if err != nil || version <= 0 || !modelstore.ValidName(model) {
		return usageError(fs, "%q version %q: want a model name and a positive version number", model, pos[1])
	}
	mf, err := modelstore.ReadManifest(modelstore.VersionDir(*registry, model, version))
	if err != nil {
		return fmt.Errorf("%s version %d: %w", model, version, err)
	}
	var rebuilt string
	if *check != "" {
		data, err := os.ReadFile(*check)
		if err != nil {
			return fmt.Errorf("--check: %w", err)
		}
		rebuilt = hexSHA256(data)
	}

	lin := mf.Lineage
	if lin == nil {
		lin = &modelstore.Lineage{}
	}
	var run *tracking.Run
	st, err := openTracking(ctx, dataDirOf(*dataDir, *registry), false)
	switch {
	case errors.Is(err, errNoDatabase):
	case err != nil:
		return err
	default:
		defer st.Close()
		id := lin.RunID
		if id == "" {
			if id, err = st.VersionRun(ctx, model, version); err != nil && !errors.Is(err, tracking.ErrNotFound) {
				return err
			}
		}
		if id != "" {
			if run, err = st.Run(ctx, id); err != nil && !errors.Is(err, tracking.ErrNotFound) {
				return err
			}
		}
	}
	printRepro(stdout, model, version, mf, run)

	if *check == "" {
		return nil
	}
	if rebuilt == mf.SHA256 {
		fmt.Fprintf(stdout, "check %s: sha256 %s, bit-exact with %s version %d\n", *check, rebuilt, model, version)
		return nil
	}
	fmt.Fprintf(stdout, "check %s: sha256 %s, not bit-exact: %s version %d has sha256 %s\n", *check, rebuilt, model, version, mf.SHA256)
	return errFailed
}

// printRepro writes a version's reproducibility record in a stable order:
// what it is, its run, code revision and seed, its datasets, the run's
// params and metrics, then the environment it was recorded in. What is
// not known reads "not recorded".
func printRepro(w io.Writer, model string, version int, mf *modelstore.Manifest, run *tracking.Run) {
	lin := mf.Lineage
	if lin == nil {
		lin = &modelstore.Lineage{}
	}
	var rr tracking.Repro
	if run != nil {
		rr = tracking.ReproOf(run.Tags)
	}
	na := func(s string) string {
		if s == "" {
			return "not recorded"
		}
		return s
	}
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	defer tw.Flush()
	fmt.Fprintf(tw, "%s version %d\n", model, version)
	fmt.Fprintf(tw, "  model.onnx\tsha256 %s\n", mf.SHA256)
	switch {
	case run != nil:
		fmt.Fprintf(tw, "  run\t%s (%s, experiment %s, %s, by %s)\n", run.Info.RunID, run.Info.RunName, run.Info.ExperimentID, run.Info.Status, orDash(run.Info.UserID))
	case lin.RunID != "":
		fmt.Fprintf(tw, "  run\t%s (not in the tracking store)\n", lin.RunID)
	default:
		fmt.Fprintf(tw, "  run\tnot recorded\n")
	}
	fmt.Fprintf(tw, "  code revision\t%s\n", na(firstOf(rr.CodeRevision, lin.CodeRevision)))
	seed := rr.Seed
	if seed == "" && lin.Seed != nil {
		seed = strconv.FormatInt(*lin.Seed, 10)
	}
	fmt.Fprintf(tw, "  seed\t%s\n", na(seed))

	// Datasets: those the run recorded, then hashes only its tags or the
	// manifest name.
	seen := map[string]bool{}
	if run != nil {
		for _, d := range trainFirst(run.Datasets, func(d tracking.DatasetUse) string { return d.Role }) {
			seen[d.Role+d.SHA256] = true
			fmt.Fprintf(tw, "  %s data\tsha256 %s, %d rows, %d columns (%s), %s\n", d.Role, d.SHA256, d.Rows, len(d.Columns), strings.Join(d.Columns, ", "), d.Path)
		}
	}
	for _, d := range []struct{ role, sha, path string }{
		{tracking.RoleTrain, firstOf(rr.TrainSHA256, lin.DatasetSHA256), lin.DatasetPath},
		{tracking.RoleEval, firstOf(rr.EvalSHA256, lin.EvalDatasetSHA256), lin.EvalDatasetPath},
	} {
		switch {
		case d.sha != "" && !seen[d.role+d.sha]:
			fmt.Fprintf(tw, "  %s data\tsha256 %s, %s\n", d.role, d.sha, orDash(d.path))
		case d.sha == "" && (d.role == tracking.RoleTrain || mf.EvalLabel != ""):
			fmt.Fprintf(tw, "  %s data\tnot recorded\n", d.role)
		}
	}

	if run != nil {
		for _, p := range run.Params {
			fmt.Fprintf(tw, "  param %s\t%s\n", p.Key, p.Value)
		}
		for _, m := range run.Metrics {
			fmt.Fprintf(tw, "  metric %s\t%s\n", m.Key, metricValue(m.Value))
		}
	} else {
		for _, p := range sortedParams(lin.Params) {
			fmt.Fprintf(tw, "  param %s\t%s\n", p.Key, p.Value)
		}
	}
	osArch := ""
	if rr.OS != "" || rr.Arch != "" {
		osArch = rr.OS + "/" + rr.Arch
	}
	fmt.Fprintf(tw, "  go\t%s\n", na(rr.GoVersion))
	fmt.Fprintf(tw, "  onnxruntime\t%s\n", na(rr.ORTVersion))
	fmt.Fprintf(tw, "  os/arch\t%s\n", na(osArch))
	fmt.Fprintf(tw, "  command line\t%s\n", na(rr.CommandLine))
}
