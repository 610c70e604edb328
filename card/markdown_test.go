package card

import (
	"fmt"
	"math"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/switchyard-ml/switchyard/engine"
	"github.com/switchyard-ml/switchyard/gate"
	"github.com/switchyard-ml/switchyard/modelstore"
)

// testCard returns a card with every section filled.
func testCard() *Card {
	min, rows := 0.8, int64(1200)
	return &Card{
		Model: "fraud", Version: 4, SHA256: strings.Repeat("ab", 32),
		Published: Published{At: time.Date(2026, 11, 30, 12, 0, 0, 0, time.UTC), By: "ana", Actor: "ci-token", Reason: "nightly | retrain"},
		Graph: Graph{Kind: "tree ensemble", Task: TaskClassifier, Producer: "skl2onnx 1.17.0", IRVersion: 8,
			Opsets:    []Opset{{"", 17}, {"ai.onnx.ml", 3}},
			Operators: []Operator{{"ai.onnx.ml", "TreeEnsembleClassifier", 1}, {"ai.onnx.ml", "ZipMap", 1}},
			Inputs:    []modelstore.ManifestTensor{{Name: "input", Datatype: "FP32", Shape: []int64{-1, 6}}},
			Outputs:   []modelstore.ManifestTensor{{Name: "probabilities", Datatype: "FP32", Shape: []int64{-1, 2}}},
			Classes:   []string{"legit", "fraud"}, ClassesFrom: "graph"},
		Schema: &Schema{Features: []modelstore.Feature{{Name: "amount", Type: modelstore.TypeNumber, Min: &min, Position: 0},
			{Name: "country", Type: modelstore.TypeCategory, Values: []string{"FR", "DE"}, Default: "FR", Position: 1}}, UnknownFields: "ignore"},
		Performance: &Performance{Pass: true, JudgedAt: time.Date(2026, 11, 30, 12, 0, 5, 0, time.UTC), Candidate: "version 4", Baseline: "version 3", Rows: 500,
			Metrics: []gate.Metric{{Name: "auc", Rows: 500, Candidate: 0.91234, Stable: 0.88, GreaterIsBetter: true, Threshold: &gate.Threshold{Min: &min}, Pass: true},
				{Name: "auc", Slice: "country=FR", Rows: 12, Candidate: gate.Number(math.NaN()), Stable: 0.5, Pass: false}},
			Reasons: []string{"version 4 passed every threshold."}},
		Training: &Training{RunID: "r1", RunName: "clever-owl", ExperimentID: "0", Status: "FINISHED", User: "ana", CodeRevision: "abc", Seed: "7",
			Datasets: []Dataset{{Role: "train", Path: "/data/train.csv", SHA256: strings.Repeat("cd", 32), Rows: &rows, Columns: []string{"amount", "country", "y"}},
				{Role: "eval", SHA256: strings.Repeat("ef", 32)}},
			Params: []Param{{"lr", "0.1"}}, Metrics: []Metric{{"auc", 0.9}}},
		History: []Event{{Time: time.Date(2026, 11, 30, 12, 0, 0, 0, time.UTC), Actor: "ana", Action: "publish", Versions: []int{4}, Reason: "nightly"},
			{Time: time.Date(2026, 11, 30, 13, 0, 0, 0, time.UTC), Actor: "controller", Action: "promote", Versions: []int{3, 4}, Reason: "canary healthy"}},
		Notes:    "Retrained on November's data.",
		CardText: "## Limitations\n\nNot for wire transfers.\n",
		Missing:  []Missing{},
	}
}

// TestAppendMarkdownSuccess checks each section's lines, each written
// from the card's own values.
func TestAppendMarkdownSuccess(t *testing.T) {
	c := testCard()
	md := string(c.AppendMarkdown([]byte("prefix\n")))
	p, tr := c.Performance, c.Training
	m0, m1 := p.Metrics[0], p.Metrics[1]
	for _, want := range []string{
		"prefix\n# Model card: fraud version 4\n",
		"- model.onnx sha256: `" + c.SHA256 + "`\n",
		"- published " + c.Published.At.Format("2006-01-02 15:04:05Z") + " by ana (audited as ci-token)\n",
		"- why: " + c.Published.Reason + "\n",
		"A tree ensemble classifier, written by skl2onnx 1.17.0 (ONNX IR 8, ai.onnx opset 17, ai.onnx.ml opset 3).\n",
		"Operators: TreeEnsembleClassifier × 1, ZipMap × 1.\n",
		"| input | FP32 | [-1, 6] |\n", "| probabilities | FP32 | [-1, 2] |\n",
		"Classes, in output order (from the ONNX graph's class labels): legit, fraud.\n",
		fmt.Sprintf("| amount | number | ≥ %g | (required) | (the only one) | 0 |", *c.Schema.Features[0].Min),
		"| country | category | FR, DE | FR | (the only one) | 1 |",
		"A field the schema does not name is: ignore",
		"The gate passed version 4 on 2026-11-30 12:00:05Z, against version 3, the baseline that served then, on 500 rows",
		"| metric | slice | rows | version 4 | baseline (version 3) | threshold | pass |",
		fmt.Sprintf("| auc | all | %d | %s | %s | ≥ %g | yes |", m0.Rows, strconv.FormatFloat(float64(m0.Candidate), 'g', 4, 64),
			strconv.FormatFloat(float64(m0.Stable), 'g', 4, 64), *m0.Threshold.Min),
		fmt.Sprintf("| auc | country=FR | %d | - | %g | - | **no** |", m1.Rows, float64(m1.Stable)),
		"- " + p.Reasons[0] + "\n",
		"- run: `r1` (clever-owl, experiment 0, FINISHED, by ana)\n- code revision: abc\n- seed: 7\n",
		fmt.Sprintf("| train | %d | 3: amount, country, y | `%s` | /data/train.csv |", *tr.Datasets[0].Rows, tr.Datasets[0].SHA256),
		fmt.Sprintf("| eval | ? | ? | `%s` |   |", tr.Datasets[1].SHA256),
		"| lr | 0.1 |", "| auc | 0.9 |",
		"| 2026-11-30 12:00:00Z | ana | publish | 4 | nightly |", "| 2026-11-30 13:00:00Z | controller | promote | 3, 4 | canary healthy |",
		"## Notes\n\n" + c.Notes + "\n",
		"## Intended use and limitations\n\n" + c.CardText,
	} {
		if !strings.Contains(md, want) {
			t.Errorf("AppendMarkdown lacks %q:\n%s", want, md)
		}
	}
	if strings.Contains(md, "Not known") {
		t.Errorf("AppendMarkdown of a full card says something is not known:\n%s", md)
	}
	// A pipe in a table cell is escaped, so the row keeps its columns.
	c.History[0].Reason = "a | b"
	if md := string(c.AppendMarkdown(nil)); !strings.Contains(md, `| publish | 4 | a \| b |`) {
		t.Errorf("AppendMarkdown does not escape a pipe in a cell:\n%s", md)
	}
}

// TestAppendMarkdownMissing: each empty section says why, in its place.
func TestAppendMarkdownMissing(t *testing.T) {
	c := &Card{Model: "m", Version: 1, Graph: Graph{Kind: "unclassified"}}
	reasons := map[string]string{}
	for _, s := range []string{SectionGraph, SectionSchema, SectionPerformance, SectionTraining, SectionHistory, SectionCardText} {
		reasons[s] = "no " + s + " here"
		c.miss(s, reasons[s]+".")
	}
	md := string(c.AppendMarkdown(nil))
	order := []string{"## What it is", reasons[SectionGraph], "## Feature schema", reasons[SectionSchema], "## Performance", reasons[SectionPerformance],
		"## Training", reasons[SectionTraining], "## Rollout history", reasons[SectionHistory], "The publisher wrote no note",
		"## Intended use and limitations", reasons[SectionCardText]}
	at := 0
	for _, want := range order {
		i := strings.Index(md[at:], want)
		if i < 0 {
			t.Fatalf("AppendMarkdown lacks %q after offset %d:\n%s", want, at, md)
		}
		at += i
	}
	if !strings.Contains(md, "_Not known: "+reasons[SectionPerformance]+"._") || !strings.Contains(md, "published at an unrecorded time by unknown") {
		t.Errorf("AppendMarkdown:\n%s", md)
	}
}

func TestKindOf(t *testing.T) {
	f := func(ops string, wantKind, wantTask string) {
		t.Helper()
		var oc []engine.OpCount
		for _, o := range strings.Fields(ops) {
			domain, typ, ok := strings.Cut(o, ":")
			if !ok {
				domain, typ = "", o
			}
			oc = append(oc, engine.OpCount{Domain: domain, Type: typ, Count: 1})
		}
		if kind, task := kindOf(oc); kind != wantKind || task != wantTask {
			t.Errorf("kindOf(%s) = %q, %q; want %q, %q", ops, kind, task, wantKind, wantTask)
		}
	}
	f("ai.onnx.ml:TreeEnsembleClassifier ai.onnx.ml:ZipMap", "tree ensemble", TaskClassifier)
	f("ai.onnx.ml:TreeEnsembleRegressor", "tree ensemble", TaskRegressor)
	f("ai.onnx.ml:LinearClassifier Gemm", "linear model", TaskClassifier)
	f("ai.onnx.ml:SVMRegressor", "support vector machine", TaskRegressor)
	f("Gemm Relu Gemm Softmax", "multilayer perceptron", TaskClassifier)
	f("MatMul Add Tanh MatMul", "multilayer perceptron", "")
	f("Gemm Sigmoid Sub Concat ArgMax", "logistic regression", TaskClassifier)
	f("Gemm", "linear model", "")
	f("Conv Relu MaxPool Gemm Softmax", "convolutional neural network", TaskClassifier)
	f("LSTM Gemm", "recurrent neural network", "")
	f("Mul Add", "unclassified", "")
	f("custom:TreeEnsembleClassifier", "unclassified", "") // not the ai.onnx.ml operator
}
