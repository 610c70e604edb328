package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"maps"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/switchyard-ml/switchyard/bench"
	"github.com/switchyard-ml/switchyard/internal/demo"
	"github.com/switchyard-ml/switchyard/internal/natstest"
	"github.com/switchyard-ml/switchyard/internal/pgtest"
	"github.com/switchyard-ml/switchyard/modelstore"
)

// The fleet's product bounds (issue 29): a step the leader applies is
// served by every replica within fleetPropagation, and leadership passes
// to another replica within fleetTakeover of the leader's death.
const (
	fleetPropagation = time.Second
	fleetTakeover    = 5 * time.Second
)

// fleetPolicy is the demo's policy.yaml with short canary steps, and
// drift windows that neither fill nor expire during the test, so that
// each replica's current window counts every row it judged.
const fleetPolicy = `gate:
  label: label
  metrics:
    auc: {min: 0.8, max_regression: 0.005}
    log_loss: {max_regression_pct: 2}
rollout:
  on_publish: canary
  steps: [25%, 50%, 75%, 100%]
  bake: 3s
  min_requests: 50
drift:
  window_rows: 1000000
  window: 1h
  interval: 1s
`

// TestFleet runs issue 29's fleet: three `switchyard serve` processes
// of the built binary on one registry directory, each with its own data
// directory, sharing one PostgreSQL (tracking, leadership) and one
// nats-server (the prediction log and feedback), all on loopback, under
// traffic from a client that, as a load balancer does, tries the next
// replica when one cannot be reached. It checks that
//
//   - every routing key lands on the same arm on every replica;
//   - each step the leader applies is served by every replica within
//     fleetPropagation of the leader's decision;
//   - SIGKILL of the leader mid-rollout hands leadership to another
//     replica within fleetTakeover, the rollout completes, and the audit
//     trail holds each step once;
//   - SIGKILL of a replica under load fails no request (nor does the
//     leader's);
//   - predictions answered by all three, labelled through one, are
//     joined in any one replica's export;
//   - every replica's drift monitor counts the rows the others answered;
//
// and logs the throughput of three replicas against one. It is `make
// fleet-test`'s, and skipped without SWITCHYARD_BIN.
func TestFleet(t *testing.T) {
	bin := os.Getenv(loopBinEnv)
	if bin == "" {
		t.Skip("run by make fleet-test, with the built binary in " + loopBinEnv)
	}
	bin, err := filepath.Abs(bin)
	if err != nil {
		t.Fatal(err)
	}
	dsn := pgtest.New(t).DSN(t)
	nats := natstest.Start(t)
	t.Setenv(envTrackingDSN, dsn) // for demo, audit and export, run in this process
	reg := filepath.Join(t.TempDir(), "registry")
	if err := os.MkdirAll(filepath.Join(reg, demoModel), 0o755); err != nil {
		t.Fatal(err)
	}
	writeFile(t, filepath.Join(reg, demoModel), modelstore.PolicyFile, []byte(fleetPolicy))
	if out, err := runCmd(t, "demo", "--registry", reg); err != nil || !strings.Contains(out, "published fraud version 2") {
		t.Fatalf("demo = %v\n%s", err, out)
	}

	f := &fleet{t: t, bin: bin}
	for _, name := range []string{"a", "b", "c"} {
		f.add(startReplica(t, bin, name, "--registry", reg, "--tracking-dsn", dsn, "--stream", nats.URL(), "--drain-delay", "0"))
	}
	t.Cleanup(func() {
		if t.Failed() {
			for _, r := range f.replicas {
				t.Logf("--- replica %s's log, its end:\n%s", r.name, r.log())
			}
		}
	})
	f.leader() // one leads before the canary is judged

	watch := newRolloutWatch(f.addrs())
	defer watch.stop()
	lb := newBalancer(f.addrs()...)
	traffic := startFleetTraffic(lb)
	defer traffic.stop()

	// The leader starts version 2's canary; at 25% every key lands on the
	// same arm on every replica.
	f.await("the canary's first step on every replica", func(s fleetRollout) bool { return s.Candidate == 2 })
	f.checkSticky()

	// SIGKILL the leader mid-rollout.
	f.await("the canary's second step on every replica", func(s fleetRollout) bool { return s.Candidate == 2 && s.Step >= 1 })
	old := f.leader()
	killed := time.Now()
	f.kill(old)
	next, takeover := f.awaitTakeover(old, killed)
	t.Logf("leader %s killed (SIGKILL) mid-rollout: replica %s leads %v later", f.replicas[old].name, f.replicas[next].name, takeover.Round(time.Millisecond))
	if takeover > fleetTakeover {
		t.Errorf("leadership passed in %v; want within %v", takeover, fleetTakeover)
	}
	f.restart(old)
	f.await("version 2 promoted on every replica", func(s fleetRollout) bool { return s.Stable == 2 && s.Candidate == 0 })
	f.checkAudit()

	// SIGKILL a replica that does not lead, under load.
	follower := slices.IndexFunc(f.replicas, func(r *fleetReplica) bool { return !f.leads(r.addr) })
	before := lb.ok.Load()
	f.kill(follower)
	for lb.ok.Load() < before+200 { // the others answer its share
		time.Sleep(20 * time.Millisecond)
	}
	f.restart(follower)
	traffic.stop()
	t.Logf("traffic: %d requests answered, %d failed; %d tries refused by a dead replica and %d broken by its death, each answered by another",
		lb.ok.Load(), lb.failed.Load(), lb.refused.Load(), lb.broken.Load())
	if n := lb.failed.Load(); n != 0 {
		t.Errorf("%d requests failed; want 0 (the first: %s)", n, lb.firstFail)
	}
	watch.stop()
	f.checkPropagation(watch)

	f.checkFeedback(reg)
	f.checkDrift()
	f.measureThroughput()
}

// fleet is TestFleet's replicas and what happened to them. Its methods
// run on the test's goroutine.
type fleet struct {
	t        *testing.T
	bin      string
	replicas []*fleetReplica
	alive    [][][2]time.Time // per replica: when it was ready, and when it was killed (zero: still alive)
}

func (f *fleet) add(r *fleetReplica) {
	f.replicas = append(f.replicas, r)
	f.alive = append(f.alive, [][2]time.Time{{time.Now()}})
}

func (f *fleet) addrs() []string {
	var a []string
	for _, r := range f.replicas {
		a = append(a, r.addr)
	}
	return a
}

func (f *fleet) kill(i int) {
	f.replicas[i].kill()
	f.alive[i][len(f.alive[i])-1][1] = time.Now()
}

func (f *fleet) restart(i int) {
	f.replicas[i].start(f.t, f.bin)
	f.alive[i] = append(f.alive[i], [2]time.Time{time.Now()})
}

// live returns the indexes of the replicas running now.
func (f *fleet) live() []int {
	var l []int
	for i, r := range f.replicas {
		if r.cmd != nil {
			l = append(l, i)
		}
	}
	return l
}

var fleetClient = &http.Client{Timeout: 5 * time.Second}

// leads reports whether the replica at addr says it leads.
func (f *fleet) leads(addr string) bool {
	resp, err := fleetClient.Get("http://" + addr + "/metrics")
	if err != nil {
		return false
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	return err == nil && strings.Contains(string(b), "\nswitchyard_lead_leader 1\n")
}

// leader waits until exactly one live replica leads and returns it.
func (f *fleet) leader() int {
	f.t.Helper()
	var leading []int
	for deadline := time.Now().Add(30 * time.Second); time.Now().Before(deadline); time.Sleep(50 * time.Millisecond) {
		leading = leading[:0]
		for _, i := range f.live() {
			if f.leads(f.replicas[i].addr) {
				leading = append(leading, i)
			}
		}
		if len(leading) == 1 {
			return leading[0]
		}
	}
	f.t.Fatalf("leaders after 30s: %v; want exactly one", leading)
	return -1
}

// awaitTakeover polls the live replicas until one leads and returns it
// and the time since killed; it waits up to 30 s, beyond the bound, so
// that a slow takeover is measured rather than only refused.
func (f *fleet) awaitTakeover(old int, killed time.Time) (int, time.Duration) {
	f.t.Helper()
	for time.Since(killed) < 30*time.Second {
		for _, i := range f.live() {
			if i != old && f.leads(f.replicas[i].addr) {
				return i, time.Since(killed)
			}
		}
		time.Sleep(10 * time.Millisecond)
	}
	f.t.Fatalf("no replica leads 30s after the leader's death")
	return -1, 0
}

// fleetRollout is the part of a model's rollout.json TestFleet reads,
// as GET /admin/models/{m} reports the one in force.
type fleetRollout struct {
	Stable    int       `json:"stable"`
	Candidate int       `json:"candidate"`
	Step      int       `json:"step"`
	Weight    int       `json:"weight"`
	UpdatedAt time.Time `json:"updated_at"`
	Actor     string    `json:"actor"`
	Reason    string    `json:"reason"`
}

// rolloutOn returns the rollout in force on the replica at addr.
func rolloutOn(addr string) (fleetRollout, error) {
	var m struct {
		Rollout *fleetRollout `json:"rollout"`
	}
	if err := getJSON(fleetClient, "http://"+addr+"/admin/models/"+demoModel, &m); err != nil {
		return fleetRollout{}, err
	}
	if m.Rollout == nil {
		return fleetRollout{}, fmt.Errorf("%s: no rollout", addr)
	}
	return *m.Rollout, nil
}

// await waits up to two minutes until every live replica's rollout
// satisfies ok.
func (f *fleet) await(what string, ok func(fleetRollout) bool) {
	f.t.Helper()
	var saw []string
	for deadline := time.Now().Add(2 * time.Minute); time.Now().Before(deadline); time.Sleep(50 * time.Millisecond) {
		saw = saw[:0]
		all := true
		for _, i := range f.live() {
			s, err := rolloutOn(f.replicas[i].addr)
			saw = append(saw, fmt.Sprintf("%s: %+v %v", f.replicas[i].name, s, err))
			all = all && err == nil && ok(s)
		}
		if all {
			return
		}
	}
	f.t.Fatalf("%s: not within 2 minutes; last saw\n%s", what, strings.Join(saw, "\n"))
}

// checkSticky sends 200 keyed requests to every replica while they all
// serve the same mid-canary rollout, and checks that each key got the
// same version everywhere, and that both arms got keys.
func (f *fleet) checkSticky() {
	f.t.Helper()
	records := demo.Generate(11, 200)
	for attempt := range 20 {
		before, ok := f.sameRollout()
		if !ok || before.Weight == 0 || before.Weight == 10000 {
			time.Sleep(100 * time.Millisecond)
			continue
		}
		var split [2]int
		var mismatch []string
		for k := range records.Len() {
			key, body := fmt.Sprintf("customer-%d", k), recordsBody(records.Row(k))
			var got []string
			for _, r := range f.replicas {
				status, v, err := postKeyed(fleetClient, r.addr, "/v1/models/fraud:predict", key, body)
				if err != nil || status != http.StatusOK {
					f.t.Fatalf("keyed request to %s = %d %v", r.name, status, err)
				}
				got = append(got, v)
			}
			if got[0] != got[1] || got[0] != got[2] {
				mismatch = append(mismatch, fmt.Sprintf("%s: %v", key, got))
			}
			if got[0] == "2" {
				split[1]++
			} else {
				split[0]++
			}
		}
		if after, ok := f.sameRollout(); !ok || !after.UpdatedAt.Equal(before.UpdatedAt) {
			f.t.Logf("sticky routing: the rollout moved during attempt %d; again", attempt)
			continue
		}
		if len(mismatch) > 0 {
			f.t.Errorf("at weight %d, %d of %d keys landed on different versions on different replicas: %v",
				before.Weight, len(mismatch), records.Len(), mismatch)
		}
		if split[0] == 0 || split[1] == 0 {
			f.t.Errorf("at weight %d the keys split %v between stable and candidate; want both arms used", before.Weight, split)
		}
		f.t.Logf("sticky routing: at weight %d bp, %d keys on every replica alike: %d on version 1, %d on version 2",
			before.Weight, records.Len(), split[0], split[1])
		return
	}
	f.t.Fatal("sticky routing: the replicas never served the same mid-canary rollout for the length of a check")
}

// sameRollout returns the rollout in force when every live replica
// serves the same one.
func (f *fleet) sameRollout() (fleetRollout, bool) {
	var first fleetRollout
	for n, i := range f.live() {
		s, err := rolloutOn(f.replicas[i].addr)
		if err != nil || (n > 0 && !s.UpdatedAt.Equal(first.UpdatedAt)) {
			return fleetRollout{}, false
		}
		first = s
	}
	return first, true
}

// checkPropagation checks that each rollout state the controller wrote
// was served by every replica alive around it within fleetPropagation of
// the decision (its updated_at).
func (f *fleet) checkPropagation(w *rolloutWatch) {
	f.t.Helper()
	measured := 0
	var worst time.Duration
	for _, s := range w.states() {
		if s.Actor != "controller" {
			continue
		}
		for i, r := range f.replicas {
			if !f.aliveAround(i, s.UpdatedAt) {
				continue
			}
			seen, ok := w.firstSeen(i, s.UpdatedAt)
			d := seen.Sub(s.UpdatedAt)
			switch {
			case !ok:
				f.t.Errorf("replica %s never served the rollout step of %v (%s)", r.name, s.UpdatedAt, s.Reason)
				continue
			case d > fleetPropagation:
				f.t.Errorf("replica %s served step %d (weight %d) %v after the leader's decision; want within %v", r.name, s.Step, s.Weight, d, fleetPropagation)
			}
			worst = max(worst, d)
			measured++
		}
	}
	if measured < 6 {
		f.t.Errorf("only %d propagations measured; want the controller's steps on every replica", measured)
	}
	f.t.Logf("rollout propagation: %d (step, replica) pairs, the slowest served %v after the leader's decision (polled every %v)",
		measured, worst.Round(time.Millisecond), rolloutPoll)
}

// aliveAround reports whether replica i ran from before at until well
// after it.
func (f *fleet) aliveAround(i int, at time.Time) bool {
	for _, iv := range f.alive[i] {
		if iv[0].Before(at) && (iv[1].IsZero() || iv[1].After(at.Add(2*fleetPropagation))) {
			return true
		}
	}
	return false
}

// checkAudit checks that the audit trail, read from any replica, holds
// each of the controller's steps of version 2's rollout exactly once.
func (f *fleet) checkAudit() {
	f.t.Helper()
	out, err := runCmd(f.t, "audit", demoModel, "--server", f.replicas[f.live()[0]].addr, "--json", "--limit", "10000")
	if err != nil {
		f.t.Fatalf("audit: %v\n%s", err, out)
	}
	var trail struct {
		Entries []struct {
			Time     string `json:"time"`
			Actor    string `json:"actor"`
			Action   string `json:"action"`
			Versions []int  `json:"versions"`
			Reason   string `json:"reason"`
			Details  struct {
				Step int `json:"step"`
			} `json:"details"`
		} `json:"entries"`
	}
	if err := json.Unmarshal([]byte(out[:strings.LastIndex(out, "}")+1]), &trail); err != nil {
		f.t.Fatalf("audit --json: %v\n%.1000s", err, out)
	}
	counts := map[string]int{}
	var lines []string
	for _, e := range trail.Entries {
		if e.Actor != "controller" {
			continue
		}
		k := e.Action
		if e.Action == "advance" {
			k = fmt.Sprintf("advance to step %d", e.Details.Step)
		}
		counts[k]++
		lines = append(lines, fmt.Sprintf("%s %s %v %.80s", e.Time, k, e.Versions, e.Reason))
	}
	want := map[string]int{"start": 1, "advance to step 1": 1, "advance to step 2": 1, "advance to step 3": 1, "promote": 1}
	if !maps.Equal(counts, want) {
		f.t.Errorf("the controller's audit entries count %v; want each step once: %v\n%s", counts, want, strings.Join(lines, "\n"))
	}
}

// checkFeedback sends records to each replica, labels all their
// predictions through the first, and exports the labelled predictions
// from the last replica's data directory: all of them, with their
// labels, joined in one place.
func (f *fleet) checkFeedback(reg string) {
	f.t.Helper()
	records := demo.Generate(23, 30)
	labels := map[string]string{}
	for k := range records.Len() {
		r := f.replicas[k%len(f.replicas)]
		_, body := post(f.t, r.addr, "/v1/models/fraud:predict", string(recordsBody(records.Row(k))))
		var ans struct {
			PredictionIDs []string `json:"prediction_ids"`
		}
		if err := json.Unmarshal([]byte(body), &ans); err != nil || len(ans.PredictionIDs) != 1 {
			f.t.Fatalf("predict on %s = %s", r.name, body)
		}
		labels[ans.PredictionIDs[0]] = demo.Classes()[records.Y[k]]
	}
	to := f.replicas[0]
	for id, label := range labels {
		eventuallyHTTP(f.t, "replica "+to.name+" takes the label of "+id, func() (bool, string) {
			status, body := post(f.t, to.addr, "/v1/feedback", fmt.Sprintf(`{"prediction_id": %q, "label": %q}`, id, label))
			return status == http.StatusOK, fmt.Sprint(status, body)
		})
	}
	from := f.replicas[len(f.replicas)-1]
	out, err := runCmd(f.t, "export", demoModel, "--format", "jsonl", "--labelled", "--registry", reg, "--data-dir", from.dataDir)
	if err != nil {
		f.t.Fatalf("export from replica %s = %v\n%.2000s", from.name, err, out)
	}
	joined := 0
	for _, line := range strings.Split(out, "\n") {
		var row struct {
			PredictionID string `json:"prediction_id"`
			Label        any    `json:"label"`
		}
		if json.Unmarshal([]byte(line), &row) != nil {
			continue
		}
		if want, ok := labels[row.PredictionID]; ok {
			if fmt.Sprint(row.Label) != want {
				f.t.Errorf("export: %s labelled %v; want %s", row.PredictionID, row.Label, want)
			}
			joined++
		}
	}
	if joined != len(labels) {
		f.t.Errorf("replica %s's export joins %d of the %d predictions answered by all three and labelled through %s\n%.3000s",
			from.name, joined, len(labels), to.name, out)
	}
	f.t.Logf("feedback: %d predictions answered by 3 replicas, labelled through %s, joined in %s's export", joined, to.name, from.name)
}

// checkDrift sends rows to every replica but the first and checks that
// every replica's drift monitor, the first's included, counts them all.
func (f *fleet) checkDrift() {
	f.t.Helper()
	rows := func() []int {
		var n []int
		for _, r := range f.replicas {
			var rep struct {
				Versions []struct {
					Version int `json:"version"`
					Current *struct {
						Rows int `json:"rows"`
					} `json:"current"`
				} `json:"versions"`
			}
			if err := getJSON(fleetClient, "http://"+r.addr+"/admin/models/fraud/drift", &rep); err != nil {
				f.t.Fatalf("drift report of %s: %v", r.name, err)
			}
			c := 0
			for _, v := range rep.Versions {
				if v.Version == 2 && v.Current != nil {
					c = v.Current.Rows
				}
			}
			n = append(n, c)
		}
		return n
	}
	// What the monitors counted so far, once it stops changing.
	var before []int
	for prev := rows(); ; prev = before {
		time.Sleep(1500 * time.Millisecond)
		if before = rows(); slices.Equal(before, prev) {
			break
		}
	}
	const sent = 60
	records := demo.Generate(31, sent)
	for k := range sent {
		r := f.replicas[1+k%(len(f.replicas)-1)]
		if status, _ := post(f.t, r.addr, "/v1/models/fraud:predict", string(recordsBody(records.Row(k)))); status != http.StatusOK {
			f.t.Fatalf("predict on %s = %d", r.name, status)
		}
	}
	eventuallyHTTP(f.t, "every replica's drift monitor counts the fleet's rows", func() (bool, string) {
		now := rows()
		for i := range now {
			if now[i] != before[i]+sent {
				return false, fmt.Sprintf("rows of version 2 per replica %v, before %v", now, before)
			}
		}
		return true, ""
	})
	f.t.Logf("drift: %d rows answered by %s and %s counted by every replica's monitor", sent, f.replicas[1].name, f.replicas[2].name)
}

// measureThroughput logs the records requests per second that one
// replica answers, then three together, each run closed-loop with the
// same six connections in all. It asserts nothing: the figure depends on
// the machine.
func (f *fleet) measureThroughput() {
	f.t.Helper()
	body := recordsBody(demo.Generate(41, 1).Row(0))
	run := func(addrs []string, conns int) (float64, int64) {
		var wg sync.WaitGroup
		res := make([]*bench.Result, len(addrs))
		errs := make([]error, len(addrs))
		for i, a := range addrs {
			wg.Go(func() {
				res[i], errs[i] = bench.Run(context.Background(), bench.Config{URL: "http://" + a + "/v1/models/fraud:predict",
					Body: body, Connections: conns, Warmup: time.Second, Duration: 5 * time.Second})
			})
		}
		wg.Wait()
		var rps float64
		var failed int64
		for i := range res {
			if errs[i] != nil {
				f.t.Fatalf("load on %s: %v", addrs[i], errs[i])
			}
			rps += res[i].RequestsPerSec
			failed += res[i].Errors
		}
		return rps, failed
	}
	one, failed1 := run(f.addrs()[:1], 6)
	three, failed3 := run(f.addrs(), 2)
	if failed1+failed3 > 0 {
		f.t.Errorf("throughput runs: %d and %d requests failed", failed1, failed3)
	}
	f.t.Logf("throughput (records, closed loop, 6 connections in all, 5s): one replica %.0f requests/s, three replicas %.0f requests/s (%.2fx)",
		one, three, three/one)
}

// fleetTraffic is TestFleet's background load: records requests keyed
// by customer, through the balancer, about 150 a second.
type fleetTraffic struct {
	done    chan struct{}
	stopped sync.Once
	wg      sync.WaitGroup
}

func startFleetTraffic(lb *balancer) *fleetTraffic {
	ft := &fleetTraffic{done: make(chan struct{})}
	records := demo.Generate(5, 1000)
	for w := range 3 {
		ft.wg.Go(func() { // ends at stop
			for i := w; ; i += 3 {
				select {
				case <-ft.done:
					return
				case <-time.After(20 * time.Millisecond):
				}
				k := i % records.Len()
				lb.post("/v1/models/fraud:predict", fmt.Sprintf("customer-%d", k), recordsBody(records.Row(k)))
			}
		})
	}
	return ft
}

// stop ends the traffic and waits for its requests in flight.
func (ft *fleetTraffic) stop() {
	ft.stopped.Do(func() { close(ft.done) })
	ft.wg.Wait()
}
