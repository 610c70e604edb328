package rollout

// Stable returns the version that takes all of a model's traffic given
// its ready versions, ascending: the newest, or 0 when none is ready.
// Until rollouts exist, a version that becomes ready replaces the stable
// one at once, and the one it replaced stays loaded for rollback (the
// caller's keep_previous).
func Stable(ready []int) int {
	if len(ready) == 0 {
		return 0
	}
	return ready[len(ready)-1]
}
