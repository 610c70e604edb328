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
// A model's desired state is its rollout.json (State): the stable
// version, a candidate and its weight, a shadow, the strategy and step,
// whether it is paused, and who changed it and why. ParseState and
// WriteState read and write it (atomically); PlanPromote, PlanRollback
// and PlanPause compute the state a person's command asks for. Without a
// rollout.json the newest ready version takes all traffic (Stable).
//
// Split routes split by routing key: Bucket hashes a model and key into
// one of 10,000 buckets, the candidate owning the first weight of them,
// so that a key stays on the candidate as its weight grows and replicas
// agree (PickKey).
//
// The controller's deterministic core: Policy (a model's rollout
// settings, from policy.yaml), ArmStats (lock-free per-arm counters,
// histograms and a ring of the latest requests that the request path
// records into), and Decide, a pure function of (policy, progress, stats,
// now) returning hold, advance, promote, roll back or inconclusive with
// reasons that carry the numbers. Decide judges like Kayenta: the arms'
// latencies by a Mann–Whitney test and the Hodges–Lehmann interval of the
// shift (MannWhitney), their error rates by an interval of the difference
// (CompareRates), their scores by PSI beyond sampling noise with a
// chi-squared test and the distance they moved (CompareScores), each
// against a relative tolerance and an absolute floor; a breach must
// repeat in FailureLimit analyses in a row unless it is critical. The
// controller samples both arms over the same window of time and carries
// the analyses' count from one Decide to the next (Progress). The
// Controller's goroutine (Run) feeds Decide and applies its decisions
// through a Fleet, on each tick and at once when woken (Wake) by a
// version becoming Ready or Failed. Among replicas that share a registry
// and a PostgreSQL tracking store, only the leader applies anything: each
// decision is first claimed from ControllerConfig.Leadership (lead.Leader),
// a write fenced by the leader's term; the others judge, apply nothing,
// and follow rollout.json as the leader writes it.
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
