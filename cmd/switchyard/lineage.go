package main

import (
	"cmp"
	"context"
	"errors"
	"flag"
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/switchyard-ml/switchyard/engine"
	"github.com/switchyard-ml/switchyard/ops"
	"github.com/switchyard-ml/switchyard/tracking"
)

// dataDirOf returns the data directory: dir when set, else the default
// beside the registry's models.
func dataDirOf(dir, registry string) string {
	if dir != "" {
		return dir
	}
	return filepath.Join(registry, ".switchyard")
}

// envTrackingDSN names the PostgreSQL database that holds the tracking
// store, for serve (--tracking-dsn) and every verb that opens the store.
const envTrackingDSN = "SWITCHYARD_TRACKING_DSN"

// openTracking opens the tracking store: the PostgreSQL database of
// $SWITCHYARD_TRACKING_DSN when it is set, else the one in the data
// directory, created when create is set. Without create, a data
// directory with no database is errNoDatabase, so that reading verbs
// leave no file behind.
func openTracking(ctx context.Context, dataDir string, create bool) (*tracking.Store, error) {
	dsn := os.Getenv(envTrackingDSN)
	if !create && dsn == "" {
		if _, err := os.Stat(filepath.Join(dataDir, tracking.FileName)); errors.Is(err, fs.ErrNotExist) {
			return nil, fmt.Errorf("%w in %s", errNoDatabase, dataDir)
		}
	}
	return openTrackingStore(ctx, dsn, dataDir, tracking.Config{})
}

// openTrackingStore opens the tracking store on the PostgreSQL database
// dsn, or when dsn is empty on the SQLite file in dataDir; the
// prediction log stays in dataDir either way.
func openTrackingStore(ctx context.Context, dsn, dataDir string, cfg tracking.Config) (*tracking.Store, error) {
	if dsn != "" {
		return tracking.OpenPostgres(ctx, dsn, dataDir, cfg)
	}
	return tracking.Open(ctx, dataDir, cfg)
}

// errNoDatabase is returned by openTracking when there is no database to
// read.
var errNoDatabase = errors.New("no tracking database (tracking.db)")

// kvFlag is a repeatable KEY=VALUE flag.
type kvFlag struct {
	keys, values []string
	// number requires each value to be a float.
	number bool
}

// String implements flag.Value.
func (f *kvFlag) String() string {
	if f == nil {
		return ""
	}
	out := make([]string, len(f.keys))
	for i := range f.keys {
		out[i] = f.keys[i] + "=" + f.values[i]
	}
	return strings.Join(out, ",")
}

// Set implements flag.Value: it refuses a value without '=' or with an
// empty key, and, for a number flag, a value that is not a number.
func (f *kvFlag) Set(s string) error {
	k, v, ok := strings.Cut(s, "=")
	k = strings.TrimSpace(k)
	if !ok || k == "" {
		return fmt.Errorf("%q is not KEY=VALUE", s)
	}
	if f.number {
		if _, err := strconv.ParseFloat(strings.TrimSpace(v), 64); err != nil {
			return fmt.Errorf("%q: %q is not a number", s, v)
		}
		v = strings.TrimSpace(v)
	}
	f.keys, f.values = append(f.keys, k), append(f.values, v)
	return nil
}

// params returns the flag's pairs as run parameters.
func (f *kvFlag) params() []tracking.Param {
	out := make([]tracking.Param, len(f.keys))
	for i := range f.keys {
		out[i] = tracking.Param{Key: f.keys[i], Value: f.values[i]}
	}
	return out
}

// metrics returns the flag's pairs as metrics measured at ms, step 0.
func (f *kvFlag) metrics(ms int64) []tracking.Metric {
	out := make([]tracking.Metric, len(f.keys))
	for i := range f.keys {
		v, _ := strconv.ParseFloat(f.values[i], 64) // checked by Set
		out[i] = tracking.Metric{Key: f.keys[i], Value: v, Timestamp: ms}
	}
	return out
}

// isSet reports whether the flag named name was given on the command line.
func isSet(fs *flag.FlagSet, name string) bool {
	set := false
	fs.Visit(func(f *flag.Flag) { set = set || f.Name == name })
	return set
}

// gitRevision returns `git rev-parse HEAD` run in the current directory,
// or "" when git or a repository is missing.
func gitRevision(ctx context.Context) string {
	ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	out, err := exec.CommandContext(ctx, "git", "rev-parse", "HEAD").Output()
	if err != nil {
		return ""
	}
	return strings.TrimSpace(string(out))
}

// environment returns the reproducibility record's environment: this
// binary's Go and onnxruntime releases, the OS and architecture, and the
// command line `switchyard VERB ARGS...`, quoted for a POSIX shell.
func environment(verb string, args []string) tracking.Repro {
	words := []string{"switchyard", verb}
	for _, a := range args {
		words = append(words, shellQuote(a))
	}
	return tracking.Repro{GoVersion: runtime.Version(), ORTVersion: engine.ORTVersion, OS: runtime.GOOS, Arch: runtime.GOARCH,
		CommandLine: strings.Join(words, " ")}
}

// shellQuote returns s as one word of a POSIX shell.
func shellQuote(s string) string {
	safe := s != ""
	for _, c := range s {
		safe = safe && (c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || strings.ContainsRune("@%+=:,./_-", c))
	}
	if safe {
		return s
	}
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}

// newRun is a run that a publish creates to record how a version came to
// be.
type newRun struct {
	// experiment names the run's experiment, created when missing; empty
	// means the default experiment.
	experiment string
	name, user string
	params     []tracking.Param
	metrics    []tracking.Metric
	repro      tracking.Repro
}

// check reports what the store would refuse in the run's params, metrics
// and tags, before anything is written.
func (r *newRun) check() error {
	return tracking.CheckBatch(r.metrics, r.params, r.repro.Tags())
}

// start finds or creates the experiment, then creates the run, RUNNING,
// with its reproducibility record as tags, and logs its params and
// metrics.
func (r *newRun) start(ctx context.Context, st *tracking.Store) (*tracking.Run, error) {
	expID := tracking.DefaultExperimentID
	if r.experiment != "" {
		e, err := st.ExperimentByName(ctx, r.experiment)
		switch {
		case errors.Is(err, tracking.ErrNotFound):
			if expID, err = st.CreateExperiment(ctx, r.experiment, "", nil); err != nil {
				return nil, fmt.Errorf("create experiment %q: %w", r.experiment, err)
			}
		case err != nil:
			return nil, fmt.Errorf("experiment %q: %w", r.experiment, err)
		case e.LifecycleStage != tracking.StageActive:
			return nil, fmt.Errorf("experiment %q is deleted", r.experiment)
		default:
			expID = e.ID
		}
	}
	run, err := st.CreateRun(ctx, tracking.RunSpec{ExperimentID: expID, UserID: r.user, RunName: r.name, Tags: r.repro.Tags()})
	if err != nil {
		return nil, fmt.Errorf("create run: %w", err)
	}
	if err := st.LogBatch(ctx, run.Info.RunID, r.metrics, r.params, nil); err != nil {
		return run, fmt.Errorf("log run %s: %w", run.Info.RunID, err)
	}
	return run, nil
}

// useDatasets records the datasets a run used.
func useDatasets(ctx context.Context, st *tracking.Store, runID string, uses []tracking.DatasetUse) error {
	for _, u := range uses {
		if err := st.UseDataset(ctx, runID, u.Role, u.Dataset); err != nil {
			return fmt.Errorf("record %s data %s: %w", u.Role, u.Path, err)
		}
	}
	return nil
}

// endRun marks a run that a publish created as ended with status.
func endRun(ctx context.Context, st *tracking.Store, runID, status string) error {
	if _, err := st.UpdateRun(ctx, runID, tracking.RunUpdate{Status: status, EndTime: time.Now().UnixMilli()}); err != nil {
		return fmt.Errorf("end run %s: %w", runID, err)
	}
	return nil
}

// publishVersion publishes model as the next version of name in the
// registry, with its lineage and audit entry recorded in st, through ops:
// all of it or, on error, none of it.
func publishVersion(ctx context.Context, st *tracking.Store, registry, name string, model []byte, spec ops.PublishSpec) (int, error) {
	svc, err := ops.New(ops.Config{Registry: registry, Tracking: st})
	if err != nil {
		return 0, err
	}
	return svc.Publish(ctx, name, model, spec)
}

// sortedParams returns m as params sorted by key.
func sortedParams(m map[string]string) []tracking.Param {
	out := make([]tracking.Param, 0, len(m))
	for k, v := range m {
		out = append(out, tracking.Param{Key: k, Value: v})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Key < out[j].Key })
	return out
}

// trainFirst returns datasets ordered by role, training data first, for
// reading.
func trainFirst[D any](ds []D, role func(D) string) []D {
	out := slices.Clone(ds)
	rank := func(d D) int {
		if role(d) == tracking.RoleTrain {
			return 0
		}
		return 1
	}
	slices.SortStableFunc(out, func(a, b D) int { return cmp.Compare(rank(a), rank(b)) })
	return out
}
