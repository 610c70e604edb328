package rollout

import (
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"
)

func TestStateRoundTrip(t *testing.T) {
	dir := t.TempDir()
	if s, err := ReadState(dir); s != nil || err != nil {
		t.Fatalf("ReadState of a model without rollout.json = %v, %v; want nil, nil", s, err)
	}
	at := time.Date(2026, 11, 30, 12, 0, 0, 0, time.UTC)
	want := &State{Stable: 3, Candidate: 4, Strategy: Canary, Step: 1, Weight: 2500, UpdatedAt: at, Actor: "controller", Reason: "step 1 healthy"}
	if err := WriteState(dir, want); err != nil {
		t.Fatal(err)
	}
	raw, _ := os.ReadFile(filepath.Join(dir, StateFile))
	for _, s := range []string{`"candidate": 4`, `"shadow": null`, `"updated_at": "2026-11-30T12:00:00Z"`} {
		if !strings.Contains(string(raw), s) {
			t.Errorf("rollout.json lacks %s:\n%s", s, raw)
		}
	}
	got, err := ReadState(dir)
	if err != nil || !reflect.DeepEqual(got, want) {
		t.Fatalf("ReadState = %+v, %v; want %+v", got, err, want)
	}
	if strings.Contains(string(raw), "gate_overrides") {
		t.Errorf("rollout.json without overrides names them:\n%s", raw)
	}
	entries, _ := os.ReadDir(dir)
	if len(entries) != 1 {
		t.Fatalf("the model directory holds %d entries; want rollout.json alone", len(entries))
	}
	// The design's own example parses.
	ex := `{"stable": 3, "candidate": 4, "strategy": "canary", "step": 1, "weight": 2500, "paused": false,
 "shadow": null, "updated_at": "2026-11-30T12:00:00Z", "actor": "controller", "reason": "step 1 healthy"}`
	if s, err := ParseState([]byte(ex)); err != nil || !reflect.DeepEqual(s, want) {
		t.Fatalf("ParseState(design example) = %+v, %v", s, err)
	}

	// A version routed despite its failed gate stays overridden.
	want.GateOverrides = []int{2, 4}
	if err := WriteState(dir, want); err != nil {
		t.Fatal(err)
	}
	raw, _ = os.ReadFile(filepath.Join(dir, StateFile))
	if got, err := ReadState(dir); err != nil || !reflect.DeepEqual(got, want) || !got.Overrides(4) || got.Overrides(3) {
		t.Fatalf("ReadState = %+v, %v; want %+v overriding 4, not 3:\n%s", got, err, want, raw)
	}
}

func TestParseStateFailure(t *testing.T) {
	f := func(in, want string) {
		t.Helper()
		_, err := ParseState([]byte(in))
		if !errors.Is(err, ErrState) || !strings.Contains(err.Error(), want) {
			t.Errorf("ParseState(%s) = %v; want ErrState mentioning %q", in, err, want)
		}
	}
	f(`{"stable": 3, "candidate": 3, "strategy": "canary"}`, "candidate 3 is the stable")
	f(`{"stable": 3, "candidate": 4, "strategy": "canary", "weight": 10001}`, "outside 0..10000")
	f(`{"stable": 3, "candidate": 4, "strategy": "canary", "weight": -1}`, "outside")
	f(`{"stable": 3, "strategy": "canary", "weight": 100}`, "with no candidate")
	f(`{"stable": 0, "strategy": "manual"}`, "stable must name a version")
	f(`{"stable": 3, "strategy": "manual", "gate_overrides": [4, 4]}`, "gate_overrides [4 4]")
	f(`{"stable": 3, "strategy": "manual", "gate_overrides": [0]}`, "gate_overrides [0]")
	f(`{"stable": 3, "strategy": "manual", "gate_overrides": 4}`, "gate_overrides")
	f(`{"stable": 3, "strategy": "yolo"}`, `strategy "yolo"`)
	f(`{"stable": 3, "strategy": "manual", "stabel": 4}`, "unknown field")
	f(`{"stable": 3, "strategy": "manual", "shadow": 3}`, "shadow 3 is the stable")
	f(`{"stable": 3, "strategy": "manual"} {}`, "data after")
	f(`{"stable": "three"}`, "cannot unmarshal")
	f(``, "EOF")
}

func TestStateValidate(t *testing.T) {
	s := &State{Stable: 3, Candidate: 4, Strategy: Canary, Weight: 500}
	exists := func(v int) bool { return v == 3 }
	if err := s.Validate(exists); !errors.Is(err, ErrState) || !strings.Contains(err.Error(), "candidate version 4") {
		t.Fatalf("Validate with an unknown candidate = %v", err)
	}
	if err := s.Validate(func(v int) bool { return v == 3 || v == 4 }); err != nil {
		t.Fatalf("Validate = %v", err)
	}
	if err := WriteState(t.TempDir(), &State{Stable: 1, Candidate: 1, Strategy: Manual}); !errors.Is(err, ErrState) {
		t.Fatalf("WriteState of a contradictory state = %v; want ErrState", err)
	}
}

func FuzzParseState(f *testing.F) {
	f.Add([]byte(`{"stable": 3, "candidate": 4, "strategy": "canary", "step": 1, "weight": 2500, "paused": false, "shadow": null, "updated_at": "2026-11-30T12:00:00Z", "actor": "controller", "reason": "x"}`))
	f.Add([]byte(`{"stable": 1, "strategy": "manual"}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		s, err := ParseState(data)
		if err != nil {
			return
		}
		dir := t.TempDir()
		if err := WriteState(dir, s); err != nil {
			t.Fatalf("a parsed state does not write back: %v", err)
		}
		again, err := ReadState(dir)
		if err != nil || !again.UpdatedAt.Equal(s.UpdatedAt) {
			t.Fatalf("a written state does not read back: %+v, %v", again, err)
		}
	})
}
