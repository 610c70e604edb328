package bench

import (
	"encoding/json"
	"fmt"
	"github.com/switchyard-ml/switchyard/gate"
	"github.com/switchyard-ml/switchyard/internal/onnx"
	"github.com/switchyard-ml/switchyard/modelstore"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strconv"
	"strings"
)

// This file holds what GateCost prepares and reads around a gate: the
// model's policy, the evaluation set and the verdicts.

// writeGatePolicy writes the small model's policy.yaml in registry: a gate that runs
// concurrency batches at once and holds a new version to the stable one's
// AUC (0.01 lower at most) and log loss (5% higher at most), so that the
// stable version is evaluated too and every threshold is checked.
func writeGatePolicy(registry string, concurrency int) error {
	modelDir := filepath.Join(registry, SmallModel)
	policy := fmt.Sprintf(`gate:
  batch_rows: %d
  concurrency: %d
  metrics:
    %s: {max_regression: 0.01}
    %s: {max_regression_pct: 5}
`, gate.DefaultBatchRows, concurrency, gate.MetricAUC, gate.MetricLogLoss)
	if err := os.MkdirAll(modelDir, 0o755); err != nil {
		return fmt.Errorf("bench: gate: %w", err)
	}
	if err := os.WriteFile(filepath.Join(modelDir, modelstore.PolicyFile), []byte(policy), 0o644); err != nil {
		return fmt.Errorf("bench: gate: %w", err)
	}
	return nil
}

// gateEvalSet returns a labelled evaluation set of rows rows for m, as
// eval.csv: a header naming the features f0, f1, … and the column label,
// then each row's features, drawn uniformly from [-1, 1) as InferBody
// draws them and written with three decimals, and a label drawn from m's
// own probability of class 1 for the row. m thus scores on the set as a
// calibrated model does, predicting both classes. The same arguments
// always give the same bytes, which belong to the caller.
func gateEvalSet(m *onnx.MLP, rows int, seed uint64) []byte {
	features := m.Features()
	x := make([]float32, rows*features)
	randomFloats(x, seed)
	probs := m.Predict(x)
	k := m.Outputs()
	rng := rand.New(rand.NewPCG(seed, 0x6576616c))
	b := make([]byte, 0, rows*(7*features+2)+8*features)
	for j := range features {
		b = append(b, 'f')
		b = strconv.AppendInt(b, int64(j), 10)
		b = append(b, ',')
	}
	b = append(b, "label\n"...)
	for r := range rows {
		for _, v := range x[r*features : (r+1)*features] {
			b = strconv.AppendFloat(b, float64(v), 'f', 3, 32)
			b = append(b, ',')
		}
		label := byte('0')
		if rng.Float32() < probs[r*k+1] {
			label = '1'
		}
		b = append(b, label, '\n')
	}
	return b
}

// judged returns a test of a model's status: version v is ready or
// failed, its gate over.
func judged(v int) func(*adminModel) bool {
	ready, failed := modelstore.Ready.String(), modelstore.Failed.String()
	return func(m *adminModel) bool {
		mv := m.version(v)
		return mv != nil && (mv.State == ready || mv.State == failed)
	}
}

// gatedModel is the part of GET /admin/models/{m} that verdictOf reads
// beyond adminModel.
type gatedModel struct {
	Versions []struct {
		Version int           `json:"version"`
		State   string        `json:"state"`
		Reason  string        `json:"reason"`
		Gate    *gate.Verdict `json:"gate"`
	} `json:"versions"`
}

// verdictOf reads version v's verdict and checks that the gate passed it
// on all of the set's rows and, if withStable, compared it with a stable
// version evaluated on the same set.
func verdictOf(adm *adminClient, v, rows int, withStable bool) (*gate.Verdict, error) {
	if _, err := adm.model(); err != nil {
		return nil, err
	}
	var m gatedModel
	if err := json.Unmarshal(adm.resp.Body(), &m); err != nil { // the answer adm.model read
		return nil, fmt.Errorf("GET %s: %w", adm.base, err)
	}
	for _, mv := range m.Versions {
		if mv.Version != v {
			continue
		}
		switch g := mv.Gate; {
		case g == nil:
			return nil, fmt.Errorf("version %d is %s (%s) with no verdict", v, mv.State, mv.Reason)
		case !g.Pass || mv.State != modelstore.Ready.String():
			return nil, fmt.Errorf("version %d is %s: its gate did not pass it: %s", v, mv.State, strings.Join(g.Reasons, " "))
		case g.Rows != rows:
			return nil, fmt.Errorf("version %d was judged on %d rows, not %d", v, g.Rows, rows)
		case withStable && g.Stable == "":
			return nil, fmt.Errorf("version %d was judged with no stable version evaluated beside it", v)
		}
		return mv.Gate, nil
	}
	return nil, fmt.Errorf("version %d is missing from GET %s", v, adm.base)
}
