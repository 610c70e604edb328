#!/usr/bin/python3
"""Dump the shapes MLflow's protos define for the REST API into JSON, for
server/mlflow's replay test: every endpoint (method, path) with its request
and response message, and every message's fields (JSON name, type,
repeated, message or enum type, enum values).

    PYTHONPATH=MLFLOW_SRC protos.py > server/mlflow/testdata/client/protos.json
"""
import json
import sys

from google.protobuf.descriptor import FieldDescriptor as F

from mlflow.protos import databricks_pb2, mlflow_artifacts_pb2, model_registry_pb2, service_pb2

SCALARS = {
    F.TYPE_DOUBLE: "number", F.TYPE_FLOAT: "number", F.TYPE_INT64: "int64",
    F.TYPE_UINT64: "int64", F.TYPE_INT32: "int32", F.TYPE_FIXED64: "int64",
    F.TYPE_FIXED32: "int32", F.TYPE_BOOL: "bool", F.TYPE_STRING: "string",
    F.TYPE_BYTES: "bytes", F.TYPE_UINT32: "int32", F.TYPE_SFIXED32: "int32",
    F.TYPE_SFIXED64: "int64", F.TYPE_SINT32: "int32", F.TYPE_SINT64: "int64",
}

messages, enums = {}, {}


def message(desc):
    if desc.full_name in messages:
        return desc.full_name
    fields = {}
    messages[desc.full_name] = fields
    for f in desc.fields:
        out = {"repeated": f.label == F.LABEL_REPEATED}
        if f.type == F.TYPE_MESSAGE:
            out["message"] = message(f.message_type)
        elif f.type == F.TYPE_ENUM:
            enums[f.enum_type.full_name] = [v.name for v in f.enum_type.values]
            out["enum"] = f.enum_type.full_name
        else:
            out["type"] = SCALARS[f.type]
        fields[f.name] = out
    return desc.full_name


endpoints = []
for module in (service_pb2, model_registry_pb2, mlflow_artifacts_pb2):
    for service in module.DESCRIPTOR.services_by_name.values():
        for rpc in service.methods:
            opts = rpc.GetOptions().Extensions[databricks_pb2.rpc]
            for ep in opts.endpoints:
                endpoints.append({"rpc": rpc.name, "method": ep.method, "path": ep.path,
                                  "request": message(rpc.input_type),
                                  "response": message(rpc.output_type)})
enums["ErrorCode"] = [v.name for v in databricks_pb2.ErrorCode.DESCRIPTOR.values]
json.dump({"endpoints": endpoints, "messages": messages, "enums": enums}, sys.stdout,
          indent=1, sort_keys=True)
print()
