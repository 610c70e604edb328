// Package deploy holds switchyard's deployment files, and its tests check
// them for real; it has no code of its own.
//
// The files: the Dockerfile and .dockerignore at the module's root,
// compose.yaml (switchyard, Prometheus and Grafana on one machine),
// prometheus/ (the scrape configuration, the alert rules and their
// promtool unit tests), grafana/ (the data source, the dashboard and
// their provisioning), kubernetes/ (a kustomize base: Deployment,
// Service, ConfigMap, PersistentVolumeClaim, HorizontalPodAutoscaler,
// PodDisruptionBudget, ServiceMonitor) and docker/ (the image's health
// check). docs/operating.md explains them.
//
// The tests: promtool checks the configuration and runs the rules' unit
// tests (skipped, saying why, where promtool is missing, except on CI);
// every Kubernetes manifest decodes strictly into the k8s.io/api types, so
// that a misspelt field fails; a live server built from this module
// answers every probe path the files name and exports every metric the
// rules and the dashboard query; and, where buildah is installed, the
// image is built and run.
package deploy
