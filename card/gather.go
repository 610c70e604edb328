package card

import (
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"path/filepath"
	"slices"
	"strconv"

	"github.com/switchyard-ml/switchyard/engine"
	"github.com/switchyard-ml/switchyard/gate"
	"github.com/switchyard-ml/switchyard/modelstore"
	"github.com/switchyard-ml/switchyard/tracking"
)

// Store is what a card reads from the tracking store: the run behind a
// version, the gate's verdicts and the audit trail. *tracking.Store
// implements it.
type Store interface {
	Run(ctx context.Context, id string) (*tracking.Run, error)
	VersionRun(ctx context.Context, model string, version int) (string, error)
	Verdicts(ctx context.Context, q tracking.VerdictQuery) ([]tracking.Verdict, error)
	AuditLog(ctx context.Context, q tracking.AuditQuery) ([]tracking.Entry, error)
}

// LiveVerdicts gives the gate's verdict on a version a running server
// holds in memory: nil when it has not judged the version (or has
// unloaded it).
type LiveVerdicts interface {
	Verdict(model string, version int) *gate.Verdict
}

// Sources are where Gather reads what the manifest does not hold.
type Sources struct {
	// Store is the tracking store; nil when there is none, and the
	// sections that need it say so.
	Store Store
	// Live, when not nil, gives the verdict of a loaded version when the
	// store has none (a server that runs without tracking).
	Live LiveVerdicts
}

// MaxHistory is how many audit entries a card's rollout history shows at
// most: the newest.
const MaxHistory = 100

// lifecycleActions are the audit actions a rollout history leaves out:
// a process loading or draining a version says where it ran, not what
// was decided about it.
var lifecycleActions = []string{"loaded", "drained"}

// Gather returns the card of version of model, whose directory in the
// registry is dir: the manifest and ONNX graph from dir, the rest from
// src. A version without a manifest (not in the registry, or
// incomplete) fails with an error wrapping modelstore.ErrNotFound, an
// unreadable manifest with its error. Whatever else cannot be read,
// src's store failing included, leaves its section empty and says why in
// Card.Missing. It is safe for concurrent use if src is.
func Gather(ctx context.Context, src Sources, model string, version int, dir string) (*Card, error) {
	mf, err := modelstore.ReadManifest(dir)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, fmt.Errorf("%w: model %q version %d", modelstore.ErrNotFound, model, version)
	}
	if err != nil {
		return nil, fmt.Errorf("card of %s version %d: %w", model, version, err)
	}
	c := &Card{Model: model, Version: version, SHA256: mf.SHA256, Notes: mf.Description,
		Published: Published{At: mf.CreatedAt, By: mf.CreatedBy}, History: []Event{}, Missing: []Missing{}}
	c.graph(dir, mf)
	if len(mf.Features) > 0 {
		c.Schema = &Schema{Features: mf.Features, UnknownFields: cmp.Or(mf.UnknownFields, modelstore.UnknownReject)}
	} else {
		c.miss(SectionSchema, "the version has no feature schema (publish --schema): it takes V2 tensor requests only")
	}
	c.performance(ctx, src, version)
	c.training(ctx, src.Store, mf)
	c.history(ctx, src.Store)
	c.task()
	if text, err := modelstore.ReadCard(dir, mf); err != nil {
		c.miss(SectionCardText, err.Error())
	} else {
		c.CardText = text
	}
	return c, nil
}

// miss records why section is empty or partial.
func (c *Card) miss(section, reason string) {
	c.Missing = append(c.Missing, Missing{Section: section, Reason: reason})
}

// graph fills c.Graph from the version's ONNX file and manifest.
func (c *Card) graph(dir string, mf *modelstore.Manifest) {
	g := &c.Graph
	g.Kind, g.Opsets, g.Operators, g.Inputs, g.Outputs, g.Classes = "unclassified", []Opset{}, []Operator{},
		[]modelstore.ManifestTensor{}, []modelstore.ManifestTensor{}, []string{}
	if s := mf.Signature; s != nil {
		g.Inputs, g.Outputs = s.Inputs, s.Outputs
	} else {
		c.miss(SectionGraph, "the manifest records no signature (the version was placed by hand); GET /v2/models/{model}/versions/{version} gives it once the version is loaded")
	}
	eg, err := engine.ReadGraphFile(filepath.Join(dir, modelstore.ModelFile))
	if err != nil {
		c.miss(SectionGraph, "the ONNX graph cannot be read: "+err.Error())
	} else {
		g.Producer, g.IRVersion, g.Description = eg.ProducerName, eg.IRVersion, eg.DocString
		if eg.ProducerVersion != "" {
			g.Producer += " " + eg.ProducerVersion
		}
		for _, o := range eg.Opsets {
			g.Opsets = append(g.Opsets, Opset{Domain: o.Domain, Version: o.Version})
		}
		for _, o := range eg.Ops {
			g.Operators = append(g.Operators, Operator{Domain: o.Domain, Type: o.Type, Count: o.Count})
		}
		g.Kind, g.Task = kindOf(eg.Ops)
	}
	switch {
	case len(mf.Classes) > 0:
		g.Classes, g.ClassesFrom = mf.Classes, "manifest"
	case eg != nil && len(eg.ClassLabels) > 0:
		g.Classes, g.ClassesFrom = eg.ClassLabels, "graph"
	}
}

// performance fills c.Performance from the store's latest verdict on the
// version, else the live one.
func (c *Card) performance(ctx context.Context, src Sources, version int) {
	var reason string
	if src.Store != nil {
		vs, err := src.Store.Verdicts(ctx, tracking.VerdictQuery{Model: c.Model, Version: version, Limit: 1})
		switch {
		case err != nil:
			reason = "the tracking store cannot be read: " + err.Error()
		case len(vs) > 0:
			var v gate.Verdict
			if err := json.Unmarshal(vs[0].Detail, &v); err != nil {
				c.miss(SectionPerformance, fmt.Sprintf("the verdict recorded at %s cannot be read: %v", vs[0].Time.UTC(), err))
				return
			}
			c.Performance = performanceOf(&v)
			c.Performance.JudgedAt = vs[0].Time.UTC()
			return
		default:
			reason = "the gate has not judged this version: no verdict is recorded"
		}
	} else {
		reason = "no tracking store holds the gate's verdicts"
	}
	if src.Live != nil {
		if v := src.Live.Verdict(c.Model, version); v != nil {
			c.Performance = performanceOf(v)
			return
		}
		reason += ", and the server has not judged it since it started"
	}
	c.miss(SectionPerformance, reason)
}

// performanceOf returns v as a card's performance, with empty lists in
// place of nil ones.
func performanceOf(v *gate.Verdict) *Performance {
	p := &Performance{Pass: v.Pass, Candidate: v.Candidate, Baseline: v.Stable, Rows: v.Rows,
		Metrics: v.Metrics, Reasons: v.Reasons}
	if p.Metrics == nil {
		p.Metrics = []gate.Metric{}
	}
	if p.Reasons == nil {
		p.Reasons = []string{}
	}
	return p
}

// training fills c.Training from the manifest's lineage and the run the
// store holds.
func (c *Card) training(ctx context.Context, st Store, mf *modelstore.Manifest) {
	lin := mf.Lineage
	if lin == nil {
		lin = &modelstore.Lineage{}
	}
	runID := lin.RunID
	if runID == "" && st != nil {
		id, err := st.VersionRun(ctx, c.Model, c.Version)
		if err != nil && !errors.Is(err, tracking.ErrNotFound) {
			c.miss(SectionTraining, "the tracking store cannot be read: "+err.Error())
		}
		runID = id
	}
	if runID == "" && lin.DatasetSHA256 == "" && lin.EvalDatasetSHA256 == "" {
		c.miss(SectionTraining, "no lineage is recorded: the version names no run and no data")
		return
	}
	t := &Training{RunID: runID, CodeRevision: lin.CodeRevision, Datasets: []Dataset{}, Params: []Param{}, Metrics: []Metric{}}
	if lin.Seed != nil {
		t.Seed = strconv.FormatInt(*lin.Seed, 10)
	}
	c.Training = t
	var run *tracking.Run
	switch {
	case runID == "":
		c.miss(SectionTraining, "no run is recorded, only the data")
	case st == nil:
		c.miss(SectionTraining, "no tracking store: the run's parameters, metrics and the data's rows and columns are not known")
	default:
		r, err := st.Run(ctx, runID)
		switch {
		case errors.Is(err, tracking.ErrNotFound):
			c.miss(SectionTraining, fmt.Sprintf("run %s is not in the tracking store", runID))
		case err != nil:
			c.miss(SectionTraining, "the tracking store cannot be read: "+err.Error())
		default:
			run = r
		}
	}
	seen := map[string]bool{}
	if run != nil {
		t.RunName, t.ExperimentID, t.Status, t.User = run.Info.RunName, run.Info.ExperimentID, run.Info.Status, run.Info.UserID
		rr := tracking.ReproOf(run.Tags)
		t.CodeRevision, t.Seed = cmp.Or(t.CodeRevision, rr.CodeRevision), cmp.Or(t.Seed, rr.Seed)
		for _, p := range run.Params {
			t.Params = append(t.Params, Param{Key: p.Key, Value: p.Value})
		}
		for _, m := range run.Metrics {
			t.Metrics = append(t.Metrics, Metric{Key: m.Key, Value: gate.Number(m.Value)})
		}
		for _, d := range run.Datasets {
			rows := d.Rows
			seen[d.Role+d.SHA256] = true
			t.Datasets = append(t.Datasets, Dataset{Role: d.Role, Path: d.Path, SHA256: d.SHA256, Rows: &rows, Columns: d.Columns})
		}
	}
	for _, d := range []Dataset{{Role: tracking.RoleTrain, SHA256: lin.DatasetSHA256, Path: lin.DatasetPath},
		{Role: tracking.RoleEval, SHA256: lin.EvalDatasetSHA256, Path: lin.EvalDatasetPath}} {
		if d.SHA256 != "" && !seen[d.Role+d.SHA256] {
			t.Datasets = append(t.Datasets, d)
		}
	}
	slices.SortStableFunc(t.Datasets, func(a, b Dataset) int { return cmp.Compare(roleRank(a.Role), roleRank(b.Role)) })
	slices.SortFunc(t.Params, func(a, b Param) int { return cmp.Compare(a.Key, b.Key) })
	slices.SortFunc(t.Metrics, func(a, b Metric) int { return cmp.Compare(a.Key, b.Key) })
}

// roleRank orders the training data before the evaluation data.
func roleRank(role string) int {
	if role == tracking.RoleTrain {
		return 0
	}
	return 1
}

// history fills c.History, and who published the version and why, from
// the audit trail.
func (c *Card) history(ctx context.Context, st Store) {
	if st == nil {
		c.miss(SectionHistory, "no tracking store holds the audit trail")
		return
	}
	entries, err := st.AuditLog(ctx, tracking.AuditQuery{Model: c.Model, Version: c.Version, ExceptActions: lifecycleActions, Limit: MaxHistory + 1})
	if err != nil {
		c.miss(SectionHistory, "the audit trail cannot be read: "+err.Error())
		return
	}
	if len(entries) > MaxHistory {
		entries = entries[:MaxHistory]
		c.miss(SectionHistory, fmt.Sprintf("only the newest %d entries are shown; switchyard audit %s lists them all", MaxHistory, c.Model))
	}
	for _, e := range slices.Backward(entries) {
		c.History = append(c.History, Event{Time: e.Time.UTC(), Actor: e.Actor, Action: e.Action, Versions: e.Versions, Reason: e.Reason})
	}
	pub, err := st.AuditLog(ctx, tracking.AuditQuery{Model: c.Model, Version: c.Version, Actions: []string{"publish"}, Limit: 1})
	if err == nil && len(pub) == 1 {
		c.Published.Actor, c.Published.Reason = pub[0].Actor, pub[0].Reason
	}
}

// task settles c.Graph.Task when the operators did not: classes make a
// classifier, and so do the gate's classification metrics; its
// regression metrics make a regressor.
func (c *Card) task() {
	g := &c.Graph
	switch {
	case g.Task != "":
	case len(g.Classes) > 0:
		g.Task = TaskClassifier
	case c.Performance != nil:
		for _, m := range c.Performance.Metrics {
			switch m.Name {
			case gate.MetricAUC, gate.MetricAccuracy, gate.MetricLogLoss, gate.MetricF1:
				g.Task = TaskClassifier
			case gate.MetricRMSE, gate.MetricMAE, gate.MetricR2:
				g.Task = TaskRegressor
			}
		}
	}
}
