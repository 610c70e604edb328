package mlflow

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"path"
	"slices"
	"strings"

	"go.yaml.in/yaml/v3"

	"github.com/switchyard-ml/switchyard/modelstore"
	"github.com/switchyard-ml/switchyard/ops"
	"github.com/switchyard-ml/switchyard/tracking"
)

// MLflow's model directory, as mlflow.<flavor>.save_model writes it
// (mlflow/models/model.py, mlflow/onnx/__init__.py).
const (
	// mlmodelFile is the directory's description, in YAML.
	mlmodelFile = "MLmodel"
	// mlflowMetadataDir is the subdirectory in which Model.log copies
	// the directory's metadata files (MLmodel, conda.yaml, ..., for Unity
	// Catalog); switchyard does not need the copy.
	mlflowMetadataDir = "metadata"
	// maxMLmodelBytes bounds an MLmodel: a few KiB in practice, most of
	// it the signature.
	maxMLmodelBytes = 1 << 20
)

// mlModel is what switchyard reads of an MLmodel file. MLflow writes
// more (model_uuid, utc_time_created, mlflow_version, ...); those keys are
// ignored.
type mlModel struct {
	// Flavors maps a flavor's name to its settings; the onnx flavor's
	// data names the ONNX file.
	Flavors map[string]map[string]any `yaml:"flavors"`
	// RunID is the run that logged the model.
	RunID string `yaml:"run_id"`
	// Signature holds the input and output schemas as JSON text (ModelSignature.to_dict).
	Signature *struct {
		Inputs  *string `yaml:"inputs"`
		Outputs *string `yaml:"outputs"`
	} `yaml:"signature"`
	// Metadata is the user's metadata of log_model(metadata=...).
	Metadata map[string]any `yaml:"metadata"`
}

// parseMLmodel parses an MLmodel file and returns it with the name of
// the ONNX file its onnx flavor names. The error says what is wrong, for
// a 400 answer.
func parseMLmodel(b []byte) (*mlModel, string, error) {
	var m mlModel
	if err := yaml.Unmarshal(b, &m); err != nil {
		return nil, "", fmt.Errorf("its MLmodel is not valid YAML: %v", err)
	}
	onnx, ok := m.Flavors["onnx"]
	if !ok {
		return nil, "", fmt.Errorf("its MLmodel has no onnx flavor (flavors: %s); switchyard serves models logged with mlflow.onnx", strings.Join(flavorNames(m.Flavors), ", "))
	}
	data, _ := onnx["data"].(string)
	if data == "" {
		return nil, "", fmt.Errorf("its MLmodel's onnx flavor names no data file")
	}
	return &m, data, nil
}

func flavorNames(f map[string]map[string]any) []string {
	var names []string
	for n := range f {
		names = append(names, n)
	}
	if len(names) == 0 {
		return []string{"none"}
	}
	slices.Sort(names)
	return names
}

// mlflowColumn is one entry of a signature's inputs (ColSpec.to_dict and
// TensorSpec.to_dict in mlflow/types/schema.py).
type mlflowColumn struct {
	Type string  `json:"type"`
	Name *string `json:"name"`
}

// features returns the records schema the MLmodel's input signature
// gives, in column order: each column of a column-based signature
// becomes a feature at its position of the model's one input. A
// signature that gives no schema (none, tensor-based, or with a column
// the records API cannot feed) returns nil features and a note saying
// why, for the version's tags; a malformed one returns an error, for a
// 400 answer. Whether the columns fit the model's input is checked when
// the version is published (modelstore.Schema.Check).
func (m *mlModel) features() ([]modelstore.Feature, string, error) {
	if m.Signature == nil || m.Signature.Inputs == nil || *m.Signature.Inputs == "" {
		return nil, "no records schema: the MLmodel has no input signature", nil
	}
	var cols []mlflowColumn
	if err := json.Unmarshal([]byte(*m.Signature.Inputs), &cols); err != nil {
		return nil, "", fmt.Errorf("its MLmodel's signature inputs are not a JSON list of columns or tensors: %v", err)
	}
	if len(cols) == 0 {
		return nil, "no records schema: the MLmodel's input signature is empty", nil
	}
	features := make([]modelstore.Feature, len(cols))
	for i, c := range cols {
		if c.Type == "tensor" {
			return nil, "no records schema: the MLmodel's input signature is tensor-based", nil
		}
		if c.Name == nil || *c.Name == "" {
			return nil, fmt.Sprintf("no records schema: column %d of the MLmodel's input signature has no name", i), nil
		}
		t, ok := columnTypes[c.Type]
		if !ok {
			why := "the records API has no such type"
			if c.Type == "string" {
				why = "a string column needs a string tensor input, which switchyard does not serve"
			}
			return nil, fmt.Sprintf("no records schema: column %q of the MLmodel's input signature is of type %q: %s", *c.Name, c.Type, why), nil
		}
		features[i] = modelstore.Feature{Name: *c.Name, Type: t, Position: i}
	}
	return features, "", nil
}

// columnTypes maps MLflow's column DataTypes to the records API's types.
var columnTypes = map[string]string{
	"double":  modelstore.TypeNumber,
	"float":   modelstore.TypeNumber,
	"long":    modelstore.TypeInteger,
	"integer": modelstore.TypeInteger,
	"boolean": modelstore.TypeBool,
}

// classes returns the class names the MLmodel's metadata gives under
// "classes" (a list of strings), or nil: switchyard does not guess them.
func (m *mlModel) classes() []string {
	list, ok := m.Metadata["classes"].([]any)
	if !ok {
		return nil
	}
	out := make([]string, len(list))
	for i, c := range list {
		s, ok := c.(string)
		if !ok {
			return nil
		}
		out[i] = s
	}
	return out
}

// readMLflowDir reads the MLflow model directory at p, whose entries
// are given: its MLmodel, the ONNX file the onnx flavor names (as
// Model), eval.csv (as EvalCSV), and every other file (as Files, by
// name). The metadata subdirectory, MLflow's copy of the model's
// metadata files (Model.log), is skipped; any other subdirectory is
// refused: MLflow's onnx flavor writes a flat directory (unless given
// code_paths), and switchyard's versions hold their files side by side.
// Every file counts against limit, the files together; MLmodel is read
// first, under maxMLmodelBytes.
func readMLflowDir(fsys sourceFS, p string, entries []sourceEntry, limit int64) (*modelSource, error) {
	entries = slices.DeleteFunc(slices.Clone(entries), func(e sourceEntry) bool { return e.isDir && e.name == mlflowMetadataDir })
	for _, e := range entries {
		if e.isDir {
			return nil, &sourceError{fmt.Sprintf("the MLflow model directory holds the subdirectory '%s'; switchyard takes a flat model directory (log the model without code_paths)", e.name)}
		}
	}
	var total int64
	read := func(name string, max int64) ([]byte, error) {
		room := limit - total
		b, err := readFile(fsys.open, path.Join(p, name), min(max, room))
		if _, ok := errors.AsType[*sourceError](err); ok {
			if max < room {
				return nil, &sourceError{fmt.Sprintf("its '%s' holds more than %d bytes", name, max)}
			}
			return nil, sourceTooLarge(limit) // the files together
		}
		if err != nil {
			return nil, err
		}
		total += int64(len(b))
		return b, nil
	}
	raw, err := read(mlmodelFile, maxMLmodelBytes)
	if err != nil {
		return nil, err
	}
	mlm, data, err := parseMLmodel(raw)
	if err != nil {
		return nil, &sourceError{err.Error()}
	}
	if data == mlmodelFile || !slices.ContainsFunc(entries, func(e sourceEntry) bool { return e.name == data }) {
		return nil, &sourceError{fmt.Sprintf("its MLmodel names the ONNX file '%s', which the directory does not hold", data)}
	}
	src := &modelSource{MLmodel: mlm, Files: map[string][]byte{}}
	for _, e := range entries {
		if e.name == mlmodelFile {
			continue
		}
		b, err := read(e.name, limit)
		if err != nil {
			return nil, err
		}
		switch e.name {
		case data:
			src.Model = b
		case modelstore.EvalFile:
			src.EvalCSV = b
		default:
			src.Files[e.name] = b
		}
	}
	src.Files[mlmodelFile] = raw
	return src, nil
}

// fromMLflowDir adds to spec what the MLflow model directory src gives:
// its files, its records schema and classes, and its evaluation set,
// with a tag saying why any of the last two is missing.
func (s *Server) fromMLflowDir(ctx context.Context, src *modelSource, runID string, spec *ops.PublishSpec) error {
	features, note, err := src.MLmodel.features()
	if err != nil {
		return &requestError{fmt.Sprintf("Invalid model version source '%s': %v", spec.Meta.Source, err)}
	}
	o := &spec.Options
	o.Files, o.Features, o.Classes = src.Files, features, src.MLmodel.classes()
	tags := &spec.Meta.Tags
	if note != "" {
		*tags = append(*tags, tracking.Tag{Key: tagSchemaNote, Value: note})
	}
	eval, err := s.evalSetOf(ctx, src, runID, features)
	if err != nil {
		return err
	}
	if eval.CSV == nil {
		s.log.Info("MLflow model registered without an evaluation set", "source", spec.Meta.Source, "reason", eval.Note)
		*tags = append(*tags, tracking.Tag{Key: tagEvalNote, Value: eval.Note})
		return nil
	}
	o.EvalCSV, o.EvalLabel = eval.CSV, eval.Label
	// The drift profile comes from the evaluation set; one that cannot be
	// made leaves the version without one, as before profiles existed.
	o.Profile, err = ops.ProfileOf(ctx, src.Model, src.Files, features, o.Engine, ops.ProfileData{CSV: eval.CSV, Label: eval.Label, Source: eval.From})
	if err != nil {
		s.log.Info("MLflow model registered without a drift profile", "source", spec.Meta.Source, "reason", err)
	}
	*tags = append(*tags, tracking.Tag{Key: tagEvalNote, Value: fmt.Sprintf("evaluation set: %s, label column %q", eval.From, eval.Label)})
	if o.Lineage != nil {
		o.Lineage.EvalDatasetPath, o.Lineage.EvalDatasetSHA256 = eval.From, eval.SHA256
	}
	return nil
}
