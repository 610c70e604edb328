package lead

import "errors"

var (
	// ErrNotLeader is returned by Claim when this replica does not hold
	// the role.
	ErrNotLeader = errors.New("lead: not the leader")
	// ErrFenced is wrapped by Claim when the group has moved to a later
	// term than the one this replica took: another replica leads, and
	// this one has stepped down.
	ErrFenced = errors.New("lead: fenced by a later term")
)
