package main

import (
	"context"
	"fmt"
	"log/slog"
	"sync"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/switchyard-ml/switchyard/drift"
	"github.com/switchyard-ml/switchyard/lead"
	"github.com/switchyard-ml/switchyard/modelstore"
	"github.com/switchyard-ml/switchyard/quality"
	"github.com/switchyard-ml/switchyard/retrain"
	"github.com/switchyard-ml/switchyard/tracking"
)

// startRetrainer starts serve's retraining runner on the registry and
// tr: it runs a model's retrain: command when an alarm its policy lists
// fires, if this replica leads (leader nil: it is the only one). It returns the runner and stop, which kills the commands still
// running, audits them and returns once the runner's goroutine has
// ended; serve calls it before the tracking store closes.
func startRetrainer(registry, dataDir string, tr *tracking.Store, leader *lead.Leader, log *slog.Logger, reg prometheus.Registerer) (*retrain.Runner, func(), error) {
	cfg := retrain.Config{Registry: registry, DataDir: dataDir, Log: tr,
		Policies: retrain.RegistryPolicies(registry), Auditor: tr, Logger: log,
		Withhold: []string{envTokens, envAdminToken, "SWITCHYARD_TOKEN"}}
	if leader != nil { // a nil *lead.Leader is not a nil interface
		cfg.Leadership = leader
	}
	r, err := retrain.New(cfg, reg)
	if err != nil {
		return nil, nil, err
	}
	ctx, cancel := context.WithCancel(context.Background())
	var done sync.WaitGroup
	done.Go(func() { r.Run(ctx) })
	return r, func() { cancel(); done.Wait() }, nil
}

// retrainOnDrift returns a drift monitor's OnAlert that fires r when a
// version's dataset starts to drift: one alarm a version, not one a
// drifting feature.
func retrainOnDrift(r *retrain.Runner) func(drift.Alert) {
	return func(a drift.Alert) {
		if a.Drifted && a.Feature == "" {
			r.Fire(retrain.Trigger{Model: a.Model, Version: a.Version, Reason: modelstore.RetrainOnDrift,
				Message: fmt.Sprintf("the dataset drifts: %.2f of the features drifted (bound %.2f) over %d rows", a.Share, a.DatasetShare, a.Rows)})
		}
	}
}

// retrainOnQuality returns a live quality monitor's OnAlarm that fires r
// when an alarm is raised (not when it clears); the alarm's reason is
// the retrain block's trigger of the same name.
func retrainOnQuality(r *retrain.Runner) func(quality.Alarm) {
	return func(a quality.Alarm) {
		if a.Raised {
			r.Fire(retrain.Trigger{Model: a.Model, Version: a.Version, Reason: a.Reason, Message: a.Message})
		}
	}
}
