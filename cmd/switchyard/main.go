// Command switchyard serves ONNX models over HTTP from a registry directory.
//
// Usage:
//
//	switchyard serve   --registry DIR --addr localhost:8080  run the server
//	switchyard publish --registry DIR --model NAME --onnx FILE [lineage flags]
//	switchyard demo    --registry DIR [--serve]      train, gate and publish the demo fraud models (and serve them)
//	switchyard eval    --onnx FILE --eval CSV --label COL  run the gate offline (--baseline FILE | --registry DIR --model NAME)
//	switchyard schema infer --from CSV [--label COL]  a feature schema from training data, to review
//	switchyard policy init [--out policy.yaml]      every policy setting with its default, commented
//	switchyard promote MODEL VERSION --reason TEXT   roll a version out (--strategy)
//	switchyard rollback MODEL --reason TEXT          drop the candidate, or go back one version
//	switchyard pause|resume MODEL --reason TEXT      hold a rollout, or let it go on
//	switchyard status  [MODEL] [--lineage]           versions, states, traffic, lineage
//	switchyard card    MODEL [VERSION] [--json]      a version's model card
//	switchyard runs    [list | show ID]              tracking runs
//	switchyard audit   [MODEL] [--since 24h]         the audit trail
//	switchyard drift   MODEL [--version V] [--server URL]  a running server's drift report
//	switchyard export  MODEL --format csv|jsonl [--labelled] [--out FILE]  logged predictions and labels
//	switchyard feedback --file labels.csv [--server URL]  labels for logged predictions, in bulk
//	switchyard repro   MODEL VERSION [--check FILE]  how a version was made; is FILE the same
//	switchyard profile MODEL [VERSION] [--data CSV]  write a version's drift profile (profile.json)
//	switchyard bench   --url URL | --compare         drive load; compare with the machine's limits
//
// promote, rollback, pause, resume, status, card, runs and audit ask a running server (--server URL) or, without
// it, read the registry and data directory. Run `switchyard VERB --help`
// for each verb's flags. Exit status: 0 on success, 1 on failure (for
// repro --check: the file is not bit-exact; for eval: the gate failed), 2
// on a usage error (for eval: on anything that kept the gate from
// judging).
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"

	"github.com/switchyard-ml/switchyard/internal/errtext"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	err := run(ctx, os.Args[1:], os.Stdout, os.Stderr)
	stop()
	switch {
	case err == nil, errors.Is(err, flag.ErrHelp):
	case errors.Is(err, errUsage):
		os.Exit(2)
	case errors.Is(err, errFailed):
		os.Exit(1)
	default:
		fmt.Fprintln(os.Stderr, "switchyard:", errtext.Text(err)) // no package prefixes: a user reads it
		os.Exit(1)
	}
}

// errUsage is returned when the command line is wrong; the message has
// already been printed.
var errUsage = errors.New("usage error")

// errFailed is returned when a verb's answer is no (repro --check: not
// bit-exact); it has already said so. The exit status is 1.
var errFailed = errors.New("failed")

// verb is one subcommand.
type verb struct {
	name, summary string
	run           func(ctx context.Context, args []string, stdout, stderr io.Writer) error
}

func verbs() []verb {
	return []verb{
		{"serve", "serve the registry's models over HTTP", runServe},
		{"publish", "add a model version to the registry", runPublish},
		{"schema", "infer a records schema from training data: schema infer --from CSV", runSchema},
		{"policy", "write a policy.yaml with every default written out: policy init", runPolicy},
		{"demo", "build and publish the demo fraud-detection model", runDemo},
		{"eval", "run the evaluation gate on a model file offline: exit 0 pass, 1 fail", runEval},
		{"promote", "roll a version out: bluegreen, canary, shadow or manual", runPromote},
		{"rollback", "drop a candidate, or go back to the previous version, at once", runRollback},
		{"pause", "stop a rollout where it stands", runPause},
		{"resume", "let a paused rollout go on", runResume},
		{"status", "show models, their versions' states and traffic, and lineage", runStatus},
		{"card", "print a version's model card, markdown or JSON", runCard},
		{"runs", "list tracking runs or show one", runRuns},
		{"audit", "show the audit trail", runAudit},
		{"drift", "show a running server's drift report of a model", runDrift},
		{"export", "write a model's logged predictions, inputs and labels as CSV or JSONL", runExport},
		{"feedback", "send ground-truth labels from a CSV to a running server", runFeedback},
		{"repro", "show how a version was made; check a rebuilt model is bit-exact", runRepro},
		{"profile", "write a version's drift reference profile from its eval set or given data", runProfile},
		{"bench", "drive load and compare switchyard with the machine's limits", runBench},
	}
}

// run executes the command line args (without the program name).
func run(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	if len(args) == 0 || args[0] == "-h" || args[0] == "--help" || args[0] == "help" {
		usage(stdout)
		if len(args) == 0 {
			return errUsage
		}
		return nil
	}
	for _, v := range verbs() {
		if v.name == args[0] {
			return v.run(ctx, args[1:], stdout, stderr)
		}
	}
	fmt.Fprintf(stderr, "switchyard: unknown verb %q\n", args[0])
	usage(stderr)
	return errUsage
}

func usage(w io.Writer) {
	fmt.Fprintln(w, "switchyard serves ONNX models over HTTP from a registry directory.")
	fmt.Fprintln(w)
	fmt.Fprintln(w, "Usage: switchyard VERB [flags]")
	fmt.Fprintln(w)
	for _, v := range verbs() {
		fmt.Fprintf(w, "  %-8s %s\n", v.name, v.summary)
	}
	fmt.Fprintln(w)
	fmt.Fprintln(w, "Run 'switchyard VERB --help' for a verb's flags.")
}

// newFlagSet returns a flag set for a verb that prints its usage to
// stderr and reports errors instead of exiting.
func newFlagSet(name, synopsis string, stderr io.Writer) *flag.FlagSet {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() {
		fmt.Fprintf(stderr, "Usage: switchyard %s %s\n\nFlags:\n", name, synopsis)
		fs.PrintDefaults()
	}
	return fs
}

// usageError prints a usage problem and the verb's usage, and returns
// errUsage.
func usageError(fs *flag.FlagSet, format string, a ...any) error {
	fmt.Fprintf(fs.Output(), "switchyard %s: %s\n", fs.Name(), fmt.Sprintf(format, a...))
	fs.Usage()
	return errUsage
}

// parseFlags parses args, mapping a bad command line to errUsage.
func parseFlags(fs *flag.FlagSet, args []string) error {
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return err
		}
		return errUsage
	}
	if fs.NArg() > 0 {
		fmt.Fprintf(fs.Output(), "switchyard %s: unexpected argument %q\n", fs.Name(), fs.Arg(0))
		fs.Usage()
		return errUsage
	}
	return nil
}
