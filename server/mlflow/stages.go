package mlflow

import (
	"errors"

	"github.com/switchyard-ml/switchyard/ops"
	"github.com/switchyard-ml/switchyard/tracking"
)

// transitionStage answers MLflow's TransitionModelVersionStage: {name,
// version, stage, archive_existing_versions} moves the version to the
// stage (matched without regard to case), through the operations
// service, which changes what serves as the stage means (see
// ops.Service.TransitionStage) and audits it; the answer is
// {"model_version": ...} as it now reads.
func (s *Server) transitionStage(ctx *request) (any, error) {
	var req struct {
		Name                    string `json:"name"`
		Version                 string `json:"version"`
		Stage                   string `json:"stage"`
		ArchiveExistingVersions bool   `json:"archive_existing_versions"`
	}
	if err := decodeMLflowBody(ctx.RequestCtx, &req); err != nil {
		return nil, err
	}
	switch {
	case req.Name == "":
		return nil, missingParam("name")
	case req.Version == "":
		return nil, missingParam("version")
	case req.Stage == "":
		return nil, missingParam("stage")
	}
	v, err := versionNumber(req.Version)
	if err != nil {
		return nil, err
	}
	stage, err := tracking.CanonicalStage(req.Stage)
	if err != nil {
		return nil, err
	}
	if err := tracking.CheckTransition(stage, req.ArchiveExistingVersions); err != nil {
		return nil, err
	}
	if _, err := s.modelVersion(ctx, req.Name, v); err != nil {
		return nil, err
	}
	if s.cfg.Ops == nil {
		return nil, errNotConfigured
	}
	_, err = s.cfg.Ops.TransitionStage(ctx, req.Name, ops.Transition{Version: v, Stage: stage,
		ArchiveExisting: req.ArchiveExistingVersions, Actor: "mlflow-api", Reason: "model-versions/transition-stage to " + stage})
	if errors.Is(err, ops.ErrNotAudited) {
		s.log.Error("stage transition made but not audited", "model", req.Name, "version", v, "stage", stage, "error", err)
		err = nil
	}
	if err != nil {
		return nil, err
	}
	mv, err := s.modelVersion(ctx, req.Name, v)
	return modelVersionResponse{mv}, err
}
