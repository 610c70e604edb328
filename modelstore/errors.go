package modelstore

import (
	"errors"
	"fmt"
)

var (
	// ErrNotFound is wrapped by Lookup and the load and unload calls when
	// the model or version does not exist.
	ErrNotFound = errors.New("modelstore: not found")
	// ErrNotReady is wrapped by Lookup, Version.Infer and Version.Run when
	// the version exists but cannot serve: it failed, is loading, or has
	// been drained or unloaded.
	ErrNotReady = errors.New("modelstore: not ready")
	// ErrManifest is wrapped by ParseManifest when a manifest is malformed
	// or lacks a required field.
	ErrManifest = errors.New("modelstore: invalid manifest")
	// ErrChecksum is wrapped by the loader when model.onnx does not match
	// the sha256 its manifest records.
	ErrChecksum = errors.New("modelstore: checksum mismatch")
	// ErrSignature is wrapped by the loader when the signature a manifest
	// records disagrees with the model's own.
	ErrSignature = errors.New("modelstore: signature mismatch")
	// ErrPolicy is wrapped when a model's policy.yaml cannot be read or
	// holds an invalid setting. The last good policy stays in force; a
	// model that never had one cannot load its versions.
	ErrPolicy = errors.New("modelstore: invalid policy.yaml")
	// ErrSchema is wrapped by ParseSchema when a schema file cannot be
	// read, and by Schema.Check, Publish and the loader when a records
	// schema is invalid or does not fit its model.
	ErrSchema = errors.New("modelstore: invalid feature schema")
	// ErrName is wrapped by Publish when a model name cannot be a URL path
	// segment.
	ErrName = errors.New("modelstore: invalid model name")
	// ErrRegistryWrite is wrapped, with the filesystem's error, by Publish,
	// Stage and Commit when the registry cannot be written (a full disk, a
	// read-only or failing filesystem, a permission): the model itself was
	// not refused, and the same publish may succeed later.
	ErrRegistryWrite = errors.New("modelstore: registry not writable")
	// ErrConfig is wrapped by Open when its Config is invalid: no
	// registry directory, a negative memory budget.
	ErrConfig = errors.New("modelstore: invalid config")
	// ErrClosed is returned by Rescan, Load and Unload once the Store is
	// closed.
	ErrClosed = errors.New("modelstore: store closed")
)

// settingError is a policy.yaml setting that cannot be decoded, with
// where it is.
type settingError struct {
	path string // the block and key, such as "rollout: shadow: then"
	line int
	err  error
}

// Error reads "rollout: steps: line 3: want a list of weights ...".
func (e *settingError) Error() string { return fmt.Sprintf("%s: line %d: %v", e.path, e.line, e.err) }

// Unwrap returns the cause.
func (e *settingError) Unwrap() error { return e.err }
