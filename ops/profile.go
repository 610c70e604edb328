package ops

import (
	"bytes"
	"cmp"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"strconv"

	"github.com/switchyard-ml/switchyard/drift"
	"github.com/switchyard-ml/switchyard/engine"
	"github.com/switchyard-ml/switchyard/gate"
	"github.com/switchyard-ml/switchyard/modelstore"
)

// ProfileData is the reference data a version's drift profile
// (profile.json) is built from: a CSV file with a header row, read as the
// gate reads an evaluation set (gate.ReadEvalSet), within its limits.
type ProfileData struct {
	// CSV is the data, whole. Required.
	CSV []byte
	// Label names its label column, which is not a feature. Required.
	Label string
	// Source says where the data came from, for the profile's source.
	Source string
	// Options configures the profile's sample; its Source is replaced by
	// Source and the CSV's sha256.
	Options drift.ProfileOptions
}

// ScoreColumn names the model's score in a profile: the positive class's
// probability of a binary classifier, or a regressor's value. A
// classifier of k > 2 classes has one score per class, ScoreColumn
// followed by the class index in brackets ("score[2]").
const ScoreColumn = "score"

// InputColumn returns the name of a profile's column i of a model
// without a feature schema: "input[i]", the i-th value of a row of its
// single two-dimensional FP32 input.
func InputColumn(i int) string { return "input[" + strconv.Itoa(i) + "]" }

// BuildProfile returns the profile.json (JSON) of the model sess
// runs, whose records schema is features (nil: the columns of its single
// input by position, named by InputColumn), from the rows of d. Each
// feature of the schema is a column of the profile, in the order of the
// model's input: numbers and integers numeric, categories by their value
// and bools as "true" or "false", categorical. The model is run on the
// rows (a uniform sample of them when there are more than the profile's
// sample size) for the reference distribution of its score, taken as the
// gate takes it (gate.LayoutOf; see ScoreColumn). A model the gate cannot
// feed, or data that do not fit the model or its schema, fail with an
// error saying why. BuildProfile is safe for concurrent use if sess is.
func BuildProfile(ctx context.Context, sess *engine.Session, features []modelstore.Feature, d ProfileData) ([]byte, error) {
	sig := sess.Signature()
	l, err := gate.LayoutOf(sig)
	if err != nil {
		return nil, fmt.Errorf("profile: %w", err)
	}
	m := &modelstore.Manifest{Features: features}
	cols := m.GateColumns()
	if len(features) > 0 && cols == nil {
		return nil, fmt.Errorf("profile: the schema's features feed more than one input; a profile reads one")
	}
	set, err := gate.ReadEvalSet(bytes.NewReader(d.CSV), gate.EvalConfig{Label: d.Label, Columns: cols, Width: l.Width})
	if err != nil {
		return nil, fmt.Errorf("profile from %s: %w", d.Source, err)
	}
	opts := d.Options
	sum := sha256.Sum256(d.CSV)
	opts.Source = fmt.Sprintf("%s (sha256 %s)", d.Source, hex.EncodeToString(sum[:]))
	feats := featureColumns(set, features, cols)
	scores, err := scoreColumns(ctx, gate.SessionPredictor(sess, l), l, set, cmp.Or(opts.SampleRows, drift.DefaultSampleRows), opts.Seed)
	if err != nil {
		return nil, fmt.Errorf("profile from %s: score the rows: %w", d.Source, err)
	}
	// The scores are of a sample of the rows, so fewer than the
	// features: each set is profiled on its own.
	p, err := drift.BuildProfile(feats, nil, opts)
	if err != nil {
		return nil, fmt.Errorf("profile from %s: %w", d.Source, err)
	}
	sp, err := drift.BuildProfile(scores, nil, opts)
	if err != nil {
		return nil, fmt.Errorf("profile from %s: the model's scores: %w", d.Source, err)
	}
	p.Scores = sp.Features
	b, err := json.Marshal(p)
	if err != nil {
		return nil, fmt.Errorf("profile from %s: %w", d.Source, err)
	}
	return append(b, '\n'), nil
}

// ProfileOf is BuildProfile for a model given as the bytes of its ONNX
// file and its extra files (the external data of its initializers, by
// file name; see modelstore.PublishOptions.Files), opened with cfg. The
// extra files are written into a temporary directory for onnxruntime to
// find, and removed after.
func ProfileOf(ctx context.Context, model []byte, files map[string][]byte, features []modelstore.Feature, cfg engine.Config, d ProfileData) ([]byte, error) {
	if len(files) > 0 {
		dir, err := os.MkdirTemp("", "switchyard-profile-")
		if err != nil {
			return nil, fmt.Errorf("profile: %w", err)
		}
		defer os.RemoveAll(dir)
		for name, b := range files {
			if err := modelstore.CheckFileName(name); err != nil {
				return nil, fmt.Errorf("profile: %w", err)
			}
			if err := os.WriteFile(filepath.Join(dir, name), b, 0o600); err != nil {
				return nil, fmt.Errorf("profile: %w", err)
			}
		}
		cfg.ExternalDataDir = dir
	}
	sess, err := engine.New(model, cfg)
	if err != nil {
		return nil, fmt.Errorf("profile: %w", err)
	}
	defer sess.Close()
	return BuildProfile(ctx, sess, features, d)
}

// featureColumns returns the feature columns of set: by the gate's
// columns cols of the schema features (in the order of the model's
// input), or, when cols is nil, one numeric column per input position.
func featureColumns(set *gate.EvalSet, features []modelstore.Feature, cols []gate.Column) []drift.Column {
	if cols == nil {
		out := make([]drift.Column, set.Width)
		for j := range out {
			out[j] = drift.Column{Name: InputColumn(j), Kind: drift.Numeric, Numbers: make([]float64, set.Rows)}
			for i := range set.Rows {
				out[j].Numbers[i] = float64(set.Row(i)[j])
			}
		}
		return out
	}
	order := make([]int, len(cols))
	for i := range order {
		order[i] = i
	}
	slices.SortStableFunc(order, func(a, b int) int { return cmp.Compare(cols[a].Position, cols[b].Position) })
	out := make([]drift.Column, 0, len(cols))
	for _, k := range order {
		c := &cols[k]
		dc := drift.Column{Name: c.Name}
		switch {
		case features[k].Type == modelstore.TypeNumber || features[k].Type == modelstore.TypeInteger:
			dc.Kind, dc.Numbers = drift.Numeric, make([]float64, set.Rows)
			for i := range set.Rows {
				dc.Numbers[i] = float64(set.Row(i)[c.Position])
			}
		default:
			dc.Kind, dc.Categories = drift.Categorical, make([]string, set.Rows)
			for i := range set.Rows {
				dc.Categories[i] = categoryOf(c, set.Row(i))
			}
		}
		out = append(out, dc)
	}
	return out
}

// categoryOf returns the value of the category or bool column c in row, a
// row of the model's input as the gate encodes it.
func categoryOf(c *gate.Column, row []float32) string {
	switch {
	case c.Bool:
		return strconv.FormatBool(row[c.Position] != 0)
	case c.OneHot:
		block := row[c.Position : c.Position+len(c.Category)]
		return c.Category[slices.Index(block, 1)]
	default:
		return c.Category[int(row[c.Position])]
	}
}

// scoreColumns runs p on the rows of set, a uniform sample of at most
// limit of them drawn with seed, and returns the columns of the model's
// score (see ScoreColumn).
func scoreColumns(ctx context.Context, p gate.Predictor, l gate.Layout, set *gate.EvalSet, limit int, seed uint64) ([]drift.Column, error) {
	rows := make([]int, set.Rows)
	for i := range rows {
		rows[i] = i
	}
	if len(rows) > limit {
		r := rand.New(rand.NewPCG(seed, seed))
		r.Shuffle(len(rows), func(i, j int) { rows[i], rows[j] = rows[j], rows[i] })
		rows = rows[:limit]
		slices.Sort(rows)
	}
	in := make([]float32, 0, len(rows)*set.Width)
	for _, i := range rows {
		in = append(in, set.Row(i)...)
	}
	k := max(1, l.Classes)
	out := make([]float64, len(rows)*k)
	if err := p.Predict(ctx, in, len(rows), out); err != nil {
		return nil, err
	}
	column := func(name string, j int) drift.Column {
		c := drift.Column{Name: name, Kind: drift.Numeric, Numbers: make([]float64, len(rows))}
		for i := range rows {
			c.Numbers[i] = out[i*k+j]
		}
		return c
	}
	switch {
	case l.Classes == 0:
		return []drift.Column{column(ScoreColumn, 0)}, nil
	case l.Classes == 2:
		return []drift.Column{column(ScoreColumn, 1)}, nil
	}
	cols := make([]drift.Column, k)
	for j := range cols {
		cols[j] = column(ScoreColumn+"["+strconv.Itoa(j)+"]", j)
	}
	return cols, nil
}
