// Package retrain closes the loop from an alarm to a new model: when the
// drift monitor, the live quality windows or the quality estimate raise an
// alarm that a model's policy.yaml lists in its retrain block
// (modelstore.RetrainPolicy), a Runner exports the model's labelled
// predictions and runs the retraining command the policy names. The
// version that command publishes needs nothing more from here: the
// registry watch, the gate and the rollout policy take it from there.
//
// For each trigger the Runner reads the model's policy (Policies) and
// ignores an alarm the policy does not list. It skips the trigger, and
// audits and counts why, while a run of the same model is in progress or
// less than the policy's cooldown has passed since the last run started,
// so that at most one command runs per model at a time. With a
// Config.Leadership (replicas sharing a PostgreSQL store), only the
// leader starts a run, after claiming it in its term; the others count
// the alarm as not_leader. Otherwise it
// exports, with ops.ExportFile, the labelled predictions of the model's
// every version (of the version that alarmed when versions differ in
// their input columns, which one CSV cannot hold) answered within
// Config.Lookback (default 7 days, the prediction log's default
// retention) before the trigger, as CSV, into
// DATA_DIR/retrain/MODEL-TIME.csv (once a run ends, the model's newest
// KeepExports exports stay and older ones are removed); then it runs the
// command: no shell, in
// a process group of its own, in the server's working directory, with
// the server's environment (less the variables Config.Withhold names:
// serve withholds its access tokens) and
//
//	SWITCHYARD_EXPORT         the export's path
//	SWITCHYARD_EXPORT_SHA256  its sha256, the dataset digest to record
//	SWITCHYARD_EXPORT_ROWS    its rows (labelled predictions)
//	SWITCHYARD_REGISTRY       the registry directory
//	SWITCHYARD_DATA_DIR       the data directory (the tracking store)
//	SWITCHYARD_MODEL          the model
//	SWITCHYARD_VERSION        the version that raised the alarm
//	SWITCHYARD_REASON         the alarm: drift, accuracy_drop or estimated_accuracy_drop
//
// Its standard output and error are kept together, the last
// Config.OutputLimit bytes (64 KiB by default), and go into the audit
// entry. At the policy's timeout, or when the Runner stops, the whole
// process group is killed (SIGKILL), so that what the command started
// dies with it; the group is killed too once the command exits, so
// nothing it left running in the background outlives the run.
//
// The audit trail (actor "retrain") gets, for each run, retrain_started
// (the alarm, the export's path, sha256 and rows, the command) and then
// retrain_finished (exit status 0, the duration, the output) or
// retrain_failed (the export failed, the command could not start, exited
// with another status, was killed at its timeout or at shutdown), and
// retrain_skipped for each trigger skipped while a run was in progress or
// within the cooldown.
//
// Concurrency: Fire is safe for concurrent use and never blocks: a full
// queue (Config.Queue) drops the trigger and counts it
// (switchyard_retrain_dropped_total). Run is the Runner's one goroutine
// and owns its state (which models run, when each last started); each
// run has a goroutine of its own, which Run waits for when it ends.
//
// Usage, as serve wires drift alerts to it:
//
//	r, err := retrain.New(retrain.Config{Registry: dir, DataDir: data, Log: st,
//		Policies: retrain.RegistryPolicies(dir), Auditor: st, Logger: log}, reg)
//	if err != nil {
//		return err
//	}
//	go r.Run(ctx)
//	dcfg.OnAlert = func(a drift.Alert) {
//		if a.Drifted && a.Feature == "" {
//			r.Fire(retrain.Trigger{Model: a.Model, Version: a.Version, Reason: modelstore.RetrainOnDrift})
//		}
//	}
package retrain
