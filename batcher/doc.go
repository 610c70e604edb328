// Package batcher forms batches out of concurrent inference requests.
//
// Each model version has one Queue. A request is an Item carrying some rows
// (its inputs' first dimension) and a compatibility key (its inputs' other
// dimensions): only items with equal keys are run together. Batches are
// formed from what is queued, up to MaxBatchSize rows, and handed to a
// Runner, which concatenates the rows, runs the model once and splits the
// outputs back by row offsets. The batcher itself never touches tensor data
// and imports no other switchyard package.
//
// There are no executor goroutines. The callers of Do run the batches: a
// caller that finds one of the Executors slots free leads, running batches
// until its own item is done, then hands its slot to the owner of the next
// queued item. So a lone request at low load runs at once, on its own
// goroutine, with no hand-off; under load the requests that arrive while
// every slot is busy wait in the queue and run together. Waiting for more
// rows happens only when MaxQueueDelay asks for it.
//
// Admission never blocks. Do fails at once with ErrQueueFull when the queued
// rows would exceed MaxQueueSize, and with ErrClosed after Close. An item
// whose deadline has passed when a leader reaches it is never run: it fails
// with ErrDeadline.
//
// Ownership: the caller owns an Item and its payload. While Do runs, the
// batcher and the Runner may read and write the payload, possibly on
// another caller's goroutine; the caller must not touch it. When Do
// returns, nothing in the batcher refers to the item.
//
// Cost: each queue counts what its batches cost (Queue.Cost): the wall
// time of its model runs, its requests and predictions, with three atomic
// adds per batch. A server runs Metrics.ShareCPU, which every few seconds
// gives out the rest of the process's CPU time to the queues that ran
// requests, by their requests; the Metrics export each live queue's cost
// and, with a price set by SetPrice, dollars per 1,000 predictions.
//
// Usage:
//
//	q, err := batcher.New(cfg, runner, metrics, "fraud", "2")
//	defer q.Close(ctx) // bounded: a hung run cannot hold it for ever
//	it.Payload, it.Rows, it.Key = req, rows, key
//	err = q.Do(&it) // 503 for ErrQueueFull, 504 for ErrDeadline
package batcher
