#!/usr/bin/env bash
# Metrics benchmark (issue 5): exposition parse throughput (Sightline against the
# prometheus-parse crate in the same process, and Python's prometheus_client on the same
# file), scrape-to-stored latency, and rate() over 1,000 series x 24 h of 5 s samples.
#
#   bash bench/metrics.sh            # ROUNDS=20 WORK=/tmp/sightline-bench-metrics
#
# The ~10,000-series exposition is agentgen's `prom --per-pod --pods 75 --snapshots last
# --runs 5000` (9,226 series; with agentgen's default 100 runs the same command gives 2,356).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
WORK=${WORK:-/tmp/sightline-bench-metrics}
ROUNDS=${ROUNDS:-20}
mkdir -p "$WORK"
PROM_RUNS=${PROM_RUNS:-5000}
if [ ! -d "$WORK/prom-$PROM_RUNS" ]; then
    python3 ../shared/agentgen/agentgen.py prom --per-pod --pods 75 --snapshots last --runs "$PROM_RUNS" -o "$WORK/prom-$PROM_RUNS" >/dev/null
fi
EXPO=$(ls "$WORK/prom-$PROM_RUNS"/*.prom | tail -1)
echo "exposition: $EXPO"
if python3 -c "import prometheus_client" 2>/dev/null || pip install -q prometheus-client==0.26.0 2>/dev/null; then
    python3 - "$EXPO" "$ROUNDS" <<'PY'
import statistics, sys, time
from prometheus_client.parser import text_string_to_metric_families
text = open(sys.argv[1]).read()
rounds = int(sys.argv[2])
times, n = [], 0
for _ in range(rounds):
    t = time.perf_counter()
    n = sum(len(f.samples) for f in text_string_to_metric_families(text))
    times.append((time.perf_counter() - t) * 1000)
m = statistics.median(times)
print(f"| parse, Python prometheus_client 0.26 ({n} samples) | {m:.1f} ms ({n / m / 1000:.3f} M samples/s) |")
PY
else
    echo "| parse, Python prometheus_client | not installed (pip install prometheus-client) |"
fi
EXPOSITION="$EXPO" WORK="$WORK" ROUNDS="$ROUNDS" cargo bench --bench metrics 2>/dev/null
