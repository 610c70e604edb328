package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/switchyard-ml/switchyard/modelstore"
)

// walkthroughMarker opens the walkthrough on README.md's first screen:
// the fenced block after it is what TestREADMEWalkthrough runs.
const walkthroughMarker = "<!-- walkthrough: checked by TestREADMEWalkthrough"

// readmeAddr is the server address the walkthrough names; the test
// substitutes its demo server's.
const readmeAddr = "localhost:8080"

// TestREADMEWalkthrough runs the walkthrough on README.md's first screen
// against the demo, so that the README cannot drift from the product.
// The walkthrough is the fenced block after walkthroughMarker:
//
//   - "$ make run" starts the demo server in-process as the Makefile's run
//     recipe does (its `$(BIN) demo` line, on 127.0.0.1:0 and a temporary
//     registry), with 100 requests a second of background traffic and a
//     policy.yaml of 4-second canary steps (testPolicy), so that the
//     canary moves while the test watches; the lines after it must be in
//     what the demo prints before "Try".
//   - "$ curl ..." is sent through net/http (flags -s, -H, -d, -X); the
//     answer's status must be the one the comment before the command
//     names (such as 422), else 200.
//   - "$ bin/switchyard VERB ..." runs through run(...).
//   - "# ..." is a comment; every URL on localhost:8080 in it must answer
//     200.
//
// The lines after a command are what its output must hold. A JSON answer
// is compared with the JSON shown: the same keys, the same array lengths,
// the same types, equal strings and numbers equal to the digits shown.
// Other output must hold each line shown, in order, runs of blanks
// matching runs of blanks; "…" in a line or a JSON string stands for any
// text. Read-only commands (status, audit, GET) are retried until their
// output matches, for a minute, since the canary moves on its own.
func TestREADMEWalkthrough(t *testing.T) {
	steps := readWalkthrough(t, filepath.Join("..", "..", "README.md"))
	if len(steps) < 2 || steps[0].command != "make run" {
		t.Fatalf("the walkthrough starts with %+v; want make run, then commands", steps[0])
	}
	reg := filepath.Join(t.TempDir(), "registry")
	if err := os.MkdirAll(filepath.Join(reg, demoModel), 0o755); err != nil {
		t.Fatal(err)
	}
	writeFile(t, filepath.Join(reg, demoModel), modelstore.PolicyFile, []byte(testPolicy(t, "4s")))
	args := append(makeRunArgs(t, filepath.Join("..", "..", "Makefile"), reg), "--traffic", "100", "--log-level", "warn")
	d := startDemo(t, args)
	sub := strings.NewReplacer(d.addr, readmeAddr, reg, "registry")
	if err := matchOutput(steps[0].output, sub.Replace(d.stdout.String())); err != nil {
		t.Errorf("make run: %v", err)
	}

	client := &http.Client{Timeout: 30 * time.Second}
	for _, st := range steps[1:] {
		for _, u := range st.urls {
			resp, err := client.Get(strings.Replace(u, readmeAddr, d.addr, 1))
			if err != nil {
				t.Fatalf("%s: %v", u, err)
			}
			resp.Body.Close()
			if resp.StatusCode != http.StatusOK {
				t.Errorf("%s answered %s; want 200", u, resp.Status)
			}
		}
		if st.command == "" {
			continue
		}
		args, err := splitCommand(strings.ReplaceAll(st.command, readmeAddr, d.addr))
		if err != nil {
			t.Fatalf("%s: %v", st.command, err)
		}
		var exec func() (string, bool, error) // output, read-only, error
		switch {
		case args[0] == "curl":
			exec = func() (string, bool, error) { return curl(client, args[1:], st.status) }
		case args[0] == "bin/switchyard":
			exec = func() (string, bool, error) {
				var out, errs bytes.Buffer
				err := run(context.Background(), args[1:], &out, &errs)
				if err != nil {
					err = fmt.Errorf("%w\n%s", err, errs.String())
				}
				return out.String(), slices.Contains([]string{"status", "audit", "runs"}, args[1]), err
			}
		default:
			t.Fatalf("%s: the walkthrough runs curl and bin/switchyard only", st.command)
		}
		for deadline := time.Now().Add(time.Minute); ; time.Sleep(100 * time.Millisecond) {
			out, readOnly, err := exec()
			if err != nil {
				t.Fatalf("%s: %v", st.command, err)
			}
			err = matchOutput(st.output, sub.Replace(out))
			if err == nil {
				break
			}
			if !readOnly || time.Now().After(deadline) {
				t.Fatalf("%s: %v", st.command, err)
			}
		}
	}
	if problems := d.stderr.String(); strings.Contains(problems, "demo traffic:") {
		t.Errorf("the demo's background traffic failed:\n%s", problems)
	}
}

// walkStep is one step of the walkthrough: comment lines, then a command
// and the output shown after it.
type walkStep struct {
	command string   // without the "$ "; empty for a trailing comment
	output  []string // the lines shown after it
	urls    []string // URLs on readmeAddr in the comments before it
	status  int      // the HTTP status a comment before it names, else 200
}

var (
	readmeURL    = regexp.MustCompile(`https?://` + regexp.QuoteMeta(readmeAddr) + `\S*`)
	readmeStatus = regexp.MustCompile(`\b[1-5][0-9][0-9]\b`)
)

// readWalkthrough returns the steps of the fenced block after
// walkthroughMarker in the README at path.
func readWalkthrough(t *testing.T, path string) []walkStep {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	_, rest, ok := strings.Cut(string(data), walkthroughMarker)
	if !ok {
		t.Fatalf("%s has no %q", path, walkthroughMarker)
	}
	lines := strings.Split(rest, "\n")[1:]
	if len(lines) == 0 || !strings.HasPrefix(lines[0], "```") {
		t.Fatalf("%s: no fenced block right after the walkthrough marker", path)
	}
	var steps []walkStep
	next := walkStep{status: http.StatusOK}
	for _, line := range lines[1:] {
		switch {
		case strings.HasPrefix(line, "```"):
			if next.urls != nil {
				steps = append(steps, next)
			}
			return steps
		case strings.HasPrefix(line, "$ "):
			next.command = strings.TrimPrefix(line, "$ ")
			steps = append(steps, next)
			next = walkStep{status: http.StatusOK}
		case strings.HasPrefix(line, "# "):
			next.urls = append(next.urls, readmeURL.FindAllString(line, -1)...)
			if m := readmeStatus.FindString(line); m != "" {
				next.status, _ = strconv.Atoi(m)
			}
		case strings.TrimSpace(line) == "":
		case len(steps) == 0:
			t.Fatalf("%s: the walkthrough shows %q before any command", path, line)
		default:
			steps[len(steps)-1].output = append(steps[len(steps)-1].output, line)
		}
	}
	t.Fatalf("%s: the walkthrough's block is not closed", path)
	return nil
}

// makeRunArgs returns the arguments of the switchyard command the
// Makefile's run target runs, which must be demo --serve, for a registry
// at reg and a server on a port of loopback the system picks.
func makeRunArgs(t *testing.T, path, reg string) []string {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	_, recipe, ok := strings.Cut(string(data), "\nrun:")
	if !ok {
		t.Fatalf("%s has no run target", path)
	}
	for _, line := range strings.Split(recipe, "\n")[1:] {
		if !strings.HasPrefix(line, "\t") {
			break
		}
		fields := strings.Fields(line)
		if len(fields) < 3 || fields[0] != "$(BIN)" || fields[1] != "demo" {
			continue
		}
		args := fields[1:]
		for i, a := range args {
			switch a {
			case "$(REGISTRY)":
				args[i] = reg
			case "$(ADDR)":
				args[i] = "127.0.0.1:0"
			default:
				if strings.Contains(a, "$(") {
					t.Fatalf("%s: the run target's %q: the test knows no %s", path, line, a)
				}
			}
		}
		if !slices.Contains(args, "--serve") {
			t.Fatalf("%s: the run target runs %q, without --serve", path, line)
		}
		return args
	}
	t.Fatalf("%s: the run target runs no $(BIN) demo", path)
	return nil
}

// runningDemo is switchyard demo --serve running in the test's process.
type runningDemo struct {
	addr           string // where it serves
	stdout, stderr *syncBuffer
}

// startDemo runs switchyard with args, which start demo --serve, and
// returns once it has printed what to try; the demo stops when the test
// ends, and must stop cleanly.
func startDemo(t *testing.T, args []string) *runningDemo {
	t.Helper()
	d := &runningDemo{stdout: &syncBuffer{}, stderr: &syncBuffer{}}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- run(ctx, args, d.stdout, d.stderr) }()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("demo --serve: %v\n%s", err, d.stderr.String())
		}
	})
	serving := regexp.MustCompile(`switchyard demo serves fraud on http://(\S+) until interrupted`)
	for deadline := time.Now().Add(2 * time.Minute); ; time.Sleep(20 * time.Millisecond) {
		out := d.stdout.String()
		if m := serving.FindStringSubmatch(out); m != nil && strings.Contains(out, "Try, in another terminal") {
			d.addr = m[1]
			return d
		}
		select {
		case err := <-done:
			done <- err // for the cleanup
			t.Fatalf("demo --serve stopped: %v\n%s\n%s", err, out, d.stderr.String())
		default:
		}
		if time.Now().After(deadline) {
			t.Fatalf("demo --serve printed nothing to try:\n%s\n%s", out, d.stderr.String())
		}
	}
}

// syncBuffer is a bytes.Buffer safe for one writer and readers.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// curl sends the request that curl would for args (flags -s, -H, -d, -X
// and a URL) and returns the answer's body, whether the request only
// reads, and an error unless the answer has status want.
func curl(client *http.Client, args []string, want int) (string, bool, error) {
	method, url := "", ""
	var body io.Reader
	header := http.Header{}
	for i := 0; i < len(args); i++ {
		a := args[i]
		switch a {
		case "-s":
			continue
		case "-H", "-d", "-X":
			if i+1 == len(args) {
				return "", false, fmt.Errorf("curl %s lacks its value", a)
			}
			i++
			switch a {
			case "-H":
				k, v, ok := strings.Cut(args[i], ":")
				if !ok {
					return "", false, fmt.Errorf("curl -H %q is not a header", args[i])
				}
				header.Add(strings.TrimSpace(k), strings.TrimSpace(v))
			case "-d":
				body = strings.NewReader(args[i])
				method = cmpOr(method, http.MethodPost)
			case "-X":
				method = args[i]
			}
			continue
		}
		if strings.HasPrefix(a, "-") || url != "" {
			return "", false, fmt.Errorf("curl %q: the walkthrough's curl takes -s, -H, -d, -X and one URL", a)
		}
		url = a
		if !strings.Contains(url, "://") {
			url = "http://" + url
		}
	}
	method = cmpOr(method, http.MethodGet)
	req, err := http.NewRequest(method, url, body)
	if err != nil {
		return "", false, err
	}
	req.Header = header
	if body != nil && header.Get("Content-Type") == "" {
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded") // what curl -d sends
	}
	resp, err := client.Do(req)
	if err != nil {
		return "", false, err
	}
	defer resp.Body.Close()
	out, err := io.ReadAll(resp.Body)
	if err == nil && resp.StatusCode != want {
		err = fmt.Errorf("%s %s answered %s; want %d: %s", method, url, resp.Status, want, out)
	}
	return string(out), method == http.MethodGet, err
}

// cmpOr returns a unless it is empty, else b.
func cmpOr(a, b string) string {
	if a != "" {
		return a
	}
	return b
}

// splitCommand splits a command line into words as a POSIX shell would
// for the walkthrough's commands: blanks separate words, and single and
// double quotes group (double quotes without escapes).
func splitCommand(line string) ([]string, error) {
	var words []string
	var w strings.Builder
	inWord := false
	for i := 0; i < len(line); i++ {
		c := line[i]
		switch {
		case c == '\'' || c == '"':
			j := strings.IndexByte(line[i+1:], c)
			if j < 0 {
				return nil, fmt.Errorf("unclosed %c", c)
			}
			w.WriteString(line[i+1 : i+1+j])
			i += j + 1
			inWord = true
		case c == ' ' || c == '\t':
			if inWord {
				words = append(words, w.String())
				w.Reset()
				inWord = false
			}
		case c == '\\' || c == '$' || c == '|' || c == '>' || c == '<' || c == '&' || c == ';' || c == '`':
			return nil, fmt.Errorf("%q: the walkthrough's commands use no shell syntax but quotes", c)
		default:
			w.WriteByte(c)
			inWord = true
		}
	}
	if inWord {
		words = append(words, w.String())
	}
	if len(words) == 0 {
		return nil, errors.New("empty command")
	}
	return words, nil
}

// matchOutput reports whether got holds what want, the lines shown after
// a command, shows: the same JSON if want is JSON, else each line of want
// in order (see TestREADMEWalkthrough).
func matchOutput(want []string, got string) error {
	shown := strings.Join(want, "\n")
	if t := strings.TrimSpace(shown); strings.HasPrefix(t, "{") || strings.HasPrefix(t, "[") {
		w, err := decodeJSON(t)
		if err != nil {
			return fmt.Errorf("the README shows JSON that does not parse: %w", err)
		}
		g, err := decodeJSON(got)
		if err != nil {
			return fmt.Errorf("the answer is not JSON (%w): %s", err, got)
		}
		if err := matchJSON("$", w, g); err != nil {
			return fmt.Errorf("%w\nin %s", err, got)
		}
		return nil
	}
	lines := strings.Split(got, "\n")
	k := 0
	for _, w := range want {
		w = squash(w)
		for k < len(lines) && !matchLine(w, squash(lines[k])) {
			k++
		}
		if k == len(lines) {
			return fmt.Errorf("no line like %q (in order) in:\n%s", w, got)
		}
		k++
	}
	return nil
}

// matchLine reports whether line matches pattern, both squashed, where
// "…" in pattern stands for any text.
func matchLine(pattern, line string) bool {
	parts := strings.Split(pattern, "…")
	if !strings.HasPrefix(line, parts[0]) {
		return false
	}
	line = line[len(parts[0]):]
	if len(parts) == 1 {
		return line == ""
	}
	for _, p := range parts[1 : len(parts)-1] {
		i := strings.Index(line, p)
		if i < 0 {
			return false
		}
		line = line[i+len(p):]
	}
	return strings.HasSuffix(line, parts[len(parts)-1])
}

// decodeJSON decodes one JSON value, keeping numbers as written.
func decodeJSON(s string) (any, error) {
	dec := json.NewDecoder(strings.NewReader(s))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil {
		return nil, err
	}
	if _, err := dec.Token(); err != io.EOF {
		return nil, errors.New("more than one JSON value")
	}
	return v, nil
}

// matchJSON compares got with want, shown at path (see
// TestREADMEWalkthrough).
func matchJSON(path string, want, got any) error {
	switch w := want.(type) {
	case map[string]any:
		g, ok := got.(map[string]any)
		if !ok {
			return fmt.Errorf("%s is %T; want an object", path, got)
		}
		for k := range g {
			if _, ok := w[k]; !ok {
				return fmt.Errorf("%s has %q, which the README does not show", path, k)
			}
		}
		for k, wv := range w {
			gv, ok := g[k]
			if !ok {
				return fmt.Errorf("%s lacks %q", path, k)
			}
			if err := matchJSON(path+"."+k, wv, gv); err != nil {
				return err
			}
		}
	case []any:
		g, ok := got.([]any)
		if !ok || len(g) != len(w) {
			return fmt.Errorf("%s is %v; want an array of %d", path, got, len(w))
		}
		for i := range w {
			if err := matchJSON(fmt.Sprintf("%s[%d]", path, i), w[i], g[i]); err != nil {
				return err
			}
		}
	case string:
		if g, ok := got.(string); !ok || !matchLine(w, g) {
			return fmt.Errorf("%s is %v; want %q", path, got, w)
		}
	case json.Number:
		g, ok := got.(json.Number)
		if !ok {
			return fmt.Errorf("%s is %v; want a number", path, got)
		}
		wf, err1 := w.Float64()
		gf, err2 := g.Float64()
		digits := 0
		if _, frac, ok := strings.Cut(string(w), "."); ok {
			digits = len(frac)
		}
		if err1 != nil || err2 != nil || math.Abs(gf-wf) > 0.5*math.Pow(10, -float64(digits))+1e-12 {
			return fmt.Errorf("%s is %s; want %s to the digits shown", path, g, w)
		}
	default: // bool, null
		if got != want {
			return fmt.Errorf("%s is %v; want %v", path, got, want)
		}
	}
	return nil
}
