package admin

import "github.com/switchyard-ml/switchyard/server/internal/httpapi"

var (
	// errNoStore answers the audit and runs endpoints on a server without
	// a tracking store (503).
	errNoStore = httpapi.Classify(httpapi.ErrUnavailable, "this server has no tracking store for the operations API")
	// errNoOps answers the rollout actions on a server built without the
	// operations service (503).
	errNoOps = httpapi.Classify(httpapi.ErrUnavailable, "this server cannot change rollouts: it has no operations service")
	// errNoDrift answers the drift report on a server without a drift
	// monitor (503).
	errNoDrift = httpapi.Classify(httpapi.ErrUnavailable, "this server runs no drift monitor")
)
