// Package tracking is switchyard's embedded store of experiments, runs,
// datasets, lineage and the audit trail: one SQLite file (tracking.db, WAL
// mode) in the data directory, with nothing else to run (Open), or a
// PostgreSQL database that several replicas share (OpenPostgres). Both
// run the same statements, written once with "?" placeholders (numbered
// for PostgreSQL by its connector, postgres_conn.go), and their own
// migrations (migrations/ and migrations/postgres/) to the same schema.
//
// Its records are shaped as MLflow's tracking server keeps them
// (experiments with the default experiment "0", runs with params, tags and
// metrics with their full history, artifact locations of the form
// mlflow-artifacts:/EXPERIMENT/RUN/artifacts), so that the server can
// speak MLflow's REST API over it, and training scripts keep their MLflow
// client. Beside them it keeps what MLflow does not: data versions (a file
// recorded once by its sha256, with its rows and columns), the lineage of
// each model version (version -> run -> datasets), and the audit trail.
// DescribeCSV computes a data version from a CSV file, and Repro is the
// reproducibility record (code revision, seed, data hashes, environment)
// a run carries as tags named switchyard.*.
//
// The prediction log is kept beside the database, in append-only segment
// files a directory per model (predictions/, predlog_store.go): the
// request path encodes each prediction into its model's buffer and
// PredictionLog's one writer appends the buffers whole (predlog_queue.go);
// the labels that feedback joins to them go to the database (Feedback),
// committed before the answer. A written prediction survives the
// process's death; an acknowledged label survives SIGKILL and power loss.
//
// Concurrency and durability: reads run on any goroutine. Every write goes
// to one writer goroutine, which commits the writes waiting for it in one
// transaction (each in its own savepoint, so one failing write does not
// undo the others) with synchronous=FULL (on PostgreSQL, its default
// synchronous commit), and only then answers their callers. A write that returned nil survives SIGKILL at any moment.
//
// Errors wrap the sentinels of errors.go (ErrNotFound, ErrExists,
// ErrInvalid, ErrClosed), for the server to map to MLflow's error codes.
// No SQL lives outside this package; consumers declare the interface
// they need of a Store.
//
// Usage:
//
//	st, err := tracking.Open(ctx, dataDir, tracking.Config{})
//	if err != nil { ... }
//	defer st.Close()
//	run, err := st.CreateRun(ctx, tracking.RunSpec{UserID: "ci"})
//	err = st.LogBatch(ctx, run.Info.RunID, []tracking.Metric{{Key: "auc", Value: 0.91, Timestamp: ms}}, nil, nil)
package tracking
