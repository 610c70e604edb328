package bench

import (
	"bufio"
	"cmp"
	"fmt"
	"io"
	"time"
)

// RoundsReport is what every report of an A/B scenario holds: the
// machine, the configuration, each round's ratio of the variant's
// requests per second over the baseline's, their median and the goals.
// Each scenario's report embeds it, so its fields sit at the top of the
// report's JSON. It is a plain value.
type RoundsReport struct {
	// Machine says when and where the report was made.
	Machine
	// Rounds, Duration, Warmup and Connections repeat the configuration
	// after defaults.
	Rounds      int           `json:"rounds"`
	Duration    time.Duration `json:"duration_ns"`
	Warmup      time.Duration `json:"warmup_ns"`
	Connections int           `json:"connections"`
	// RoundRatios holds each round's requests per second in the variant
	// phase over those in the baseline phase; 0 for a round with no
	// successful request in a phase. Ratio is their median (the lower
	// middle one for an even count), over the rounds that have one.
	RoundRatios []float64 `json:"round_ratios"`
	Ratio       float64   `json:"ratio"`
	// Failed counts the requests of every phase that got no 200, and what
	// else the scenario counts as failed.
	Failed int64 `json:"failed"`
	// Goals are the scenario's targets, judged.
	Goals []Goal `json:"goals"`
}

// report starts the report of a run configured by c, whose defaults are
// set.
func (c *RoundsConfig) report() RoundsReport {
	return RoundsReport{Machine: thisMachine(), Rounds: c.Rounds, Duration: c.Duration, Warmup: max(c.Warmup, 0),
		Connections: c.Connections}
}

// judgeRounds fills in r's ratios of requests per second from phases and
// adds their failed requests to Failed.
func judgeRounds[P roundPhaser](r *RoundsReport, phases []P) {
	r.RoundRatios, r.Ratio = roundRatios(phases, requestsPerSec)
	for _, p := range phases {
		r.Failed += p.roundPhase().Result.Errors
	}
}

// roundsText is what the text report of an A/B scenario says beyond the
// part that writeRounds prints alike for every one.
type roundsText struct {
	// flag names the scenario in the first line, such as
	// "--records-cost"; intro follows, lines that describe the scenario.
	flag  string
	intro string
	// column heads the column of labels, width wide; labels are the
	// baseline's and the variant's. count heads the column of requests
	// sent; empty means "requests".
	column string
	width  int
	labels [2]string
	count  string
	// more heads the further columns of the variant's rows, whose values
	// row gives for phase i. Nil means the round's ratio alone, under the
	// heading " %10s" of more.
	more string
	row  func(i int) string
	// median ends the median line, under the further columns; empty means
	// the median ratio alone.
	median string
	// notes follow the table: the legend of its columns and what else the
	// scenario reports.
	notes string
	// failed says what a WARNING line about failed requests says after
	// their count; empty means "requests failed: the ratio measures...".
	failed string
	// goal heads the goals, goalWidth wide; empty and 0 mean "goal", 60.
	goal      string
	goalWidth int
}

// writeRounds writes r, whose phases are phases, as t says: a header, a
// row per phase with the variant's ratios, the medians, the notes,
// failed requests and the goals judged.
func writeRounds[P roundPhaser](w io.Writer, r *RoundsReport, phases []P, t *roundsText) error {
	bw := bufio.NewWriter(w)
	fmt.Fprintf(bw, "switchyard bench %s: %s\n%s\n", t.flag, r.Machine, t.intro)
	more, row := t.more, t.row
	if row == nil {
		more = fmt.Sprintf(" %10s", t.more)
		row = func(i int) string { return fmt.Sprintf(" %10s", formatFloatOrNA(r.RoundRatios[i/2])) }
	}
	fmt.Fprintf(bw, "%-5s %-*s %9s %9s %9s %9s %7s%s\n", "round", t.width, t.column, cmp.Or(t.count, "requests"), "req/s", "p50", "p99", "errors", more)
	for i, p := range phases {
		rp, label, more := p.roundPhase(), t.labels[0], ""
		if i%2 == 1 && i/2 < len(r.RoundRatios) {
			label, more = t.labels[1], row(i)
		}
		res := rp.Result
		fmt.Fprintf(bw, "%-5d %-*s %9d %9.0f %9s %9s %7d%s\n", rp.Round, t.width, label, res.Requests, res.RequestsPerSec,
			formatDuration(res.Latency.P50), formatDuration(res.Latency.P99), res.Errors, more)
	}
	median := t.median
	if median == "" {
		median = fmt.Sprintf(" %10s", formatFloatOrNA(r.Ratio))
	}
	fmt.Fprintf(bw, "%-5s %-*s %47s%s\n%s", "", t.width, "median", "", median, t.notes)
	if r.Failed > 0 {
		failed := t.failed
		if failed == "" {
			failed = "requests failed: the ratio measures a server that did not answer them all"
		}
		fmt.Fprintf(bw, "WARNING: %d %s\n", r.Failed, failed)
	}
	fmt.Fprintln(bw)
	writeGoals(bw, t.goal, t.goalWidth, r.Goals)
	return bw.Flush()
}

// writeGoals writes goals as a table headed by head ("goal" if empty),
// width wide (60 if 0), each judged PASS or MISS.
func writeGoals(bw *bufio.Writer, head string, width int, goals []Goal) {
	head, width = cmp.Or(head, "goal"), cmp.Or(width, 60)
	fmt.Fprintf(bw, "%-*s %9s %10s %6s\n", width, head, "value", "target", "result")
	for _, g := range goals {
		verdict := "MISS"
		if g.Pass {
			verdict = "PASS"
		}
		value := formatFloat(g.Value) + g.Unit
		if g.Missing {
			value = "n/a"
		}
		fmt.Fprintf(bw, "%-*s %9s %10s %6s\n", width, g.Name, value, g.Op+" "+formatFloat(g.Target)+g.Unit, verdict)
	}
}
