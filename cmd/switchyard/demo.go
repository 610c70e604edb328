package main

import (
	"context"
	"fmt"
	"io"
	"strconv"
	"strings"

	"github.com/switchyard-ml/switchyard/internal/demo"
	"github.com/switchyard-ml/switchyard/modelstore"
)

// demoModel is the name the demo publishes under.
const demoModel = "fraud"

func runDemo(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlagSet("demo", "--registry DIR [--seed N] [--force]", stderr)
	registry := fs.String("registry", "registry", "registry directory")
	seed := fs.Uint64("seed", 1, "seed of the synthetic data")
	force := fs.Bool("force", false, "publish another version even if the registry has the demo model")
	addr := fs.String("addr", "localhost:8080", "server address to put in the printed curl line")
	var ef engineFlags
	ef.register(fs)
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	f, err := demo.BuildFraud(*seed)
	if err != nil {
		return err
	}
	_, all, _ := modelstore.Versions(*registry, demoModel)
	if len(all) > 0 && !*force {
		fmt.Fprintf(stdout, "%s already has model %q (versions %v); --force publishes another\n", *registry, demoModel, all)
	} else {
		if err := ef.init(); err != nil {
			return err
		}
		v, err := modelstore.Publish(*registry, demoModel, f.Model, modelstore.PublishOptions{
			Description: "Demo: logistic regression on synthetic card transactions; probabilities are [P(legitimate), P(fraud)].",
			CreatedBy:   "switchyard demo",
			Features:    demoFeatures(),
			Lineage: &modelstore.Lineage{
				RunID:   fmt.Sprintf("demo-seed-%d", *seed),
				Params:  map[string]string{"algorithm": "logistic_regression_newton", "train_rows": strconv.Itoa(f.TrainRows())},
				Metrics: map[string]float64{"eval_accuracy": f.Accuracy},
				Seed:    new(int64(*seed)),
			},
			Engine: ef.cfg,
		})
		if err != nil {
			return err
		}
		fmt.Fprintf(stdout, "published %s version %d (held-out accuracy %.4f)\n", demoModel, v, f.Accuracy)
	}
	fmt.Fprintf(stdout, "query it once the server is up:\n%s\n", curlLine(*addr, f.Sample))
	return nil
}

// demoFeatures is the named-feature schema of the demo model.
func demoFeatures() []modelstore.Feature {
	names := demo.FeatureNames()
	out := make([]modelstore.Feature, len(names))
	for i, n := range names {
		out[i] = modelstore.Feature{Name: n, Type: "number", Position: i}
	}
	return out
}

// inferBody is the V2 request for one row of demo features.
func inferBody(row []float32) string {
	data := make([]string, len(row))
	for i, v := range row {
		data[i] = strconv.FormatFloat(float64(v), 'g', -1, 32)
	}
	return fmt.Sprintf(`{"inputs":[{"name":%q,"datatype":"FP32","shape":[1,%d],"data":[%s]}]}`,
		demo.InputName, len(row), strings.Join(data, ","))
}

func curlLine(addr string, row []float32) string {
	if strings.HasPrefix(addr, ":") {
		addr = "localhost" + addr
	}
	return fmt.Sprintf("curl -s %s/v2/models/%s/infer -H 'Content-Type: application/json' -d '%s'", addr, demoModel, inferBody(row))
}
