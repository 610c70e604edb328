package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"reflect"
	"strconv"
	"strings"
	"time"

	"github.com/switchyard-ml/switchyard/batcher"
	"github.com/switchyard-ml/switchyard/gate"
	"github.com/switchyard-ml/switchyard/modelstore"
	"github.com/switchyard-ml/switchyard/quality"
	"github.com/switchyard-ml/switchyard/rollout"
	"github.com/switchyard-ml/switchyard/tracking"
)

const policySynopsis = `init [--out FILE] [--on-publish STRATEGY] [--force]

Writes a policy.yaml with every setting at its built-in default, each with a
comment saying what it does. Put it in the model's directory of the registry
(registry/NAME/policy.yaml) and edit what you want otherwise; a setting in the
file overrides the server's flag of the same meaning for that model only.
--on-publish writes that strategy instead of the default.`

// runPolicy runs `switchyard policy init`.
func runPolicy(_ context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlagSet("policy", policySynopsis, stderr)
	out := fs.String("out", "", "write the policy to `FILE`, such as registry/NAME/policy.yaml (default: standard output)")
	force := fs.Bool("force", false, "overwrite --out if it exists")
	onPublish := fs.String("on-publish", "", "write this on_publish instead of the default: latest, canary, bluegreen, shadow or manual")
	if len(args) == 0 || args[0] != "init" {
		if len(args) > 0 && (args[0] == "-h" || args[0] == "--help" || args[0] == "help") {
			fs.Usage()
			return flag.ErrHelp
		}
		return usageError(fs, "want policy init")
	}
	if err := parseFlags(fs, args[1:]); err != nil {
		return err
	}
	def := rollout.DefaultPolicy()
	if *onPublish != "" {
		def.OnPublish = *onPublish
		if err := def.Validate(); err != nil {
			return usageError(fs, "--on-publish %q: want latest, canary, bluegreen, shadow or manual", *onPublish)
		}
	}
	text := appendPolicyYAML(nil, def)
	if _, err := modelstore.ParsePolicy(text); err != nil {
		panic(fmt.Sprintf("BUG: policy init wrote a policy.yaml that does not parse: %v\n%s", err, text))
	}
	if *out == "" {
		_, err := stdout.Write(text)
		return err
	}
	if err := writeNewFile(*out, text, *force); err != nil {
		return fmt.Errorf("--out: %w", err)
	}
	fmt.Fprintf(stdout, "wrote %s: every setting at its default (on_publish: %s); edit what you want otherwise\n", *out, def.OnPublish)
	return nil
}

// rolloutComments explains each key of the rollout block, by its path
// ("shadow.then" for a key of the shadow block). A key policy.yaml reads
// that has no comment here is written without one, and a test fails.
var rolloutComments = map[string]string{
	"on_publish": "What a newly published version does once it passes its gate: latest (it\n" +
		"serves at once), canary (weighted steps, each judged against stable),\n" +
		"bluegreen (all traffic at once, then watched), shadow (a copy of each\n" +
		"request, its answers never returned), or manual (nothing moves until a\n" +
		"person promotes).",
	"steps":                "The canary's share of requests at each step; the last is 100%.",
	"bake":                 "How long each canary step runs at least before it may advance.",
	"max_bake":             "How long a step may run past bake while it waits for min_requests; then it\nis judged with what it has, or pauses saying how many requests it needs.",
	"min_requests":         "How many requests the candidate answers between two analyses of a step.",
	"failure_limit":        "How many analyses in a row must breach a bound before a rollback\n(a critical error rate rolls back at once).",
	"keep_previous":        "How many ready versions below stable stay loaded, for an instant rollback.",
	"max_error_rate_delta": "How far the candidate's error rate may exceed stable's, as a fraction\n(0.01 is one percentage point), judged on a confidence interval.",
	"critical_error_rate":  "An error rate that rolls the candidate back at once, as a fraction.",
	"max_latency_increase": "How much slower than stable the candidate may be, relative to stable's\nmedian latency (0.2 is +20%), compared in the same window.",
	"min_latency_delta":    "A latency difference smaller than this is never a breach, however\nsignificant.",
	"max_score_psi":        "The most the population stability index of the candidate's scores against\nstable's may be (above 0.2 is commonly read as a significant shift).",
	"min_score_shift":      "Scores that moved less than this on average (0 to 1) are never a breach,\nhowever their histogram differs.",
	"max_accuracy_drop":    "How much lower the candidate's accuracy may be, as a fraction; judged only\nwhen feedback gives both arms' accuracy.",
	"watch":                "How long after a bluegreen switch the new version is still watched, and\nmay be rolled back.",
	"shadow":               "A shadow rollout: how many requests both answer before agreement is judged,\nthe least share on which they must agree, and what follows (canary,\nbluegreen or manual).",
}

// appendPolicyYAML appends to dst the policy.yaml policy init writes: the
// rollout block from def, every key that policy.yaml's rollout block reads
// (modelstore.RolloutPolicy) with its value in def, then the gate and
// batching blocks at their defaults.
func appendPolicyYAML(dst []byte, def rollout.Policy) []byte {
	line := func(format string, a ...any) { dst = fmt.Appendf(dst, format+"\n", a...) }
	comment := func(indent, text string) {
		for _, l := range strings.Split(text, "\n") {
			line("%s# %s", indent, l)
		}
	}
	line("# policy.yaml, written by `switchyard policy init`: every setting at its")
	line("# built-in default. A setting here overrides the server's flag of the same")
	line("# meaning for this model only: delete a line to follow the server instead.")
	line("# Keys are strict: a key switchyard does not know is refused, and named.")
	line("# docs/rollouts.md, docs/gates.md and docs/batching.md say more.")
	line("")
	line("# How a new version reaches traffic, and what a rollout holds it to.")
	line("rollout:")
	appendRolloutBlock(reflect.TypeFor[modelstore.RolloutPolicy](), reflect.ValueOf(def), "", "  ", line, comment)
	line("")
	line("# What a new version must show on its evaluation set (eval.csv) before it")
	line("# takes any traffic.")
	line("gate:")
	line("  # label: is_fraud           # eval.csv's label column; default: publish --label")
	line("  # The class whose precision, recall and F1 are reported, and whose probability")
	line("  # AUC, Brier and calibration score, for a binary classifier.")
	line("  positive_class: %d", gate.DefaultPositiveClass)
	line("  # require_eval: true        # default: true once a metric has a threshold")
	line("  # The load the gate puts on the machine: rows per call to the model, calls")
	line("  # at once (one leaves the other cores to live traffic).")
	line("  batch_rows: %d", gate.DefaultBatchRows)
	line("  concurrency: %d", gate.DefaultConcurrency)
	line("  # The most rows of eval.csv read.")
	line("  max_rows: %d", gate.DefaultMaxRows)
	line("  # slices: {feature: country, min_rows: %d}   # judge each value of a column too", gate.DefaultSliceMinRows)
	line("  # Thresholds, by metric: none by default, so only the sanity checks apply")
	line("  # (a version giving one class only, constant scores, NaN, or probabilities")
	line("  # that do not sum to 1 fails). max_regression compares with stable on the")
	line("  # same rows in the same run. For example:")
	line("  # metrics:")
	line("  #   auc: {min: 0.8, max_regression: 0.005}")
	line("  #   log_loss: {max_regression_pct: 2}")
	line("  #   latency_p99_ms: {max: 20}")
	line("")
	line("# How requests are batched for this model's versions (serve's flags set the")
	line("# server's defaults: --max-batch-size, --max-queue-delay, --executors,")
	line("# --max-queue-size, --request-timeout).")
	line("batching:")
	line("  # The most rows run together; 1 turns batching off.")
	line("  max_batch_size: %d", batcher.DefaultMaxBatchSize)
	line("  # How long a batch may wait for more rows; 0s runs what is queued at once.")
	line("  max_queue_delay: 0s")
	line("  # preferred_batch_sizes: [8, 16, 32]   # sizes worth waiting for")
	line("  # executors: 2                         # batches at once; default: one per CPU")
	line("  # The most rows that may wait before requests get 503 with Retry-After.")
	line("  max_queue_size: %d", batcher.DefaultMaxQueueSize)
	line("  # The deadline of a request that sets none (504 past it); 0s means none.")
	line("  timeout: 0s")
	line("")
	line("# Which answered predictions the prediction log keeps, for feedback to join")
	line("# labels to and switchyard export to read (docs/feedback.md).")
	line("log:")
	lp := tracking.DefaultLogPolicy()
	line("  # The share of predictions, chosen by a hash of their id (replicas agree).")
	line("  sample: %g", lp.Sample)
	line("  # Predictions older than this are removed, then the oldest past max_bytes.")
	line("  retention: %s", lp.Retention)
	line("  max_bytes: %d", lp.MaxBytes)
	line("")
	line("# How the live quality monitor judges each version from the labels fed back")
	line("# (docs/feedback.md#live-quality).")
	line("quality:")
	qp := quality.DefaultPolicy()
	line("  # Labelled predictions per window (and scores for the estimate before labels),")
	line("  # none older than max_age.")
	line("  window: %d", qp.Window)
	line("  max_age: %s", formatDuration(qp.MaxAge))
	line("  # Labels before live accuracy counts, for rollouts and the accuracy_drop alarm.")
	line("  min_labels: %d", qp.MinLabels)
	line("  # Live or estimated accuracy this far below the gate's raises an alarm.")
	line("  max_accuracy_drop: %g", qp.MaxAccuracyDrop)
	line("  # How often each version is judged.")
	line("  interval: %s", formatDuration(qp.Interval))
	line("")
	line("# The response cache (docs/operating.md#response-cache): off until the block has a")
	line("# key (cache: {} for the defaults); a repeated input is answered per version from memory.")
	line("cache:")
	line("  # max_bytes: %dMiB               # bytes, or with KiB, MiB or GiB", modelstore.DefaultCacheMaxBytes>>20)
	line("  # ttl: %s                        # an answer is served from the cache this long", formatDuration(modelstore.DefaultCacheTTL))
	line("")
	line("# The price of this model's compute (docs/operating.md#cost-per-prediction), in")
	line("# dollars per core-hour, which gives dollars per 1,000 predictions; default:")
	line("# serve's --cost-per-core-hour. 0 turns the price off for this model.")
	line("cost:")
	line("  # per_core_hour: 0.048")
	line("")
	line("# Retraining started by an alarm (docs/feedback.md): off until on and command")
	line("# are set. The command (argv, no shell) gets the export of the labelled")
	line("# predictions in $SWITCHYARD_EXPORT; one runs at a time per model.")
	line("retrain:")
	line("  # on: [drift, accuracy_drop, estimated_accuracy_drop]")
	line("  # command: [\"python3\", \"retrain.py\"]")
	line("  # cooldown: %s                   # the least time between two starts", formatDuration(modelstore.DefaultRetrainCooldown))
	line("  # timeout: %s                   # the command is killed past it", formatDuration(modelstore.DefaultRetrainTimeout))
	return dst
}

// appendRolloutBlock writes, for each field of t (modelstore.RolloutPolicy
// or a block of it) by its yaml key, the value of the field of def with
// the same name (snake_case against CamelCase, ignoring case), so that
// settings added to both are written without an edit here. prefix is the
// block's key path ("shadow."), indent its indentation.
func appendRolloutBlock(t reflect.Type, def reflect.Value, prefix, indent string, line func(string, ...any), comment func(string, string)) {
	for i := range t.NumField() {
		sf := t.Field(i)
		key, _, _ := strings.Cut(sf.Tag.Get("yaml"), ",")
		if key == "" || key == "-" {
			continue
		}
		path := prefix + key
		if c, ok := rolloutComments[path]; ok {
			comment(indent, c)
		}
		dv, ok := fieldByKey(def, key)
		if !ok {
			line("%s# %s: no default known to policy init; see docs/rollouts.md", indent, key)
			continue
		}
		if sf.Type.Kind() == reflect.Struct {
			line("%s%s:", indent, key)
			appendRolloutBlock(sf.Type, dv, path+".", indent+"  ", line, comment)
			continue
		}
		line("%s%s: %s", indent, key, formatSetting(key, dv))
	}
}

// fieldByKey returns the field of the struct v whose name is key without
// its underscores, ignoring case: OnPublish for on_publish.
func fieldByKey(v reflect.Value, key string) (reflect.Value, bool) {
	want := strings.ReplaceAll(key, "_", "")
	for i := range v.NumField() {
		if strings.EqualFold(v.Type().Field(i).Name, want) {
			return v.Field(i), true
		}
	}
	return reflect.Value{}, false
}

// formatSetting writes a default as policy.yaml spells it: durations as
// "60s" or "5m", steps as percentages, numbers as the shortest decimal.
func formatSetting(key string, v reflect.Value) string {
	if d, ok := v.Interface().(time.Duration); ok {
		return formatDuration(d)
	}
	switch v.Kind() {
	case reflect.String:
		return yamlScalar(v.String())
	case reflect.Int, reflect.Int64, reflect.Int32:
		return strconv.FormatInt(v.Int(), 10)
	case reflect.Float64, reflect.Float32:
		return formatNumber(v.Float())
	case reflect.Bool:
		return strconv.FormatBool(v.Bool())
	case reflect.Slice:
		if key == "steps" {
			ws := make([]string, v.Len())
			for i := range ws {
				ws[i] = formatWeight(int(v.Index(i).Int()))
			}
			return "[" + strings.Join(ws, ", ") + "]"
		}
	}
	panic(fmt.Sprintf("BUG: policy init cannot write rollout setting %s of kind %v", key, v.Kind()))
}

// formatDuration writes d in the largest whole unit: 60s as 1m.
func formatDuration(d time.Duration) string {
	switch {
	case d == 0:
		return "0s"
	case d%time.Hour == 0:
		return fmt.Sprintf("%dh", d/time.Hour)
	case d%time.Minute == 0:
		return fmt.Sprintf("%dm", d/time.Minute)
	case d%time.Second == 0:
		return fmt.Sprintf("%ds", d/time.Second)
	case d%time.Millisecond == 0:
		return fmt.Sprintf("%dms", d/time.Millisecond)
	}
	return d.String()
}

// formatWeight writes basis points as a percentage: 500 as 5%, 1250 as
// 12.5%.
func formatWeight(bp int) string {
	if bp%100 == 0 {
		return fmt.Sprintf("%d%%", bp/100)
	}
	return strings.TrimRight(fmt.Sprintf("%d.%02d", bp/100, bp%100), "0") + "%"
}
