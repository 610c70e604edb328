// Package card generates model cards: per version, what the model is,
// how it performed, what it was trained on, who published it and why, and
// how it has been rolled out, from the records switchyard keeps of it and
// never from hand-written copies that drift.
//
// Gather reads a version's card from the sources that own each part: the
// version's directory (its manifest: signature, feature schema, classes,
// lineage, creator and note; its card.md, the text its publisher wrote,
// checked against the sha256 the manifest records; its model.onnx, whose
// graph engine.ReadGraph reads for the producer and operators), and,
// through the small interfaces it declares, the tracking store (the
// gate's verdicts, the run behind the version with its params and data,
// the audit trail) and a running server's verdicts in memory. A source
// that is absent or fails leaves its section empty and says why in
// Card.Missing: a card always renders.
//
// A Card marshals to JSON with stable field names (the ModelCard schema
// of the server's /openapi.json) and renders as markdown
// (AppendMarkdown). Package server serves both at
// GET /v1/models/{m}/versions/{v}/card; switchyard card prints them from
// a registry or a running server.
//
// Concurrency: Gather keeps no state; it may be called from many
// goroutines if its Sources may.
//
// Usage, as switchyard card does on a registry:
//
//	c, err := card.Gather(ctx, card.Sources{Store: st}, "fraud", 2, modelstore.VersionDir("registry", "fraud", 2))
//	if err != nil {
//		return err // wraps modelstore.ErrNotFound for a version that does not exist
//	}
//	os.Stdout.Write(c.AppendMarkdown(nil))
package card
