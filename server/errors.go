package server

import (
	"github.com/switchyard-ml/switchyard/server/internal/httpapi"
)

// errNoRecords answers a records request for a version that cannot
// serve one: it has no feature schema, or no output to answer with (404).
var errNoRecords = httpapi.Classify(httpapi.ErrNotFound, "this version serves no records API, only V2 inference")
