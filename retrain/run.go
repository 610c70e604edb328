package retrain

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/switchyard-ml/switchyard/modelstore"
	"github.com/switchyard-ml/switchyard/ops"
)

// waitDelay is how long a run waits, once its command has exited or been
// killed, for the output pipes to close before it closes them itself.
const waitDelay = 5 * time.Second

// The results of a run, as switchyard_retrain_runs_total labels them.
const (
	resultSucceeded = "succeeded" // the command exited 0
	resultFailed    = "failed"    // the export failed, or the command could not start or exited non-zero
	resultTimeout   = "timeout"   // killed at the policy's timeout
	resultStopped   = "stopped"   // killed because the Runner stopped
)

// ending is the audit entry that ends a run: retrain_finished or
// retrain_failed.
type ending struct {
	action, reason string
	details        map[string]any
}

// execute is one run for t under policy p, started at start: the export,
// audited as retrain_started, then the command. It runs in its own
// goroutine and returns, once the command's process group is gone, the
// entry that ends the run, for its caller to audit once Run knows the run
// has ended.
func (r *Runner) execute(ctx context.Context, t Trigger, p *modelstore.RetrainPolicy, start time.Time) ending {
	path := r.exportPath(t.Model, start)
	opts := ops.ExportOptions{Model: t.Model, Since: start.Add(-r.cfg.Lookback), Labelled: true, Format: ops.ExportCSV}
	opts, sum, err := r.export(ctx, opts, t.Version, path)
	if err != nil {
		r.metrics.runs.WithLabelValues(resultFailed).Inc()
		r.log.Error("retrain: export failed; the command is not run", "trigger", t, "error", err)
		return ending{"retrain_failed", fmt.Sprintf("%s alarm: the export of the labelled predictions failed: %v", t.Reason, err),
			map[string]any{"reason": t.Reason, "stage": "export", "error": err.Error()}}
	}
	r.log.Info("retrain: started", "trigger", t, "export", path, "rows", sum.Rows, "command", p.Command)
	r.audit(ctx, t, "retrain_started", startedReason(t, sum.Rows), map[string]any{
		"reason": t.Reason, "message": t.Message, "export": path, "export_sha256": sum.SHA256, "rows": sum.Rows,
		"since": opts.Since.UTC(), "export_version": opts.Version, "command": p.Command, "timeout": p.Timeout.String(),
	})

	out := newTail(r.cfg.OutputLimit)
	began := time.Now()
	status, err := r.command(ctx, t, p, path, sum, out)
	took := time.Since(began)
	details := map[string]any{"reason": t.Reason, "duration": took.Round(time.Millisecond).String(),
		"output": out.String(), "output_truncated": out.Truncated(), "export_sha256": sum.SHA256}
	result := resultSucceeded
	switch {
	case err == nil && status == 0:
		r.metrics.runs.WithLabelValues(result).Inc()
		details["exit_status"] = 0
		r.log.Info("retrain: finished", "trigger", t, "duration", took)
		return ending{"retrain_finished", fmt.Sprintf("%s alarm: the retraining command exited 0 after %v", t.Reason, took.Round(time.Second)), details}
	case ctx.Err() != nil:
		result, err = resultStopped, errors.New("was killed: switchyard stopped")
	case errors.Is(err, context.DeadlineExceeded):
		result, err = resultTimeout, fmt.Errorf("was killed at the policy's timeout of %v", p.Timeout)
	case err == nil:
		result, err = resultFailed, fmt.Errorf("exited with status %d", status)
		details["exit_status"] = status
	default:
		result = resultFailed
	}
	details["error"], details["result"] = err.Error(), result
	r.metrics.runs.WithLabelValues(result).Inc()
	r.log.Error("retrain: failed", "trigger", t, "duration", took, "error", err)
	return ending{"retrain_failed", fmt.Sprintf("%s alarm: the retraining command %v", t.Reason, err), details}
}

// startedReason words a retrain_started entry.
func startedReason(t Trigger, rows int64) string {
	s := fmt.Sprintf("%s alarm on version %d: retraining on %d labelled predictions", t.Reason, t.Version, rows)
	if t.Message != "" {
		s += " (" + t.Message + ")"
	}
	return s
}

// export writes the labelled window of opts to path, creating its
// directory: every version's predictions, or, when versions differ in
// their input columns (one CSV cannot hold them), those of version, the
// one that alarmed. It returns the options it exported with.
func (r *Runner) export(ctx context.Context, opts ops.ExportOptions, version int, path string) (ops.ExportOptions, ops.ExportSummary, error) {
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return opts, ops.ExportSummary{}, fmt.Errorf("retrain: %w", err)
	}
	sum, err := ops.ExportFile(ctx, r.cfg.Log, r.cfg.Registry, opts, path)
	if errors.Is(err, ops.ErrExportColumns) && version > 0 {
		opts.Version = version
		sum, err = ops.ExportFile(ctx, r.cfg.Log, r.cfg.Registry, opts, path)
	}
	return opts, sum, err
}

// environ is the server's environment without the variables
// Config.Withhold names.
func (r *Runner) environ() []string {
	return slices.DeleteFunc(os.Environ(), func(kv string) bool {
		name, _, _ := strings.Cut(kv, "=")
		return slices.Contains(r.cfg.Withhold, name)
	})
}

// command runs p's command for t, its output into out, and returns its
// exit status once it and its process group are gone. The error is
// context.DeadlineExceeded when it was killed at the timeout, ctx's error
// when ctx ended, or why it could not start; a command that exits with a
// status other than 0 is not an error.
func (r *Runner) command(ctx context.Context, t Trigger, p *modelstore.RetrainPolicy, path string, sum ops.ExportSummary, out *tail) (int, error) {
	cctx, cancel := context.WithTimeout(ctx, p.Timeout)
	defer cancel()
	cmd := exec.CommandContext(cctx, p.Command[0], p.Command[1:]...)
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	cmd.Cancel = func() error { return killGroup(cmd.Process) }
	cmd.WaitDelay = waitDelay
	cmd.Stdout, cmd.Stderr = out, out
	cmd.Env = append(r.environ(),
		"SWITCHYARD_EXPORT="+path,
		"SWITCHYARD_EXPORT_SHA256="+sum.SHA256,
		"SWITCHYARD_EXPORT_ROWS="+strconv.FormatInt(sum.Rows, 10),
		"SWITCHYARD_REGISTRY="+r.cfg.Registry,
		"SWITCHYARD_DATA_DIR="+r.cfg.DataDir,
		"SWITCHYARD_MODEL="+t.Model,
		"SWITCHYARD_VERSION="+strconv.Itoa(t.Version),
		"SWITCHYARD_REASON="+t.Reason,
	)
	if err := cmd.Start(); err != nil {
		return -1, fmt.Errorf("could not start: %w", err)
	}
	err := cmd.Wait()
	// What the command left behind in its group goes with it.
	if kerr := killGroup(cmd.Process); kerr != nil && !errors.Is(kerr, syscall.ESRCH) {
		r.log.Error("retrain: the command's process group could not be killed", "trigger", t, "error", kerr)
	}
	switch {
	case cctx.Err() != nil && ctx.Err() == nil:
		return -1, context.DeadlineExceeded
	case ctx.Err() != nil:
		return -1, ctx.Err()
	}
	var exit *exec.ExitError
	switch {
	case errors.Is(err, exec.ErrWaitDelay): // exited 0; what it left holding its output was killed above
		return 0, nil
	case errors.As(err, &exit) && exit.ExitCode() < 0:
		return -1, fmt.Errorf("was killed: %w", err)
	case errors.As(err, &exit):
		return exit.ExitCode(), nil
	case err != nil:
		return -1, err
	}
	return 0, nil
}

// killGroup kills the process group p leads (Setpgid made p its leader).
func killGroup(p *os.Process) error {
	return syscall.Kill(-p.Pid, syscall.SIGKILL)
}
