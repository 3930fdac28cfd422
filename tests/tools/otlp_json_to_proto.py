#!/usr/bin/env python3
"""Convert an OTLP/JSON export request to OTLP protobuf bytes.

Usage: otlp_json_to_proto.py {traces|logs|metrics} IN.json OUT.bin

Uses the official `opentelemetry-proto` and `protobuf` packages, so the bytes are what a real
OTLP/HTTP exporter would send. The Rust integration tests run it (from a venv) to check that
protobuf input maps exactly as the same request in JSON does.

OTLP/JSON is not quite protobuf's JSON mapping: trace and span ids are hex, not base64. They
are turned into base64 before `json_format.Parse`. Enum values may be integers or names, and
64-bit integers strings or numbers; Parse takes both. Unknown fields are ignored.

IN.json may hold one request, a JSON array of requests, or JSON Lines with one request per
line; several requests are merged into one by concatenating their resource lists.
"""

import base64
import json
import re
import sys

from google.protobuf import json_format
from opentelemetry.proto.collector.logs.v1.logs_service_pb2 import ExportLogsServiceRequest
from opentelemetry.proto.collector.metrics.v1.metrics_service_pb2 import (
    ExportMetricsServiceRequest,
)
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest

SIGNALS = {
    "traces": (ExportTraceServiceRequest, "resourceSpans", "resource_spans"),
    "logs": (ExportLogsServiceRequest, "resourceLogs", "resource_logs"),
    "metrics": (ExportMetricsServiceRequest, "resourceMetrics", "resource_metrics"),
}

# Id fields (spans, links, log records, exemplars), in JSON and in proto field-name spelling.
ID_KEYS = {"traceId", "spanId", "parentSpanId", "trace_id", "span_id", "parent_span_id"}
HEX = re.compile(r"^(?:[0-9a-fA-F]{2})*$")


def ids_to_base64(node):
    """Rewrite hex ids to base64 in place, anywhere in the request. Ids that are not hex
    (already base64) are left as they are."""
    if isinstance(node, dict):
        for key, value in node.items():
            if key in ID_KEYS and isinstance(value, str) and HEX.match(value):
                node[key] = base64.b64encode(bytes.fromhex(value)).decode("ascii")
            else:
                ids_to_base64(value)
    elif isinstance(node, list):
        for item in node:
            ids_to_base64(item)


def load_requests(text):
    """One request, an array of requests, or JSON Lines."""
    try:
        doc = json.loads(text)
    except json.JSONDecodeError:
        return [json.loads(line) for line in text.splitlines() if line.strip()]
    return doc if isinstance(doc, list) else [doc]


def main(argv):
    if len(argv) != 4 or argv[1] not in SIGNALS:
        sys.stderr.write(f"usage: {argv[0]} {{traces|logs|metrics}} IN.json OUT.bin\n")
        return 2
    message_type, json_key, proto_key = SIGNALS[argv[1]]
    with open(argv[2], encoding="utf-8") as f:
        requests = load_requests(f.read())

    resources = []
    for req in requests:
        if not isinstance(req, dict):
            sys.stderr.write(f"{argv[2]}: not an OTLP/JSON request: {type(req).__name__}\n")
            return 1
        if req and json_key not in req and proto_key not in req:
            sys.stderr.write(f"{argv[2]}: a request without {json_key}: not {argv[1]}?\n")
            return 1
        resources.extend(req.get(json_key) or req.get(proto_key) or [])
    merged = {json_key: resources}
    ids_to_base64(merged)

    message = message_type()
    json_format.Parse(json.dumps(merged), message, ignore_unknown_fields=True)
    with open(argv[3], "wb") as f:
        f.write(message.SerializeToString())
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
