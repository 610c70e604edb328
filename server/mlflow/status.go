package mlflow

import (
	"context"
	"fmt"
	"strconv"
	"strings"

	"github.com/switchyard-ml/switchyard/modelstore"
	"github.com/switchyard-ml/switchyard/rollout"
	"github.com/switchyard-ml/switchyard/tracking"
)

// Models is what the MLflow API reads of the live models to say how a
// version stands: its lifecycle state and its share of the traffic. The
// Store of package modelstore implements it.
type Models interface {
	// Model is a snapshot of a model and its versions; nil when unknown.
	Model(name string) *modelstore.Model
	// Table is the routing table in force.
	Table() *rollout.Table[*modelstore.Version]
}

// MLflow's ModelVersionStatus values (model_registry.proto).
const (
	statusPending = "PENDING_REGISTRATION"
	statusFailed  = "FAILED_REGISTRATION"
	statusReady   = "READY"
)

// The model version tags that show how a version serves. They are
// computed on every read, never stored, and cannot be set or deleted.
const (
	// tagState is the version's lifecycle state (LOADING, GATING, READY,
	// FAILED, DRAINING, UNLOADED).
	tagState = "switchyard.state"
	// tagTraffic is its share of the model's requests that name no
	// version, from "0" to "1".
	tagTraffic = "switchyard.traffic"
	// reservedTagPrefix is the prefix of the tags switchyard computes.
	reservedTagPrefix = "switchyard."
)

// versionStatus says how a version's registration went, as MLflow's
// ModelVersionStatus: READY once it has loaded and passed its gate (and
// then for good, also after it drained or the server restarted),
// FAILED_REGISTRATION with the reason when it did not load or failed its
// gate, PENDING_REGISTRATION before either is known. The live store is
// asked first, then the gate's latest recorded verdict.
func (s *Server) versionStatus(ctx context.Context, name string, version int) (status, message string, err error) {
	var live *modelstore.Version
	if s.cfg.Models != nil {
		if m := s.cfg.Models.Model(name); m != nil {
			live = m.Version(version)
		}
	}
	if live != nil {
		switch live.State() {
		case modelstore.Ready, modelstore.Draining:
			return statusReady, "", nil
		case modelstore.Failed:
			return statusFailed, live.Reason(), nil
		}
	}
	vs, err := s.registry.Verdicts(ctx, tracking.VerdictQuery{Model: name, Version: version, Limit: 1})
	switch {
	case err != nil:
		return "", "", err
	case len(vs) > 0 && vs[0].Pass:
		return statusReady, "", nil
	case len(vs) > 0:
		return statusFailed, vs[0].Reason, nil
	case live != nil && live.State() == modelstore.Gating:
		return statusPending, "loaded, being judged by the gate", nil
	case live != nil && live.State() == modelstore.Loading:
		return statusPending, "loading", nil
	}
	return statusPending, "not loaded and judged by this server yet", nil
}

// servingTags returns the tags that show how a version serves now: its
// state and its share of the traffic. A server without live models has
// none.
func (s *Server) servingTags(name string, version int) []keyValueJSON {
	if s.cfg.Models == nil {
		return nil
	}
	state := modelstore.Unloaded
	if m := s.cfg.Models.Model(name); m != nil {
		if v := m.Version(version); v != nil {
			state = v.State()
		}
	}
	share := 0
	for _, a := range s.cfg.Models.Table().Route(name).Arms() {
		if a.Version == version {
			share += a.Weight
		}
	}
	traffic := strconv.FormatFloat(float64(share)/float64(rollout.FullWeight), 'f', -1, 64)
	return []keyValueJSON{{tagState, state.String()}, {tagTraffic, traffic}}
}

// reservedTag refuses a write of a tag that switchyard computes.
func reservedTag(key string) error {
	if strings.HasPrefix(key, reservedTagPrefix) {
		return &requestError{fmt.Sprintf("Invalid tag key '%s': tags beginning with '%s' show how the version serves; switchyard computes them and they cannot be set or deleted.", key, reservedTagPrefix)}
	}
	return nil
}
