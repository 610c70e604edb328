// Package rollout owns how a model's requests are split between its
// versions: the routing table the request path reads, and the rules that
// decide which versions the table routes to.
//
// The table is immutable and swapped whole through an atomic pointer
// (Router), so the request path reads it once per request and never takes
// a lock. A Route holds a model's arms (the versions that share its
// traffic, each with a weight in basis points) and the versions a request
// may name explicitly, which bypass the split.
//
// This first part routes each model to one arm, its stable version, chosen
// by Stable: the newest ready version takes all traffic at once (an
// immediate blue/green swap). Weighted canary steps, shadow copies, sticky
// keys and the controller that promotes and rolls back come with the
// rollout issue.
//
// rollout imports no other switchyard package: a table's targets are of
// any type V the caller chooses (modelstore routes to *modelstore.Version).
//
// Concurrency: Router's methods are safe for concurrent use. A Table and
// the Routes in it must not be modified once published.
//
// Usage:
//
//	var r rollout.Router[*Version]
//	r.Publish(r.Table().With("fraud", rollout.Single(4, v4, ready)))
//	...
//	if v, ok := r.Table().Route("fraud").PickKey("fraud", key); ok { ... } // per request
package rollout
