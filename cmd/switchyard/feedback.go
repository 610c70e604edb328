package main

import (
	"bytes"
	"cmp"
	"context"
	"encoding/csv"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"net/http"
	"net/url"
	"os"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"
)

// feedbackBatch is how many labels one POST /v1/feedback carries by
// default; maxFeedbackBatch bounds --batch (the server's bound,
// tracking.MaxFeedbackBatch).
const (
	feedbackBatch    = 1000
	maxFeedbackBatch = 10000
)

// feedbackShown is how many refused labels the summary lists.
const feedbackShown = 5

// runFeedback sends the labels of a CSV file (prediction_id,label) to a
// running server's POST /v1/feedback in batches, reading the file as it
// goes, and prints what became of them. A label that parses as a finite
// number is sent as a number (a class index, a regressor's value), any
// other as a string (a class name); surrounding spaces are trimmed. A
// malformed line stops it: the batches sent before stay sent, and the
// error says up to which line. Exit status 1 when a label was refused (a
// conflict, an unknown id) or a request failed.
func runFeedback(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlagSet("feedback", "--file labels.csv|- [--server URL] [--token TOKEN] [--batch 1000]", stderr)
	file := fs.String("file", "", "a CSV `FILE` with the header prediction_id,label; - reads standard input")
	server := fs.String("server", "http://localhost:8080", "`URL` of the running switchyard that logged the predictions")
	token := fs.String("token", cmp.Or(os.Getenv("SWITCHYARD_TOKEN"), os.Getenv(envAdminToken)), "bearer token with the write class, when access control is on (default $SWITCHYARD_TOKEN, else $SWITCHYARD_ADMIN_TOKEN)")
	batch := fs.Int("batch", feedbackBatch, "labels per request")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if *file == "" {
		return usageError(fs, "--file is required: a CSV with the header prediction_id,label, or - for standard input")
	}
	if *batch < 1 || *batch > maxFeedbackBatch {
		return usageError(fs, "--batch %d: want 1 to %d", *batch, maxFeedbackBatch)
	}
	base := strings.TrimRight(*server, "/")
	if !strings.Contains(base, "://") {
		base = "http://" + base
	}
	if _, err := url.Parse(base); err != nil {
		return usageError(fs, "--server: %v", err)
	}
	in, name := io.Reader(os.Stdin), "standard input"
	if *file != "-" {
		f, err := os.Open(*file)
		if err != nil {
			return fmt.Errorf("--file: %w", err)
		}
		defer f.Close()
		in, name = f, *file
	}
	s := &feedbackSender{base: base, token: *token, client: &http.Client{Timeout: 60 * time.Second}}
	err := s.send(ctx, in, name, *batch)
	s.print(stdout)
	switch {
	case err != nil:
		return err
	case s.tally.sent == 0:
		return fmt.Errorf("%s: no labels after the header", name)
	case s.tally.conflict+s.tally.unknown > 0:
		return errFailed
	}
	return nil
}

// feedbackItem is one label as POST /v1/feedback takes it.
type feedbackItem struct {
	PredictionID string          `json:"prediction_id"`
	Label        json.RawMessage `json:"label"`
}

// feedbackTally counts what became of the labels sent.
type feedbackTally struct {
	sent, requests                         int
	accepted, duplicate, conflict, unknown int
	// lastLine is the file's last line whose label was sent.
	lastLine int
	// refused are the first feedbackShown refused labels.
	refused []feedbackRefusal
}

// feedbackRefusal is a refused label and why.
type feedbackRefusal struct {
	id, status, message string
}

// feedbackSender posts labels to one server and tallies the answers.
type feedbackSender struct {
	base, token string
	client      *http.Client
	tally       feedbackTally
}

// send reads the CSV from in (named name in errors) and posts its labels
// in batches of size. It stops at the first malformed line, sending
// nothing read from the batch it was in, or at the first failed request.
func (s *feedbackSender) send(ctx context.Context, in io.Reader, name string, size int) error {
	r := csv.NewReader(in)
	r.ReuseRecord = true
	header, err := r.Read()
	if errors.Is(err, io.EOF) {
		return fmt.Errorf("%s is empty: want the header prediction_id,label", name)
	}
	if err != nil {
		return fmt.Errorf("%s: %w", name, err)
	}
	idCol, labelCol := -1, -1
	for i, h := range header {
		switch strings.TrimSpace(strings.TrimPrefix(h, "\ufeff")) {
		case "prediction_id":
			idCol = i
		case "label":
			labelCol = i
		}
	}
	if len(header) != 2 || idCol < 0 || labelCol < 0 {
		return fmt.Errorf("%s:1: header %q: want the two columns prediction_id,label; nothing was sent", name, strings.Join(header, ","))
	}
	items := make([]feedbackItem, 0, size)
	lastLine := 0
	for {
		rec, err := r.Read()
		if errors.Is(err, io.EOF) {
			break
		}
		var line int
		if err == nil {
			line, _ = r.FieldPos(0)
			err = feedbackLabel(rec[idCol], rec[labelCol], &items)
		} else if pe, ok := err.(*csv.ParseError); ok {
			line, err = pe.Line, pe.Err
		}
		if err != nil {
			return fmt.Errorf("%s:%d: %w; %s", name, line, err, s.sentSoFar())
		}
		lastLine = line
		if len(items) == size {
			if err := s.post(ctx, items, lastLine); err != nil {
				return err
			}
			items = items[:0]
		}
	}
	if len(items) > 0 {
		return s.post(ctx, items, lastLine)
	}
	return nil
}

// feedbackLabel appends the label of one line to items, or says what is
// wrong with it.
func feedbackLabel(id, label string, items *[]feedbackItem) error {
	id, label = strings.TrimSpace(id), strings.TrimSpace(label)
	switch {
	case id == "":
		return errors.New("empty prediction_id")
	case label == "":
		return fmt.Errorf("prediction %s: empty label", id)
	}
	var raw []byte
	if x, err := strconv.ParseFloat(label, 64); err == nil && !math.IsInf(x, 0) && !math.IsNaN(x) {
		raw = strconv.AppendFloat(nil, x, 'g', -1, 64)
	} else {
		raw, _ = json.Marshal(label) // a string always encodes
	}
	*items = append(*items, feedbackItem{PredictionID: id, Label: raw})
	return nil
}

// sentSoFar says what was sent before a malformed line stopped send.
func (s *feedbackSender) sentSoFar() string {
	if s.tally.sent == 0 {
		return "nothing was sent"
	}
	return fmt.Sprintf("the %d labels up to line %d were sent, nothing after it", s.tally.sent, s.tally.lastLine)
}

// post sends one batch, whose last line in the file is lastLine, and
// tallies the answer.
func (s *feedbackSender) post(ctx context.Context, items []feedbackItem, lastLine int) error {
	body, err := json.Marshal(items)
	if err != nil {
		return fmt.Errorf("feedback: %w", err)
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, s.base+"/v1/feedback", bytes.NewReader(body))
	if err != nil {
		return fmt.Errorf("feedback: %w", err)
	}
	req.Header.Set("Content-Type", "application/json")
	if s.token != "" {
		req.Header.Set("Authorization", "Bearer "+s.token)
	}
	failed := func(err error) error {
		return fmt.Errorf("POST %s/v1/feedback (the batch ending at line %d): %w; %s", s.base, lastLine, err, s.sentSoFar())
	}
	resp, err := s.client.Do(req)
	if err != nil {
		return failed(err)
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(io.LimitReader(resp.Body, 64<<20))
	if err != nil {
		return failed(err)
	}
	if resp.StatusCode != http.StatusOK && resp.StatusCode != http.StatusMultiStatus {
		var e struct{ Error string }
		if json.Unmarshal(raw, &e) != nil || e.Error == "" {
			e.Error = strings.TrimSpace(string(raw))
		}
		return failed(&remoteError{server: s.base, status: resp.StatusCode, msg: e.Error})
	}
	var ans struct {
		Results []struct {
			PredictionID string `json:"prediction_id"`
			Status       string `json:"status"`
			Message      string `json:"message"`
		} `json:"results"`
	}
	if err := json.Unmarshal(raw, &ans); err != nil {
		return failed(err)
	}
	if len(ans.Results) != len(items) {
		return failed(fmt.Errorf("the answer has %d results for %d labels", len(ans.Results), len(items)))
	}
	t := &s.tally
	t.requests++
	t.sent += len(items)
	t.lastLine = lastLine
	for _, r := range ans.Results {
		switch r.Status {
		case "accepted":
			t.accepted++
			continue
		case "duplicate":
			t.duplicate++
			continue
		case "conflict":
			t.conflict++
		default:
			t.unknown++
		}
		if len(t.refused) < feedbackShown {
			t.refused = append(t.refused, feedbackRefusal{r.PredictionID, r.Status, r.Message})
		}
	}
	return nil
}

// print writes the tally: the counts, then the first refused labels.
func (s *feedbackSender) print(w io.Writer) {
	t := &s.tally
	fmt.Fprintf(w, "sent %d labels in %d requests to %s: %d accepted, %d duplicate, %d conflict, %d unknown\n",
		t.sent, t.requests, s.base, t.accepted, t.duplicate, t.conflict, t.unknown)
	if len(t.refused) == 0 {
		return
	}
	fmt.Fprintf(w, "refused (the first %d of %d):\n", len(t.refused), t.conflict+t.unknown)
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	for _, r := range t.refused {
		fmt.Fprintf(tw, "  %s\t%s\t%s\n", r.id, r.status, oneLine(r.message))
	}
	tw.Flush()
}
