// Package modelstore owns the registry directory: its layout, the manifests
// of model versions, publishing new versions atomically, and loading every
// complete version into an engine.Session.
//
// The registry layout is the contract with training pipelines:
//
//	registry/
//	  fraud/              a model; the name is its URL path segment
//	    1/                a version: a positive integer, immutable once complete
//	      model.onnx
//	      manifest.json   written last; a version without it does not exist
//
// Publish writes a version into a temporary directory beside the versions
// and renames it into place, so a reader never sees half a version.
//
// A Store holds what is loaded. Readers (the request path) call Lookup,
// which reads an immutable snapshot through an atomic pointer and takes no
// lock. Loads and unloads are serialised by the Store and publish a new
// snapshot when they finish. A version that fails to load keeps its error
// and is never served; it does not stop the others.
//
// Usage:
//
//	st, err := modelstore.Open(ctx, modelstore.Config{Dir: "registry"})
//	if err != nil { ... }
//	defer st.Close()
//	v, err := st.Lookup("fraud", 0) // 0: the version that serves the model
package modelstore
