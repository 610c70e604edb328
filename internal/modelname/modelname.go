// Package modelname holds the rule for model names, which the registry
// (modelstore) and the prediction log (tracking) both apply: the log
// keeps a directory per model, and tracking cannot import modelstore.
package modelname

// Valid reports whether name can be a model name: 1 to 64 characters
// from [A-Za-z0-9_.-], starting with a letter or digit, so that it is a safe
// URL path segment and directory name.
func Valid(name string) bool {
	if len(name) == 0 || len(name) > 64 {
		return false
	}
	for i := 0; i < len(name); i++ {
		c := name[i]
		switch {
		case c >= 'a' && c <= 'z', c >= 'A' && c <= 'Z', c >= '0' && c <= '9':
		case i > 0 && (c == '_' || c == '.' || c == '-'):
		default:
			return false
		}
	}
	return true
}
