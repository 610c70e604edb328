package mlflow

// The registry's tags: registered-models/set-tag and delete-tag,
// model-versions/set-tag and delete-tag (MLflow's SetRegisteredModelTag,
// DeleteRegisteredModelTag, SetModelVersionTag, DeleteModelVersionTag),
// kept in the tracking store. Each answers {} and fails with
// RESOURCE_DOES_NOT_EXIST when the model or version is not in the
// registry, and with INVALID_PARAMETER_VALUE on a missing parameter or a
// key MLflow does not accept. A model version's switchyard.* tags are
// computed (see servingTags) and cannot be set or deleted.

import "github.com/switchyard-ml/switchyard/tracking"

// tagRequest is the body of the four tag endpoints; Version is only the
// model-versions ones'.
type tagRequest struct {
	Name    string  `json:"name"`
	Version string  `json:"version"`
	Key     string  `json:"key"`
	Value   *string `json:"value"`
}

// decodeTagRequest decodes a tag request and checks that its model (and,
// when version is true, its version) exists; it returns the version.
func (s *Server) decodeTagRequest(ctx *request, version, value bool) (tagRequest, int, error) {
	var req tagRequest
	if err := decodeMLflowBody(ctx.RequestCtx, &req); err != nil {
		return req, 0, err
	}
	switch {
	case req.Name == "":
		return req, 0, missingParam("name")
	case version && req.Version == "":
		return req, 0, missingParam("version")
	case req.Key == "":
		return req, 0, missingParam("key")
	case value && req.Value == nil:
		return req, 0, missingParam("value")
	}
	if !version {
		_, err := s.modelDir(req.Name)
		return req, 0, err
	}
	v, err := versionNumber(req.Version)
	if err != nil {
		return req, 0, err
	}
	_, err = s.modelVersion(ctx, req.Name, v)
	return req, v, err
}

func (s *Server) setRegisteredModelTag(ctx *request) (any, error) {
	req, _, err := s.decodeTagRequest(ctx, false, true)
	if err != nil {
		return nil, err
	}
	return empty{}, s.registry.SetRegisteredModelTag(ctx, req.Name, tracking.Tag{Key: req.Key, Value: *req.Value})
}

func (s *Server) deleteRegisteredModelTag(ctx *request) (any, error) {
	req, _, err := s.decodeTagRequest(ctx, false, false)
	if err != nil {
		return nil, err
	}
	return empty{}, s.registry.DeleteRegisteredModelTag(ctx, req.Name, req.Key)
}

func (s *Server) setModelVersionTag(ctx *request) (any, error) {
	req, v, err := s.decodeTagRequest(ctx, true, true)
	if err != nil {
		return nil, err
	}
	if err := reservedTag(req.Key); err != nil {
		return nil, err
	}
	return empty{}, s.registry.SetModelVersionTag(ctx, req.Name, v, tracking.Tag{Key: req.Key, Value: *req.Value})
}

func (s *Server) deleteModelVersionTag(ctx *request) (any, error) {
	req, v, err := s.decodeTagRequest(ctx, true, false)
	if err != nil {
		return nil, err
	}
	if err := reservedTag(req.Key); err != nil {
		return nil, err
	}
	return empty{}, s.registry.DeleteModelVersionTag(ctx, req.Name, v, req.Key)
}
