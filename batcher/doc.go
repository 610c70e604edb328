// Package batcher forms batches out of concurrent inference requests.
//
// Each model version has one Queue. A request is an Item carrying some rows
// (its inputs' first dimension) and a compatibility key (its inputs' other
// dimensions): only items with equal keys are run together. Executor
// goroutines take what is waiting, up to MaxBatchSize rows, and hand it to a
// Runner, which concatenates the rows, runs the model once and splits the
// outputs back by row offsets. The batcher itself never touches tensor data
// and imports no other switchyard package.
//
// A lone request at low load runs at once: an idle executor blocks on the
// queue and takes the first item the moment it arrives, then only what is
// already waiting, unless MaxQueueDelay asks it to wait for more.
//
// Admission never blocks. Enqueue fails at once with ErrQueueFull when the
// queued rows would exceed MaxQueueSize, and with ErrClosed after Close.
// An item whose deadline has passed when an executor reaches it is never
// run: it fails with ErrDeadline.
//
// Ownership: the caller owns an Item and its payload. From a successful
// Enqueue until Wait returns, the batcher and the Runner may read and write
// the payload; the caller must not touch it. After Wait returns, nothing in
// the batcher refers to the item.
//
// Usage:
//
//	q, err := batcher.New(cfg, runner, metrics, "fraud", "2")
//	q.Start()
//	defer q.Close()
//	it.Payload, it.Rows, it.Key = req, rows, key
//	if err := q.Enqueue(&it); err != nil { ... } // 503 for ErrQueueFull
//	err = it.Wait()                              // 504 for ErrDeadline
package batcher
