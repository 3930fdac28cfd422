#!/usr/bin/env python3
"""Writes one OTLP/JSON trace of N spans (default 100,000): an agent root, iterations of a
ReAct loop, each with an LLM call (GenAI + OpenInference attributes, tokens) and a tool call,
every 50th tool failing with an exception event. Deterministic. Used by bench/traces.sh for
the "100,000-span run" figures; agentgen caps a run at 10 steps.

usage: big_run.py OUT.json [SPANS [SEED]]   (another SEED gives another trace id, so two runs
can share a workspace)
"""
import json
import random
import sys

out = sys.argv[1]
n = int(sys.argv[2]) if len(sys.argv) > 2 else 100_000
rng = random.Random(int(sys.argv[3]) if len(sys.argv) > 3 else 7)
trace = "%032x" % rng.getrandbits(128)
t0 = 1_717_243_200_000_000_000
spans = []


def sid():
    return "%016x" % rng.getrandbits(64)


def kv(k, v):
    if isinstance(v, bool):
        return {"key": k, "value": {"boolValue": v}}
    if isinstance(v, int):
        return {"key": k, "value": {"intValue": str(v)}}
    if isinstance(v, float):
        return {"key": k, "value": {"doubleValue": v}}
    return {"key": k, "value": {"stringValue": v}}


root = sid()
t = t0
iterations = max(1, (n - 1) // 3)
for i in range(iterations):
    it = sid()
    start = t
    llm_ms = rng.randint(200, 2000)
    tool_ms = rng.randint(5, 500)
    llm_end = start + llm_ms * 1_000_000
    tool_end = llm_end + tool_ms * 1_000_000
    fin = tool_end + 1_000_000
    itok, otok = rng.randint(500, 4000), rng.randint(20, 300)
    spans.append({"traceId": trace, "spanId": sid(), "parentSpanId": it, "name": "chat gpt-4o-mini", "kind": 3,
                  "startTimeUnixNano": str(start), "endTimeUnixNano": str(llm_end),
                  "attributes": [kv("gen_ai.operation.name", "chat"), kv("gen_ai.request.model", "gpt-4o-mini"),
                                 kv("gen_ai.provider.name", "openai"), kv("openinference.span.kind", "LLM"),
                                 kv("gen_ai.usage.input_tokens", itok), kv("gen_ai.usage.output_tokens", otok)],
                  "status": {"code": 1}})
    fail = i % 50 == 49
    tool = {"traceId": trace, "spanId": sid(), "parentSpanId": it, "name": "execute_tool search_web", "kind": 1,
            "startTimeUnixNano": str(llm_end), "endTimeUnixNano": str(tool_end),
            "attributes": [kv("gen_ai.operation.name", "execute_tool"), kv("gen_ai.tool.name", "search_web"),
                           kv("input.value", json.dumps({"q": "query %d" % i}))],
            "status": {"code": 2, "message": "TimeoutError"} if fail else {"code": 1}}
    if fail:
        tool["events"] = [{"name": "exception", "timeUnixNano": str(tool_end),
                           "attributes": [kv("exception.type", "TimeoutError"),
                                          kv("exception.message", "search timed out")]}]
    spans.append(tool)
    spans.append({"traceId": trace, "spanId": it, "parentSpanId": root, "name": "react.iteration", "kind": 1,
                  "startTimeUnixNano": str(start), "endTimeUnixNano": str(fin),
                  "attributes": [kv("openinference.span.kind", "CHAIN"), kv("agent.iteration", i + 1)],
                  "status": {"code": 1}})
    t = fin
spans.append({"traceId": trace, "spanId": root, "name": "agent.research", "kind": 2,
              "startTimeUnixNano": str(t0), "endTimeUnixNano": str(t),
              "attributes": [kv("gen_ai.operation.name", "invoke_agent"), kv("openinference.span.kind", "AGENT")],
              "status": {"code": 1}})
req = {"resourceSpans": [{"resource": {"attributes": [kv("service.name", "bench-agent")]},
                          "scopeSpans": [{"scope": {"name": "bench"}, "spans": spans}]}]}
with open(out, "w") as f:
    json.dump(req, f)
print(trace)
