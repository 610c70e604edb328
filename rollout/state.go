package rollout

import (
	"bytes"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"time"
)

// StateFile is the name of a model's desired rollout state in its
// registry directory.
const StateFile = "rollout.json"

// The strategies of a rollout.
const (
	Canary    = "canary"
	BlueGreen = "bluegreen"
	Shadow    = "shadow"
	Manual    = "manual"
)

// Latest is the on_publish value (Policy.OnPublish) that starts no
// rollout: without rollout.json the newest version that passed its gate
// serves, as TF Serving's latest policy does. It is not a strategy of a
// State: a rollout.json in force stays as it is.
const Latest = "latest"

// State is a model's rollout.json: the desired traffic state, written by
// the controller, the CLI or a person, and applied by the reconciler.
//
//	{"stable": 3, "candidate": 4, "strategy": "canary", "step": 1, "weight": 2500,
//	 "paused": false, "shadow": null, "updated_at": "2026-11-30T12:00:00Z",
//	 "actor": "controller", "reason": "step 1 healthy"}
type State struct {
	// Stable is the version that takes the traffic the candidate does not.
	Stable int `json:"stable"`
	// Candidate is the version being rolled out; 0 (null) when none is.
	Candidate int `json:"candidate"`
	// Strategy is Canary, BlueGreen, Shadow or Manual.
	Strategy string `json:"strategy"`
	// Step indexes the policy's steps; Weight is the candidate's share of
	// requests that name no version, in basis points.
	Step   int `json:"step"`
	Weight int `json:"weight"`
	// Paused stops the controller from acting on its own.
	Paused bool `json:"paused"`
	// Shadow is a version that gets a copy of stable's requests and whose
	// answers are never returned; 0 (null) when none does.
	Shadow int `json:"shadow"`
	// UpdatedAt is when the state last changed (a step began).
	UpdatedAt time.Time `json:"updated_at"`
	// Actor and Reason say who changed it and why.
	Actor  string `json:"actor"`
	Reason string `json:"reason"`
	// GateOverrides lists the versions a person routed although they
	// failed their gate (switchyard promote --force), ascending: they may
	// serve despite the verdict, also after a restart. The key is left out
	// when the list is empty.
	GateOverrides []int `json:"gate_overrides,omitempty"`
}

// Overrides reports whether s lets version serve despite a failed gate.
func (s *State) Overrides(version int) bool {
	return s != nil && slices.Contains(s.GateOverrides, version)
}

// stateJSON is State as written: versions that are absent are null.
type stateJSON struct {
	Stable    int       `json:"stable"`
	Candidate *int      `json:"candidate"`
	Strategy  string    `json:"strategy"`
	Step      int       `json:"step"`
	Weight    int       `json:"weight"`
	Paused    bool      `json:"paused"`
	Shadow    *int      `json:"shadow"`
	UpdatedAt time.Time `json:"updated_at"`
	Actor     string    `json:"actor"`
	Reason    string    `json:"reason"`
	Overrides []int     `json:"gate_overrides,omitempty"`
}

// MarshalJSON writes s with null for absent versions.
func (s State) MarshalJSON() ([]byte, error) {
	j := stateJSON{Stable: s.Stable, Strategy: s.Strategy, Step: s.Step, Weight: s.Weight, Paused: s.Paused,
		UpdatedAt: s.UpdatedAt, Actor: s.Actor, Reason: s.Reason, Overrides: s.GateOverrides}
	if s.Candidate != 0 {
		j.Candidate = &s.Candidate
	}
	if s.Shadow != 0 {
		j.Shadow = &s.Shadow
	}
	return json.Marshal(j)
}

// ParseState decodes and checks a rollout.json on its own (see Validate
// for the checks against the versions that exist). Unknown keys are
// refused, so that a typo does not silently leave a field at its zero.
func ParseState(data []byte) (*State, error) {
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	var j stateJSON
	if err := dec.Decode(&j); err != nil {
		return nil, fmt.Errorf("%w: %w", ErrState, err)
	}
	if dec.More() {
		return nil, fmt.Errorf("%w: data after the JSON object", ErrState)
	}
	s := &State{Stable: j.Stable, Strategy: j.Strategy, Step: j.Step, Weight: j.Weight, Paused: j.Paused,
		UpdatedAt: j.UpdatedAt, Actor: j.Actor, Reason: j.Reason, GateOverrides: j.Overrides}
	if j.Candidate != nil {
		s.Candidate = *j.Candidate
	}
	if j.Shadow != nil {
		s.Shadow = *j.Shadow
	}
	if err := s.check(); err != nil {
		return nil, err
	}
	return s, nil
}

// check refuses a state that contradicts itself.
func (s *State) check() error {
	switch {
	case s.Stable <= 0:
		return fmt.Errorf("%w: stable must name a version (a positive integer), got %d", ErrState, s.Stable)
	case s.Candidate < 0 || s.Shadow < 0:
		return fmt.Errorf("%w: candidate and shadow must be versions or null", ErrState)
	case s.Candidate == s.Stable:
		return fmt.Errorf("%w: candidate %d is the stable version", ErrState, s.Candidate)
	case s.Shadow != 0 && s.Shadow == s.Stable:
		return fmt.Errorf("%w: shadow %d is the stable version", ErrState, s.Shadow)
	case s.Weight < 0 || s.Weight > FullWeight:
		return fmt.Errorf("%w: weight %d is outside 0..%d basis points", ErrState, s.Weight, FullWeight)
	case s.Weight > 0 && s.Candidate == 0:
		return fmt.Errorf("%w: weight %d with no candidate", ErrState, s.Weight)
	case s.Step < 0:
		return fmt.Errorf("%w: step %d is negative", ErrState, s.Step)
	}
	for i, n := range s.GateOverrides {
		if n <= 0 || i > 0 && n <= s.GateOverrides[i-1] {
			return fmt.Errorf("%w: gate_overrides %v: want versions, ascending, each once", ErrState, s.GateOverrides)
		}
	}
	switch s.Strategy {
	case Canary, BlueGreen, Shadow, Manual:
	default:
		return fmt.Errorf("%w: strategy %q: want canary, bluegreen, shadow or manual", ErrState, s.Strategy)
	}
	return nil
}

// Validate checks s against the versions that can serve: exists reports
// whether a version exists and has not failed (or failed only its gate,
// for a version s overrides). Versions in GateOverrides need not exist.
func (s *State) Validate(exists func(version int) bool) error {
	if err := s.check(); err != nil {
		return err
	}
	for _, v := range []struct {
		what string
		n    int
	}{{"stable", s.Stable}, {"candidate", s.Candidate}, {"shadow", s.Shadow}} {
		if v.n != 0 && !exists(v.n) {
			return fmt.Errorf("%w: %s version %d does not exist or has failed", ErrState, v.what, v.n)
		}
	}
	return nil
}

// ReadState reads the rollout.json in a model directory; it returns nil
// and no error when there is none. The file is read by ReadStateFile.
func ReadState(modelDir string) (*State, error) {
	data, err := ReadStateFile(modelDir)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrState, err)
	}
	return ParseState(data)
}

// EncodeState returns the bytes WriteState writes for s: indented JSON
// and a final newline. It fails with an error wrapping ErrState when s
// contradicts itself. The slice is the caller's.
func EncodeState(s *State) ([]byte, error) {
	if err := s.check(); err != nil {
		return nil, err
	}
	data, err := json.MarshalIndent(s, "", "  ")
	if err != nil {
		return nil, fmt.Errorf("rollout: encode state: %w", err)
	}
	return append(data, '\n'), nil
}

// WriteState writes s as the model directory's rollout.json atomically: a
// temporary file beside it, synced, renamed over it, and the directory
// synced, so a reader (or a restart) sees the old state or the new one.
//
// It fails with an error wrapping ErrState when s contradicts itself, and
// with one wrapping the filesystem's error (a read-only or full disk, a
// permission) when the file cannot be written. rollout.json then holds
// the old state, or the new one when only the final sync of the directory
// failed.
func WriteState(modelDir string, s *State) error {
	data, err := EncodeState(s)
	if err != nil {
		return err
	}
	var suffix [6]byte
	rand.Read(suffix[:])
	tmp := filepath.Join(modelDir, ".rollout-"+hex.EncodeToString(suffix[:]))
	f, err := os.OpenFile(tmp, os.O_CREATE|os.O_EXCL|os.O_WRONLY, 0o644)
	if err != nil {
		return fmt.Errorf("rollout: write state: %w", err)
	}
	_, err = f.Write(data)
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(tmp, filepath.Join(modelDir, StateFile))
	}
	if err != nil {
		os.Remove(tmp)
		return fmt.Errorf("rollout: write state: %w", err)
	}
	d, err := os.Open(modelDir)
	if err != nil {
		return fmt.Errorf("rollout: write state: %w", err)
	}
	defer d.Close()
	if err := d.Sync(); err != nil {
		return fmt.Errorf("rollout: write state: %w", err)
	}
	return nil
}
