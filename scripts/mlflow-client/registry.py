#!/usr/bin/python3
"""The registry calls a team makes after train.py, with the MLflow client
against switchyard: wait for the version to pass its gate, aliases, search,
tags, stages, downloads through models:/ URIs, artifact listing, then the
records API by the signature's field names. Prints what it reads.

    MLFLOW_TRACKING_URI=http://localhost:8080 python3 registry.py [VERSION]
    MLFLOW_TRACKING_URI=... python3 registry.py --expect-failed VERSION
    MLFLOW_TRACKING_URI=... python3 registry.py --stages OLD NEW

--stages waits for NEW (a canary of the model's policy), takes it to
Staging (out of traffic), then to Production with the versions there
(OLD) archived.
"""
import json
import os
import sys
import tempfile
import time
import urllib.request

import mlflow
import mlflow.onnx
from mlflow import MlflowClient

NAME = "fraud"


def wait(client, version):
    """Polls the version until its registration ends, as a CI job would."""
    deadline = time.time() + 120
    while True:
        mv = client.get_model_version(NAME, version)
        if mv.status != "PENDING_REGISTRATION" or time.time() > deadline:
            return mv
        time.sleep(0.5)


def main():
    client = MlflowClient()
    args = [a for a in sys.argv[1:] if not a.startswith("--")]
    version = args[0] if args else "1"
    mv = wait(client, version)
    print("version", mv.version, mv.status, *([mv.status_message] if mv.status_message else []))
    if "--expect-failed" in sys.argv:
        assert mv.status == "FAILED_REGISTRATION", mv.status
        return
    if "--stages" in sys.argv:
        stages(client, args[0], args[1])
        return

    assert mv.status == "READY", (mv.status, mv.status_message)
    client.set_registered_model_alias(NAME, "champion", version)
    client.set_registered_model_alias(NAME, "champion", version)  # an upsert
    print("champion", client.get_model_version_by_alias(NAME, "champion").version)

    found = client.search_registered_models(filter_string=f"name='{NAME}'")
    print("search", [m.name for m in found])
    print("versions", [v.version for v in client.search_model_versions(f"name='{NAME}'")])

    client.set_registered_model_tag(NAME, "team", "risk")
    client.set_model_version_tag(NAME, version, "validated_by", "ci")
    client.delete_model_version_tag(NAME, version, "validated_by")
    client.delete_registered_model_tag(NAME, "team")

    client.transition_model_version_stage(NAME, version, "Production")
    latest = client.get_latest_versions(NAME, stages=["Production"])
    print("production", [v.version for v in latest])

    with tempfile.TemporaryDirectory() as tmp:
        path = mlflow.artifacts.download_artifacts(f"models:/{NAME}/{version}", dst_path=tmp)
        print("downloaded", sorted(os.listdir(path)))
    model = mlflow.onnx.load_model(f"models:/{NAME}@champion")
    print("loaded", [i.name for i in model.graph.input])
    run = client.get_model_version(NAME, version).run_id
    print("artifacts", sorted(a.path for a in client.list_artifacts(run)))

    client.delete_registered_model_alias(NAME, "champion")
    print("aliases after delete", client.get_registered_model(NAME).aliases)

    row = {"amount": 420.0, "age_days": 12.0, "tx_24h": 9.0, "card_present": 0.0,
           "hour": 3.0, "merchant_risk": 0.8, "distance_km": 250.0, "velocity": 4.0}
    req = urllib.request.Request(
        mlflow.get_tracking_uri() + f"/v1/models/{NAME}:predict",
        data=json.dumps({"instances": [row]}).encode(),
        headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(req) as resp:
        print("predict", json.load(resp)["predictions"])


def stages(client, old, new):
    """Stages mapped onto rollouts: the new version's canary is stopped by
    Staging and started again by Production, which archives the old one."""
    mv = wait(client, new)
    print("version", mv.version, mv.status, "traffic", mv.tags["switchyard.traffic"])
    client.transition_model_version_stage(NAME, new, "Staging")
    print("staging", [v.version for v in client.get_latest_versions(NAME, stages=["Staging"])])
    client.transition_model_version_stage(NAME, new, "Production", archive_existing_versions=True)
    print("production", [v.version for v in client.get_latest_versions(NAME, stages=["Production"])])
    print("archived", [v.version for v in client.get_latest_versions(NAME, stages=["Archived"])])
    for v in sorted(client.search_model_versions(f"name='{NAME}'"), key=lambda v: int(v.version)):
        print("version", v.version, v.current_stage, v.status, "traffic", v.tags.get("switchyard.traffic"))


if __name__ == "__main__":
    main()
