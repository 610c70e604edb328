package card

import (
	"time"

	"github.com/switchyard-ml/switchyard/gate"
	"github.com/switchyard-ml/switchyard/modelstore"
)

// Card is the model card of one version, gathered by Gather. Its JSON
// form, with these field names, is what GET
// /v1/models/{m}/versions/{v}/card answers for Accept: application/json
// (the ModelCard schema of /openapi.json); Markdown renders it for
// people. A section that could not be filled is nil or empty, and Missing
// says why. A Card is a plain value; its slices are the caller's.
type Card struct {
	Model   string `json:"model"`
	Version int    `json:"version"`
	// SHA256 is the hex sha256 of the version's model.onnx.
	SHA256 string `json:"sha256"`
	// Published says who published the version, when and why.
	Published Published `json:"published"`
	// Graph is what the version is, from its ONNX graph and manifest.
	Graph Graph `json:"graph"`
	// Schema is the version's feature schema for the records API; nil
	// when it has none.
	Schema *Schema `json:"schema"`
	// Performance is the gate's latest verdict on the version, with the
	// baseline's numbers; nil when none is known.
	Performance *Performance `json:"performance"`
	// Training is the run that produced the version and its data; nil
	// when no lineage is recorded.
	Training *Training `json:"training"`
	// History is the version's rollout history from the audit trail,
	// oldest first: every entry naming the version but the lifecycle's
	// loads and drains.
	History []Event `json:"history"`
	// Notes is what the publisher wrote with --note; CardText the
	// markdown of --card (card.md), as written.
	Notes    string `json:"notes"`
	CardText string `json:"card_text"`
	// Missing lists each section that is empty or partial, and why.
	Missing []Missing `json:"missing"`
}

// The sections of a card, as Missing names them.
const (
	SectionGraph       = "graph"
	SectionSchema      = "schema"
	SectionPerformance = "performance"
	SectionTraining    = "training"
	SectionHistory     = "history"
	SectionCardText    = "card_text"
)

// Missing says why a section of a card is empty or partial.
type Missing struct {
	Section string `json:"section"`
	Reason  string `json:"reason"`
}

// Published is who published a version, when and why.
type Published struct {
	// At is when; zero when the manifest does not say.
	At time.Time `json:"at,omitzero"`
	// By is the creator the manifest records (publish --created-by).
	By string `json:"by"`
	// Actor and Reason are the publish's audit entry's: who published
	// (publish --actor, a token's name) and why (--note); empty without
	// the entry.
	Actor  string `json:"actor"`
	Reason string `json:"reason"`
}

// Graph is what a version is: its kind of model, read from its ONNX
// graph, its inputs and outputs and its classes.
type Graph struct {
	// Kind names the model from its operators, such as "tree ensemble",
	// "multilayer perceptron" or "logistic regression"; "unclassified"
	// when the operators match no kind the card knows (Operators then
	// says what it is made of).
	Kind string `json:"kind"`
	// Task is "classifier", "regressor", or "" when nothing says.
	Task string `json:"task"`
	// Producer is the tool that wrote the ONNX file, with its version.
	Producer  string  `json:"producer"`
	IRVersion int64   `json:"ir_version"`
	Opsets    []Opset `json:"opsets"`
	// Operators counts the main graph's nodes by operator.
	Operators []Operator `json:"operators"`
	// Description is the ONNX model's own doc string, if any.
	Description string `json:"description"`
	// Inputs and Outputs are the signature the manifest records.
	Inputs  []modelstore.ManifestTensor `json:"inputs"`
	Outputs []modelstore.ManifestTensor `json:"outputs"`
	// Classes names a classifier's classes, in output order; ClassesFrom
	// says where they come from: "manifest" (publish --schema) or
	// "graph" (the labels of a ZipMap or classifier node); "" for none.
	Classes     []string `json:"classes"`
	ClassesFrom string   `json:"classes_from"`
}

// Opset is an operator set the model imports; "" is the default domain.
type Opset struct {
	Domain  string `json:"domain"`
	Version int64  `json:"version"`
}

// Operator is how many nodes of the graph apply one operator.
type Operator struct {
	Domain string `json:"domain"`
	Type   string `json:"type"`
	Count  int    `json:"count"`
}

// Schema is a version's feature schema.
type Schema struct {
	Features []modelstore.Feature `json:"features"`
	// UnknownFields is what the records API does with a field the schema
	// does not name: "reject" (the default) or "ignore".
	UnknownFields string `json:"unknown_fields"`
}

// Performance is the gate's verdict on a version: the numbers it was
// judged on, its own and, on the same set in the same run, the baseline's
// (the version that served then).
type Performance struct {
	Pass bool `json:"pass"`
	// JudgedAt is when the gate judged; zero when the verdict is the
	// server's in memory and the time is not recorded.
	JudgedAt time.Time `json:"judged_at,omitzero"`
	// Candidate names the version judged, Baseline the version it was
	// compared with ("" when none served).
	Candidate string `json:"candidate"`
	Baseline  string `json:"baseline"`
	// Rows is the size of the evaluation set.
	Rows int `json:"rows"`
	// Metrics holds every metric, the whole set first, then each slice;
	// each metric's "stable" is the baseline's value.
	Metrics []gate.Metric `json:"metrics"`
	// Reasons are the gate's sentences.
	Reasons []string `json:"reasons"`
}

// Training is the run that produced a version and the data it used.
type Training struct {
	RunID        string `json:"run_id"`
	RunName      string `json:"run_name"`
	ExperimentID string `json:"experiment_id"`
	// Status is the run's status, such as "FINISHED"; "" when the run is
	// not in the tracking store.
	Status       string `json:"status"`
	User         string `json:"user"`
	CodeRevision string `json:"code_revision"`
	Seed         string `json:"seed"`
	// Datasets are the training data first, then the evaluation data.
	Datasets []Dataset `json:"datasets"`
	Params   []Param   `json:"params"`
	Metrics  []Metric  `json:"metrics"`
}

// Dataset is a data version a run used.
type Dataset struct {
	// Role is "train" or "eval".
	Role   string `json:"role"`
	Path   string `json:"path"`
	SHA256 string `json:"sha256"`
	// Rows and Columns are nil when only the manifest names the data
	// (no tracking store recorded it).
	Rows    *int64   `json:"rows"`
	Columns []string `json:"columns"`
}

// Param is a run's parameter.
type Param struct {
	Key   string `json:"key"`
	Value string `json:"value"`
}

// Metric is a run's metric, its latest value; null in JSON when it is
// not finite.
type Metric struct {
	Key   string      `json:"key"`
	Value gate.Number `json:"value"`
}

// Event is one entry of a version's rollout history.
type Event struct {
	Time   time.Time `json:"time"`
	Actor  string    `json:"actor"`
	Action string    `json:"action"`
	// Versions are all the versions the entry names: a promote names
	// the stable version and the candidate.
	Versions []int  `json:"versions"`
	Reason   string `json:"reason"`
}
