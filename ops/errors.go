package ops

import "errors"

var (
	// ErrNotAudited is wrapped, with the audit trail's own error, when a
	// change was made (what it returns beside the error is in force) but
	// its audit entry could not be written. Callers decide whether that
	// fails their request: the operations API logs it and answers, the
	// CLI reports it.
	ErrNotAudited = errors.New("ops: change applied but not audited")
	// ErrRejected is wrapped by Publish when the registry refuses the
	// model itself: it does not load, its schema does not fit, its
	// declared tensors pass the engine's size limit, the name is not a
	// model name. Nothing was written or recorded. A registry that cannot
	// be written is not a rejection: that error wraps
	// modelstore.ErrRegistryWrite.
	ErrRejected = errors.New("ops: model rejected")
	// ErrProfileExists is returned by WriteProfile when the version
	// already has a profile.json and replacing it was not asked for.
	ErrProfileExists = errors.New("ops: the version already has a profile")
	// ErrExportColumns is wrapped by Export when a CSV export would hold
	// versions whose input columns differ, which one header cannot name;
	// nothing was written.
	ErrExportColumns = errors.New("ops: versions with different columns in one CSV")
)
