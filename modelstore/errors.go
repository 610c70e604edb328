package modelstore

import (
	"errors"
	"fmt"
	"strings"

	"github.com/switchyard-ml/switchyard/rollout"
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
	// ErrFileName is wrapped by Publish, Stage and ParseManifest when an
	// extra file of a version (PublishOptions.Files, Manifest.Files) has a
	// name it cannot have: empty, a path, or one of the version's own.
	ErrFileName = errors.New("modelstore: invalid version file name")
	// ErrRegistryWrite is wrapped, with the filesystem's error, by Publish,
	// Stage and Commit when the registry cannot be written (a full disk, a
	// read-only or failing filesystem, a permission): the model itself was
	// not refused, and the same publish may succeed later.
	ErrRegistryWrite = errors.New("modelstore: registry not writable")
	// ErrCard is wrapped by CheckCard, Publish and Stage when a card text
	// (PublishOptions.Card) is empty, too large or not UTF-8 text, and by
	// ReadCard when a version's card.md is not.
	ErrCard = errors.New("modelstore: invalid card text")
	// ErrConfig is wrapped by Open when its Config is invalid: no
	// registry directory, a negative memory budget.
	ErrConfig = errors.New("modelstore: invalid config")
	// ErrClosed is returned by Rescan, Load and Unload once the Store is
	// closed.
	ErrClosed = errors.New("modelstore: store closed")
)

// GateError is the refusal of a change that would route a version whose
// gate failed, with no override: PlanChange, Desire and Force return it.
// It is a rollout.ErrState (errors.Is), so callers that branch on a
// refused change need not know it; its text tells the person what to do.
type GateError struct {
	// Version is the version that failed its gate.
	Version int
	// Reason is the verdict's reason, as the gate wrote it.
	Reason string
}

// Error reads "version 2 failed its gate: auc 0.4 < 0.8; to route it
// anyway, promote it with --force and a reason".
func (e *GateError) Error() string {
	reason := strings.TrimSuffix(strings.TrimSpace(e.Reason), ".")
	if reason == "" {
		reason = "no reason recorded"
	}
	return fmt.Sprintf("version %d failed its gate: %s; to route it anyway, promote it with --force "+
		"(\"force\": true over HTTP) and a reason", e.Version, reason)
}

// Is reports whether target is rollout.ErrState.
func (e *GateError) Is(target error) bool { return target == rollout.ErrState }

// notReadyError is an ErrNotReady whose text is a whole sentence for
// the person who sent the request, such as "model "m" has no version
// ready to serve: version 2 failed: ...", with no sentinel text after it.
type notReadyError struct{ msg string }

func (e *notReadyError) Error() string { return e.msg }

// Is reports whether target is ErrNotReady.
func (e *notReadyError) Is(target error) bool { return target == ErrNotReady }

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
