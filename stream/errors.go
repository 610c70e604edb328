package stream

import "errors"

var (
	// ErrConfig is returned by Open for a configuration it cannot use: a
	// URL that is not nats://host:port, or a missing Dir or Log.
	ErrConfig = errors.New("stream: bad configuration")
	// ErrUnavailable is returned by PublishLabels when JetStream did not
	// acknowledge the labels in time: they are committed on this replica
	// only, and publishing them again is harmless.
	ErrUnavailable = errors.New("stream: jetstream unavailable")
)
