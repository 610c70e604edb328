// Package lead elects one leader among switchyard replicas that share a
// PostgreSQL database, so that exactly one replica's rollout controller
// and retrain trigger act at a time while the others follow rollout.json
// and the tracking tables.
//
// A Leader holds a PostgreSQL session advisory lock on a connection of
// its own. Taking the lock and incrementing the group's fencing term
// (a row of lead_terms) happen in one transaction on that connection, so
// each takeover has a term above every earlier one. The role ends with
// the connection: a ping that fails (the server terminated the session,
// the network went) makes IsLeader false at once, and since the server
// drops a dead session's locks, another replica takes the lock and the
// next term within a retry interval.
//
// A leader that has lost its connection may not know it yet. So each
// decision it acts on is first claimed (Claim): written to lead_decisions
// in a transaction that holds the term row shared and checks that the
// term is still the leader's. A stale leader's claim is refused with
// ErrFenced, the Leader steps down, and the decision is not applied.
//
// The package owns its two tables and creates them when missing. It
// knows nothing of rollouts or retraining: rollout and retrain declare
// the small interface they need (IsLeader, Claim), which *Leader
// satisfies; without a Leader (a single replica on SQLite) they always
// act.
//
// Concurrency: Run is the Leader's one goroutine; it owns the lock's
// connection and ends when its context does, releasing the lock.
// IsLeader, Term and Claim are safe for concurrent use.
//
// Usage:
//
//	l, err := lead.New(lead.Config{DSN: dsn}, reg)
//	if err != nil { ... }
//	defer l.Close()
//	go l.Run(ctx)
//	if l.IsLeader() {
//		if err := l.Claim(ctx, "fraud", "promote", "step 3 healthy"); err == nil { ...act... }
//	}
package lead
