package modelstore

// State is where a version is in its lifecycle.
//
// A version moves Loading -> Gating -> Ready, or ends in Failed with its
// reason, and leaves service through Draining -> Unloaded. A version that
// is on disk but not loaded (an old one beyond keep_previous) is Unloaded
// too. Only the Store's reconciler changes a version's state.
type State int32

// The states of a version.
const (
	// Unloaded: not in memory. Either never loaded or drained and closed.
	Unloaded State = iota
	// Loading: its session is being opened and warmed up.
	Loading
	// Gating: loaded, and being judged by the gate before it may serve.
	Gating
	// Ready: may serve requests.
	Ready
	// Failed: could not load or did not pass its gate; Reason says why.
	// It is not tried again until a load is asked for explicitly.
	Failed
	// Draining: leaving service; requests that hold it finish, no new
	// request may take it, then it is closed and Unloaded.
	Draining
)

var stateNames = [...]string{
	Unloaded: "UNLOADED",
	Loading:  "LOADING",
	Gating:   "GATING",
	Ready:    "READY",
	Failed:   "FAILED",
	Draining: "DRAINING",
}

// States lists every state, in declaration order.
var States = [...]State{Unloaded, Loading, Gating, Ready, Failed, Draining}

// String returns the state's name in upper case, as the repository API
// reports it.
func (s State) String() string {
	if s >= 0 && int(s) < len(stateNames) {
		return stateNames[s]
	}
	return "UNKNOWN"
}

// loaded reports whether a version in state s holds a session.
func (s State) loaded() bool { return s == Loading || s == Gating || s == Ready || s == Draining }
