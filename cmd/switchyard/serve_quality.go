package main

import (
	"log/slog"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/switchyard-ml/switchyard/quality"
	"github.com/switchyard-ml/switchyard/server"
	"github.com/switchyard-ml/switchyard/tracking"
)

// qualityVersions describes the store's versions to the live quality
// monitor. serve makes the monitor before the model store opens, since
// the prediction log it feeds on is made first; it sets Versions once
// the store is open, before the monitor's goroutine starts, which is the
// only caller.
type qualityVersions struct{ quality.Versions }

// newQualityMonitor returns serve's live quality monitor, with its
// metrics on reg, its windows filled from and its alarms audited to tr
// and given to onAlarm, and the versions to describe once the store is
// open.
func newQualityMonitor(tr *tracking.Store, onAlarm func(quality.Alarm), log *slog.Logger, reg prometheus.Registerer) (*quality.Monitor, *qualityVersions, error) {
	versions := &qualityVersions{}
	m, err := quality.NewMonitor(quality.MonitorConfig{Versions: versions, History: tr, Auditor: tr, OnAlarm: onAlarm, Logger: log}, reg)
	if err != nil {
		return nil, nil, err
	}
	return m, versions, nil
}

// describe makes versions describe the versions of models.
func (v *qualityVersions) describe(models server.Models) { v.Versions = server.QualityVersions(models) }
