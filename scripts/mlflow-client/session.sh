#!/bin/bash
# Records the MLflow client session of docs/tracking.md: serves an empty
# registry with BIN on loopback, puts record.py in front of it, runs the
# training and registry scripts through it, and writes every exchange to
# OUT (cmd/switchyard/testdata/mlflow-client/session.jsonl is such a file).
# Needs the MLflow 2.11 client on PYTHONPATH (see docs/tracking.md).
#
#   scripts/mlflow-client/session.sh BIN OUT.jsonl
set -euo pipefail
bin=$(realpath "$1"); out=$(realpath -m "$2")
here=$(cd "$(dirname "$0")" && pwd)
work=$(mktemp -d)
reg=$work/registry
mkdir -p "$reg" "$work/run"
: > "$out"
"$bin" serve --registry "$reg" --addr 127.0.0.1:5002 --drain-delay 0s > "$work/serve.log" 2>&1 &
serve=$!
/usr/bin/python3 "$here/record.py" 5001 http://127.0.0.1:5002 "$out" &
proxy=$!
trap 'kill $serve $proxy 2>/dev/null; wait $serve 2>/dev/null; rm -rf "$work"' EXIT
for _ in $(seq 50); do curl -sf http://127.0.0.1:5002/healthz >/dev/null && break; sleep 0.2; done
cd "$work/run"
export MLFLOW_TRACKING_URI=http://127.0.0.1:5001
py=/usr/bin/python3
$py "$here/train.py"
$py "$here/registry.py" 1
cp "$here/policy.yaml" "$reg/fraud/policy.yaml"
echo '{"step": "policy"}' >> "$out" # the replay writes the policy here too
sleep 1
! $py "$here/train.py" --broken # the gate stops it: log_model raises
$py "$here/registry.py" --expect-failed 2
$py "$here/train.py" --seed 8
$py "$here/registry.py" --stages 1 3
"$bin" status fraud --server http://127.0.0.1:5002
