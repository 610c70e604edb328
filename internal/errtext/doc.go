// Package errtext turns an error into the text a user reads: an HTTP
// answer's "error", the CLI's last line. Switchyard's sentinel errors
// start with their package's name ("modelstore: not ready"), which helps
// a log reader and a test but means nothing to the person who typed the
// command; Text drops that prefix, wherever the sentinel sits in the
// chain, and leaves every other word alone.
//
// The package holds no state and is safe for concurrent use.
//
//	httpapi.AppendErrorJSON(dst, errtext.Text(err))
package errtext
