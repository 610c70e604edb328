// Package drift watches a serving version's inputs and scores for drift
// away from the data it was trained on, with the statistical tests and
// defaults of Evidently (evidentlyai/evidently, calculations/stattests).
//
// A version's reference is its Profile, profile.json (ProfileFile) in its
// directory: BuildProfile summarises the training data (or the eval set)
// column by column, ParseProfile reads it back and refuses anything
// inconsistent, naming the column and the fault. A numeric column keeps
// its count, mean, sample std, min, max, distinct count and a sorted
// uniform sample of at most DefaultSampleRows rows drawn with a fixed
// seed; a categorical one the count of each value.
//
// Compare judges one column of live data against its reference and
// returns a Result; DatasetDrift turns a version's results into the share
// of drifted columns. The test is Evidently's default for the data
// (get_default_stattest), or an Override's:
//
//	reference rows  column                 test           drift when
//	<= 1000         numeric, > 5 values    ks             p <= 0.05
//	<= 1000         otherwise, > 2 values  chisquare      p < 0.05
//	<= 1000         otherwise              z              p < 0.05
//	> 1000          numeric, > 5 values    wasserstein    >= 0.1
//	> 1000          otherwise              jensenshannon  >= 0.1
//	on request      any                    psi            >= 0.1
//
// Values are counted over reference and current together. The tests give
// scipy's numbers (testdata/golden.json, from scripts/drift/golden.py):
// ks_2samp with its default method, chisquare on Evidently's table (the
// current counts against the reference counts scaled to the current
// total), Evidently's two-proportion Z-test, wasserstein_distance divided
// by the reference std (ddof=0, at least 0.001), jensenshannon in natural
// logarithms over Evidently's cells (values, or for a numeric column with
// more than 20 reference values numpy's "sturges" bins over both samples;
// empty cells kept), and PSI over the reference's deciles (values for a
// categorical column) with Evidently's fill for empty cells.
//
// Everything here is a pure function of its arguments, safe for
// concurrent use; none of it blocks or does I/O.
package drift
