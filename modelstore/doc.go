// Package modelstore owns the registry directory and the lifecycle of the
// model versions in it: the layout, the manifests, publishing versions
// atomically, watching the registry, and loading, gating, routing and
// draining versions.
//
// The registry layout is the contract with training pipelines:
//
//	registry/
//	  fraud/              a model; the name is its URL path segment
//	    policy.yaml       optional settings (strict keys)
//	    1/                a version: a positive integer, immutable once complete
//	      model.onnx
//	      manifest.json   written last; a version without it does not exist
//	      ...             optional extra files (external data, MLmodel, ...),
//	                      each with its sha256 and size in the manifest
//
// Publish writes a version into a temporary directory beside the versions
// and renames it into place, so a reader never sees half a version.
//
// # Lifecycle
//
// A version moves Loading -> Gating -> Ready, or ends Failed with its
// reason, and leaves service Draining -> Unloaded (see State). One
// reconciler goroutine, started by Open and ended by Close, owns the
// version map and makes every transition. It compares the registry with
// what is loaded whenever something signals that it may have changed: the
// watcher (fsnotify events, debounced), the periodic rescan, Load, Unload
// and Rescan. Loads run one at a time, and gates and drains each on a
// goroutine of its own; they report back to the reconciler, so nothing a
// request needs ever waits on them.
//
// What is loaded, per model: the stable version (the newest ready one,
// which takes all traffic: rollout.Stable), the newest version above it
// that has not failed (a candidate), and the keep_previous newest versions
// below it that have not failed, for an instant rollback. Nothing else: a
// version that leaves that set drains and unloads. A Failed version is not
// tried again until Load asks for it.
//
// # Requests
//
// The reconciler publishes a rollout.Table of *Version, swapped whole,
// before it drains anything. A request reads the table once, takes its
// version with Acquire and releases it when answered; a Draining version
// closes its queue and session only once every holder has released it, so
// in-flight requests finish on the version they started on. Infer runs a
// request through the version's batch queue.
//
// # Events
//
// Every transition is an Event (model, version, from, to, reason, time),
// delivered to each Subscription through a bounded channel that drops and
// counts what does not fit; the Store never waits for a subscriber. A
// shutdown is no exception: Close has the reconciler drain and unload
// every version, publishing those events, before it closes the
// subscriptions.
//
// Usage:
//
//	st, err := modelstore.Open(ctx, modelstore.Config{Dir: "registry"})
//	if err != nil { ... }
//	defer st.Close()
//	v, ok := st.Table().Route("fraud").PickKey("fraud", key) // per request
//	if ok && v.Acquire() {
//		err = v.Infer(&req)
//		v.Release()
//	}
package modelstore
