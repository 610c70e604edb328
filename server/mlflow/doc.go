// Package mlflow serves the subset of MLflow's REST API that switchyard
// implements, so that an unmodified MLflow client can log runs and
// register models: the tracking API under /api/2.0/mlflow/ (and the UI's
// /ajax-api/2.0/mlflow/), the model registry over the registry directory,
// and the artifact proxy under /api/2.0/mlflow-artifacts/artifacts.
//
// It owns the translation between MLflow's wire format and the tracking
// store (Tracking, ModelRegistry, ArtifactStore, which it declares and
// package tracking implements) and answers errors in MLflow's form. It
// leaves routing to package server, which compiles the table that API
// returns, one line per endpoint, into its router. Publishes, alias
// moves (champion and challenger move rollouts) and deletions go through
// the operations service (Operations).
//
// A Server is safe for concurrent use; each request runs on fasthttp's
// goroutine and calls the stores synchronously.
//
//	ml := mlflow.New(mlflow.Config{Tracking: tr, Registry: tr, RegistryDir: dir, Artifacts: arts, Ops: svc})
//	router, err := httpapi.NewRouter(rootAPI, ml.API())
package mlflow
