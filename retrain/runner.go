package retrain

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/switchyard-ml/switchyard/modelstore"
	"github.com/switchyard-ml/switchyard/ops"
	"github.com/switchyard-ml/switchyard/tracking"
)

// Trigger is an alarm about a model, handed to Fire.
type Trigger struct {
	// Model is the model the alarm is about.
	Model string
	// Version is the version that raised it.
	Version int
	// Reason names the alarm as the retrain block's on lists it:
	// modelstore.RetrainOnDrift, RetrainOnAccuracyDrop or
	// RetrainOnEstimatedAccuracyDrop.
	Reason string
	// Message says what happened, in words, for the audit trail; may be
	// empty.
	Message string
}

// LogValue makes a Trigger a structured log attribute.
func (t Trigger) LogValue() slog.Value {
	return slog.GroupValue(slog.String("model", t.Model), slog.Int("version", t.Version), slog.String("reason", t.Reason))
}

// Policies gives a model's retrain block. RegistryPolicies reads it from
// the registry's policy.yaml files.
type Policies interface {
	// RetrainPolicy returns the model's retrain block, nil when it has
	// none (the model is never retrained), or why it cannot be read.
	RetrainPolicy(model string) (*modelstore.RetrainPolicy, error)
}

// Leadership says whether this replica may start a retraining when
// several share a registry: a run is claimed first, and started only if
// the claim succeeds; the claim is fenced by the leader's term, so a
// replica that has lost the role is refused. lead.Leader provides it.
type Leadership interface {
	Claim(ctx context.Context, model, action, reason string) error
}

// Auditor records the runs in the audit trail: *tracking.Store
// implements it.
type Auditor interface {
	Audit(ctx context.Context, e tracking.Entry) error
}

// Config configures a Runner. Zero values mean the defaults named.
type Config struct {
	// Registry is the registry directory: the export reads each
	// version's manifest there, and the command gets it in
	// SWITCHYARD_REGISTRY. Required.
	Registry string
	// DataDir is the data directory; exports are written to its retrain
	// subdirectory, and the command gets it in SWITCHYARD_DATA_DIR.
	// Required.
	DataDir string
	// Log is the prediction log exported: *tracking.Store. Required.
	Log ops.PredictionReader
	// Policies gives each model's retrain block. Required.
	Policies Policies
	// Auditor receives the audit entries (actor "retrain"); nil audits
	// nothing.
	Auditor Auditor
	// Leadership, when set, lets only the leader among replicas start a
	// run: on the others an alarm is counted as skipped (not_leader),
	// neither logged above debug nor audited, since the leader sees the
	// same alarms. Nil (one replica) always starts.
	Leadership Leadership
	// Lookback is how far back from the trigger the export reaches. 0
	// means DefaultLookback.
	Lookback time.Duration
	// Queue is how many triggers may wait for Run; past it Fire drops
	// them and counts. 0 means DefaultQueue.
	Queue int
	// OutputLimit is how many bytes of the command's output, the last
	// ones, are kept for the audit entry. 0 means DefaultOutputLimit.
	OutputLimit int
	// Withhold names environment variables the command does not inherit
	// from the server, such as its access tokens: a retraining script
	// publishes through the registry directory and needs none of them.
	Withhold []string
	// Logger receives each run's start and end and the Runner's problems;
	// nil means slog.Default().
	Logger *slog.Logger
}

// The Runner's defaults.
const (
	DefaultLookback    = 7 * 24 * time.Hour
	DefaultQueue       = 16
	DefaultOutputLimit = 64 << 10
)

// ExportDir is the subdirectory of the data directory the exports are
// written to.
const ExportDir = "retrain"

// KeepExports is how many exports of a model stay in ExportDir once a
// run ends: the newest ones.
const KeepExports = 5

// auditTimeout bounds one audit write, and claimTimeout one claim of
// the leadership.
const (
	auditTimeout = 5 * time.Second
	claimTimeout = 5 * time.Second
)

// Runner fires a model's retraining command on the alarms its policy
// lists; see the package documentation. Fire is safe for concurrent use;
// Run must be called once.
type Runner struct {
	cfg      Config
	log      *slog.Logger
	metrics  *metrics
	triggers chan Trigger
	// done receives the model of each run that ended, from the run's
	// goroutine; Run receives it.
	done chan string

	// running and lastStart are owned by Run: the models with a run in
	// progress, and when each model's last run started.
	running   map[string]bool
	lastStart map[string]time.Time
}

// New returns a Runner whose metrics are registered with reg. It fails
// when a required setting is missing or a setting is negative.
func New(cfg Config, reg prometheus.Registerer) (*Runner, error) {
	switch {
	case reg == nil:
		return nil, errors.New("retrain: a metrics registry is required")
	case cfg.Registry == "" || cfg.DataDir == "":
		return nil, errors.New("retrain: a registry and a data directory are required")
	case cfg.Log == nil || cfg.Policies == nil:
		return nil, errors.New("retrain: a prediction log and the policies are required")
	case cfg.Lookback < 0 || cfg.Queue < 0 || cfg.OutputLimit < 0:
		return nil, errors.New("retrain: negative runner setting")
	}
	cfg.Lookback = cmp.Or(cfg.Lookback, DefaultLookback)
	cfg.Queue = cmp.Or(cfg.Queue, DefaultQueue)
	cfg.OutputLimit = cmp.Or(cfg.OutputLimit, DefaultOutputLimit)
	met, err := newMetrics(reg)
	if err != nil {
		return nil, fmt.Errorf("retrain: %w", err)
	}
	return &Runner{cfg: cfg, log: cmp.Or(cfg.Logger, slog.Default()), metrics: met,
		triggers: make(chan Trigger, cfg.Queue), done: make(chan string),
		running: map[string]bool{}, lastStart: map[string]time.Time{}}, nil
}

// Fire hands t to Run without waiting: it reports false, and counts the
// trigger as dropped, when the queue is full. Safe for concurrent use,
// and from the hot path of an alarm (drift.Config.OnAlert).
func (r *Runner) Fire(t Trigger) bool {
	select {
	case r.triggers <- t:
		return true
	default:
		r.metrics.dropped.Inc()
		return false
	}
}

// Run takes the triggers and starts the runs until ctx ends; then it
// kills the commands still running (their process groups) and returns
// once their goroutines have audited them and ended.
func (r *Runner) Run(ctx context.Context) {
	var wg sync.WaitGroup
	defer wg.Wait()
	for {
		select {
		case <-ctx.Done():
			for len(r.running) > 0 {
				r.finished(<-r.done)
			}
			return
		case model := <-r.done:
			r.finished(model)
		case t := <-r.triggers:
			if ctx.Err() != nil {
				continue // ending: the next pass drains the runs
			}
			p, ok := r.admit(ctx, t)
			if !ok {
				continue
			}
			now := time.Now()
			r.running[t.Model], r.lastStart[t.Model] = true, now
			r.metrics.running.Inc()
			wg.Go(func() {
				end := r.execute(ctx, t, p, now)
				r.pruneExports(t.Model)
				r.done <- t.Model // the model is free before the trail says so
				r.audit(ctx, t, end.action, end.reason, end.details)
			})
		}
	}
}

// finished records the end of model's run.
func (r *Runner) finished(model string) {
	delete(r.running, model)
	r.metrics.running.Dec()
}

// admit decides whether t starts a run, and returns the policy it runs
// under. A trigger its policy does not list is ignored and counted; one
// that comes while the model runs or within its cooldown is skipped,
// counted, logged and audited.
func (r *Runner) admit(ctx context.Context, t Trigger) (*modelstore.RetrainPolicy, bool) {
	p, err := r.cfg.Policies.RetrainPolicy(t.Model)
	switch {
	case err != nil:
		r.metrics.skipped.WithLabelValues("policy_error").Inc()
		r.log.Error("retrain: the model's policy cannot be read; not retraining", "trigger", t, "error", err)
		return nil, false
	case !p.Fires(t.Reason):
		r.metrics.skipped.WithLabelValues("not_configured").Inc()
		r.log.Debug("retrain: the policy does not retrain on this alarm", "trigger", t)
		return nil, false
	case r.running[t.Model]:
		r.skip(ctx, t, "running", "a retraining of the model is still running", nil)
		return nil, false
	}
	if last, ok := r.lastStart[t.Model]; ok {
		if since := time.Since(last); since < p.Cooldown {
			r.skip(ctx, t, "cooldown", fmt.Sprintf("the last retraining started %v ago, within the cooldown of %v",
				since.Round(time.Second), p.Cooldown), map[string]any{"last_start": last.UTC(), "cooldown": p.Cooldown.String()})
			return nil, false
		}
	}
	if r.cfg.Leadership != nil {
		cctx, cancel := context.WithTimeout(ctx, claimTimeout)
		err := r.cfg.Leadership.Claim(cctx, t.Model, "retrain_started", t.Reason+" alarm")
		cancel()
		if err != nil {
			r.metrics.skipped.WithLabelValues("not_leader").Inc()
			r.log.Debug("retrain: not the leader; the leader retrains", "trigger", t, "error", err)
			return nil, false
		}
	}
	return p, true
}

// skip counts, logs and audits a trigger skipped for why (a metric
// label) because of what.
func (r *Runner) skip(ctx context.Context, t Trigger, why, what string, details map[string]any) {
	r.metrics.skipped.WithLabelValues(why).Inc()
	r.log.Info("retrain: skipped: "+what, "trigger", t)
	if details == nil {
		details = map[string]any{}
	}
	details["reason"], details["skipped"] = t.Reason, why
	r.audit(ctx, t, "retrain_skipped", fmt.Sprintf("%s alarm: %s", t.Reason, what), details)
}

// audit appends an entry about t, even once ctx has ended (a run killed
// at shutdown is still recorded), within auditTimeout.
func (r *Runner) audit(ctx context.Context, t Trigger, action, reason string, details map[string]any) {
	if r.cfg.Auditor == nil {
		return
	}
	actx, cancel := context.WithTimeout(context.WithoutCancel(ctx), auditTimeout)
	defer cancel()
	err := r.cfg.Auditor.Audit(actx, tracking.Entry{Actor: "retrain", Action: action, Model: t.Model,
		Versions: []int{t.Version}, Reason: reason, Details: details})
	if err != nil {
		r.log.Error("retrain: not audited", "action", action, "trigger", t, "error", err)
	}
}

// exportPath is where the export of a run of model started at start is
// written.
func (r *Runner) exportPath(model string, start time.Time) string {
	return filepath.Join(r.cfg.DataDir, ExportDir, model+"-"+start.UTC().Format(exportTime)+".csv")
}

// exportTime is the layout of the time in an export's name.
const exportTime = "20060102T150405.000000000Z"

// pruneExports removes model's exports but the newest KeepExports, once
// a run has ended, so that the data directory does not fill with them;
// the audit trail keeps each one's sha256.
func (r *Runner) pruneExports(model string) {
	dir := filepath.Join(r.cfg.DataDir, ExportDir)
	entries, err := os.ReadDir(dir)
	if err != nil {
		r.log.Error("retrain: the old exports could not be listed", "model", model, "error", err)
		return
	}
	var mine []string // ReadDir sorts by name, so oldest first
	for _, e := range entries {
		stamp, ok := strings.CutPrefix(e.Name(), model+"-")
		if stamp, ok2 := strings.CutSuffix(stamp, ".csv"); ok && ok2 && e.Type().IsRegular() {
			if _, err := time.Parse(exportTime, stamp); err == nil {
				mine = append(mine, e.Name())
			}
		}
	}
	for _, name := range mine[:max(0, len(mine)-KeepExports)] {
		if err := os.Remove(filepath.Join(dir, name)); err != nil {
			r.log.Error("retrain: an old export could not be removed", "model", model, "export", name, "error", err)
		}
	}
}
