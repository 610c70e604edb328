// Package suggest finds the name a user most likely meant when they typed
// one that does not exist: a field of policy.yaml, of a schema file, of a
// records API request, a column of an eval set. Every "did you mean" in
// switchyard comes from here, so they all judge closeness the same way.
//
// The package holds no state and is safe for concurrent use.
//
//	return fmt.Errorf("unknown field %q%s", name, suggest.Hint(name, known))
package suggest
