package tracking

// The lifecycle stages of experiments and runs.
const (
	StageActive  = "active"
	StageDeleted = "deleted"
)

// The statuses of a run, as MLflow names them.
const (
	StatusRunning   = "RUNNING"
	StatusScheduled = "SCHEDULED"
	StatusFinished  = "FINISHED"
	StatusFailed    = "FAILED"
	StatusKilled    = "KILLED"
)

// validStatus reports whether s is a run status MLflow knows.
func validStatus(s string) bool {
	switch s {
	case StatusRunning, StatusScheduled, StatusFinished, StatusFailed, StatusKilled:
		return true
	}
	return false
}

// The view types of searches: which lifecycle stages they return.
const (
	ActiveOnly  = "ACTIVE_ONLY"
	DeletedOnly = "DELETED_ONLY"
	All         = "ALL"
)

// Tag is a key and value set on an experiment or a run.
type Tag struct {
	Key   string
	Value string
}

// Param is a run's parameter. Once logged its value cannot change.
type Param struct {
	Key   string
	Value string
}

// Metric is one logged value of a metric.
type Metric struct {
	Key string
	// Value may be NaN or ±Inf.
	Value float64
	// Timestamp is when it was measured, in Unix milliseconds.
	Timestamp int64
	// Step is the training step it belongs to.
	Step int64
}

// Experiment is a named group of runs.
type Experiment struct {
	ID               string
	Name             string
	ArtifactLocation string
	LifecycleStage   string
	// CreationTime and LastUpdateTime are Unix milliseconds.
	CreationTime   int64
	LastUpdateTime int64
	Tags           []Tag
}

// RunInfo is what a run is: its identity, state and place.
type RunInfo struct {
	RunID        string
	RunName      string
	ExperimentID string
	UserID       string
	Status       string
	// StartTime and EndTime are Unix milliseconds; EndTime is 0 while the
	// run has not ended.
	StartTime      int64
	EndTime        int64
	ArtifactURI    string
	LifecycleStage string
}

// Run is a run with what it logged: the latest value of each metric, its
// params and its tags.
type Run struct {
	Info    RunInfo
	Metrics []Metric
	Params  []Param
	Tags    []Tag
	// Datasets are the data versions the run used.
	Datasets []DatasetUse
	// Inputs are the dataset inputs MLflow's client logged, in the
	// order they were first logged.
	Inputs []DatasetInput
}

// Dataset is a data version: a file identified by its sha256, recorded
// once and referenced by runs.
type Dataset struct {
	SHA256  string
	Path    string
	Rows    int64
	Columns []string
}

// DatasetUse is a dataset as a run used it.
type DatasetUse struct {
	Dataset
	// Role is "train" or "eval".
	Role string
}
