package mlflow

import "errors"

var (
	// errEndpointNotFound answers a path below the MLflow prefixes that
	// names no endpoint (404 ENDPOINT_NOT_FOUND).
	errEndpointNotFound = errors.New("no such MLflow endpoint")
	// errNotConfigured answers MLflow requests to a server without
	// tracking (503 TEMPORARILY_UNAVAILABLE).
	errNotConfigured = errors.New("this server has no tracking store (serve with a --data-dir)")
	// errArtifactTooLarge answers an artifact upload longer than
	// Config.MaxArtifactBytes (413 RESOURCE_EXHAUSTED).
	errArtifactTooLarge = errors.New("artifact too large")
	// errRegistryReadOnly answers a write below the artifact proxy's
	// registry prefix, whose files are the registry's versions
	// (403 PERMISSION_DENIED).
	errRegistryReadOnly = errors.New("the registry's model versions are read-only through the artifact proxy")
)
