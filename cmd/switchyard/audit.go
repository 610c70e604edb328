package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"
	"unicode/utf8"
)

func runAudit(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlagSet("audit", "[MODEL] [--since DURATION] [--limit N] [--server URL | --registry DIR [--data-dir DIR]]", stderr)
	var o opsFlags
	o.register(fs)
	since := fs.String("since", "", "only entries newer than this `DURATION` back from now (24h), or this RFC 3339 time")
	limit := fs.Int("limit", 100, "most entries shown, newest first")
	asJSON := fs.Bool("json", false, "print the entries as JSON, every field in full, instead of a table")
	pos, err := parseInterspersed(fs, args)
	if err != nil {
		return err
	}
	if len(pos) > 1 {
		return usageError(fs, "audit takes at most one MODEL, not %q", pos)
	}
	if *limit <= 0 {
		return usageError(fs, "--limit %d is not positive", *limit)
	}
	if *since != "" {
		if _, err := parseSince(*since, time.Now()); err != nil {
			return usageError(fs, "%v", err)
		}
	}
	model := ""
	if len(pos) == 1 {
		model = pos[0]
	}
	src, err := o.open(ctx)
	if err != nil {
		return err
	}
	defer src.Close()
	entries, err := src.Audit(ctx, model, *since, *limit)
	if err != nil {
		return err
	}
	if *asJSON {
		enc := json.NewEncoder(stdout)
		enc.SetIndent("", "  ")
		return enc.Encode(struct {
			Entries []entryView `json:"entries"`
		}{entries})
	}
	if printAudit(stdout, entries) {
		fmt.Fprintln(stderr, "(… marks a reason or details cut to fit; --json prints every entry in full)")
	}
	return nil
}

// Widths of the audit table's free-text columns, in characters; a longer
// text is cut with "…" (--json prints it whole).
const (
	auditReasonWidth  = 80
	auditDetailsWidth = 60
)

// printAudit writes audit entries as a table, one line each, details as
// JSON with sorted keys. Reasons and details longer than their column are
// cut with "…"; it reports whether it cut any.
func printAudit(w io.Writer, entries []entryView) (cut bool) {
	clip := func(s string, width int) string {
		s = strings.Join(strings.Fields(s), " ") // one line, whatever the text holds
		if utf8.RuneCountInString(s) <= width {
			return s
		}
		cut = true
		r := []rune(s)
		return string(r[:width-1]) + "…"
	}
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "TIME\tACTOR\tACTION\tMODEL\tVERSIONS\tREASON\tDETAILS")
	for _, e := range entries {
		versions := make([]string, len(e.Versions))
		for i, v := range e.Versions {
			versions[i] = strconv.Itoa(v)
		}
		details := "-"
		if len(e.Details) > 0 {
			b, _ := json.Marshal(e.Details)
			details = string(b)
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%s\n", e.Time.UTC().Format("2006-01-02T15:04:05.000Z07:00"), e.Actor, e.Action, e.Model,
			orDash(strings.Join(versions, ",")), orDash(clip(e.Reason, auditReasonWidth)), clip(details, auditDetailsWidth))
	}
	tw.Flush()
	return cut
}
