// Package stream shares the prediction log and feedback of a fleet of
// replicas through NATS JetStream (serve --stream nats://host:port).
//
// It owns the JetStream client: the connection, the stream (created on
// Open when missing: file storage, bounded by age and bytes), the
// publisher of this replica's log and labels, and the consumer that
// applies every other replica's to this one. Its messages:
//
//	switchyard.predictions.MODEL  a batch of MODEL's records, in the
//	                              prediction log's segment format, as
//	                              one replica's writer appended it
//	switchyard.feedback.MODEL     labels that POST /v1/feedback accepted
//	                              on one replica, with their predictions
//
// each with a Nats-Msg-Id header, so that JetStream drops a publish it
// already stored (a retry), and the Switchyard-Replica header naming the
// data directory that wrote it.
//
// What it leaves to others: the request path hands records to the log's
// writer as before (package tracking), never to this package; the writer
// appends each batch locally first and then offers it here (Offer, the
// log's LogConfig.OnBatch), which copies it into a bounded queue or
// drops and counts it. So a replica whose stream is down keeps its own
// log whole, and nothing of NATS is on the hot path.
//
// Concurrency: Open connects and returns a *Conn; Run, called once, owns
// two goroutines until its context is done: the publisher, which
// publishes the queue asynchronously with a bounded number awaiting
// their acks and retries a failed publish a few times under the same
// Nats-Msg-Id, and the consumer, an ordered consumer that applies the
// stream in order from the sequence after the last one this data
// directory applied (kept in Config.Dir). Offer and PublishLabels are
// safe for concurrent use.
//
// Delivery is at least once, and applying is idempotent: the consumer
// resumes after its recorded position; the one batch it may have
// appended without recording it (a crash between the two) is found by
// its first prediction id and skipped; labels are first-label-wins. A
// replica skips what its own data directory published: it has it
// already.
//
// Usage:
//
//	c, err := stream.Open(ctx, stream.Config{URL: "nats://127.0.0.1:4222", Dir: dataDir + "/stream", Log: store}, reg)
//	if err != nil { ... }
//	defer c.Close()
//	logCfg.OnBatch = c.Offer
//	go c.Run(ctx)
package stream
