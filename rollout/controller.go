package rollout

import (
	"context"
	"fmt"
	"log/slog"
	"strings"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// Plan computes a model's next rollout state from the one in force (nil
// without rollout.json), the version that serves now and the newest good
// version below it. PlanPromote, PlanRollback and PlanPause fit it.
type Plan func(cur *State, serving, previous int) (*State, error)

// Live is one model's rollout as the controller sees it on a tick.
type Live struct {
	Model string
	// State is the rollout.json in force; nil without one.
	State *State
	// Policy is the model's rollout policy.
	Policy Policy
	// Serving is the stable version that serves now; 0 when none does.
	Serving int
	// Newest is the newest ready version above Serving; 0 when none is.
	// NewestPublished is when it was published (its manifest's
	// created_at).
	Newest          int
	NewestPublished time.Time
	// Arms holds the statistics of the ready versions, by number, and
	// Agreements how each agreed with stable as a shadow.
	Arms       map[int]*ArmStats
	Agreements map[int]*AgreementStats
}

// Fleet is what the controller needs of the version lifecycle: the
// models' rollouts, and a way to change one. modelstore's Store
// provides it.
type Fleet interface {
	// Rollouts returns every model's rollout as it stands.
	Rollouts() []Live
	// Desire applies a plan to a model's rollout state and routes by the
	// result before it returns. Once it returns the state, the decision
	// is applied: a Fleet that cannot write rollout.json keeps the state
	// in force from memory and reports and retries the write itself, so
	// a disk never holds a rollback back. An error means nothing changed.
	Desire(ctx context.Context, model string, plan Plan) (*State, error)
}

// Auditor records the controller's decisions; the tracking store's audit
// trail provides it.
type Auditor interface {
	AuditDecision(ctx context.Context, model, action string, versions []int, reason string, details map[string]any) error
}

// Leadership says whether this replica's controller may act when several
// replicas share a registry: each decision is claimed first, and applied
// only if the claim succeeds. The claim is written fenced by the
// leader's term, so a replica that has lost the role (even before it
// knows) is refused. lead.Leader provides it.
type Leadership interface {
	Claim(ctx context.Context, model, action, reason string) error
}

// Accuracy supplies a version's live accuracy from ground-truth feedback,
// as a fraction, and false while it is unknown. The controller declares
// it; the feedback store provides it.
type Accuracy interface {
	Accuracy(model string, version int) (float64, bool)
}

// ControllerConfig configures a Controller. The zero value is valid.
type ControllerConfig struct {
	// Tick is how often the controller looks at every rollout, besides
	// when it is woken (Controller.Wake). 0 means one second.
	Tick time.Duration
	// Auditor receives each decision that changes a rollout. Nil audits
	// nowhere (the log still says).
	Auditor Auditor
	// Leadership, when set, gates every change the controller makes: a
	// replica that is not the leader judges but applies nothing, and
	// follows rollout.json as the leader writes it. Nil (one replica)
	// always acts.
	Leadership Leadership
	// Accuracy supplies live accuracy per version, for max_accuracy_drop.
	// Nil leaves accuracy unknown, and that bound unused.
	Accuracy Accuracy
	// Decisions counts the decisions that changed a rollout, by model and
	// action (start, advance, promote, rollback, inconclusive). Nil counts
	// nowhere. NewDecisionsCounter makes one.
	Decisions *prometheus.CounterVec
	// Measures holds the figures of each model's latest analysis, by
	// model and measure (candidate and stable error rate, p99 seconds,
	// score PSI, shadow agreement). Nil records them nowhere.
	// NewMeasuresGauge makes one.
	Measures *prometheus.GaugeVec
	// Logger receives decisions and alerts. Nil means slog.Default().
	Logger *slog.Logger
}

// NewMeasuresGauge creates the gauge of the controller's latest analysis
// figures and registers it with reg.
func NewMeasuresGauge(reg prometheus.Registerer) (*prometheus.GaugeVec, error) {
	g := prometheus.NewGaugeVec(prometheus.GaugeOpts{
		Name: "switchyard_rollout_analysis",
		Help: "Figures of the rollout controller's latest analysis of a model, by measure.",
	}, []string{"model", "measure"})
	if err := reg.Register(g); err != nil {
		return nil, err
	}
	return g, nil
}

// measure records the figures of an analysis: the arms' error rates and
// p99s over the window, the candidate's requests, the shadow's agreement,
// and each measure's estimate, interval bounds and p-value.
func (c *Controller) measure(model string, st Stats, d Decision) {
	g := c.cfg.Measures
	if g == nil {
		return
	}
	for name, v := range map[string]float64{
		"candidate_error_rate": st.Candidate.ErrorRate(), "stable_error_rate": st.Stable.ErrorRate(),
		"candidate_p99_seconds": st.Candidate.P99().Seconds(), "stable_p99_seconds": st.Stable.P99().Seconds(),
		"shadow_agreement": st.Agreement.Rate(), "candidate_requests": float64(st.Candidate.Requests),
	} {
		g.WithLabelValues(model, name).Set(v)
	}
	for _, m := range d.Measures {
		if m.Verdict == VerdictNotCompared || m.Verdict == VerdictNotEnough {
			continue
		}
		g.WithLabelValues(model, m.Name).Set(m.Estimate)
		g.WithLabelValues(model, m.Name+"_ci_low").Set(m.Low)
		g.WithLabelValues(model, m.Name+"_ci_high").Set(m.High)
		g.WithLabelValues(model, m.Name+"_p_value").Set(m.P)
	}
}

// NewDecisionsCounter creates the controller's decisions counter and
// registers it with reg.
func NewDecisionsCounter(reg prometheus.Registerer) (*prometheus.CounterVec, error) {
	c := prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "switchyard_rollout_decisions_total",
		Help: "Rollout decisions the controller applied, by model and action.",
	}, []string{"model", "action"})
	if err := reg.Register(c); err != nil {
		return nil, err
	}
	return c, nil
}

// Controller drives rollouts: on each tick it feeds Decide with each
// model's policy, progress and the statistics of its arms over the
// current step, and applies the decision through the Fleet, which routes
// by it (in memory first) and writes rollout.json. It also starts a rollout when a version
// newer than the stable one becomes ready and the model's on_publish asks
// for one. Run is its only goroutine; everything else is owned by it.
//
// The tick is a backstop: whoever sees a version become Ready or Failed
// calls Wake, and the controller looks at once instead of up to a tick
// later.
type Controller struct {
	fleet   Fleet
	cfg     ControllerConfig
	log     *slog.Logger
	wake    chan struct{}      // holds at most one pending wake-up
	windows map[string]*window // by model; owned by Run
	// refused holds, by model, the error of the latest decision the
	// Fleet did not apply, so that the same error is logged once, not
	// on every tick; owned by Run.
	refused map[string]string
	// last holds each model's latest analysis, published whole by Run
	// once per tick for readers on other goroutines.
	last atomic.Pointer[map[string]Analysis]
}

// Analysis is the controller's latest decision on a model, with when it
// took it: what status pages show as "the last analysis".
type Analysis struct {
	At       time.Time
	Decision Decision
}

// Analysis returns the latest analysis of a model's rollout, and false
// when the controller has taken none (no rollout in progress). Safe for
// concurrent use.
func (c *Controller) Analysis(model string) (Analysis, bool) {
	m := c.last.Load()
	if m == nil {
		return Analysis{}, false
	}
	a, ok := (*m)[model]
	return a, ok
}

// NewController returns a controller over fleet.
func NewController(fleet Fleet, cfg ControllerConfig) *Controller {
	if cfg.Tick <= 0 {
		cfg.Tick = time.Second
	}
	log := cfg.Logger
	if log == nil {
		log = slog.Default()
	}
	return &Controller{fleet: fleet, cfg: cfg, log: log, wake: make(chan struct{}, 1), windows: map[string]*window{},
		refused: map[string]string{}}
}

// Wake asks the controller to look at every rollout now rather than at
// its next tick, as when a candidate has just become Ready or Failed. It
// never blocks: wake-ups that come while one is pending are merged into
// it, and one that comes before Run starts is kept for it. Safe for
// concurrent use.
func (c *Controller) Wake() {
	select {
	case c.wake <- struct{}{}:
	default: // one is pending already
	}
}

// Run looks at every rollout on each tick and on each wake-up until ctx
// is done.
func (c *Controller) Run(ctx context.Context) {
	t := time.NewTicker(c.cfg.Tick)
	defer t.Stop()
	for {
		var now time.Time
		select {
		case <-ctx.Done():
			return
		case now = <-t.C:
		case <-c.wake:
			now = time.Now()
		}
		last := map[string]Analysis{}
		for _, l := range c.fleet.Rollouts() {
			if d, ok := c.look(ctx, l, now); ok {
				last[l.Model] = Analysis{At: now, Decision: d}
			}
		}
		c.last.Store(&last)
	}
}

// look decides and acts on one model, and returns the decision it took,
// if it judged one.
func (c *Controller) look(ctx context.Context, l Live, now time.Time) (Decision, bool) {
	st := l.State
	if st == nil || st.Candidate == 0 && st.Shadow == 0 {
		delete(c.windows, l.Model)
		// Only a version published after the last change of the state is
		// started: one a rollback left behind stays where it is.
		fresh := st == nil || l.NewestPublished.After(st.UpdatedAt)
		if fresh && l.Newest > l.Serving && l.Serving > 0 && startsRollout(l.Policy.OnPublish) {
			c.start(ctx, l, now, 0)
		}
		return Decision{}, false
	}
	if st.Paused || st.Strategy == Manual {
		return Decision{}, false
	}
	// A version ready above the one being rolled out replaces it, from
	// the first step: the newest is what its publisher means to serve,
	// as a new revision supersedes an unfinished rollout. (A retraining
	// that publishes during a canary is rolled out, not left waiting.)
	if busy := max(st.Candidate, st.Shadow); l.Newest > busy && startsRollout(l.Policy.OnPublish) {
		delete(c.windows, l.Model)
		c.start(ctx, l, now, busy)
		return Decision{}, false
	}
	cand := st.Candidate
	if cand == 0 {
		cand = st.Shadow
	}
	key := stepKey{stable: st.Stable, candidate: cand, strategy: st.Strategy, step: st.Step, weight: st.Weight}
	w := c.windows[l.Model]
	if w == nil || w.key != key {
		next := newWindow(key, now, l.Arms[st.Stable], l.Arms[cand], l.Agreements[cand])
		if w != nil && w.key.stable == key.stable {
			next.lastStable, next.lastStableSamples = w.lastStable, w.lastStableSamples
			if ended := next.stable.Sub(w.stable); ended.Requests > 0 {
				next.lastStable, next.lastStableSamples = ended, w.stableSamples.samples()
			}
		}
		w = next
		c.windows[l.Model] = w
	}
	w.drain(l.Arms[st.Stable], l.Arms[cand])
	began := w.began
	if st.UpdatedAt.After(began) {
		began = st.UpdatedAt // resumed: the clock restarts, the counts stay
	}
	stats := Stats{Candidate: snapshot(l.Arms[cand]).Sub(w.candidate), Stable: snapshot(l.Arms[st.Stable]).Sub(w.stable),
		CandidateSamples: w.candidateSamples.samples(), StableSamples: w.stableSamples.samples(),
		Agreement: agreement(l.Agreements[cand]).Sub(w.agreement)}
	if st.Weight == FullWeight {
		// Stable answers nothing now: hold the candidate to stable's last
		// window, for errors and scores.
		stats.Stable, stats.StableSamples, stats.BaselineEarlier = w.lastStable, w.lastStableSamples, true
	}
	if c.cfg.Accuracy != nil {
		if a, ok := c.cfg.Accuracy.Accuracy(l.Model, cand); ok {
			stats.CandidateAccuracy = &a
		}
		if a, ok := c.cfg.Accuracy.Accuracy(l.Model, st.Stable); ok {
			stats.StableAccuracy = &a
		}
	}
	d := Decide(l.Policy, Progress{Strategy: st.Strategy, Step: st.Step, Weight: st.Weight, Paused: st.Paused, StepStarted: began,
		AnalysedAt: w.analysedAt, Breaches: w.breaches, Passed: w.passed}, stats, now)
	if d.Analysed {
		w.analysedAt, w.breaches, w.passed = d.AnalysedAt, d.Breaches, d.Passed
	}
	c.measure(l.Model, stats, d)
	if d.Action == Hold {
		return d, true
	}
	reason := strings.Join(d.Reasons, "; ")
	if err := c.claim(ctx, l.Model, d.Action.String(), reason); err != nil {
		c.notApplied(l.Model, "rollout decision not applied: not the leader", err, "decision", d)
		return d, true
	}
	plan := func(cur *State, serving, previous int) (*State, error) {
		if cur == nil || !cur.UpdatedAt.Equal(st.UpdatedAt) {
			return nil, fmt.Errorf("%w: the state changed while the controller decided", ErrState)
		}
		next := *cur
		next.UpdatedAt, next.Actor, next.Reason = now.UTC(), "controller", reason
		switch d.Action {
		case Advance:
			next.Strategy, next.Step, next.Weight = d.Strategy, d.Step, d.Weight
			if d.Strategy != Shadow && cur.Shadow != 0 { // a shadow hands over to a canary or a switch
				next.Candidate, next.Shadow = cur.Shadow, 0
			}
		case Promote:
			next = State{Stable: cand, Strategy: cur.Strategy, UpdatedAt: next.UpdatedAt, Actor: next.Actor, Reason: reason}
		case RollBack:
			next = State{Stable: cur.Stable, Strategy: Manual, UpdatedAt: next.UpdatedAt, Actor: next.Actor, Reason: reason}
		case Inconclusive:
			next.Paused = true
		}
		return &next, nil
	}
	next, err := c.fleet.Desire(ctx, l.Model, plan)
	if err != nil {
		c.notApplied(l.Model, "rollout decision not applied", err, "decision", d)
		return d, true
	}
	c.applied(l.Model)
	if d.Action == Inconclusive {
		c.log.Warn("ALERT: rollout paused, too little traffic to judge; resume or roll back", "model", l.Model, "decision", d)
	} else {
		c.log.Info("rollout decision", "model", l.Model, "decision", d)
	}
	c.audit(ctx, l.Model, d.Action.String(), next, reason, d.Measures)
	return d, true
}

// startsRollout reports whether on_publish has the controller start a
// rollout of a newly ready version: latest and manual start none.
func startsRollout(onPublish string) bool {
	return onPublish == Canary || onPublish == BlueGreen || onPublish == Shadow
}

// start begins the rollout of a newly ready version as on_publish asks,
// in place of the rollout of version superseded, if not 0.
func (c *Controller) start(ctx context.Context, l Live, now time.Time, superseded int) {
	reason := fmt.Sprintf("version %d is ready; on_publish: %s", l.Newest, l.Policy.OnPublish)
	if superseded != 0 {
		reason += fmt.Sprintf(", superseding the rollout of version %d", superseded)
	}
	if err := c.claim(ctx, l.Model, "start", reason); err != nil {
		c.notApplied(l.Model, "rollout not started: not the leader", err, "version", l.Newest)
		return
	}
	plan := func(cur *State, serving, _ int) (*State, error) {
		ch := Change{Actor: "controller", Reason: reason, Now: now.UTC()}
		switch l.Policy.OnPublish {
		case BlueGreen: // switched by Decide once the candidate is in place
			next := &State{Stable: serving, Candidate: l.Newest, Strategy: BlueGreen, UpdatedAt: ch.Now, Actor: ch.Actor, Reason: reason}
			return next, next.check()
		case Canary:
			return PlanPromote(cur, serving, l.Newest, Canary, l.Policy.Steps[0], ch)
		}
		return PlanPromote(cur, serving, l.Newest, l.Policy.OnPublish, 0, ch)
	}
	next, err := c.fleet.Desire(ctx, l.Model, plan)
	if err != nil {
		c.notApplied(l.Model, "rollout not started", err, "version", l.Newest)
		return
	}
	c.applied(l.Model)
	c.log.Info("rollout started", "model", l.Model, "version", l.Newest, "strategy", next.Strategy)
	c.audit(ctx, l.Model, "start", next, reason, nil)
}

// claimTimeout bounds a claim's round trip to the leadership's database.
const claimTimeout = 5 * time.Second

// claim asks the leadership, if any, for the right to apply a decision.
func (c *Controller) claim(ctx context.Context, model, action, reason string) error {
	if c.cfg.Leadership == nil {
		return nil
	}
	ctx, cancel := context.WithTimeout(ctx, claimTimeout)
	defer cancel()
	return c.cfg.Leadership.Claim(ctx, model, action, reason)
}

// notApplied logs that the Fleet refused a change to model, once for
// each new error rather than on every tick.
func (c *Controller) notApplied(model, msg string, err error, attrs ...any) {
	if e := err.Error(); c.refused[model] != e {
		c.refused[model] = e
		c.log.Warn(msg, append([]any{"model", model, "error", err}, attrs...)...)
	}
}

// applied notes that the Fleet applied a change to model.
func (c *Controller) applied(model string) {
	if _, ok := c.refused[model]; ok {
		delete(c.refused, model)
		c.log.Info("rollout changes apply again", "model", model)
	}
}

// audit counts and records a decision that changed a rollout, with the
// measures of the analysis behind it (nil for none).
func (c *Controller) audit(ctx context.Context, model, action string, st *State, reason string, measures []Measure) {
	if c.cfg.Decisions != nil {
		c.cfg.Decisions.WithLabelValues(model, action).Inc()
	}
	if c.cfg.Auditor == nil {
		return
	}
	versions := []int{st.Stable}
	for _, v := range []int{st.Candidate, st.Shadow} {
		if v != 0 {
			versions = append(versions, v)
		}
	}
	details := map[string]any{"stable": st.Stable, "candidate": st.Candidate, "shadow": st.Shadow, "strategy": st.Strategy,
		"step": st.Step, "weight_bp": st.Weight, "paused": st.Paused}
	if measures != nil {
		details["analysis"] = measures
	}
	if err := c.cfg.Auditor.AuditDecision(ctx, model, action, versions, reason, details); err != nil {
		c.log.Error("rollout decision applied but not audited", "model", model, "action", action, "error", err)
	}
}

// snapshot reads an arm's counters; a version not loaded counts nothing.
func snapshot(a *ArmStats) StatsSnapshot {
	if a == nil {
		return StatsSnapshot{}
	}
	return a.Snapshot()
}

// agreement reads a shadow's agreement; a version not loaded has none.
func agreement(a *AgreementStats) Agreement {
	if a == nil {
		return Agreement{}
	}
	return a.Snapshot()
}
