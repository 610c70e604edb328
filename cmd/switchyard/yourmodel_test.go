package main

import (
	"bytes"
	"context"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/switchyard-ml/switchyard/internal/demo"
)

// The markers around the tested part of docs/your-model.md.
const (
	yourModelBegin = "<!-- your-model: begin"
	yourModelEnd   = "<!-- your-model: end"
)

// yourModelREADME is the heading of the README's short version of
// docs/your-model.md.
const yourModelREADME = "## Your own model, to a canary in five commands"

// TestYourModelREADME checks that each command of the README's section on
// a user's own model is one that TestYourModelWalkthrough runs from
// docs/your-model.md, so that the short version cannot drift from the
// tested one.
func TestYourModelREADME(t *testing.T) {
	data, err := os.ReadFile(filepath.Join("..", "..", "README.md"))
	if err != nil {
		t.Fatal(err)
	}
	_, section, ok := strings.Cut(string(data), yourModelREADME)
	if !ok {
		t.Fatalf("README.md has no section %q", yourModelREADME)
	}
	section, _, _ = strings.Cut(section, "\n## ")
	var tested []string
	for _, st := range readYourModel(t, filepath.Join("..", "..", "docs", "your-model.md")) {
		tested = append(tested, st.command)
	}
	n := 0
	for _, line := range strings.Split(section, "\n") {
		cmd, _, _ := strings.Cut(line, "#")
		cmd = strings.TrimSpace(cmd)
		if !strings.HasPrefix(cmd, "bin/switchyard ") {
			continue
		}
		n++
		if cmd = strings.TrimPrefix(cmd, "bin/"); !slices.Contains(tested, cmd) {
			t.Errorf("README.md's %q is not a command docs/your-model.md runs; they are:\n%s", cmd, strings.Join(tested, "\n"))
		}
	}
	if n < 5 {
		t.Errorf("README.md's section %q shows %d commands; want the five", yourModelREADME, n)
	}
}

// TestYourModelWalkthrough runs docs/your-model.md: the ```console blocks
// between yourModelBegin and yourModelEnd, read as the README's
// walkthrough is (see TestREADMEWalkthrough), in a fresh directory that
// holds what the page's export step makes. The demo's fraud models stand
// in for the user's export: its logistic regression is model.onnx, its
// neural network model-v2.onnx, and its training and held-out rows are
// train.csv and eval.csv, the label column renamed is_fraud. The
// commands run with the product's defaults:
//
//   - "$ switchyard VERB ..." (or bin/switchyard) runs through run(...);
//     "serve" starts in the background on a port of loopback, its first
//     line compared with the one shown, and stops when the test ends.
//   - "$ curl ..." and URLs in comments go to that server.
//
// The output shown after each command must be in what it prints; status
// is retried for a minute, since the server gates version 2 and starts
// its canary on its own.
func TestYourModelWalkthrough(t *testing.T) {
	steps := readYourModel(t, filepath.Join("..", "..", "docs", "your-model.md"))

	dir := t.TempDir()
	v1, err := demo.BuildFraud(1)
	if err != nil {
		t.Fatal(err)
	}
	v2, err := demo.BuildFraudNet(1)
	if err != nil {
		t.Fatal(err)
	}
	// The demo's models take each category one-hot in the order of its
	// Values; the schema inferred lists them sorted, as pandas and
	// sklearn would. Reorder the weights of the first layer to match, so
	// that the stand-ins answer as the demo's models do.
	sortOneHotRows(v1.LogReg.Weights, len(v1.LogReg.Bias))
	sortOneHotRows(v2.MLP.MLP.Layers[0].Weights, len(v2.MLP.MLP.Layers[0].Bias))
	writeFile(t, dir, "model.onnx", v1.LogReg.Model().Marshal())
	writeFile(t, dir, "model-v2.onnx", v2.MLP.Model().Marshal())
	for name, d := range map[string]*demo.Dataset{"train.csv": v1.Train, "eval.csv": v1.Eval} {
		var buf bytes.Buffer
		if err := demo.WriteCSV(&buf, d); err != nil {
			t.Fatal(err)
		}
		header, rows, _ := strings.Cut(buf.String(), "\n")
		header = strings.TrimSuffix(header, ","+demo.LabelColumn) + ",is_fraud"
		writeFile(t, dir, name, []byte(header+"\n"+rows))
	}
	t.Chdir(dir)

	addr := "" // the server's, once serve has started
	sub := func(s string) string {
		if addr == "" {
			return s
		}
		return strings.ReplaceAll(s, addr, readmeAddr)
	}
	client := &http.Client{Timeout: 30 * time.Second}
	for _, st := range steps {
		for _, u := range st.urls {
			resp, err := client.Get(strings.Replace(u, readmeAddr, addr, 1))
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
		line := st.command
		if addr != "" {
			line = strings.ReplaceAll(line, readmeAddr, addr)
		}
		args, err := splitCommand(line)
		if err != nil {
			t.Fatalf("%s: %v", st.command, err)
		}
		var exec func() (string, bool, error) // output, read-only, error
		switch {
		case args[0] == "curl":
			if addr == "" {
				t.Fatalf("%s: curl before serve", st.command)
			}
			exec = func() (string, bool, error) { return curl(client, args[1:], st.status) }
		case (args[0] == "switchyard" || args[0] == "bin/switchyard") && len(args) > 1 && args[1] == "serve":
			if addr != "" {
				t.Fatalf("%s: a second serve", st.command)
			}
			addr = serve(t, args[2:]...)
			exec = func() (string, bool, error) { return "switchyard listening on " + addr + "\n", false, nil }
		case (args[0] == "switchyard" || args[0] == "bin/switchyard") && len(args) > 1:
			exec = func() (string, bool, error) {
				var out, errs bytes.Buffer
				err := run(context.Background(), args[1:], &out, &errs)
				if err != nil {
					err = fmt.Errorf("%w\n%s", err, errs.String())
				}
				return out.String(), slices.Contains([]string{"status", "audit", "runs"}, args[1]), err
			}
		default:
			t.Fatalf("%s: the page runs curl and switchyard only", st.command)
		}
		for deadline := time.Now().Add(time.Minute); ; time.Sleep(100 * time.Millisecond) {
			out, readOnly, err := exec()
			if err != nil {
				t.Fatalf("%s: %v", st.command, err)
			}
			err = matchOutput(st.output, sub(out))
			if err == nil {
				break
			}
			if !readOnly || time.Now().After(deadline) {
				t.Fatalf("%s: %v", st.command, err)
			}
		}
	}
	if addr == "" {
		t.Fatal("docs/your-model.md never runs switchyard serve")
	}
	if _, err := os.Stat(filepath.Join("registry", "fraud", "2", "manifest.json")); err != nil {
		t.Errorf("docs/your-model.md never publishes version 2: %v", err)
	}
}

// readYourModel returns the steps of the ```console blocks between
// yourModelBegin and yourModelEnd in the page at path, parsed as
// readWalkthrough parses the README's one block.
func readYourModel(t *testing.T, path string) []walkStep {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	_, rest, ok := strings.Cut(string(data), yourModelBegin)
	if !ok {
		t.Fatalf("%s has no %q", path, yourModelBegin)
	}
	rest, _, ok = strings.Cut(rest, yourModelEnd)
	if !ok {
		t.Fatalf("%s has no %q", path, yourModelEnd)
	}
	var console []string
	in := false
	for _, line := range strings.Split(rest, "\n") {
		switch {
		case !in && line == "```console":
			in = true
		case in && strings.HasPrefix(line, "```"):
			in = false
		case in:
			console = append(console, line)
		}
	}
	if in {
		t.Fatalf("%s: a console block is not closed", path)
	}
	// One block after the README's marker is what readWalkthrough reads.
	block := walkthroughMarker + " -->\n```console\n" + strings.Join(console, "\n") + "\n```\n"
	tmp := filepath.Join(t.TempDir(), "your-model.md")
	if err := os.WriteFile(tmp, []byte(block), 0o644); err != nil {
		t.Fatal(err)
	}
	steps := readWalkthrough(t, tmp)
	if len(steps) < 6 {
		t.Fatalf("%s: %d commands between the markers; want the five commands and the next version's", path, len(steps))
	}
	return steps
}

// sortOneHotRows reorders, in place, the rows of w, a row-major [inputs,
// out] weight matrix over the demo's encoded input, so that each
// category's one-hot block reads its values sorted instead of in the
// order of the demo's Values.
func sortOneHotRows(w []float32, out int) {
	for _, f := range demo.Features() {
		if f.Values == nil {
			continue
		}
		old := slices.Clone(w[f.Column*out : (f.Column+len(f.Values))*out])
		for j, v := range slices.Sorted(slices.Values(f.Values)) {
			k := slices.Index(f.Values, v)
			copy(w[(f.Column+j)*out:(f.Column+j+1)*out], old[k*out:(k+1)*out])
		}
	}
}
