package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/switchyard-ml/switchyard/internal/demo"
)

// demoServer is demo --serve: the registry served in-process as
// switchyard serve serves it, the network published once the server
// serves, background traffic while it does.
type demoServer struct {
	publish *demoPublish
	// better is published once the server serves, gated first, if
	// republish is true.
	better    *demo.Fraud
	republish bool
	dataDir   string
	logLevel  string
	// traffic is the background traffic's rate, in requests a second,
	// of rows of eval; drifted by driftRecord when drift is true.
	traffic int
	drift   bool
	eval    *demo.Dataset
	// feedback, when not nil, logs the predictions, shifts the traffic's
	// world and feeds its labels back (demo --feedback).
	feedback *demoShift
	try      demoTry
	stdout   io.Writer
	stderr   io.Writer
}

// run serves the registry on addr until ctx is done or the server fails.
// The server runs in a goroutine of its own, which run waits for before
// it returns; so does the background traffic's.
func (s *demoServer) run(ctx context.Context, addr string) error {
	p := s.publish
	// A demo has no load balancer to wait for: it stops at once.
	args := []string{"--registry", p.registry, "--addr", addr, "--log-level", s.logLevel, "--drain-delay", "0",
		"--ort-lib", p.ef.ortLib, "--intra-op-threads", strconv.Itoa(p.ef.cfg.IntraOpThreads),
		"--inter-op-threads", strconv.Itoa(p.ef.cfg.InterOpThreads)}
	if s.dataDir != "" {
		args = append(args, "--data-dir", s.dataDir)
	}
	if s.feedback != nil {
		args = append(args, "--prediction-log")
	}
	srvCtx, stop := context.WithCancel(ctx)
	defer stop()
	listening := &listenWatch{w: s.stdout, addr: make(chan string, 1)}
	stopped := make(chan struct{})
	var serveErr error // written by the server's goroutine before stopped closes
	go func() {
		defer close(stopped)
		serveErr = runServe(srvCtx, args, listening, s.stderr)
	}()
	err := s.interact(ctx, listening.addr, stopped)
	if errors.Is(err, context.Canceled) && ctx.Err() != nil {
		err = nil // interrupted while starting: a clean stop
	}
	stop()
	<-stopped
	return errors.Join(err, serveErr)
}

// interact waits for the server to listen and to serve the demo model,
// publishes the network, starts the background traffic and prints what
// to try; then it waits for the server to stop and returns nil. It
// returns early, nil if the server stopped (which says why), or the
// first error on its way.
func (s *demoServer) interact(ctx context.Context, listening <-chan string, stopped <-chan struct{}) error {
	timer := time.NewTimer(demoReadyTimeout)
	defer timer.Stop()
	var listen string
	select {
	case listen = <-listening:
	case <-stopped:
		return nil
	case <-timer.C:
		return fmt.Errorf("the demo's server did not listen within %s", demoReadyTimeout)
	}
	local, loopback, err := localAddr(listen)
	if err != nil {
		return err
	}
	s.try.addr = publicAddr(s.try.addr, listen)
	client := &http.Client{Timeout: demoRequestTimeout}
	switch ready, err := waitReady(ctx, client, "http://"+local+"/v2/models/"+demoModel+"/ready", stopped); {
	case err != nil:
		return err
	case !ready:
		return nil
	}
	if s.republish {
		// A network that fails its gate is not published (the report
		// says why); version 1 goes on serving.
		if err := s.publish.gateAndPublish(ctx, s.better); err != nil && !errors.Is(err, errFailed) {
			return err
		}
	}
	var wg sync.WaitGroup
	trafficCtx, stopTraffic := context.WithCancel(ctx)
	defer func() {
		stopTraffic()
		wg.Wait()
	}()
	switch {
	case s.traffic == 0:
		s.try.traffic = "no background traffic (--traffic 0): send requests yourself for a canary to advance"
	case !loopback:
		s.try.traffic = fmt.Sprintf("no background traffic: the server listens on %s, not on loopback; send requests yourself for a canary to advance", listen)
	default:
		t := demoTraffic{url: "http://" + local + "/v1/models/" + demoModel + ":predict", rate: s.traffic, client: client,
			stdout: s.stdout, stderr: s.stderr, world: s.records(s.eval)}
		s.try.traffic = fmt.Sprintf("background traffic: %d records requests a second, rows of the eval set, to %s", s.traffic, local)
		if s.drift {
			s.try.traffic += "; drifted (--drift): " + driftSummary
		}
		if f := s.feedback; f != nil {
			t.feedback = newDemoFeedback("http://"+local+"/v1/feedback", client, f.labelDelay, s.stderr)
			if f.after > 0 {
				t.shifted, t.shiftAfter = s.records(f.world), f.after
			}
			s.try.traffic += fmt.Sprintf(";\neach prediction's true label fed back %s after its answer (--feedback), %s", f.labelDelay, demoShiftAfter(f.after))
			wg.Add(1)
			go func() {
				defer wg.Done()
				t.feedback.run(trafficCtx)
			}()
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			t.run(trafficCtx)
		}()
	}
	s.try.serving(s.stdout)
	<-stopped
	return nil
}

// records returns the background traffic's records requests for the rows
// of d, drifted if the traffic is, with their labels.
func (s *demoServer) records(d *demo.Dataset) *demoWorld {
	w := &demoWorld{bodies: make([][]byte, d.Len()), fraud: make([]bool, d.Len())}
	shift := 0.0
	if s.drift {
		shift = driftShift(d)
	}
	for i := range w.bodies {
		row := d.Row(i)
		if s.drift {
			row = driftRecord(row, i, shift)
		}
		w.bodies[i], w.fraud[i] = recordsBody(row), d.Y[i] == 1
	}
	return w
}

// waitReady polls url until it answers 200 and returns true, or returns
// false once the server has stopped, or an error when ctx is done or
// demoReadyTimeout passes.
func waitReady(ctx context.Context, client *http.Client, url string, stopped <-chan struct{}) (bool, error) {
	deadline := time.NewTimer(demoReadyTimeout)
	defer deadline.Stop()
	poll := time.NewTicker(50 * time.Millisecond)
	defer poll.Stop()
	for {
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
		if err != nil {
			return false, fmt.Errorf("BUG: readiness request: %w", err)
		}
		if resp, err := client.Do(req); err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return true, nil
			}
		}
		select {
		case <-ctx.Done():
			return false, ctx.Err()
		case <-stopped:
			return false, nil
		case <-deadline.C:
			return false, fmt.Errorf("%s serves no version of %s after %s: see the server's log", url, demoModel, demoReadyTimeout)
		case <-poll.C:
		}
	}
}

// localAddr returns the address at which this process reaches a server
// listening on listen (the listener's address, as switchyard serve
// prints it), and whether that is a loopback address: the listen address
// itself, or 127.0.0.1 at its port for an unspecified address (0.0.0.0,
// or [::], which takes IPv4 too).
func localAddr(listen string) (string, bool, error) {
	host, port, err := net.SplitHostPort(listen)
	if err != nil {
		return "", false, fmt.Errorf("the demo's server listens on %q: %w", listen, err)
	}
	switch ip := net.ParseIP(host); {
	case ip == nil:
		return listen, false, nil
	case ip.IsUnspecified():
		return net.JoinHostPort("127.0.0.1", port), true, nil
	default:
		return listen, ip.IsLoopback(), nil
	}
}

// publicAddr returns the address the printed commands name for a server
// asked to listen on addr and listening on listen: addr's host, or
// localhost when it names none or an unspecified one, at the port it
// listens on.
func publicAddr(addr, listen string) string {
	host, _, err := net.SplitHostPort(addr)
	if ip := net.ParseIP(host); err != nil || host == "" || ip != nil && ip.IsUnspecified() {
		host = "localhost"
	}
	_, port, err := net.SplitHostPort(listen)
	if err != nil {
		return addr
	}
	return net.JoinHostPort(host, port)
}

// listenWatch passes what switchyard serve writes to its stdout on to w,
// and sends the address of its first line, "switchyard listening on
// ADDR", on addr. Only the server's goroutine writes to it.
type listenWatch struct {
	w    io.Writer
	line []byte
	addr chan string // buffered: one address
	sent bool
}

// Write implements io.Writer.
func (l *listenWatch) Write(p []byte) (int, error) {
	if !l.sent {
		l.line = append(l.line, p...)
		if i := bytes.IndexByte(l.line, '\n'); i >= 0 {
			l.sent = true
			l.addr <- strings.TrimPrefix(string(l.line[:i]), "switchyard listening on ")
		}
	}
	return l.w.Write(p)
}

// lockedWriter serialises the writes of several goroutines to w.
type lockedWriter struct {
	mu sync.Mutex
	w  io.Writer
}

// Write implements io.Writer.
func (l *lockedWriter) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.w.Write(p)
}

// demoWorld is what the background traffic sends: records requests, one
// record each, and whether each record is fraud.
type demoWorld struct {
	bodies [][]byte
	fraud  []bool
}

// demoTraffic sends records requests to the demo's server, one at a
// time, at most rate a second, each body of world in turn, until its
// context is done: enough for the rollout controller to judge a canary,
// too little to load anything. With feedback, each answer's prediction
// id and its record's label go to feedback; with shifted, the traffic
// switches to shifted's records shiftAfter after it starts.
type demoTraffic struct {
	url            string
	world, shifted *demoWorld
	shiftAfter     time.Duration
	feedback       *demoFeedback
	rate           int
	client         *http.Client
	stdout, stderr io.Writer
}

// run sends the traffic until ctx is done. The first request that fails
// is reported on stderr; the traffic goes on.
func (t *demoTraffic) run(ctx context.Context) {
	tick := time.NewTicker(time.Second / time.Duration(t.rate))
	defer tick.Stop()
	start, w := time.Now(), t.world
	reported := false
	for i := 0; ; i++ {
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
		}
		if t.shifted != nil && w != t.shifted && time.Since(start) >= t.shiftAfter {
			w, i = t.shifted, 0
			fmt.Fprintf(t.stdout, "demo traffic: the world shifted after %s: %s\n", t.shiftAfter, demoShiftSummary)
		}
		j := i % len(w.bodies)
		id, err := t.send(ctx, w.bodies[j])
		if err == nil && t.feedback != nil {
			t.feedback.offer(id, w.fraud[j])
		}
		if err != nil && ctx.Err() == nil && !reported {
			reported = true
			fmt.Fprintf(t.stderr, "demo traffic: %v (reported once; the traffic goes on)\n", err)
		}
	}
}

// send posts body and reads the answer, which must be 200, and, with
// feedback, its prediction id.
func (t *demoTraffic) send(ctx context.Context, body []byte) (id string, err error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, t.url, bytes.NewReader(body))
	if err != nil {
		return "", fmt.Errorf("BUG: demo traffic request: %w", err)
	}
	req.Header.Set("Content-Type", "application/json")
	resp, err := t.client.Do(req)
	if err != nil {
		return "", err
	}
	defer resp.Body.Close()
	answer, err := io.ReadAll(io.LimitReader(resp.Body, 4<<10))
	if err != nil {
		return "", fmt.Errorf("POST %s: %w", t.url, err)
	}
	if resp.StatusCode != http.StatusOK {
		return "", fmt.Errorf("POST %s answered %s: %s", t.url, resp.Status, bytes.TrimSpace(answer))
	}
	if t.feedback == nil {
		return "", nil
	}
	if id, err = demoPredictionID(answer); err != nil {
		return "", fmt.Errorf("POST %s: %w", t.url, err)
	}
	return id, nil
}

// demoTry prints what to try with the demo.
type demoTry struct {
	// addr is the server's address as the printed commands name it.
	addr     string
	registry string
	// record is the first request's record: the held-out fraudulent
	// transaction version 1 is surest of.
	record []float64
	// traffic says what background traffic the demo sends, if any.
	traffic string
}

// offline prints how to serve what the demo published, and requests to
// send then.
func (t *demoTry) offline(w io.Writer) {
	fmt.Fprintf(w, "\nserve it (or run bin/switchyard demo --serve, which does all of this while it serves):\n  bin/switchyard serve --registry %s --addr %s\n",
		shellQuote(t.registry), t.addr)
	fmt.Fprintf(w, "then query it with a record, or as a V2 tensor:\n  %s\n  %s\n", t.recordsCurl(recordsBody(t.record)), curlLine(t.addr, demo.Encode(t.record)))
}

// serving prints what demo --serve serves and what to try with it.
func (t *demoTry) serving(w io.Writer) {
	srv := " --server " + t.addr
	fmt.Fprintf(w, `
switchyard demo serves %[1]s on http://%[2]s until interrupted (Ctrl-C);
%[3]s.
Try, in another terminal (README.md's "Try it" walks through it):

  # a record: its label and probabilities, and the version that answered
  %[4]s
  # a bad record: 422, every problem named
  %[5]s
  # the records API documented, and tried from the browser: http://%[2]s/docs
  # each version's state, traffic and gate, the canary advancing
  bin/switchyard status %[1]s%[6]s
  # what serves, the run that trained it and its data
  bin/switchyard status %[1]s --lineage%[6]s
  # all traffic back on the stable version at once
  bin/switchyard rollback %[1]s --reason "bad numbers"%[6]s
  # who did what, when and why
  bin/switchyard audit %[1]s%[6]s
  # each feature's live distribution against the training data (demo --serve --drift drifts it)
  bin/switchyard drift %[1]s%[6]s
`, demoModel, t.addr, t.traffic, t.recordsCurl(recordsBody(t.record)), t.recordsCurl(badRecordsBody(t.record)), srv)
}

// recordsCurl returns the curl command that posts body to the demo
// model's records API.
func (t *demoTry) recordsCurl(body []byte) string {
	return fmt.Sprintf("curl -s %s/v1/models/%s:predict -H 'Content-Type: application/json' -d '%s'", t.addr, demoModel, body)
}

// recordsBody is the records request for one demo record.
func recordsBody(record []float64) []byte {
	b := append([]byte(nil), `{"instances":[`...)
	return append(demo.AppendJSON(b, record), "]}"...)
}

// badRecordsBody is a records request whose record breaks the schema in
// several ways at once: amount below its minimum, hour above its maximum,
// a merchant_category that is not one of its values, country missing.
func badRecordsBody(record []float64) []byte {
	r := slices.Clone(record)
	r[demo.Amount], r[demo.Hour] = -12.5, 25
	b := demo.AppendJSON([]byte(`{"instances":[`), r)
	b = bytes.Replace(b, []byte(`"merchant_category":"`+demo.MerchantCategories[int(record[demo.MerchantCategory])]+`"`), []byte(`"merchant_category":"casino"`), 1)
	b = bytes.Replace(b, []byte(`,"country":"`+demo.Countries[int(record[demo.Country])]+`"`), nil, 1)
	return append(b, "]}"...)
}

// inferBody is the V2 request for one row of the demo models' input.
func inferBody(row []float32) string {
	data := make([]string, len(row))
	for i, v := range row {
		data[i] = strconv.FormatFloat(float64(v), 'g', -1, 32)
	}
	return fmt.Sprintf(`{"inputs":[{"name":%q,"datatype":"FP32","shape":[1,%d],"data":[%s]}]}`,
		demo.InputName, len(row), strings.Join(data, ","))
}

// curlLine returns the curl command that posts row to the demo model's
// V2 endpoint at addr.
func curlLine(addr string, row []float32) string {
	if strings.HasPrefix(addr, ":") {
		addr = "localhost" + addr
	}
	return fmt.Sprintf("curl -s %s/v2/models/%s/infer -H 'Content-Type: application/json' -d '%s'", addr, demoModel, inferBody(row))
}
