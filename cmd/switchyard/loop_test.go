package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"testing"
	"time"
)

// loopBinEnv names the switchyard binary TestClosedLoop runs; `make
// loop` builds it and sets it.
const loopBinEnv = "SWITCHYARD_BIN"

// TestClosedLoop runs the whole loop of issue 27 on real onnxruntime,
// as README.md's walkthrough ends: `switchyard demo --serve --feedback`
// serves the demo's fraud models with traffic whose world shifts after
// a second (the fraud rule changes) and whose true labels are fed back
// five seconds after each answer. Live accuracy falls below the gate's,
// the quality alarm fires, the retrain: hook exports the labelled
// predictions and runs `switchyard demo retrain`, which publishes
// version 3; its gate passes, its canary supersedes version 2's and is
// promoted, and version 3's live accuracy, on the shifted world, is
// back above the alarmed one's. Every step must be in the audit trail,
// in that order. It runs the built binary (the retrain hook starts it
// again), so it is `make loop`'s, and skipped without SWITCHYARD_BIN.
func TestClosedLoop(t *testing.T) {
	bin := os.Getenv(loopBinEnv)
	if bin == "" {
		t.Skip("run by make loop, with the built binary in " + loopBinEnv)
	}
	bin, err := filepath.Abs(bin)
	if err != nil {
		t.Fatal(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	reg := filepath.Join(t.TempDir(), "registry")
	var out bytes.Buffer
	cmd := exec.Command(bin, "demo", "--registry", reg, "--serve", "--feedback", "--addr", addr,
		"--traffic", "200", "--shift-after", "1s")
	cmd.Stdout, cmd.Stderr = &out, &out // one writer: exec copies to it from one goroutine
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	exited := make(chan struct{})
	go func() { cmd.Wait(); close(exited) }()
	stop := func() {
		cmd.Process.Signal(os.Interrupt)
		select {
		case <-exited:
		case <-time.After(30 * time.Second):
			cmd.Process.Kill()
			<-exited
		}
	}
	defer stop()
	fail := func(format string, args ...any) {
		t.Helper()
		stop()
		t.Fatalf(format+"\n--- the demo's output, its end:\n%s", append(args, tail(out.String(), 6000))...)
	}

	// Wait for version 3 to serve all traffic with a full window of
	// labels.
	client := &http.Client{Timeout: 5 * time.Second}
	var model loopModel
	deadline := time.Now().Add(4 * time.Minute)
	for {
		if err := getJSON(client, "http://"+addr+"/admin/models/fraud", &model); err == nil && model.ServingVersion >= 3 {
			if q := model.version(3).Quality; q != nil && q.Live.Accuracy != nil && q.Labelled >= 2000 {
				break
			}
		}
		select {
		case <-exited:
			fail("the demo ended before version 3 came to serve; last status %+v", model)
		case <-time.After(time.Second):
		}
		if time.Now().After(deadline) {
			fail("version 3 did not come to serve with a full window of labels within 4 minutes; last status %+v", model)
		}
	}
	recovered := *model.version(3).Quality.Live.Accuracy

	// The audit trail, oldest first.
	var trail struct {
		Entries []loopEntry `json:"entries"`
	}
	var stdout, stderr bytes.Buffer
	if err := run(context.Background(), []string{"audit", "fraud", "--server", addr, "--json", "--limit", "10000"}, &stdout, &stderr); err != nil {
		fail("audit: %v: %s", err, stderr.String())
	}
	if err := json.Unmarshal(stdout.Bytes(), &trail); err != nil {
		fail("audit --json: %v: %.500s", err, stdout.String())
	}
	entries := trail.Entries
	slices.Reverse(entries)
	steps := []struct {
		what string
		ok   func(e loopEntry) bool
	}{
		{"the quality alarm", func(e loopEntry) bool { return e.Action == "quality_drop" }},
		{"the retraining's start", func(e loopEntry) bool { return e.Action == "retrain_started" }},
		{"version 3 published", func(e loopEntry) bool { return e.Action == "publish" && slices.Equal(e.Versions, []int{3}) }},
		{"its gate passed", func(e loopEntry) bool { return e.Action == "gate_pass" && slices.Equal(e.Versions, []int{3}) }},
		{"its canary started", func(e loopEntry) bool { return e.Action == "start" && slices.Contains(e.Versions, 3) }},
		{"version 3 promoted", func(e loopEntry) bool { return e.Action == "promote" && slices.Equal(e.Versions, []int{3}) }},
	}
	at, alarmed := 0, 0.0
	for _, s := range steps {
		i := slices.IndexFunc(entries[at:], s.ok)
		if i < 0 {
			fail("the audit trail has no %s after the steps before it; entries:\n%s", s.what, describeEntries(entries))
		}
		at += i
		if s.what == "the quality alarm" {
			alarmed = entries[at].Details.Value
		}
		t.Logf("%s  %-10s %-16s %v  %.120s", entries[at].Time, entries[at].Actor, entries[at].Action, entries[at].Versions, entries[at].Reason)
		at++
	}
	// The command's end is audited once it exits, after what it did
	// (publish, gate) and before or after the canary's start.
	started := slices.IndexFunc(entries, func(e loopEntry) bool { return e.Action == "retrain_started" })
	if !slices.ContainsFunc(entries[started:], func(e loopEntry) bool { return e.Action == "retrain_finished" }) {
		fail("the audit trail has no retrain_finished (exit 0) after retrain_started; entries:\n%s", describeEntries(entries))
	}
	if alarmed <= 0 || recovered < alarmed+0.03 {
		fail("live accuracy did not recover: %.3f when the alarm fired, %.3f on version 3 after its rollout; want 0.03 higher at least", alarmed, recovered)
	}
	t.Logf("live accuracy: %.3f when the alarm fired, %.3f on version 3 once promoted", alarmed, recovered)
}

// loopModel is the part of GET /admin/models/{m} TestClosedLoop reads.
type loopModel struct {
	ServingVersion int           `json:"serving_version"`
	Versions       []loopVersion `json:"versions"`
}

type loopVersion struct {
	Version int `json:"version"`
	Quality *struct {
		Labelled int `json:"labelled"`
		Live     struct {
			Accuracy *float64 `json:"accuracy"`
		} `json:"live"`
	} `json:"quality"`
}

// version returns the entry of version v, or a zero one.
func (m *loopModel) version(v int) loopVersion {
	for _, e := range m.Versions {
		if e.Version == v {
			return e
		}
	}
	return loopVersion{}
}

// loopEntry is an audit entry as `switchyard audit --json` prints it.
type loopEntry struct {
	Time     string `json:"time"`
	Actor    string `json:"actor"`
	Action   string `json:"action"`
	Versions []int  `json:"versions"`
	Reason   string `json:"reason"`
	Details  struct {
		Value float64 `json:"value"`
	} `json:"details"`
}

func describeEntries(es []loopEntry) string {
	var b bytes.Buffer
	for _, e := range es {
		fmt.Fprintf(&b, "%s %s %s %v %.100s\n", e.Time, e.Actor, e.Action, e.Versions, e.Reason)
	}
	return b.String()
}

// getJSON GETs url into out, wanting 200.
func getJSON(c *http.Client, url string, out any) error {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return err
	}
	resp, err := c.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("GET %s: status %d", url, resp.StatusCode)
	}
	return json.NewDecoder(resp.Body).Decode(out)
}

// tail returns the last n bytes of s.
func tail(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return "…" + s[len(s)-n:]
}
