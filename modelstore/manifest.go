package modelstore

import (
	"encoding/hex"
	"encoding/json"
	"fmt"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/switchyard-ml/switchyard/engine"
	"github.com/switchyard-ml/switchyard/internal/regfile"
)

// Manifest is a version's manifest.json: what the version is, where it
// came from and how to check it. Unknown fields are tolerated so that newer
// writers do not break older servers.
type Manifest struct {
	// Model is the model's name. Optional; when set it must match the
	// directory the version sits in.
	Model string `json:"model,omitempty"`
	// Version is the version number. Optional; when set it must match the
	// version's directory name.
	Version int `json:"version,omitempty"`
	// SHA256 is the hex sha256 of model.onnx. Required: the loader refuses a
	// model whose bytes do not match it.
	SHA256 string `json:"sha256"`
	// CreatedAt is when the version was published.
	CreatedAt time.Time `json:"created_at,omitzero"`
	// CreatedBy names who or what published it.
	CreatedBy string `json:"created_by,omitempty"`
	// Description is free text: the publisher's note for the model card
	// (publish --note).
	Description string `json:"description,omitempty"`
	// Card records the version's card.md (CardFile), the card text its
	// publisher wrote, by sha256 and size; nil when it has none.
	Card *FileSum `json:"card,omitempty"`
	// Signature lists the model's inputs and outputs. Optional; when absent
	// it is introspected from the model, and when present it must agree.
	Signature *ManifestSignature `json:"signature,omitempty"`
	// Features is the optional named-feature schema of the records API
	// (see Feature); Classes names the classes of a classifier's
	// probabilities, in order; UnknownFields says what the records API
	// does with a field the schema does not name: UnknownReject (the
	// default) or UnknownIgnore. publish --schema sets all three.
	Features      []Feature `json:"features,omitempty"`
	Classes       []string  `json:"classes,omitempty"`
	UnknownFields string    `json:"unknown_fields,omitempty"`
	// Lineage records how the model was trained.
	Lineage *Lineage `json:"lineage,omitempty"`
	// EvalLabel names the label column of the version's eval.csv, when it
	// has one.
	EvalLabel string `json:"eval_label,omitempty"`
	// Files records the version's extra files beside model.onnx (such as
	// the external data of its initializers), by file name. Optional:
	// older manifests lack it. The loader checks each like model.onnx and
	// lets onnxruntime read external data only from them.
	Files map[string]FileSum `json:"files,omitempty"`
}

// ManifestSignature is a model signature as written in a manifest.
type ManifestSignature struct {
	Inputs  []ManifestTensor `json:"inputs"`
	Outputs []ManifestTensor `json:"outputs"`
}

// ManifestTensor describes one input or output: its name, protocol
// datatype ("FP32") and shape, -1 marking a dynamic dimension.
type ManifestTensor struct {
	Name     string  `json:"name"`
	Datatype string  `json:"datatype"`
	Shape    []int64 `json:"shape"`
}

// Lineage records the training run that produced a version. Every field
// is optional. The tracking store, when there is one, holds the full
// record of the run; the manifest keeps what identifies it, so that a
// version still names its run and data without the store.
type Lineage struct {
	// RunID is the id of the tracking run that produced the version.
	RunID string `json:"run_id,omitempty"`
	// DatasetPath and DatasetSHA256 name the training data: where it was
	// read from and the sha256 of its bytes.
	DatasetPath   string `json:"dataset_path,omitempty"`
	DatasetSHA256 string `json:"dataset_sha256,omitempty"`
	// EvalDatasetPath and EvalDatasetSHA256 name the evaluation data the
	// version was published with (copied into the version as eval.csv):
	// where it was read from and the sha256 of its bytes.
	EvalDatasetPath   string `json:"eval_dataset_path,omitempty"`
	EvalDatasetSHA256 string `json:"eval_dataset_sha256,omitempty"`
	// Params and Metrics are the run's parameters and metrics, for
	// writers that keep them in the manifest too.
	Params  map[string]string  `json:"params,omitempty"`
	Metrics map[string]float64 `json:"metrics,omitempty"`
	// CodeRevision is the revision (a git commit) of the training code.
	CodeRevision string `json:"code_revision,omitempty"`
	// Seed is the seed the training ran with.
	Seed *int64 `json:"seed,omitempty"`
}

// ParseManifest decodes and validates a manifest.json. Every problem found
// is reported in one error wrapping ErrManifest.
func ParseManifest(data []byte) (*Manifest, error) {
	var m Manifest
	if err := json.Unmarshal(data, &m); err != nil {
		return nil, fmt.Errorf("%w: %w", ErrManifest, err)
	}
	var problems []string
	switch {
	case m.SHA256 == "":
		problems = append(problems, "missing required field sha256")
	case !isSHA256(m.SHA256):
		problems = append(problems, fmt.Sprintf("sha256 %q is not 64 hex digits", m.SHA256))
	}
	if m.Version < 0 {
		problems = append(problems, fmt.Sprintf("version %d is not positive", m.Version))
	}
	if m.Signature != nil {
		if _, err := m.Signature.engine(); err != nil {
			problems = append(problems, err.Error())
		}
	}
	problems = append(problems, checkFileSums(m.Files)...)
	if m.Card != nil && (!isSHA256(m.Card.SHA256) || m.Card.Size <= 0 || m.Card.Size > MaxCardBytes) {
		problems = append(problems, fmt.Sprintf("card: sha256 %q and size %d are not those of a card text", m.Card.SHA256, m.Card.Size))
	}
	if len(problems) > 0 {
		return nil, fmt.Errorf("%w: %s", ErrManifest, strings.Join(problems, "; "))
	}
	return &m, nil
}

// ReadManifest reads and validates the manifest.json of the version
// directory dir. The error wraps fs.ErrNotExist for an incomplete version
// and ErrManifest for a malformed manifest; a manifest.json that is not a
// regular file or is larger than MaxManifestBytes is refused before it is
// read (see readManifestFile).
func ReadManifest(dir string) (*Manifest, error) {
	raw, err := readManifestFile(dir)
	if err != nil {
		return nil, fmt.Errorf("read manifest: %w", err)
	}
	m, err := ParseManifest(raw)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", dir, err)
	}
	return m, nil
}

// readManifestFile reads the manifest.json of the version directory dir
// under MaxManifestBytes.
func readManifestFile(dir string) ([]byte, error) {
	return regfile.Read(filepath.Join(dir, ManifestFile), manifestLimit)
}

func isSHA256(s string) bool {
	b, err := hex.DecodeString(s)
	return err == nil && len(b) == 32
}

// engine converts the manifest's signature to the engine's form.
func (s *ManifestSignature) engine() (engine.Signature, error) {
	conv := func(kind string, ts []ManifestTensor) ([]engine.TensorInfo, error) {
		out := make([]engine.TensorInfo, len(ts))
		for i, t := range ts {
			dt, ok := engine.ParseDType(t.Datatype)
			if !ok {
				return nil, fmt.Errorf("signature %s %q: unknown datatype %q", kind, t.Name, t.Datatype)
			}
			if t.Name == "" {
				return nil, fmt.Errorf("signature %s %d: missing name", kind, i)
			}
			out[i] = engine.TensorInfo{Name: t.Name, DType: dt, Shape: t.Shape}
		}
		return out, nil
	}
	ins, err := conv("input", s.Inputs)
	if err != nil {
		return engine.Signature{}, err
	}
	outs, err := conv("output", s.Outputs)
	if err != nil {
		return engine.Signature{}, err
	}
	return engine.Signature{Inputs: ins, Outputs: outs}, nil
}

// manifestSignature converts an engine signature to the manifest's form.
func manifestSignature(sig *engine.Signature) *ManifestSignature {
	conv := func(ts []engine.TensorInfo) []ManifestTensor {
		out := make([]ManifestTensor, len(ts))
		for i, t := range ts {
			out[i] = ManifestTensor{Name: t.Name, Datatype: t.DType.String(), Shape: t.Shape}
		}
		return out
	}
	return &ManifestSignature{Inputs: conv(sig.Inputs), Outputs: conv(sig.Outputs)}
}

// checkSignature reports how a manifest's recorded signature disagrees
// with the model's own, wrapping ErrSignature.
func checkSignature(recorded *ManifestSignature, actual *engine.Signature) error {
	want, err := recorded.engine()
	if err != nil {
		return fmt.Errorf("%w: %w", ErrSignature, err)
	}
	same := func(a, b []engine.TensorInfo) bool {
		if len(a) != len(b) {
			return false
		}
		for i := range a {
			if a[i].Name != b[i].Name || a[i].DType != b[i].DType || !slices.Equal(a[i].Shape, b[i].Shape) {
				return false
			}
		}
		return true
	}
	if !same(want.Inputs, actual.Inputs) || !same(want.Outputs, actual.Outputs) {
		got, _ := json.Marshal(manifestSignature(actual))
		return fmt.Errorf("%w: manifest records a signature other than the model's own %s", ErrSignature, got)
	}
	return nil
}
