package tracking

import (
	"context"
	"encoding/json"
	"errors"
	"testing"
)

func TestVerdicts(t *testing.T) {
	ctx := context.Background()
	s := openTest(t)
	fail := Verdict{Model: "fraud", Version: 4, Pass: false, Reason: "auc of version 4 is 0.7, below min 0.8.",
		Detail: json.RawMessage(`{"pass": false, "candidate": "version 4", "reasons": ["auc of version 4 is 0.7, below min 0.8."]}`)}
	pass := Verdict{Model: "fraud", Version: 5, Pass: true, Reason: "passed.", Detail: json.RawMessage(`{"pass": true}`)}
	other := Verdict{Model: "churn", Version: 1, Pass: true, Reason: "passed.", Detail: json.RawMessage(`{"pass": true}`)}
	for _, v := range []Verdict{fail, pass, other} {
		if err := s.RecordVerdict(ctx, v); err != nil {
			t.Fatal(err)
		}
	}
	got, err := s.Verdicts(ctx, VerdictQuery{Model: "fraud"})
	if err != nil || len(got) != 2 || got[0].Version != 5 || !got[0].Pass || got[1].Version != 4 || got[1].Pass || got[1].Time.IsZero() {
		t.Fatalf("Verdicts(fraud) = %+v, %v; want 5 (pass) then 4 (fail)", got, err)
	}
	var detail map[string]any
	if err := json.Unmarshal(got[1].Detail, &detail); err != nil || detail["candidate"] != "version 4" {
		t.Fatalf("detail = %s, %v", got[1].Detail, err)
	}
	if got, _ := s.Verdicts(ctx, VerdictQuery{Model: "fraud", Version: 4}); len(got) != 1 || got[0].Reason != fail.Reason {
		t.Fatalf("Verdicts(fraud, 4) = %+v", got)
	}
	if got, _ := s.Verdicts(ctx, VerdictQuery{Limit: 1}); len(got) != 1 || got[0].Model != "churn" {
		t.Fatalf("Verdicts(limit 1) = %+v; want the newest", got)
	}

	// Each verdict is in the audit trail, by the gate.
	log, err := s.AuditLog(ctx, AuditQuery{Model: "fraud"})
	if err != nil || len(log) != 2 || log[1].Actor != "gate" || log[1].Action != "gate_fail" || log[0].Action != "gate_pass" ||
		log[1].Reason != fail.Reason || len(log[1].Versions) != 1 || log[1].Versions[0] != 4 || log[1].Details["candidate"] != "version 4" {
		t.Fatalf("audit = %+v, %v", log, err)
	}

	// Bad verdicts are refused and leave nothing behind.
	for _, v := range []Verdict{
		{Version: 1, Detail: json.RawMessage(`{}`)},
		{Model: "fraud", Detail: json.RawMessage(`{}`)},
		{Model: "fraud", Version: 1, Detail: json.RawMessage(`[1]`)},
		{Model: "fraud", Version: 1, Detail: json.RawMessage(`{`)},
	} {
		if err := s.RecordVerdict(ctx, v); !errors.Is(err, ErrInvalid) {
			t.Errorf("RecordVerdict(%+v) = %v; want ErrInvalid", v, err)
		}
	}
	if got, _ := s.Verdicts(ctx, VerdictQuery{}); len(got) != 3 {
		t.Fatalf("after refusals, %d verdicts; want 3", len(got))
	}
	if log, _ := s.AuditLog(ctx, AuditQuery{}); len(log) != 3 {
		t.Fatalf("after refusals, %d audit entries; want 3", len(log))
	}
}
