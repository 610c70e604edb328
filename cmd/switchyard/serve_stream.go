package main

import (
	"context"
	"log/slog"
	"path/filepath"
	"sync"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/switchyard-ml/switchyard/quality"
	"github.com/switchyard-ml/switchyard/server"
	"github.com/switchyard-ml/switchyard/stream"
	"github.com/switchyard-ml/switchyard/tracking"
)

// envStream names serve's default --stream, so that a fleet's replicas
// (a Kubernetes Deployment, say) can take it from their environment.
const envStream = "SWITCHYARD_STREAM"

// fleetStream is serve's side of --stream: the connection, its
// publisher, started before the prediction log's writer so that it ends
// after it (and publishes the writer's last batches), and its consumer,
// started once the server exists and ended first.
type fleetStream struct {
	conn *stream.Conn
	feed *streamFeed
	log  *slog.Logger

	stopPublish, stopConsume context.CancelFunc
	published, consumed      sync.WaitGroup
}

// streamFeed hands what the consumer applies to the live quality and
// drift monitors. Its fields are set before the consumer starts and not
// after.
type streamFeed struct {
	quality *quality.Monitor
	server  *server.Server
}

func (f *streamFeed) predictions(ps []tracking.Prediction) {
	f.quality.Predicted(ps)
	f.server.OfferFleetDrift(ps)
}

func (f *streamFeed) labels(ps []tracking.Prediction) { f.quality.Labelled(ps) }

// openStream connects to url, with the stream's position and identity
// in DATA_DIR/stream, and starts the publisher.
func openStream(ctx context.Context, url, dataDir string, tr *tracking.Store, log *slog.Logger, reg prometheus.Registerer) (*fleetStream, error) {
	fs := &fleetStream{feed: &streamFeed{}, log: log}
	var err error
	fs.conn, err = stream.Open(ctx, stream.Config{URL: url, Dir: filepath.Join(dataDir, "stream"), Log: tr,
		OnPredictions: fs.feed.predictions, OnLabels: fs.feed.labels, Logger: log}, reg)
	if err != nil {
		return nil, err
	}
	pctx, stop := context.WithCancel(context.Background())
	fs.stopPublish = stop
	fs.published.Go(func() { fs.conn.Publish(pctx) })
	return fs, nil
}

// consume starts the consumer, feeding qmon and srv's drift monitor.
func (fs *fleetStream) consume(qmon *quality.Monitor, srv *server.Server) {
	fs.feed.quality, fs.feed.server = qmon, srv
	ctx, stop := context.WithCancel(context.Background())
	fs.stopConsume = stop
	fs.consumed.Go(func() {
		if err := fs.conn.Consume(ctx); err != nil {
			fs.log.Error("stream: the consumer stopped; this replica no longer sees the fleet's predictions and labels", "error", err)
		}
	})
}

// stopConsumer ends the consumer, if it started.
func (fs *fleetStream) stopConsumer() {
	if fs.stopConsume != nil {
		fs.stopConsume()
		fs.consumed.Wait()
	}
}

// close ends the publisher, once the log's writer has ended, and closes
// the connection.
func (fs *fleetStream) close() {
	fs.stopPublish()
	fs.published.Wait()
	fs.conn.Close()
}
