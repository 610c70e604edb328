// Package admin serves switchyard's operations API under /admin: each
// model's versions with their state, traffic share, gate verdict and
// lineage; promote, rollback, pause and resume; the audit trail; and the
// training runs.
//
// It translates: it decodes a request, calls the live models (Models) or
// the tracking store (Store), both interfaces it declares, and encodes the
// answer with encoding/json (nothing here is on the inference path). With
// Config.Token set, every request needs Authorization: Bearer TOKEN.
// Package server compiles the table that API returns, one line per
// endpoint, into its router.
//
// A Server is safe for concurrent use; each request runs on fasthttp's
// goroutine, its store queries bounded by a timeout.
//
//	ad := admin.New(admin.Config{Models: store, Store: tr, Token: token})
//	router, err := httpapi.NewRouter(rootAPI, ad.API())
package admin
