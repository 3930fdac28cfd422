#!/usr/bin/env bash
# Ingest and query benchmark for Sightline, run side by side with its baselines.
#
# What it measures, on one ~1 GB zap-style file from agentgen (`logs --style zap --runs $RUNS`),
# all in the same run so that ratios are meaningful:
#   - the sqlite3 shell loading the file the plain way (../shared/bench/README.md: `.import` of
#     raw lines, then one `INSERT ... SELECT json_extract(...)` transaction; both steps summed);
#   - lnav indexing the file with the zap format from ../shared/bench/lnav-formats;
#   - `sightline --db FRESH.db ingest FILE` (wall time and peak RSS).
# Then, on a workspace of ~10 million records, the median wall time of
#   `sightline --db W logs --level error --search WORD --limit 100`.
#
# Targets (from the issue): ingest <= 0.5 x the sqlite3 shell; peak RSS < 300 MB; query < 200 ms.
# The lnav ratio is reported, not judged. Results go to stdout and to $WORK/results.md.
#
# Knobs (environment):
#   RUNS=160000        agent runs in the ingest file (~1 GB)
#   ROUNDS=3           rounds per tool; medians are reported
#   WORK=/tmp/sightline-bench   scratch dir; generated files are cached here between runs
#   JOBS=0             agentgen --jobs (0 = auto)
#   SIGHTLINE=path     binary to test (default: `cargo build --release`, then target/release)
#   SKIP_10M=1         skip the 10M-record query part
#   QUERY_RECORDS=10000000  size of the query workspace, in records
#   PART_RUNS=160000   agent runs per extra file of the query workspace
#   WORD=failed        search word for the query (in most agentgen zap error messages)
#   QUERY_RUNS=20      timed query repetitions
#   ONLY_BASELINES=1   measure sqlite3 and lnav only (no Sightline build, no query part)
#   STRICT=1           exit 1 when a target is missed (default: report only)
set -euo pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
ROOT="$(cd "$HERE/.." && pwd)"
SHARED="${SIGHTLINE_SHARED:-$ROOT/../shared}"
SHARED="$(cd "$SHARED" && pwd)"
AGENTGEN="$SHARED/agentgen/agentgen.py"
BASELINES="$SHARED/bench"

RUNS="${RUNS:-160000}"
ROUNDS="${ROUNDS:-3}"
WORK="${WORK:-/tmp/sightline-bench}"
JOBS="${JOBS:-0}"
SKIP_10M="${SKIP_10M:-0}"
QUERY_RECORDS="${QUERY_RECORDS:-10000000}"
WORD="${WORD:-failed}"
QUERY_RUNS="${QUERY_RUNS:-20}"
PART_RUNS="${PART_RUNS:-160000}"
ONLY_BASELINES="${ONLY_BASELINES:-0}"
STRICT="${STRICT:-0}"
SEED=42

section() { printf '\n==== %s ====\n' "$*"; }
note() { printf '  %s\n' "$*"; }
die() { printf 'bench: %s\n' "$*" >&2; exit 1; }

# median of the numbers given as arguments
median() { printf '%s\n' "$@" | sort -g | awk '{a[NR]=$1} END {if (NR%2) print a[(NR+1)/2]; else printf "%.3f\n", (a[NR/2]+a[NR/2+1])/2}'; }
max() { printf '%s\n' "$@" | sort -g | tail -n 1; }
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (b > 0) printf "%.2f", a / b; else print "n/a" }'; }
kb_to_mb() { awk -v k="$1" 'BEGIN { printf "%.0f", k / 1024 }'; }

# timed OUT_PREFIX CMD...: runs CMD under /usr/bin/time, leaves "SECONDS KB" in $OUT_PREFIX.time
# and the command's stdout+stderr in $OUT_PREFIX.log. Fails the bench if CMD fails.
timed() {
    local prefix="$1"; shift
    if ! /usr/bin/time -f '%e %M' -o "$prefix.time" "$@" >"$prefix.log" 2>&1; then
        tail -n 20 "$prefix.log" >&2
        die "command failed: $*"
    fi
}

# ---------------------------------------------------------------------------------------------
section "tools"
mkdir -p "$WORK"
WORK="$(cd "$WORK" && pwd)"
need=()
command -v sqlite3 >/dev/null || need+=(sqlite3)
command -v lnav >/dev/null || need+=(lnav)
[ -x /usr/bin/time ] || need+=(time)
command -v hyperfine >/dev/null || need+=(hyperfine)
if [ "${#need[@]}" -gt 0 ]; then
    if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
        note "installing ${need[*]}"
        export DEBIAN_FRONTEND=noninteractive
        apt-get update -qq >/dev/null || true
        # one by one, so that a missing optional tool (hyperfine) does not block the others
        for p in "${need[@]}"; do
            apt-get install -y -qq --no-install-recommends "$p" >/dev/null || note "could not install $p"
        done
    else
        note "missing ${need[*]} and not root: install them by hand"
    fi
fi
command -v sqlite3 >/dev/null || die "sqlite3 is required"
[ -x /usr/bin/time ] || die "/usr/bin/time (Debian package 'time') is required"
HAVE_LNAV=0; command -v lnav >/dev/null && HAVE_LNAV=1
HAVE_HYPERFINE=0; command -v hyperfine >/dev/null && HAVE_HYPERFINE=1
SQLITE_VERSION="$(sqlite3 --version | cut -d' ' -f1)"
LNAV_VERSION="$( [ "$HAVE_LNAV" = 1 ] && lnav -V | head -n 1 || echo 'lnav: not installed')"
note "sqlite3 $SQLITE_VERSION; $LNAV_VERSION; hyperfine: $([ "$HAVE_HYPERFINE" = 1 ] && hyperfine --version || echo no)"

if [ "$ONLY_BASELINES" = 1 ]; then
    SIGHTLINE=""
elif [ -z "${SIGHTLINE:-}" ]; then
    section "build sightline (cargo build --release)"
    (cd "$ROOT" && cargo build --release)
    target="${CARGO_TARGET_DIR:-target}"
    case "$target" in /*) ;; *) target="$ROOT/$target" ;; esac # cargo reads it relative to $ROOT
    SIGHTLINE="$target/release/sightline"
fi
if [ -n "$SIGHTLINE" ]; then
    [ -x "$SIGHTLINE" ] || SIGHTLINE="$(command -v "$SIGHTLINE" || true)"
    [ -n "$SIGHTLINE" ] && [ -x "$SIGHTLINE" ] || die "no executable sightline binary"
    note "sightline: $SIGHTLINE"
fi

# ---------------------------------------------------------------------------------------------
# gen_zap OUT RUNS SEED START: write an agentgen zap file once; later runs reuse it.
gen_zap() {
    local out="$1" runs="$2" seed="$3" start="$4"
    if [ -s "$out" ]; then
        note "cached: $out"
        return
    fi
    local tmp="$out.partial.jsonl"
    python3 "$AGENTGEN" logs --style zap --runs "$runs" --seed "$seed" --start "$start" \
        --jobs "$JOBS" -o "$tmp"
    mv "$tmp.truth.json" "$out.truth.json"
    mv "$tmp" "$out"
}

section "input: agentgen logs --style zap --runs $RUNS"
FILE="$WORK/zap-r$RUNS-s$SEED.jsonl"
gen_zap "$FILE" "$RUNS" "$SEED" 2024-06-01T12:00:00Z
LINES="$(wc -l <"$FILE")"
BYTES="$(stat -c %s "$FILE")"
note "$FILE: $LINES lines, $(awk -v b="$BYTES" 'BEGIN { printf "%.0f MB", b / 1e6 }')"
cat "$FILE" >/dev/null # warm the page cache, so that round 1 of the first tool is not penalised

# lnav: `-I DIR` looks for DIR/formats/*/
LNAV_CONF="$WORK/lnav-conf"
rm -rf "$LNAV_CONF"
mkdir -p "$LNAV_CONF/formats/agentgen"
cp "$BASELINES/lnav-formats/zap_log.json" "$LNAV_CONF/formats/agentgen/"

SQL_IMPORT="$WORK/sqlite-import.sql"
sed "s#@@FILE@@#$FILE#" "$BASELINES/sqlite-baseline-import.sql" >"$SQL_IMPORT"

sqlite_s=(); sqlite_kb=(); lnav_s=(); lnav_kb=(); sl_s=(); sl_kb=()
for round in $(seq 1 "$ROUNDS"); do
    section "round $round/$ROUNDS"
    R="$WORK/round"
    rm -rf "$R"; mkdir -p "$R"

    # sqlite3 shell: two steps on a fresh database, summed
    timed "$R/sqlite-import" sqlite3 "$R/base.db" <"$SQL_IMPORT"
    timed "$R/sqlite-transform" sqlite3 "$R/base.db" <"$BASELINES/sqlite-baseline-transform.sql"
    read -r s1 k1 <"$R/sqlite-import.time"
    read -r s2 k2 <"$R/sqlite-transform.time"
    n="$(tail -n 1 "$R/sqlite-transform.log")"
    [ "$n" = "$LINES" ] || note "WARNING: sqlite3 loaded $n rows, file has $LINES lines"
    sqlite_s+=("$(awk -v a="$s1" -v b="$s2" 'BEGIN { printf "%.2f", a + b }')")
    sqlite_kb+=("$(max "$k1" "$k2")")
    note "sqlite3:   ${sqlite_s[-1]} s (import $s1 + transform $s2), $(kb_to_mb "${sqlite_kb[-1]}") MB, $n rows"
    rm -f "$R"/base.db*

    # lnav: a fresh HOME per round. lnav 0.11 keeps its config and formats in ~/.lnav (or
    # $XDG_CONFIG_HOME/lnav), and falls back to the current directory when HOME does not exist,
    # so the directory is created first. In headless mode (-n) it saved no index or session.
    if [ "$HAVE_LNAV" = 1 ]; then
        mkdir -p "$R/lnav-home"
        (cd "$R" && timed "$R/lnav" env HOME="$R/lnav-home" XDG_CONFIG_HOME="$R/lnav-home/.config" \
            lnav -I "$LNAV_CONF" -n -c ';SELECT count(*) FROM all_logs' "$FILE" </dev/null)
        read -r s k <"$R/lnav.time"
        n="$(awk 'NF { last = $1 } END { print last }' "$R/lnav.log")"
        [ "$n" = "$LINES" ] || note "WARNING: lnav counted $n records, file has $LINES lines"
        [ "${n:-0}" -gt 0 ] 2>/dev/null || die "lnav counted no records: is the zap format loaded?"
        lnav_s+=("$s"); lnav_kb+=("$k")
        note "lnav:      $s s, $(kb_to_mb "$k") MB, $n records"
    fi

    # sightline: full ingest into a fresh workspace
    if [ -n "$SIGHTLINE" ]; then
        timed "$R/sightline" "$SIGHTLINE" --db "$R/sightline.db" ingest "$FILE" </dev/null
        read -r s k <"$R/sightline.time"
        sl_s+=("$s"); sl_kb+=("$k")
        note "sightline: $s s, $(kb_to_mb "$k") MB"
        if [ "$round" = 1 ]; then sed 's/^/    | /' "$R/sightline.log" | tail -n 15; fi
        rm -f "$R"/sightline.db*
    fi
done

# ---------------------------------------------------------------------------------------------
# The query workspace: ~QUERY_RECORDS records. Ingest dedups by content, so the extra records come
# from further agentgen files with other seeds and later start times, never from copies.
QUERY_MS=""; QUERY_N=""; WS_RECORDS=""; WS_KB=()
if [ -n "$SIGHTLINE" ] && [ "$SKIP_10M" != 1 ]; then
    section "query workspace: ~$QUERY_RECORDS records"
    total_runs="$(awk -v q="$QUERY_RECORDS" -v l="$LINES" -v r="$RUNS" 'BEGIN { printf "%d", q * r / l + 0.999 }')"
    files=("$FILE"); left=$((total_runs - RUNS)); part=1
    while [ "$left" -gt 0 ]; do
        n=$((left < PART_RUNS ? left : PART_RUNS))
        # each part starts 10 simulated days after the previous one
        start="$(date -u -d "2024-06-01 12:00:00 UTC + $((part * 10)) days" +%Y-%m-%dT%H:%M:%SZ)"
        f="$WORK/zap-r$n-s$((SEED + part)).jsonl"
        gen_zap "$f" "$n" "$((SEED + part))" "$start"
        files+=("$f"); left=$((left - n)); part=$((part + 1))
    done
    WS="$WORK/query-workspace.db"
    # rebuild when the file list or the binary changed since it was built (schema may differ)
    key="$(basename -a "${files[@]}" | tr '\n' ' ')"
    if [ ! -e "$WS" ] || [ ! -s "$WS.done" ] || [ "$SIGHTLINE" -nt "$WS.done" ] || [ "$(head -n 1 "$WS.done")" != "$key" ]; then
        rm -f "$WS" "$WS"-wal "$WS"-shm "$WS.done"
        for f in "${files[@]}"; do
            timed "$WORK/ws-ingest" "$SIGHTLINE" --db "$WS" ingest "$f" </dev/null
            read -r s k <"$WORK/ws-ingest.time"
            WS_KB+=("$k")
            note "ingested $(basename "$f"): $s s, $(kb_to_mb "$k") MB peak RSS"
        done
        { echo "$key"; cat "${files[@]}" | wc -l; } >"$WS.done"
    else
        note "cached: $WS"
    fi
    WS_RECORDS="$(sed -n 2p "$WS.done")"
    note "workspace: $WS_RECORDS records, $(du -ch "$WS"* 2>/dev/null | tail -n 1 | cut -f1) on disk"

    section "query: logs --level error --search $WORD --limit 100"
    QCMD=("$SIGHTLINE" --db "$WS" logs --level error --search "$WORD" --limit 100)
    "${QCMD[@]}" >"$WORK/query.out" </dev/null
    QUERY_N="$(wc -l <"$WORK/query.out")"
    note "one run printed $QUERY_N lines"
    [ "$QUERY_N" -gt 0 ] || note "WARNING: the query printed nothing; is '$WORD' in error messages?"
    if [ "$HAVE_HYPERFINE" = 1 ]; then
        hyperfine -N --warmup 3 --runs "$QUERY_RUNS" --export-json "$WORK/query.json" \
            "$(printf '%q ' "${QCMD[@]}")"
        QUERY_MS="$(python3 -c 'import json,sys; print("%.1f" % (json.load(open(sys.argv[1]))["results"][0]["median"] * 1000))' "$WORK/query.json")"
    else
        for _ in 1 2 3; do "${QCMD[@]}" >/dev/null </dev/null; done
        ms=()
        for _ in $(seq 1 "$QUERY_RUNS"); do
            t0="$(date +%s%N)"; "${QCMD[@]}" >/dev/null </dev/null; t1="$(date +%s%N)"
            ms+=("$(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.1f", (b - a) / 1e6 }')")
        done
        QUERY_MS="$(median "${ms[@]}")"
    fi
    note "median: $QUERY_MS ms"
fi

# ---------------------------------------------------------------------------------------------
section "results"
FAILED=0
# check VALUE OP TARGET -> PASS / FAIL (OP is an awk comparison, e.g. "<" or "<=")
check() {
    if awk -v v="$1" -v t="$3" "BEGIN { exit !(v != \"n/a\" && v + 0 $2 t + 0) }"; then echo PASS; else echo FAIL; fi
}
SQ_MED="$(median "${sqlite_s[@]}")"; SQ_MB="$(kb_to_mb "$(max "${sqlite_kb[@]}")")"
if [ "$HAVE_LNAV" = 1 ]; then
    LN_MED="$(median "${lnav_s[@]}")"; LN_MB="$(kb_to_mb "$(max "${lnav_kb[@]}")")"
fi
if [ -n "$SIGHTLINE" ]; then
    SL_MED="$(median "${sl_s[@]}")"
    SL_MB="$(kb_to_mb "$(max "${sl_kb[@]}" "${WS_KB[@]}")")"
    R_SQ="$(ratio "$SL_MED" "$SQ_MED")"; V_SQ="$(check "$R_SQ" "<=" 0.5)"
    V_RSS="$(check "$SL_MB" "<" 300)"
    [ "$V_SQ" = PASS ] && [ "$V_RSS" = PASS ] || FAILED=1
    if [ -n "$QUERY_MS" ]; then
        V_Q="$(check "$QUERY_MS" "<" 200)"
        [ "$V_Q" = PASS ] || FAILED=1
    fi
fi
{
    echo "## Sightline ingest benchmark"
    echo
    echo "$(date -u +%Y-%m-%dT%H:%MZ), $(nproc) cores, commit $(git -C "$ROOT" rev-parse --short HEAD 2>/dev/null || echo none)."
    echo "Input: agentgen \`logs --style zap --runs $RUNS --seed $SEED\`, $LINES lines, $(awk -v b="$BYTES" 'BEGIN { printf "%.0f MB", b / 1e6 }'), warm page cache."
    echo "Medians of $ROUNDS rounds; peak RSS is the largest seen."
    echo
    echo "| what | median wall | peak RSS |"
    echo "|---|---|---|"
    echo "| sqlite3 $SQLITE_VERSION shell, .import + INSERT..SELECT json_extract | $SQ_MED s | $SQ_MB MB |"
    if [ "$HAVE_LNAV" = 1 ]; then
        echo "| $LNAV_VERSION with the zap format, count(*) | $LN_MED s | $LN_MB MB |"
    fi
    if [ -n "$SIGHTLINE" ]; then
        echo "| sightline ingest | $SL_MED s | $(kb_to_mb "$(max "${sl_kb[@]}")") MB |"
        echo
        echo "| check | value | target | verdict |"
        echo "|---|---|---|---|"
        echo "| sightline / sqlite3 shell, wall | $R_SQ | <= 0.50 | $V_SQ |"
        if [ "$HAVE_LNAV" = 1 ]; then
            echo "| sightline / lnav, wall | $(ratio "$SL_MED" "$LN_MED") | reported | - |"
        fi
        echo "| sightline ingest peak RSS (all ingests of this run) | $SL_MB MB | < 300 MB | $V_RSS |"
        if [ -n "$QUERY_MS" ]; then
            echo "| \`logs --level error --search $WORD --limit 100\` on $WS_RECORDS records ($QUERY_N lines out), median of $QUERY_RUNS | $QUERY_MS ms | < 200 ms | $V_Q |"
        fi
    fi
} | tee "$WORK/results.md"
note "written to $WORK/results.md"

if [ "$STRICT" = 1 ] && [ "$FAILED" = 1 ]; then
    exit 1
fi
