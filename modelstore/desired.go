package modelstore

import (
	"bytes"
	"errors"
	"io/fs"
	"os"
	"path/filepath"

	"github.com/switchyard-ml/switchyard/rollout"
)

// desiredState is what the reconciler knows of a model's rollout.json.
type desiredState struct {
	raw  []byte // the file as last read, to notice edits
	read bool
	// state is the last good state in force; nil without rollout.json.
	state *rollout.State
}

// readDesired reads the model's rollout.json if it changed since the last
// pass, and checks the state in force against the versions on disk. A
// malformed or contradictory state (an unknown version, a weight out of
// range, a candidate equal to stable) is refused with a logged reason and
// the last good state keeps serving; removing the file returns the model
// to its default (the newest ready version serves).
func (s *Store) readDesired(m *model, onDisk map[int]struct{}) {
	data, err := os.ReadFile(filepath.Join(m.dir, rollout.StateFile))
	if errors.Is(err, fs.ErrNotExist) {
		data, err = nil, nil
	}
	if err != nil {
		s.log.Error("cannot read rollout.json; the last good state stays in force", "model", m.name, "error", err)
		return
	}
	if m.desired.read && bytes.Equal(data, m.desired.raw) {
		return
	}
	m.desired.raw, m.desired.read = data, true
	if data == nil {
		if m.desired.state != nil {
			s.log.Info("rollout.json removed: the newest ready version serves", "model", m.name)
		}
		m.desired.state = nil
		return
	}
	st, err := rollout.ParseState(data)
	if err == nil {
		err = st.Validate(func(n int) bool {
			_, ok := onDisk[n]
			v := m.versions[n]
			return ok && (v == nil || v.State() != Failed)
		})
	}
	if err != nil {
		s.log.Error("rollout.json refused; the last good state stays in force", "model", m.name, "error", err)
		return
	}
	m.desired.state = st
	s.log.Info("rollout.json applied", "model", m.name, "stable", st.Stable, "candidate", st.Candidate,
		"weight_bp", st.Weight, "strategy", st.Strategy, "actor", st.Actor, "reason", st.Reason)
}
