// Package ops owns every rule that changes what serves: promote, rollback,
// pause and resume, the champion and challenger aliases, MLflow's stages
// (TransitionStage), publishing a version with its lineage, and deleting
// a model. The operations API, the MLflow API, the CLI and the demo all
// call it, so a change is planned, checked and audited the same way
// whichever door it comes through. It also makes a version's drift
// profile (BuildProfile, ProfileOf) for publish, and writes one into a
// version published without it (WriteProfile).
//
// A Service works in one of two modes behind one API. Online (Config.Models
// set, a running server's *modelstore.Store) a rollout change goes through
// the store's reconciler, which writes rollout.json and routes by it before
// the call returns. Offline (no Models: the CLI without --server, the
// demo) the Service plans against the model's rollout.json, taking what
// serves from it or else from the newest complete version whose latest
// gate verdict in the tracking store did not fail, and writes the file
// atomically; a server watching the registry follows it. Both plan with
// modelstore.PlanChange, the one implementation of the desire rules.
//
// Every change is audited in the tracking store with its numbers. An audit
// failure after the change was made is returned wrapping ErrNotAudited,
// together with the state in force, so that each caller decides what it
// means for its request.
//
// Concurrency: a Service has no mutable state; its methods may be called
// from many goroutines. Online, the store's reconciler orders the changes
// of a model; offline, concurrent writers of one rollout.json race, and the
// last whole file wins.
//
// Usage, as the CLI's promote does without a server:
//
//	st, err := tracking.Open(ctx, dataDir, tracking.Config{})
//	if err != nil {
//		return err
//	}
//	defer st.Close()
//	svc, err := ops.New(ops.Config{Registry: "registry", Tracking: st})
//	if err != nil {
//		return err
//	}
//	state, err := svc.Promote(ctx, "fraud", ops.Promote{Version: 4, Strategy: rollout.Canary,
//		Actor: "ana", Reason: "passed its gate"})
//
// and a server's handlers, with ops.Config{Registry: dir, Models: store,
// Tracking: st}, call the same methods.
package ops
