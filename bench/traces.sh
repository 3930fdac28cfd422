#!/usr/bin/env bash
# Trace benchmarks, each beside a baseline run in the same session:
#   1. ingest of agentgen OTLP ($RUNS runs, one request per file): spans per second, and the
#      ratio to `python3 -c json.load` of the same file (parsing alone, no storage);
#   2. a 100,000-span run (bench/big_run.py): ingest, then `sightline run ID --json` wall time,
#      beside the same baseline parse of the file.
# Medians of $ROUNDS rounds. Results to stdout.
set -euo pipefail
HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
ROOT="$(cd "$HERE/.." && pwd)"
SHARED="$(cd "${SIGHTLINE_SHARED:-$ROOT/../shared}" && pwd)"
RUNS="${RUNS:-6000}"
ROUNDS="${ROUNDS:-3}"
SPANS="${SPANS:-100000}"
WORK="${WORK:-/tmp/sightline-bench-traces}"
mkdir -p "$WORK"
if [ -z "${SIGHTLINE:-}" ]; then
    (cd "$ROOT" && cargo build --release --quiet)
    SIGHTLINE="${CARGO_TARGET_DIR:-$ROOT/target}/release/sightline"
fi
secs() { python3 -c 'import sys,time,subprocess; t=time.perf_counter(); subprocess.run(sys.argv[1:], check=True, stdout=subprocess.DEVNULL); print("%.3f" % (time.perf_counter()-t))' "$@"; }
median() { python3 -c 'import sys,statistics; print("%.3f" % statistics.median(float(x) for x in sys.argv[1:]))' "$@"; }

OTLP="$WORK/agentgen-otlp-$RUNS.json"
[ -f "$OTLP" ] || python3 "$SHARED/agentgen/agentgen.py" otlp --runs "$RUNS" -o "$OTLP" >/dev/null
NSPANS=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["spans"]["total"])' "$OTLP.truth.json")
ing=(); base=()
for _ in $(seq "$ROUNDS"); do
    rm -f "$WORK"/o.db*
    ing+=("$(secs "$SIGHTLINE" --db "$WORK/o.db" ingest "$OTLP")")
    base+=("$(secs python3 -c 'import json,sys; json.load(open(sys.argv[1]))' "$OTLP")")
done
I=$(median "${ing[@]}"); B=$(median "${base[@]}")
echo "agentgen OTLP, $RUNS runs, $NSPANS spans, $(du -h "$OTLP" | cut -f1):"
echo "  sightline ingest: ${I}s = $(python3 -c "print(int($NSPANS/$I))") spans/s; python json.load alone: ${B}s; ratio $(python3 -c "print('%.2f' % ($I/$B))")"

BIG="$WORK/big-run-$SPANS.json"
[ -f "$BIG.id" ] || python3 "$HERE/big_run.py" "$BIG" "$SPANS" > "$BIG.id"
ID=$(cat "$BIG.id")
rm -f "$WORK"/big.db*
BI=$(secs "$SIGHTLINE" --db "$WORK/big.db" ingest "$BIG")
runj=(); runt=(); bp=()
for _ in $(seq "$ROUNDS"); do
    runj+=("$(secs "$SIGHTLINE" --db "$WORK/big.db" run "$ID" --json)")
    runt+=("$(secs "$SIGHTLINE" --db "$WORK/big.db" run "$ID")")
    bp+=("$(secs python3 -c 'import json,sys; json.load(open(sys.argv[1]))' "$BIG")")
done
RJ=$(median "${runj[@]}"); RT=$(median "${runt[@]}"); BP=$(median "${bp[@]}")
echo "one run of $SPANS spans ($(du -h "$BIG" | cut -f1)): ingest ${BI}s"
echo "  sightline run ID --json: ${RJ}s; run ID (table): ${RT}s; python json.load of the OTLP file: ${BP}s; --json ratio $(python3 -c "print('%.2f' % ($RJ/$BP))")"
