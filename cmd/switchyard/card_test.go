package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/switchyard-ml/switchyard/card"
	"github.com/switchyard-ml/switchyard/gate"
	"github.com/switchyard-ml/switchyard/internal/onnx"
	"github.com/switchyard-ml/switchyard/modelstore"
	"github.com/switchyard-ml/switchyard/tracking"
)

// figure writes a number as a card does: four significant digits.
func figure(f gate.Number) string { return strconv.FormatFloat(float64(f), 'g', 4, 64) }

// TestCard publishes two versions with eval sets, training data, a
// schema, notes and a card text, serves them, promotes the second over
// the first, and reads the second's card from the server and the
// registry, as markdown and JSON: every section holds what was
// published, judged and done, each figure taken from the records it
// comes from.
func TestCard(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	reg := filepath.Join(dir, "registry")
	evalCSV := []byte("a,b,c,y\n1,0,0,1\n-1,0,0,0\n2,1,0,1\n-2,1,0,0\n")
	trainCSV := []byte("a,b,c,y\n1,0,0,1\n-1,0,0,0\n2,1,0,1\n-2,1,0,0\n3,0,1,1\n-3,0,1,0\n")
	eval, train := writeFile(t, dir, "eval.csv", evalCSV), writeFile(t, dir, "train.csv", trainCSV)
	schema := writeFile(t, dir, "schema.json", []byte(`{"features": [{"name": "a", "type": "number", "position": 0, "description": "amount | scaled"},
		{"name": "b", "type": "number", "min": -5, "max": 5, "position": 1}, {"name": "c", "type": "number", "position": 2}], "classes": ["legit", "fraud"]}`))
	cardText := "## Intended use\n\nScoring card payments.\n\n## Limitations\n\nNot for wire transfers.\n"
	cardPath := writeFile(t, dir, "card.md", []byte(cardText))
	publish := func(weights []float32, args ...string) {
		t.Helper()
		path := writeFile(t, dir, "model.onnx", (&onnx.LogReg{Weights: weights, Bias: []float32{0}}).Model().Marshal())
		args = append([]string{"publish", "--registry", reg, "--model", "m", "--onnx", path, "--eval", eval, "--label", "y",
			"--train-data", train, "--schema", schema, "--created-by", "ana", "--actor", "ana"}, args...)
		if out, err := runCmd(t, args...); err != nil {
			t.Fatalf("publish = %v\n%s", err, out)
		}
	}
	waitStatus := func(addr, want string) {
		t.Helper()
		for deadline := time.Now().Add(30 * time.Second); ; time.Sleep(10 * time.Millisecond) {
			out, _ := runCmd(t, "status", "m", "--server", addr)
			if holds(out, want) {
				return
			}
			if time.Now().After(deadline) {
				t.Fatalf("status never says %q:\n%s", want, out)
			}
		}
	}
	publish([]float32{3, 0, 0}, "--note", "first", "--param", "lr=0.1")
	writeFile(t, filepath.Join(reg, "m"), "policy.yaml", []byte("rollout:\n  on_publish: manual\n"))
	addr := serve(t, "--registry", reg)
	waitStatus(addr, "m 1 READY 100% pass")
	publish([]float32{2, 0.5, 0}, "--note", "sharper on small amounts", "--card", cardPath, "--param", "lr=0.05", "--param", "depth=3",
		"--seed", "7", "--code-rev", "abc123")
	waitStatus(addr, "m 2 READY 0% pass")
	if out, err := runCmd(t, "promote", "m", "2", "--reason", "beats version 1", "--actor", "bob", "--server", addr); err != nil {
		t.Fatalf("promote = %v\n%s", err, out)
	}

	// The records the card is made from.
	st := openStore(t, filepath.Join(reg, ".switchyard"))
	mf, err := modelstore.ReadManifest(modelstore.VersionDir(reg, "m", 2))
	if err != nil {
		t.Fatal(err)
	}
	verdicts, err := st.Verdicts(ctx, tracking.VerdictQuery{Model: "m", Version: 2, Limit: 1})
	if err != nil || len(verdicts) != 1 {
		t.Fatalf("verdicts on version 2 = %+v, %v", verdicts, err)
	}
	var verdict gate.Verdict
	if err := json.Unmarshal(verdicts[0].Detail, &verdict); err != nil || verdict.Stable == "" || len(verdict.Metrics) == 0 {
		t.Fatalf("verdict on version 2 = %+v, %v; want one against version 1", verdict, err)
	}
	if got, err := os.ReadFile(filepath.Join(modelstore.VersionDir(reg, "m", 2), modelstore.CardFile)); err != nil || string(got) != cardText {
		t.Fatalf("card.md = %q, %v; want the --card file", got, err)
	}

	// Markdown, from the server (the serving version by default) and
	// from the registry.
	wantMarkdown := []string{
		"# Model card: m version 2\n",
		"model.onnx sha256: `" + mf.SHA256 + "`",
		"published " + mf.CreatedAt.UTC().Format("2006-01-02 15:04:05Z") + " by ana\n",
		"- why: sharper on small amounts\n",
		"A logistic regression classifier, written by " + onnx.ProducerName,
		"Classes, in output order (from the feature schema): legit, fraud.",
		"| a | number | any | (required) | (the only one) | 0 | amount \\| scaled |",
		"| b | number | -5 to 5 |",
		"A field the schema does not name is: reject",
		fmt.Sprintf("The gate passed %s on %s, against %s, the baseline that served then, on %d rows", verdict.Candidate,
			verdicts[0].Time.UTC().Format("2006-01-02 15:04:05Z"), verdict.Stable, verdict.Rows),
		"- run: `" + mf.Lineage.RunID + "` (",
		"- code revision: abc123\n- seed: 7\n",
		"| train | 6 | 4: a, b, c, y | `" + sha256Hex(trainCSV) + "` | " + train + " |",
		"| eval | 4 | 4: a, b, c, y | `" + sha256Hex(evalCSV) + "` |",
		"| depth | 3 |\n| lr | 0.05 |",
		"| ana | publish | 2 | sharper on small amounts |",
		"| gate | gate_pass | 2 |",
		"| bob | promote | 2 | beats version 1 |",
		"## Notes\n\nsharper on small amounts\n",
		"## Intended use and limitations\n\n" + cardText,
	}
	for _, s := range verdict.Metrics {
		wantMarkdown = append(wantMarkdown, fmt.Sprintf("| %s | all | %d | %s | %s |", s.Name, s.Rows, figure(s.Candidate), figure(s.Stable)))
	}
	for _, s := range mf.Signature.Inputs {
		wantMarkdown = append(wantMarkdown, fmt.Sprintf("| %s | %s | [%d, %d] |", s.Name, s.Datatype, s.Shape[0], s.Shape[1]))
	}
	for _, where := range [][]string{{"--server", addr}, {"2", "--registry", reg}} {
		out, err := runCmd(t, append([]string{"card", "m"}, where...)...)
		if err != nil {
			t.Fatalf("card %v = %v\n%s", where, err, out)
		}
		for _, want := range wantMarkdown {
			if !strings.Contains(out, want) {
				t.Errorf("card %v lacks %q:\n%s", where, want, out)
			}
		}
		if strings.Contains(out, "Not known") {
			t.Errorf("card %v says something is not known:\n%s", where, out)
		}
	}

	// JSON, from both.
	for _, where := range [][]string{{"--server", addr}, {"--registry", reg}} {
		out, err := runCmd(t, append([]string{"card", "m", "2", "--json"}, where...)...)
		if err != nil {
			t.Fatalf("card --json %v = %v\n%s", where, err, out)
		}
		var c card.Card
		if err := json.Unmarshal([]byte(out), &c); err != nil {
			t.Fatalf("card --json %v: %v\n%s", where, err, out)
		}
		g, p, tr := c.Graph, c.Performance, c.Training
		switch {
		case c.Model != "m" || c.Version != 2 || c.SHA256 != mf.SHA256 || c.Notes != "sharper on small amounts" || c.CardText != cardText:
			t.Errorf("card --json %v = %+v", where, c)
		case c.Published.By != "ana" || c.Published.Actor != "ana" || c.Published.Reason != "sharper on small amounts" || !c.Published.At.Equal(mf.CreatedAt):
			t.Errorf("card --json %v: published %+v", where, c.Published)
		case g.Kind != "logistic regression" || g.Task != card.TaskClassifier || !slices.Equal(g.Classes, []string{"legit", "fraud"}) ||
			g.ClassesFrom != "manifest" || len(g.Inputs) != len(mf.Signature.Inputs) || len(g.Outputs) != len(mf.Signature.Outputs):
			t.Errorf("card --json %v: graph %+v", where, g)
		case c.Schema == nil || len(c.Schema.Features) != 3 || c.Schema.Features[1].Max == nil || *c.Schema.Features[1].Max != 5:
			t.Errorf("card --json %v: schema %+v", where, c.Schema)
		case p == nil || !p.Pass || p.Baseline != verdict.Stable || p.Rows != verdict.Rows || len(p.Metrics) != len(verdict.Metrics) ||
			p.Metrics[0].Stable != verdict.Metrics[0].Stable || !p.JudgedAt.Equal(verdicts[0].Time):
			t.Errorf("card --json %v: performance %+v; want the verdict %+v", where, p, verdict)
		case tr == nil || tr.RunID != mf.Lineage.RunID || tr.Status != tracking.StatusFinished || tr.Seed != "7" || tr.CodeRevision != "abc123" ||
			fmt.Sprint(tr.Params) != "[{depth 3} {lr 0.05}]" || len(tr.Datasets) != 2 || tr.Datasets[0].Rows == nil || *tr.Datasets[0].Rows != 6 ||
			tr.Datasets[0].SHA256 != sha256Hex(trainCSV) || len(tr.Datasets[0].Columns) != 4:
			t.Errorf("card --json %v: training %+v", where, tr)
		case len(c.Missing) != 0:
			t.Errorf("card --json %v: missing %+v", where, c.Missing)
		}
		var actions []string
		for _, e := range c.History {
			actions = append(actions, e.Actor+" "+e.Action)
		}
		if i := slices.Index(actions, "ana publish"); i < 0 || !slices.Contains(actions[i:], "bob promote") || slices.Contains(actions, "lifecycle loaded") {
			t.Errorf("card --json %v: history %q; want the publish, then the promote, and no loads", where, actions)
		}
	}

	// Version 1 has no card text; without the tracking store the card
	// says what it cannot know.
	out, err := runCmd(t, "card", "m", "1", "--registry", reg, "--data-dir", filepath.Join(dir, "none"))
	for _, want := range []string{"# Model card: m version 1", "## Notes\n\nfirst\n", "The publisher wrote none (publish --card FILE).",
		"_Not known: no tracking store holds the gate's verdicts._", "_Not known: no tracking store holds the audit trail._",
		"_Not known: no tracking store: the run's parameters"} {
		if err != nil || !strings.Contains(out, want) {
			t.Errorf("card of version 1 without a store = %v, lacks %q:\n%s", err, want, out)
		}
	}
}

// TestCardFailure: bad card texts publish nothing and record nothing;
// an unknown version or model is a clear error; a card.md edited after
// publish is named, not shown.
func TestCardFailure(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	reg := filepath.Join(dir, "registry")
	model := writeFile(t, dir, "m.onnx", smallModel(1))
	good := writeFile(t, dir, "good.md", []byte("Intended for tests.\n"))
	if out, err := runCmd(t, "publish", "--registry", reg, "--model", "m", "--onnx", model, "--card", good); err != nil {
		t.Fatalf("publish = %v\n%s", err, out)
	}
	st := openStore(t, filepath.Join(reg, ".switchyard"))
	f := func(name string, content []byte, want string) {
		t.Helper()
		path := writeFile(t, dir, name, content)
		out, err := runCmd(t, "publish", "--registry", reg, "--model", "m", "--onnx", model, "--card", path)
		if err == nil || !strings.Contains(err.Error(), want) || !strings.Contains(err.Error(), "--card") {
			t.Errorf("publish --card %s = %v\n%s\nwant an error saying %q", name, err, out, want)
		}
		if complete, all, err := modelstore.Versions(reg, "m"); err != nil || len(complete) != 1 || len(all) != 1 {
			t.Errorf("after publish --card %s the versions are %v, %v, %v; want only 1", name, complete, all, err)
		}
		entries, _ := os.ReadDir(filepath.Join(reg, "m"))
		for _, e := range entries {
			if strings.HasPrefix(e.Name(), ".") {
				t.Errorf("after publish --card %s, %s is left in the model's directory", name, e.Name())
			}
		}
	}
	f("big.md", bytes.Repeat([]byte("x"), modelstore.MaxCardBytes+1), "over the limit")
	f("latin1.md", []byte("caf\xe9 cr\xe8me\n"), "not UTF-8")
	f("empty.md", nil, "empty")
	f("nul.md", []byte("a\x00b"), "NUL")
	if _, err := runCmd(t, "publish", "--registry", reg, "--model", "m", "--onnx", model, "--card", filepath.Join(dir, "none.md")); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("publish --card of a missing file = %v; want ErrNotExist", err)
	}
	if log, err := st.AuditLog(ctx, tracking.AuditQuery{Model: "m"}); err != nil || len(log) != 1 {
		t.Errorf("audit after the refused publishes = %+v, %v; want the one publish", log, err)
	}

	if _, err := runCmd(t, "card", "m", "9", "--registry", reg); !errors.Is(err, modelstore.ErrNotFound) || !strings.Contains(err.Error(), "version 9") {
		t.Errorf("card of a missing version = %v; want not found, naming it", err)
	}
	if _, err := runCmd(t, "card", "nope", "--registry", reg); err == nil || !strings.Contains(err.Error(), `"nope"`) {
		t.Errorf("card of a missing model = %v; want an error naming it", err)
	}
	for _, args := range [][]string{{"card"}, {"card", "m", "0"}, {"card", "m", "1", "2"}, {"card", "../m"}} {
		if _, err := runCmd(t, append(args, "--registry", reg)...); !errors.Is(err, errUsage) {
			t.Errorf("%v = %v; want a usage error", args, err)
		}
	}
	addr := serve(t, "--registry", reg)
	if _, err := runCmd(t, "card", "m", "9", "--server", addr); !errors.Is(err, errNotFound) {
		t.Errorf("card of a missing version from the server = %v; want its 404", err)
	}

	// card.md edited after publish: the card names the edit.
	writeFile(t, modelstore.VersionDir(reg, "m", 1), modelstore.CardFile, []byte("Intended for anything.\n"))
	for _, where := range []string{"--registry=" + reg, "--server=" + addr} {
		out, err := runCmd(t, "card", "m", "1", where)
		if err != nil || !strings.Contains(out, "edited after publish") || strings.Contains(out, "anything") {
			t.Errorf("card %s of an edited card.md = %v\n%s\nwant it to say the text was edited, and not show it", where, err, out)
		}
	}
}
