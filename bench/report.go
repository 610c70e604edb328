package bench

import (
	"bufio"
	"fmt"
	"io"
	"maps"
	"slices"
	"strconv"
	"strings"
	"time"
)

// WriteText writes r as a fixed-width block for people to read.
func (r *Result) WriteText(w io.Writer) error {
	bw := bufio.NewWriter(w)
	mode := fmt.Sprintf("closed loop, %d connections", r.Connections)
	if r.Mode == "open" {
		mode = fmt.Sprintf("open loop at %.0f req/s, %d connections", r.Rate, r.Connections)
	}
	fmt.Fprintf(bw, "%-12s %s\n", "url", r.URL)
	fmt.Fprintf(bw, "%-12s %s\n", "mode", mode)
	fmt.Fprintf(bw, "%-12s %d in %.2f s: %d ok, %d errors%s\n", "requests", r.Requests, r.Seconds, r.OK, r.Errors, r.errorDetail())
	if r.Unsent > 0 {
		fmt.Fprintf(bw, "%-12s %d due but never sent: the connections could not keep up with the rate\n", "unsent", r.Unsent)
	}
	fmt.Fprintf(bw, "%-12s %.1f req/s, %.1f rows/s (%d rows per request)\n", "throughput", r.RequestsPerSec, r.RowsPerSec, r.RowsPerRequest)
	l := &r.Latency
	fmt.Fprintf(bw, "%-12s %9s %9s %9s %9s %9s %9s\n", "latency", "p50", "p90", "p99", "p99.9", "max", "mean")
	fmt.Fprintf(bw, "%-12s %9s %9s %9s %9s %9s %9s\n", "", formatDuration(l.P50), formatDuration(l.P90),
		formatDuration(l.P99), formatDuration(l.P999), formatDuration(l.Max), formatDuration(l.Mean))
	if d := r.SendDelay; d != nil {
		fmt.Fprintf(bw, "%-12s %9s %9s %9s %9s %9s %9s  (due to sent, included above)\n", "send delay", formatDuration(d.P50),
			formatDuration(d.P90), formatDuration(d.P99), formatDuration(d.P999), formatDuration(d.Max), formatDuration(d.Mean))
	}
	if r.FirstError != "" {
		fmt.Fprintf(bw, "%-12s %s\n", "first error", r.FirstError)
	}
	return bw.Flush()
}

// errorDetail lists the errors by status, such as " (503: 12, transport: 1)".
func (r *Result) errorDetail() string {
	var parts []string
	for _, s := range slices.Sorted(maps.Keys(r.Status)) {
		if s != 200 {
			parts = append(parts, fmt.Sprintf("%d: %d", s, r.Status[s]))
		}
	}
	if r.TransportErrors > 0 {
		parts = append(parts, fmt.Sprintf("transport: %d", r.TransportErrors))
	}
	if len(parts) == 0 {
		return ""
	}
	return " (" + strings.Join(parts, ", ") + ")"
}

// WriteText writes the report as fixed-width tables for people to read:
// the load phases, onnxruntime in-process, the goals and the ratios.
func (r *Report) WriteText(w io.Writer) error {
	bw := bufio.NewWriter(w)
	fmt.Fprintf(bw, "switchyard bench --compare: %s\n", r.Machine)
	fmt.Fprintf(bw, "load phases of %v after %v warm-up; in-process %v per batch size", r.Duration, r.Warmup, r.BatchDuration)
	if r.Rounds > 1 {
		fmt.Fprintf(bw, "; every figure is the median of %d rounds", r.Rounds)
	}
	fmt.Fprintf(bw, "\n\n")

	fmt.Fprintf(bw, "%-36s %5s %4s %10s %10s %9s %9s %7s %7s %7s  %s\n", "load", "conns", "rows", "req/s", "rows/s",
		"p50", "p99", "errors", "cli cpu", "srv cpu", roundsHeader(r.Rounds))
	for i := range r.Phases {
		p := &r.Phases[i]
		res := p.Result
		fmt.Fprintf(bw, "%-36s %5d %4d %10.0f %10.0f %9s %9s %7d %7.2f %7.2f  %s\n", p.Label(), res.Connections, res.RowsPerRequest,
			res.RequestsPerSec, res.RowsPerSec, formatDuration(res.Latency.P50), formatDuration(res.Latency.P99), res.Errors,
			p.ClientCPU, p.ServerCPU, formatRounds(p.RoundRowsPerSec))
	}
	fmt.Fprintf(bw, "(rows: rows per request; binary: the binary tensor data extension, else JSON)\n")
	fmt.Fprintf(bw, "(cpu: cores used by the load generator and by the server; they share %d)\n", r.CPUs)

	for _, ip := range r.InProcess {
		fmt.Fprintf(bw, "\n%-32s %5s %10s %10s %9s\n",
			fmt.Sprintf("in-process %s, %d goroutines", ip.Model, ip.Concurrency), "batch", "runs", "rows/s", "mean run")
		if len(ip.RoundBest) > 1 {
			fmt.Fprintf(bw, "%-32s best rows/s by round: %s; the median round:\n", "", formatRounds(ip.RoundBest))
		}
		for _, b := range ip.Batches {
			best := ""
			if b.BatchSize == ip.Best.BatchSize {
				best = "  best"
			}
			fmt.Fprintf(bw, "%-32s %5d %10d %10.0f %9s%s\n", "", b.BatchSize, b.Runs, b.RowsPerSec, formatDuration(b.MeanRun), best)
		}
	}

	fmt.Fprintln(bw)
	writeGoals(bw, "", 0, r.Goals)

	fmt.Fprintf(bw, "\n%-60s %9s\n", "ratio (no target: where the time goes)", "value")
	for _, rt := range r.Ratios {
		value := formatFloat(rt.Value)
		if rt.Missing {
			value = "n/a"
		}
		fmt.Fprintf(bw, "%-60s %9s\n", rt.Name, value)
	}
	return bw.Flush()
}

// roundsHeader heads the column of figures by round, if there are several.
func roundsHeader(rounds int) string {
	if rounds > 1 {
		return "rows/s by round"
	}
	return ""
}

// formatRounds writes figures of every round, such as "66.2k 70.1k
// 58.3k", or nothing for a single round.
func formatRounds(v []float64) string {
	if len(v) < 2 {
		return ""
	}
	parts := make([]string, len(v))
	for i, x := range v {
		parts[i] = strconv.FormatFloat(x/1000, 'f', 1, 64) + "k"
	}
	return strings.Join(parts, " ")
}

// formatFloat writes v with two decimals, or none once it is large.
func formatFloat(v float64) string {
	if v >= 100 || v <= -100 {
		return strconv.FormatFloat(v, 'f', 0, 64)
	}
	return strconv.FormatFloat(v, 'f', 2, 64)
}

// formatDuration writes d with three or four significant digits in the
// unit that suits it, such as "85.3µs", "1.27ms" or "2.50s".
func formatDuration(d time.Duration) string {
	switch {
	case d == 0:
		return "0"
	case d < 10*time.Microsecond:
		return fmt.Sprintf("%.2fµs", float64(d)/float64(time.Microsecond))
	case d < time.Millisecond:
		return fmt.Sprintf("%.1fµs", float64(d)/float64(time.Microsecond))
	case d < 100*time.Millisecond:
		return fmt.Sprintf("%.2fms", float64(d)/float64(time.Millisecond))
	case d < time.Second:
		return fmt.Sprintf("%.1fms", float64(d)/float64(time.Millisecond))
	}
	return fmt.Sprintf("%.2fs", d.Seconds())
}
