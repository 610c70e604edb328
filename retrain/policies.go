package retrain

import (
	"errors"
	"io/fs"
	"path/filepath"

	"github.com/switchyard-ml/switchyard/modelstore"
)

// RegistryPolicies is the registry directory as Policies: it reads a
// model's policy.yaml each time it is asked, so that an edit counts from
// the next alarm on. A model without the file, or whose file has no
// retrain block, is never retrained.
type RegistryPolicies string

// RetrainPolicy returns the retrain block of the model's policy.yaml,
// nil when there is none, or why the file cannot be read. Safe for
// concurrent use.
func (dir RegistryPolicies) RetrainPolicy(model string) (*modelstore.RetrainPolicy, error) {
	if !modelstore.ValidName(model) {
		return nil, errors.New("retrain: " + model + " is not a model name")
	}
	p, err := modelstore.ReadPolicy(filepath.Join(string(dir), model, modelstore.PolicyFile))
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return nil, nil
	case err != nil:
		return nil, err
	}
	return p.Retrain, nil
}
