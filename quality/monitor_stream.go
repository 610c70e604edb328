package quality

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"math"
	"os"
	"path/filepath"
	"slices"
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// stream is one version's state in the monitor, owned by Run.
type stream struct {
	key       streamKey
	desc      Description
	policy    Policy
	policyErr error
	// live is the window of labelled predictions, nil when the version
	// is not measured; liveAt holds their prediction times in the order
	// added, bounded like live, for the span the labelled share is over.
	live   *Window
	liveAt []time.Time
	// cal is the version's calibration, nil when it has none, and
	// calReason then says why there is no estimate.
	cal       *Calibration
	calReason string
	// scores is the CBPE window: the scores of the latest predictions of
	// one row, at most policy.Window, none older than policy.MaxAge.
	scores []scoredAt
	// counts are the predictions logged per minute, for the labelled
	// share, since countingSince.
	counts        []minuteCount
	countingSince time.Time
	// byClass are the version's series of predictions by class, by class
	// index, made as each class is first predicted.
	byClass []prometheus.Counter
	// backfilled holds the ids read from History whose label was joined
	// after the monitor started, which the feed may deliver again.
	backfilled map[string]struct{}
	unusable   int
	next       time.Time
	// alarmed is each alarm reason's state.
	alarmed map[string]bool
}

type scoredAt struct {
	at    time.Time
	score float64
}

type minuteCount struct {
	minute int64
	n      int
}

// stream returns the stream of key, opening it when the version is seen
// for the first time; nil when the version does not serve.
func (m *Monitor) stream(ctx context.Context, key streamKey) *stream {
	if st := m.streams[key]; st != nil {
		return st
	}
	desc, ok := m.cfg.Versions.Describe(key.model, key.version)
	if !ok {
		return nil
	}
	st := &stream{key: key, desc: desc, alarmed: map[string]bool{}, next: m.cfg.now()}
	m.readPolicy(st)
	switch {
	case desc.Problem != "" || desc.Kind == "":
		st.desc.Kind = ""
		if st.desc.Problem == "" {
			st.desc.Problem = "the monitor cannot tell what the version predicts"
		}
		m.log.Warn("quality: version not measured", "model", key.model, "version", key.version, "reason", st.desc.Problem)
	default:
		m.readCalibration(st)
		m.fill(ctx, st)
	}
	m.streams[key] = st
	m.publish(st, VersionReport{Version: key.version, Kind: st.desc.Kind, Status: StatusWaiting,
		Reason: "not judged yet", Offline: desc.Offline, MinLabels: st.policy.MinLabels, Alarms: []string{}})
	return st
}

// readPolicy reads the version's quality settings in force; a refused
// policy keeps the last one that was valid (the defaults at first), and
// the version's report says why.
func (m *Monitor) readPolicy(st *stream) {
	p, err := m.cfg.Versions.Policy(st.key.model)
	if err == nil {
		err = p.Validate()
	}
	if err != nil {
		if st.policy.Window == 0 {
			st.policy = DefaultPolicy()
		}
		if st.policyErr == nil || st.policyErr.Error() != err.Error() {
			m.log.Error("quality: policy refused", "model", st.key.model, "version", st.key.version, "error", err)
		}
		st.policyErr = err
		return
	}
	st.policy, st.policyErr = p, nil
}

// readCalibration reads the version's calibration, once.
func (m *Monitor) readCalibration(st *stream) {
	if st.desc.Kind != Binary {
		st.calReason = "CBPE estimates binary classifiers only"
		return
	}
	data, err := os.ReadFile(filepath.Join(st.desc.Dir, CalibrationFile))
	switch {
	case errors.Is(err, fs.ErrNotExist):
		st.calReason = fmt.Sprintf("version %d has no %s: publish it with an eval set to estimate its quality before labels arrive", st.key.version, CalibrationFile)
	case err != nil:
		st.calReason = fmt.Sprintf("read %s: %v", CalibrationFile, err)
	default:
		st.cal, err = ParseCalibration(data)
		if err != nil {
			st.cal, st.calReason = nil, fmt.Sprintf("%s: %v", CalibrationFile, err)
		}
	}
	if st.cal == nil {
		m.log.Info("quality: no estimate before labels", "model", st.key.model, "version", st.key.version, "reason", st.calReason)
	}
}

// fill starts st's live window for its policy and fills it from History
// with the labelled predictions of the policy's max_age.
func (m *Monitor) fill(ctx context.Context, st *stream) {
	w, err := NewWindow(Config{Kind: st.desc.Kind, Classes: st.desc.ClassCount, MaxCount: st.policy.Window, MaxAge: st.policy.MaxAge})
	if err != nil {
		st.desc.Kind, st.desc.Problem = "", fmt.Sprintf("the monitor cannot measure the version: %v", err)
		return
	}
	st.live, st.liveAt, st.backfilled = w, nil, map[string]struct{}{}
	if m.cfg.History == nil {
		return
	}
	now := m.cfg.now()
	read := 0
	for p, err := range m.cfg.History.Labelled(ctx, st.key.model, st.key.version, now.Add(-st.policy.MaxAge), st.policy.Window) {
		if err != nil {
			m.log.Error("quality: the window was not filled from the log", "model", st.key.model, "version", st.key.version,
				"read", read, "error", err)
			break
		}
		l := copyLabelled(p)
		if err := st.addLabelled(l); err != nil {
			st.unusable++
			continue
		}
		read++
		if !l.labelledAt.Before(m.started) {
			st.backfilled[l.id] = struct{}{}
		}
	}
	if read > 0 {
		m.log.Info("quality: window filled from the log", "model", st.key.model, "version", st.key.version, "labelled", read)
	}
}

// addLabelled adds l to the live window.
func (st *stream) addLabelled(l labelled) error {
	if st.live == nil {
		return fmt.Errorf("version %d is not measured: %s", st.key.version, st.desc.Problem)
	}
	r, err := st.desc.record(l)
	if err != nil {
		return err
	}
	if err := st.live.Add(r); err != nil {
		return err
	}
	if len(st.liveAt) == st.policy.Window {
		// Reslicing, not shifting: append moves the rest when it grows.
		st.liveAt = st.liveAt[1:]
	}
	st.liveAt = append(st.liveAt, l.at)
	return nil
}

// addScored counts a logged prediction and keeps its score for CBPE.
func (st *stream) addScored(s scored) {
	if st.live == nil {
		return
	}
	minute := s.at.Unix() / 60
	if st.countingSince.IsZero() {
		st.countingSince = time.Unix(minute*60, 0)
	}
	if n := len(st.counts); n > 0 && st.counts[n-1].minute >= minute {
		st.counts[n-1].n++
	} else {
		st.counts = append(st.counts, minuteCount{minute: minute, n: 1})
	}
	if st.cal == nil || s.rows != 1 || math.IsNaN(s.score) {
		return
	}
	if len(st.scores) >= st.policy.Window {
		st.scores = st.scores[len(st.scores)-st.policy.Window+1:]
	}
	st.scores = append(st.scores, scoredAt{at: s.at, score: s.score})
}

// prune drops what is older than the policy's max_age before now.
func (st *stream) prune(now time.Time) {
	cutoff := now.Add(-st.policy.MaxAge)
	st.liveAt = slices.DeleteFunc(st.liveAt, func(t time.Time) bool { return t.Before(cutoff) })
	st.scores = slices.DeleteFunc(st.scores, func(s scoredAt) bool { return s.at.Before(cutoff) })
	first := cutoff.Unix() / 60
	i := 0
	for i < len(st.counts) && st.counts[i].minute < first {
		i++
	}
	st.counts = slices.Delete(st.counts, 0, i)
}

// predicted returns how many predictions were logged from since's minute
// on, and false when the monitor did not count them all (since is
// before it started counting the version).
func (st *stream) predicted(since time.Time) (int, bool) {
	first := since.Unix() / 60
	n := 0
	for _, c := range st.counts {
		if c.minute >= first {
			n += c.n
		}
	}
	return n, !st.countingSince.IsZero() && !since.Before(st.countingSince)
}
