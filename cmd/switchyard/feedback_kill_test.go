package main

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/switchyard-ml/switchyard/internal/onnx"
	"github.com/switchyard-ml/switchyard/internal/testenv"
	"github.com/switchyard-ml/switchyard/tracking"
)

// serveChildEnv tells the test binary, re-executed, to run `switchyard
// serve` with the arguments it holds (separated by newlines).
const serveChildEnv = "SWITCHYARD_SERVE_CHILD_ARGS"

// TestServeChild is `switchyard serve` in a child process of
// TestSIGKILLServeLosesNoAcknowledgedFeedback.
func TestServeChild(t *testing.T) {
	args := os.Getenv(serveChildEnv)
	if args == "" {
		t.Skip("run by TestSIGKILLServeLosesNoAcknowledgedFeedback only")
	}
	if err := run(context.Background(), strings.Split(args, "\n"), os.Stdout, os.Stderr); err != nil {
		fmt.Fprintln(os.Stderr, "child:", err)
		os.Exit(1)
	}
	os.Exit(0)
}

// TestSIGKILLServeLosesNoAcknowledgedFeedback runs `switchyard serve` in
// a child process with the prediction log on (the default), predicts
// and labels each prediction through POST /v1/feedback as soon as the
// log has it, kills the child with SIGKILL mid-traffic, and does it
// again on the same registry three times: each label the server
// acknowledged must be found afterwards, joined to its logged
// prediction, in a store that checks sound.
func TestSIGKILLServeLosesNoAcknowledgedFeedback(t *testing.T) {
	if os.Getenv(serveChildEnv) != "" {
		t.Skip("this is the child's process")
	}
	reg := filepath.Join(t.TempDir(), "registry")
	testenv.Publish(t, reg, "m", onnx.RandomMLP(1, onnx.ActivationNone, 3, 2).Model())
	acked := map[string]string{}
	const body = `{"inputs":[{"name":"input","datatype":"FP32","shape":[1,3],"data":[1,2,3]}]}`
	client := &http.Client{Timeout: 5 * time.Second}
	for round := range 3 {
		cmd := exec.Command(os.Args[0], "-test.run=^TestServeChild$", "-test.count=1")
		cmd.Env = append(os.Environ(), serveChildEnv+"=serve\n--registry\n"+reg+"\n--addr\n127.0.0.1:0\n--log-level\nerror")
		out, err := cmd.StdoutPipe()
		if err != nil {
			t.Fatal(err)
		}
		cmd.Stderr = os.Stderr
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		line, err := bufio.NewReader(out).ReadString('\n')
		if err != nil {
			cmd.Process.Kill()
			cmd.Wait()
			t.Fatalf("round %d: serve printed no address: %v", round, err)
		}
		go io.Copy(io.Discard, out)
		addr := strings.TrimSpace(strings.TrimPrefix(line, "switchyard listening on "))
		// Predict and label until the kill, which comes at a time of its
		// own, whatever request is in flight.
		kill := time.AfterFunc(time.Duration(700+300*round)*time.Millisecond, func() { cmd.Process.Signal(syscall.SIGKILL) })
	traffic:
		for {
			// 50 predictions, then their labels in one request.
			labels := map[string]string{}
			for i := range 50 {
				id, err := predictID(client, addr, body)
				if err != nil {
					break traffic // killed
				}
				labels[id] = fmt.Sprint(i % 2)
			}
			statuses, err := labelOnceLogged(client, addr, labels)
			if err != nil {
				break
			}
			for id, st := range statuses {
				if st != "accepted" && st != "duplicate" { // duplicate: accepted by an earlier try
					t.Fatalf("round %d: label of %s: %s", round, id, st)
				}
				acked[id] = labels[id]
			}
		}
		kill.Stop()
		cmd.Process.Signal(syscall.SIGKILL)
		cmd.Wait()
		if len(acked) == 0 {
			t.Fatalf("round %d: no label acknowledged", round)
		}
	}
	s, err := tracking.Open(context.Background(), filepath.Join(reg, ".switchyard"), tracking.Config{})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if err := s.IntegrityCheck(context.Background()); err != nil {
		t.Fatal(err)
	}
	for id, label := range acked {
		p, err := s.Prediction(context.Background(), id)
		if err != nil || string(p.Label) != label || p.Model != "m" || len(p.Scores) == 0 {
			t.Errorf("acknowledged label %s of %s: have %+v, %v", label, id, p, err)
		}
	}
	t.Logf("%d labels acknowledged over 3 kills, all present", len(acked))
}

// predictID makes one V2 prediction and returns its prediction id.
func predictID(c *http.Client, addr, body string) (string, error) {
	resp, err := c.Post("http://"+addr+"/v2/models/m/infer", "application/json", strings.NewReader(body))
	if err != nil {
		return "", err
	}
	defer resp.Body.Close()
	var ans struct {
		Parameters struct {
			PredictionID string `json:"prediction_id"`
		} `json:"parameters"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&ans); err != nil || ans.Parameters.PredictionID == "" {
		return "", fmt.Errorf("predict: status %d, %v", resp.StatusCode, err)
	}
	return ans.Parameters.PredictionID, nil
}

// labelOnceLogged posts labels (by prediction id) in one request, again
// while the answer says some are unknown (the log writes every 100 ms),
// and returns each item's status; an error means the server is gone.
func labelOnceLogged(c *http.Client, addr string, labels map[string]string) (map[string]string, error) {
	var b strings.Builder
	for id, label := range labels {
		if b.Len() > 0 {
			b.WriteByte(',')
		}
		fmt.Fprintf(&b, `{"prediction_id":%q,"label":%s}`, id, label)
	}
	for try := 0; ; try++ {
		resp, err := c.Post("http://"+addr+"/v1/feedback", "application/json", strings.NewReader("["+b.String()+"]"))
		if err != nil {
			return nil, err
		}
		var ans struct {
			Results []struct {
				ID     string `json:"prediction_id"`
				Status string `json:"status"`
			} `json:"results"`
		}
		err = json.NewDecoder(resp.Body).Decode(&ans)
		resp.Body.Close()
		if err != nil || len(ans.Results) != len(labels) {
			return nil, fmt.Errorf("feedback: status %d, %v", resp.StatusCode, err)
		}
		statuses, unknown := map[string]string{}, false
		for _, r := range ans.Results {
			statuses[r.ID] = r.Status
			unknown = unknown || r.Status == "unknown"
		}
		if !unknown || try == 100 {
			return statuses, nil
		}
		time.Sleep(20 * time.Millisecond)
	}
}
