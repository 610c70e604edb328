// Package bench measures switchyard against the limits of the machine it
// runs on: what a bare fasthttp server can answer (the HTTP floor), what
// onnxruntime can compute in-process, and what switchyard serves with
// dynamic batching off and on.
//
// It owns these:
//
//   - Run, a load generator over real HTTP (fasthttp's client, one TCP
//     connection per worker goroutine). Closed loop: each connection sends
//     its next request when the previous answer arrives. Open loop
//     (Config.Rate > 0): requests fall due at exact intervals and latency
//     counts from the due time, so a server or client that falls behind
//     cannot hide it (no coordinated omission). Latencies are kept per
//     worker, merged and sorted at the end: percentiles are exact.
//   - ServeFloor, the HTTP floor: a fasthttp server answering a constant
//     body to every request.
//   - InProcess, onnxruntime's throughput at each batch size, with several
//     goroutines sharing one engine.Session.
//   - Compare, the comparison the dynamic-batching issue asks for, with
//     Report and its goals. It runs the floor and the servers as child
//     processes of the switchyard binary (`switchyard bench --serve-floor`,
//     `switchyard serve`) on 127.0.0.1, one phase at a time, and stops them
//     before it returns.
//   - Swap, versions published (or rolled out and back, with Rollout) one
//     after another under load: failed requests, swap latency, RSS growth.
//   - TrackingCost and CanaryCost, each a server alternated with a variant
//     of itself (the tracking store open under an MLflow load; two arms of
//     a canary) round by round, judged by the median ratio of req/s.
//   - GateCost, live traffic with no gate running against live traffic
//     while a new version's 100,000-row gate runs, round by round.
//   - RecordsCost, one-row V2 requests against records requests carrying
//     the same values, round by round.
//   - Soak, sustained mixed traffic (V2, records, bad requests, MLflow
//     writes) while versions are published, gated, rolled out and
//     swapped: unexpected answers by kind, latency, RSS and goroutines
//     over time.
//   - Judgment, the rollout controller's judgment on a busy machine:
//     candidates identical to stable, 5 ms slower and failing 2% of
//     requests rolled out one after another while goroutines burn every
//     CPU; how many were promoted or rolled back, and how long each took.
//
// The A/B scenarios (TrackingCost, CanaryCost, GateCost, RecordsCost) run
// on one runner: each says what its baseline and variant phases are, and
// the runner makes the temporary registry, publishes the small model,
// starts and stops the servers, alternates the phases, writes the progress
// lines and takes the median ratios. Their configs embed RoundsConfig
// (which Compare's embeds too) and their reports RoundsReport.
//
// It leaves serving to the server package and never asserts speed: a
// missed goal is reported, not an error. Load goes only to the URL it is
// given.
//
// Concurrency: Run, InProcess, Compare, Swap, TrackingCost, CanaryCost,
// GateCost, RecordsCost, Soak and Judgment are synchronous; they start
// their own goroutines and processes and are done with all of them when
// they return. Results are plain values.
//
// Usage:
//
//	res, err := bench.Run(ctx, bench.Config{
//		URL:         "http://127.0.0.1:8080/v2/models/fraud/infer",
//		Body:        bench.InferBody("features", 1, 8, 1),
//		Connections: 64,
//		Warmup:      time.Second,
//		Duration:    10 * time.Second,
//	})
//	if err != nil { ... }
//	res.WriteText(os.Stdout)
package bench
