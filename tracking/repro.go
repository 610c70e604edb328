package tracking

import (
	"slices"
	"strings"
)

// The tags of a run's reproducibility record (Repro). MLflow clients see
// them as any other tag.
const (
	TagCodeRevision = "switchyard.code_revision"
	TagSeed         = "switchyard.seed"
	TagTrainSHA256  = "switchyard.dataset.train.sha256"
	TagEvalSHA256   = "switchyard.dataset.eval.sha256"
	TagGoVersion    = "switchyard.env.go_version"
	TagORTVersion   = "switchyard.env.onnxruntime_version"
	TagOS           = "switchyard.env.os"
	TagArch         = "switchyard.env.arch"
	TagCommandLine  = "switchyard.env.command_line"
	// TagGitCommit is where MLflow's clients record the code revision of
	// a run started in a git repository.
	TagGitCommit = "mlflow.source.git.commit"
)

// Repro is a run's reproducibility record: what it takes to train the
// same model again and check that it is the same. The run's parameters
// and datasets complete it. Empty fields are unknown.
type Repro struct {
	// CodeRevision is the revision (a git commit) of the training code.
	CodeRevision string
	// Seed is the seed training ran with, in decimal.
	Seed string
	// TrainSHA256 and EvalSHA256 are the sha256 of the training and
	// evaluation data.
	TrainSHA256 string
	EvalSHA256  string
	// GoVersion, ORTVersion, OS and Arch describe the environment: the Go
	// release, the onnxruntime release, the operating system and the
	// architecture, as runtime.GOOS and runtime.GOARCH name them.
	GoVersion  string
	ORTVersion string
	OS         string
	Arch       string
	// CommandLine is the command that recorded the run.
	CommandLine string
}

// Tags returns r as run tags, sorted by key, leaving out unknown fields.
// The code revision is recorded under TagGitCommit too, where MLflow's UI
// shows it; a command line longer than a tag value may be is cut.
func (r Repro) Tags() []Tag {
	var out []Tag
	add := func(key, value string) {
		if value != "" {
			out = append(out, Tag{Key: key, Value: value})
		}
	}
	add(TagCodeRevision, r.CodeRevision)
	add(TagGitCommit, r.CodeRevision)
	add(TagSeed, r.Seed)
	add(TagTrainSHA256, r.TrainSHA256)
	add(TagEvalSHA256, r.EvalSHA256)
	add(TagGoVersion, r.GoVersion)
	add(TagORTVersion, r.ORTVersion)
	add(TagOS, r.OS)
	add(TagArch, r.Arch)
	cl := r.CommandLine
	if len(cl) > MaxTagValueLength {
		cl = strings.ToValidUTF8(cl[:MaxTagValueLength], "")
	}
	add(TagCommandLine, cl)
	slices.SortFunc(out, func(a, b Tag) int { return strings.Compare(a.Key, b.Key) })
	return out
}

// ReproOf reads the reproducibility record from a run's tags. A run
// logged by an MLflow client in a git repository has its code revision
// under TagGitCommit only; ReproOf finds it there too.
func ReproOf(tags []Tag) Repro {
	var r Repro
	for _, t := range tags {
		switch t.Key {
		case TagCodeRevision:
			r.CodeRevision = t.Value
		case TagGitCommit:
			if r.CodeRevision == "" {
				r.CodeRevision = t.Value
			}
		case TagSeed:
			r.Seed = t.Value
		case TagTrainSHA256:
			r.TrainSHA256 = t.Value
		case TagEvalSHA256:
			r.EvalSHA256 = t.Value
		case TagGoVersion:
			r.GoVersion = t.Value
		case TagORTVersion:
			r.ORTVersion = t.Value
		case TagOS:
			r.OS = t.Value
		case TagArch:
			r.Arch = t.Value
		case TagCommandLine:
			r.CommandLine = t.Value
		}
	}
	return r
}
