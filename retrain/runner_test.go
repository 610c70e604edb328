package retrain_test

import (
	"bufio"
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/switchyard-ml/switchyard/internal/testenv"
	"github.com/switchyard-ml/switchyard/modelstore"
	"github.com/switchyard-ml/switchyard/retrain"
	"github.com/switchyard-ml/switchyard/tracking"
)

func TestMain(m *testing.M) { testenv.Main(m) }

// fixture is a registry with model "m" (a classifier of 3 inputs) and a
// tracking store whose prediction log holds 10 of its predictions, 4 of
// them labelled.
type fixture struct {
	reg, data string
	st        *tracking.Store
}

func newFixture(t *testing.T) *fixture {
	t.Helper()
	f := &fixture{reg: t.TempDir(), data: t.TempDir()}
	if _, err := modelstore.Publish(f.reg, "m", testenv.Classifier(4, 2, 0), modelstore.PublishOptions{CreatedBy: "test"}); err != nil {
		t.Fatal(err)
	}
	st, err := tracking.Open(context.Background(), f.data, tracking.Config{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	f.st = st
	ps := make([]tracking.Prediction, 10)
	var labels []tracking.Label
	for i := range ps {
		in := make([]byte, 0, 12)
		for _, x := range []float32{float32(i), 0.5, -1} {
			in = binary.LittleEndian.AppendUint32(in, math.Float32bits(x))
		}
		ps[i] = tracking.Prediction{ID: fmt.Sprintf("p%d", i), Model: "m", Version: 1, Inputs: in, Scores: []float64{0.25}}
		if i%3 == 0 {
			labels = append(labels, tracking.Label{PredictionID: ps[i].ID, Value: []byte(strconv.Itoa(i % 2))})
		}
	}
	if err := st.LogPredictions(context.Background(), ps); err != nil {
		t.Fatal(err)
	}
	if _, err := st.Feedback(context.Background(), labels); err != nil {
		t.Fatal(err)
	}
	return f
}

// policy writes m's policy.yaml with a retrain block: on, the command
// /bin/sh script args..., and the rest (cooldown, timeout) as YAML lines.
func (f *fixture) policy(t *testing.T, on, script string, args []string, rest string) {
	t.Helper()
	argv := []string{"/bin/sh", script}
	argv = append(argv, args...)
	for i := range argv {
		argv[i] = strconv.Quote(argv[i])
	}
	text := fmt.Sprintf("retrain:\n  on: [%s]\n  command: [%s]\n%s", on, strings.Join(argv, ", "), rest)
	if err := os.WriteFile(filepath.Join(f.reg, "m", modelstore.PolicyFile), []byte(text), 0o644); err != nil {
		t.Fatal(err)
	}
}

// script writes a shell script into a temporary directory.
func script(t *testing.T, body string) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "retrain.sh")
	if err := os.WriteFile(path, []byte("set -e\n"+body), 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

// start runs a Runner over f until the test ends, and returns it with its
// metrics registry and a stop function that ends Run and waits for it.
func (f *fixture) start(t *testing.T, cfg retrain.Config) (*retrain.Runner, *prometheus.Registry, func()) {
	t.Helper()
	cfg.Registry, cfg.DataDir, cfg.Log, cfg.Auditor = f.reg, f.data, f.st, f.st
	cfg.Policies = retrain.RegistryPolicies(f.reg)
	cfg.Logger = slog.New(slog.DiscardHandler)
	reg := prometheus.NewPedanticRegistry()
	r, err := retrain.New(cfg, reg)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	wg.Go(func() { r.Run(ctx) })
	stop := sync.OnceFunc(func() { cancel(); wg.Wait() })
	t.Cleanup(stop)
	return r, reg, stop
}

// actions returns the model's audit trail of the retrain actor, oldest
// first.
func (f *fixture) actions(t *testing.T) []tracking.Entry {
	t.Helper()
	es, err := f.st.AuditLog(context.Background(), tracking.AuditQuery{Model: "m"})
	if err != nil {
		t.Fatal(err)
	}
	var out []tracking.Entry
	for _, e := range slices.Backward(es) {
		if e.Actor == "retrain" {
			out = append(out, e)
		}
	}
	return out
}

// waitFor waits until the retrain actor's audit trail holds the actions
// want, in order, and returns its entries.
func (f *fixture) waitFor(t *testing.T, want ...string) []tracking.Entry {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for {
		es := f.actions(t)
		var got []string
		for _, e := range es {
			got = append(got, e.Action)
		}
		if slices.Equal(got, want) {
			return es
		}
		if time.Now().After(deadline) {
			t.Fatalf("audit trail %v; want %v", got, want)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// drift is a drift alarm of m's version 1.
var drift = retrain.Trigger{Model: "m", Version: 1, Reason: modelstore.RetrainOnDrift, Message: "the dataset drifts"}

func TestRunnerRunsTheCommandWithTheExport(t *testing.T) {
	f := newFixture(t)
	out := filepath.Join(t.TempDir(), "env.txt")
	// The command records its environment and its export, then writes
	// more output than is kept.
	sc := script(t, `env > "$1"
cp "$SWITCHYARD_EXPORT" "$1.csv"
i=0
while [ $i -lt 2000 ]; do echo "line $i of the retraining's output"; i=$((i+1)); done
echo "the end" >&2
`)
	f.policy(t, "drift, accuracy_drop", sc, []string{out}, "")
	t.Setenv("SWITCHYARD_TOKENS", "ci write s3cret") // the server's tokens stay with it
	t.Setenv("SWITCHYARD_KEPT", "yes")
	r, reg, _ := f.start(t, retrain.Config{OutputLimit: 1000, Withhold: []string{"SWITCHYARD_TOKENS"}})
	if !r.Fire(drift) {
		t.Fatal("Fire on an empty queue = false")
	}
	es := f.waitFor(t, "retrain_started", "retrain_finished")

	env := map[string]string{}
	raw, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	for sc := bufio.NewScanner(bytes.NewReader(raw)); sc.Scan(); {
		k, v, _ := strings.Cut(sc.Text(), "=")
		env[k] = v
	}
	export, err := os.ReadFile(out + ".csv")
	if err != nil {
		t.Fatal(err)
	}
	sum := sha256.Sum256(export)
	want := map[string]string{"SWITCHYARD_EXPORT_SHA256": hex.EncodeToString(sum[:]), "SWITCHYARD_EXPORT_ROWS": "4",
		"SWITCHYARD_REGISTRY": f.reg, "SWITCHYARD_DATA_DIR": f.data, "SWITCHYARD_MODEL": "m", "SWITCHYARD_VERSION": "1",
		"SWITCHYARD_REASON": "drift", "PATH": os.Getenv("PATH"), "SWITCHYARD_KEPT": "yes"}
	for k, v := range want {
		if env[k] != v {
			t.Errorf("the command's %s = %q; want %q", k, env[k], v)
		}
	}
	if v, ok := env["SWITCHYARD_TOKENS"]; ok {
		t.Errorf("the command inherited SWITCHYARD_TOKENS=%q, which Withhold names", v)
	}
	if dir, name := filepath.Split(env["SWITCHYARD_EXPORT"]); filepath.Clean(dir) != filepath.Join(f.data, retrain.ExportDir) ||
		!strings.HasPrefix(name, "m-") || !strings.HasSuffix(name, ".csv") {
		t.Errorf("SWITCHYARD_EXPORT = %q; want DATA/retrain/m-TIME.csv", env["SWITCHYARD_EXPORT"])
	}
	lines := strings.Split(strings.TrimSpace(string(export)), "\n")
	if len(lines) != 5 || !strings.HasPrefix(lines[0], "prediction_id,time,version,arm,input_0,input_1,input_2,score,label") ||
		!strings.HasPrefix(lines[1], "p0,") || !strings.HasPrefix(lines[4], "p9,") {
		t.Errorf("the export holds %q; want the header and the 4 labelled predictions", lines)
	}

	started, finished := es[0], es[1]
	if started.Details["export"] != env["SWITCHYARD_EXPORT"] || started.Details["export_sha256"] != want["SWITCHYARD_EXPORT_SHA256"] ||
		started.Details["rows"] != 4.0 || started.Details["reason"] != "drift" || !slices.Equal(started.Versions, []int{1}) ||
		!strings.Contains(started.Reason, "the dataset drifts") {
		t.Errorf("retrain_started = %+v", started)
	}
	output, _ := finished.Details["output"].(string)
	if finished.Details["exit_status"] != 0.0 || finished.Details["output_truncated"] != true || len(output) > 1100 ||
		!strings.HasPrefix(output, "[truncated: the last 1000 of ") || !strings.HasSuffix(output, "line 1999 of the retraining's output\nthe end\n") {
		t.Errorf("retrain_finished = %+v; want exit 0 and the last 1000 bytes of the output", finished.Details)
	}
	if n := value(t, reg, "switchyard_retrain_runs_total", "succeeded"); n != 1 {
		t.Errorf("succeeded runs = %v; want 1", n)
	}
}

// value returns the value of the counter or gauge name with the label
// value label (or the unlabelled series), gathered from reg; 0 when it
// has no such series.
func value(t *testing.T, reg *prometheus.Registry, name, label string) float64 {
	t.Helper()
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, mf := range mfs {
		if mf.GetName() != name {
			continue
		}
		for _, m := range mf.GetMetric() {
			if label == "" || len(m.GetLabel()) > 0 && m.GetLabel()[0].GetValue() == label {
				return m.GetCounter().GetValue() + m.GetGauge().GetValue()
			}
		}
	}
	return 0
}

// TestRunnerOneAtATimeThenCooldown: a second alarm while the first run
// goes on is skipped; one after it, within the cooldown, too; an alarm
// the policy does not list is ignored.
func TestRunnerOneAtATimeThenCooldown(t *testing.T) {
	f := newFixture(t)
	gate := filepath.Join(t.TempDir(), "go")
	sc := script(t, `while [ ! -e "$1" ]; do sleep 0.01; done
echo released
`)
	f.policy(t, "drift", sc, []string{gate}, "  cooldown: 1h\n")
	r, reg, _ := f.start(t, retrain.Config{})
	r.Fire(drift)
	f.waitFor(t, "retrain_started")
	r.Fire(drift)
	es := f.waitFor(t, "retrain_started", "retrain_skipped")
	if es[1].Details["skipped"] != "running" {
		t.Errorf("skipped while running: %+v", es[1])
	}
	if n := value(t, reg, "switchyard_retrain_running", ""); n != 1 {
		t.Errorf("running = %v; want 1", n)
	}
	if err := os.WriteFile(gate, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	f.waitFor(t, "retrain_started", "retrain_skipped", "retrain_finished")

	r.Fire(retrain.Trigger{Model: "m", Version: 1, Reason: modelstore.RetrainOnAccuracyDrop}) // not in on: ignored
	r.Fire(drift)
	es = f.waitFor(t, "retrain_started", "retrain_skipped", "retrain_finished", "retrain_skipped")
	if es[3].Details["skipped"] != "cooldown" || !strings.Contains(es[3].Reason, "within the cooldown of 1h0m0s") {
		t.Errorf("skipped in the cooldown: %+v", es[3])
	}
	for reason, want := range map[string]float64{"running": 1, "cooldown": 1, "not_configured": 1} {
		if n := value(t, reg, "switchyard_retrain_skipped_total", reason); n != want {
			t.Errorf("skipped %s = %v; want %v", reason, n, want)
		}
	}
	if n := value(t, reg, "switchyard_retrain_running", ""); n != 0 {
		t.Errorf("running = %v; want 0", n)
	}

	// No cooldown: the next alarm runs again once the first has ended.
	f.policy(t, "drift", sc, []string{gate}, "  cooldown: 0s\n")
	r.Fire(drift)
	f.waitFor(t, "retrain_started", "retrain_skipped", "retrain_finished", "retrain_skipped", "retrain_started", "retrain_finished")
}

// TestRunnerTimeoutKillsTheProcessGroup: at the timeout the command and
// the child it started are killed, and the run is audited as failed.
func TestRunnerTimeoutKillsTheProcessGroup(t *testing.T) {
	f := newFixture(t)
	pidFile := filepath.Join(t.TempDir(), "child.pid")
	sc := script(t, `sleep 60 &
echo $! > "$1"
echo started a child
wait
`)
	f.policy(t, "drift", sc, []string{pidFile}, "  timeout: 500ms\n")
	r, reg, _ := f.start(t, retrain.Config{})
	r.Fire(drift)
	es := f.waitFor(t, "retrain_started", "retrain_failed")
	if es[1].Details["result"] != "timeout" || !strings.Contains(es[1].Reason, "killed at the policy's timeout of 500ms") ||
		es[1].Details["output"] != "started a child\n" {
		t.Errorf("retrain_failed = %+v", es[1])
	}
	raw, err := os.ReadFile(pidFile)
	if err != nil {
		t.Fatal(err)
	}
	pid, err := strconv.Atoi(strings.TrimSpace(string(raw)))
	if err != nil {
		t.Fatal(err)
	}
	waitGone(t, pid)
	if n := value(t, reg, "switchyard_retrain_runs_total", "timeout"); n != 1 {
		t.Errorf("timeout runs = %v; want 1", n)
	}
}

// waitGone waits until process pid no longer runs (gone, or a zombie
// waiting for a parent that does not reap it).
func waitGone(t *testing.T, pid int) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		err := syscall.Kill(pid, 0)
		stat, _ := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
		if errors.Is(err, syscall.ESRCH) || zombie(stat) {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("process %d (the command's child) still runs: %s", pid, stat)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// zombie reports whether /proc/PID/stat says the process is a zombie.
func zombie(stat []byte) bool {
	i := bytes.LastIndexByte(stat, ')')
	return i >= 0 && len(stat) > i+2 && stat[i+2] == 'Z'
}

// TestRunnerFailures: a command exiting non-zero, one that cannot start
// and a run cut short by the Runner stopping are audited as failed.
func TestRunnerFailures(t *testing.T) {
	f := newFixture(t)
	f.policy(t, "drift", script(t, "echo oops >&2\nexit 3\n"), nil, "  cooldown: 0s\n")
	r, reg, stop := f.start(t, retrain.Config{})
	r.Fire(drift)
	es := f.waitFor(t, "retrain_started", "retrain_failed")
	if es[1].Details["exit_status"] != 3.0 || es[1].Details["output"] != "oops\n" || !strings.Contains(es[1].Reason, "exited with status 3") {
		t.Errorf("non-zero exit: %+v", es[1])
	}

	if err := os.WriteFile(filepath.Join(f.reg, "m", modelstore.PolicyFile),
		[]byte("retrain:\n  on: [drift]\n  command: [/nonexistent/retrain]\n  cooldown: 0s\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	r.Fire(drift)
	es = f.waitFor(t, "retrain_started", "retrain_failed", "retrain_started", "retrain_failed")
	if !strings.Contains(es[3].Reason, "could not start") {
		t.Errorf("a command that cannot start: %+v", es[3])
	}

	f.policy(t, "drift", script(t, "echo waiting\nsleep 60\n"), nil, "  cooldown: 0s\n")
	r.Fire(drift)
	f.waitFor(t, "retrain_started", "retrain_failed", "retrain_started", "retrain_failed", "retrain_started")
	stop() // returns once the run is killed and audited
	es = f.actions(t)
	if len(es) != 6 || es[5].Action != "retrain_failed" || es[5].Details["result"] != "stopped" {
		t.Fatalf("after stop the trail ends with %+v; want retrain_failed, stopped", es[len(es)-1])
	}
	if n := value(t, reg, "switchyard_retrain_runs_total", "failed"); n != 2 {
		t.Errorf("failed runs = %v; want 2", n)
	}

	// An invalid policy.yaml starts nothing.
	if err := os.WriteFile(filepath.Join(f.reg, "m", modelstore.PolicyFile), []byte("retrain:\n  on: [drift]\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := retrain.RegistryPolicies(f.reg).RetrainPolicy("m"); !errors.Is(err, modelstore.ErrPolicy) {
		t.Errorf("RetrainPolicy of a policy without a command = %v; want ErrPolicy", err)
	}
	if p, err := retrain.RegistryPolicies(f.reg).RetrainPolicy("other"); p != nil || err != nil {
		t.Errorf("RetrainPolicy of a model without policy.yaml = %v, %v; want none", p, err)
	}
}

func TestRunnerFullQueueDropsAndCounts(t *testing.T) {
	f := newFixture(t)
	reg := prometheus.NewPedanticRegistry()
	r, err := retrain.New(retrain.Config{Registry: f.reg, DataDir: f.data, Log: f.st, Policies: retrain.RegistryPolicies(f.reg), Queue: 1}, reg)
	if err != nil {
		t.Fatal(err)
	}
	if !r.Fire(drift) || r.Fire(drift) || r.Fire(drift) {
		t.Error("Fire on a queue of 1 with nothing taking: want true, then false")
	}
	if n := value(t, reg, "switchyard_retrain_dropped_total", ""); n != 2 {
		t.Errorf("dropped = %v; want 2", n)
	}
}

func TestNewFailure(t *testing.T) {
	f := newFixture(t)
	good := retrain.Config{Registry: f.reg, DataDir: f.data, Log: f.st, Policies: retrain.RegistryPolicies(f.reg)}
	for name, cfg := range map[string]retrain.Config{
		"no registry":     {DataDir: f.data, Log: f.st, Policies: good.Policies},
		"no data dir":     {Registry: f.reg, Log: f.st, Policies: good.Policies},
		"no log":          {Registry: f.reg, DataDir: f.data, Policies: good.Policies},
		"no policies":     {Registry: f.reg, DataDir: f.data, Log: f.st},
		"negative queue":  {Registry: f.reg, DataDir: f.data, Log: f.st, Policies: good.Policies, Queue: -1},
		"negative output": {Registry: f.reg, DataDir: f.data, Log: f.st, Policies: good.Policies, OutputLimit: -1},
	} {
		if _, err := retrain.New(cfg, prometheus.NewPedanticRegistry()); err == nil {
			t.Errorf("New with %s = nil error", name)
		}
	}
	if _, err := retrain.New(good, nil); err == nil {
		t.Error("New without a registry of metrics = nil error")
	}
}

// TestRunnerExportsTheAlarmedVersionWhenColumnsDiffer: a version whose
// input columns differ from the others' cannot share a CSV with them, so
// the run exports the version that alarmed.
func TestRunnerExportsTheAlarmedVersionWhenColumnsDiffer(t *testing.T) {
	f := newFixture(t)
	features := []modelstore.Feature{{Name: "a", Type: modelstore.TypeNumber, Position: 0}, {Name: "b", Type: modelstore.TypeNumber, Position: 1},
		{Name: "c", Type: modelstore.TypeNumber, Position: 2}}
	if _, err := modelstore.Publish(f.reg, "m", testenv.Classifier(1, 1, 1), modelstore.PublishOptions{CreatedBy: "test", Features: features}); err != nil {
		t.Fatal(err)
	}
	f.policy(t, "drift", script(t, "head -1 \"$SWITCHYARD_EXPORT\"\n"), nil, "")
	r, _, _ := f.start(t, retrain.Config{})
	r.Fire(drift)
	es := f.waitFor(t, "retrain_started", "retrain_finished")
	if es[0].Details["export_version"] != 1.0 || es[0].Details["rows"] != 4.0 ||
		!strings.HasPrefix(es[1].Details["output"].(string), "prediction_id,time,version,arm,input_0,input_1,input_2,") {
		t.Errorf("run over versions with different columns: started %+v, finished %+v; want version 1's export", es[0].Details, es[1].Details)
	}
}

// TestRunnerKeepsTheNewestExports: once a run ends, the model's exports
// but the newest retrain.KeepExports are gone; other files stay.
func TestRunnerKeepsTheNewestExports(t *testing.T) {
	f := newFixture(t)
	dir := filepath.Join(f.data, retrain.ExportDir)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	var old []string
	for i := range retrain.KeepExports + 2 {
		old = append(old, fmt.Sprintf("m-2020010%dT000000.000000000Z.csv", i+1))
	}
	others := []string{"m2-20200101T000000.000000000Z.csv", "m-notes.csv", "m-x-20200101T000000.000000000Z.csv"}
	for _, name := range append(slices.Clone(old), others...) {
		if err := os.WriteFile(filepath.Join(dir, name), []byte("x\n"), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	f.policy(t, "drift", script(t, "exit 0\n"), nil, "")
	r, _, _ := f.start(t, retrain.Config{})
	r.Fire(drift)
	es := f.waitFor(t, "retrain_started", "retrain_finished")
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, e := range entries {
		got = append(got, e.Name())
	}
	want := append(slices.Clone(old[3:]), filepath.Base(es[0].Details["export"].(string)))
	want = append(want, others...)
	slices.Sort(want)
	if !slices.Equal(got, want) {
		t.Errorf("the export directory holds %q; want %q", got, want)
	}
}
