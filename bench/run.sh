#!/usr/bin/env bash
# Surge benchmark: intake throughput and latency against the raw database floor, staff pages
# on a large dataset, memory and start-up time, on SQLite and PostgreSQL. Loopback only.
#
#   bench/run.sh                 release build, 1,000,000 made-up requests, 8 s per load run
#   bench/run.sh --quick         debug build, 5,000 requests, 2 s per load run (CI)
#   BENCH_COUNT=200000 BENCH_SECONDS=5 bench/run.sh
#   bench/run.sh --sqlite-only   skip PostgreSQL
#
# Needs wrk (installed from Debian when missing) and, for PostgreSQL, a server at
# 127.0.0.1:5432 where user postgres may create databases (BENCH_PG to change it).
set -euo pipefail
cd "$(dirname "$0")/.."

QUICK=0
BACKENDS="sqlite postgres"
for arg in "$@"; do
    case "$arg" in
        --quick) QUICK=1 ;;
        --sqlite-only) BACKENDS="sqlite" ;;
        -h | --help) sed -n '2,12p' "$0"; exit 0 ;;
        *) echo "unknown argument: $arg" >&2; exit 2 ;;
    esac
done
if [ "$QUICK" = 1 ]; then
    COUNT="${BENCH_COUNT:-5000}"
    SECONDS_PER_RUN="${BENCH_SECONDS:-2}"
    PROFILE="${BENCH_PROFILE:-debug}"
else
    COUNT="${BENCH_COUNT:-1000000}"
    SECONDS_PER_RUN="${BENCH_SECONDS:-8}"
    PROFILE="${BENCH_PROFILE:-release}"
fi
PG_ADMIN_URL="${BENCH_PG:-postgres://postgres@127.0.0.1:5432/postgres}"
TARGET="${CARGO_TARGET_DIR:-target}"
BIN="$TARGET/$PROFILE/case-triage"

if ! command -v wrk >/dev/null; then
    echo "wrk is missing; installing it from Debian" >&2
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq wrk >/dev/null 2>&1 \
        || { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq wrk >/dev/null; }
fi
command -v wrk >/dev/null || { echo "FAIL: wrk is not available" >&2; exit 1; }

echo "building ($PROFILE)" >&2
if [ "$PROFILE" = release ]; then
    cargo build --release --locked --bin case-triage >&2
else
    cargo build --locked --bin case-triage >&2
fi

WORK="$(mktemp -d)"
SERVER_PID=""
PG_DB=""
cleanup() {
    [ -n "$SERVER_PID" ] && kill "$SERVER_PID" 2>/dev/null && wait "$SERVER_PID" 2>/dev/null
    [ -n "$PG_DB" ] && psql -q "$PG_ADMIN_URL" -c "DROP DATABASE IF EXISTS $PG_DB" >/dev/null 2>&1
    rm -rf "$WORK" 2>/dev/null || { sleep 1; rm -rf "$WORK"; }
}
trap cleanup EXIT

PORT="$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')"
BASE="http://127.0.0.1:$PORT"
PASSWORD="bench-password-$RANDOM-$RANDOM"
ROWS=()
row() { ROWS+=("$(printf '%-8s | %-44s | %4s | %9s | %9s | %9s | %s' "$@")"); }
ms() { python3 -c "import sys; print(f'{float(sys.argv[1]) * 1000:.1f}')" "$1"; }

app_env() {
    env DATA_DIR="$DATA_DIR" DATABASE_URL="$DATABASE_URL" BIND="127.0.0.1:$PORT" \
        RATE_LIMIT_PER_MINUTE=0 LOGIN_RATE_LIMIT_PER_MINUTE=0 DIGEST_HOUR=off LOG=warn "$@"
}

# Starts the server; STARTUP_MS: milliseconds from launch to the first 200 from /readyz.
start_server() {
    local t0 t1
    t0=$(date +%s%N)
    # Not through app_env: a backgrounded function is a subshell, and $! would be its pid.
    env DATA_DIR="$DATA_DIR" DATABASE_URL="$DATABASE_URL" BIND="127.0.0.1:$PORT" \
        RATE_LIMIT_PER_MINUTE=0 LOGIN_RATE_LIMIT_PER_MINUTE=0 DIGEST_HOUR=off LOG=warn \
        "$BIN" serve >>"$WORK/server.log" 2>&1 &
    SERVER_PID=$!
    for _ in $(seq 1 4000); do
        if [ "$(curl -s -o /dev/null -w '%{http_code}' "$BASE/readyz" 2>/dev/null)" = 200 ]; then
            t1=$(date +%s%N)
            STARTUP_MS=$(((t1 - t0) / 1000000))
            return 0
        fi
        kill -0 "$SERVER_PID" 2>/dev/null || break
        sleep 0.002
    done
    echo "FAIL: the server did not start" >&2
    tail -n 30 "$WORK/server.log" >&2
    exit 1
}

# Stops the server; RSS_MB: its peak resident memory.
stop_server() {
    local kb
    kb=$(awk '/VmHWM/ {print $2}' "/proc/$SERVER_PID/status")
    kill "$SERVER_PID"
    wait "$SERVER_PID" 2>/dev/null || true
    SERVER_PID=""
    RSS_MB=$((kb / 1024))
}

# load <label> <connections> <path> [form]: one wrk run, one table row; prints req/s.
load() {
    local label=$1 conns=$2 path=$3 form=${4:-0} out
    out=$(BENCH_FORM=$form wrk -t2 -c"$conns" -d"${SECONDS_PER_RUN}s" --timeout 10s \
        -s bench/intake.lua "$BASE$path" 2>"$WORK/wrk.err" | grep '^RESULT') \
        || { echo "FAIL: wrk"; cat "$WORK/wrk.err"; exit 1; } >&2
    # RESULT rps=… p50=… p99=… requests=… errors=…
    eval "${out#RESULT }"
    if [ "$errors" != 0 ]; then
        echo "FAIL: $errors failed requests in \"$label\"" >&2
        head -n 5 "$WORK/wrk.err" >&2
        tail -n 20 "$WORK/server.log" >&2
        exit 1
    fi
    row "$BACKEND" "$label" "$conns" "$rps" "$p50" "$p99" "$requests requests"
    LAST_RPS=$rps
}

raw() {
    local conns=$1 out ratio
    out=$(app_env "$BIN" bench-raw --connections "$conns" --seconds "$SECONDS_PER_RUN")
    # raw N connections: D intakes in S s = R/s, p50 A ms, p99 B ms
    read -r rrps rp50 rp99 < <(python3 -c '
import re, sys
m = re.search(r"= (\d+)/s, p50 ([\d.]+) ms, p99 ([\d.]+) ms", sys.argv[1])
print(*m.groups())' "$out")
    ratio=$(python3 -c "import sys; print(f'{float(sys.argv[1]) / max(float(sys.argv[2]), 1):.2f}x')" \
        "${APP_RPS[$conns]}" "$rrps")
    row "$BACKEND" "raw inserts, 1 transaction per intake" "$conns" "$rrps" "$rp50" "$rp99" \
        "app/raw = $ratio"
}

# page <label> <path>: median of 5 timed GETs as the logged-in admin.
page() {
    local label=$1 path=$2 times code
    code=$(curl -s -o "$WORK/page" -w '%{http_code}' -b "$WORK/jar" "$BASE$path")
    [ "$code" = 200 ] || { echo "FAIL: $path answered $code" >&2; exit 1; }
    times=$(for _ in 1 2 3 4 5; do curl -s -o /dev/null -w '%{time_total}\n' -b "$WORK/jar" "$BASE$path"; done | sort -n)
    row "$BACKEND" "$label" 1 "" "$(ms "$(echo "$times" | sed -n 3p)")" "" "median of 5; max $(ms "$(echo "$times" | tail -n1)") ms"
}

# search <label> <text>: median of 5 timed person searches (posted, as the page does) as
# the logged-in admin.
search() {
    local label=$1 q=$2 csrf code times
    csrf=$(curl -s -b "$WORK/jar" "$BASE/admin/people" | grep -o 'name="csrf" value="[^"]*"' | head -n1 | sed 's/.*value="//; s/"$//')
    post() { curl -s -o "$WORK/page" -b "$WORK/jar" --data-urlencode "csrf=$csrf" --data-urlencode "q=$q" "$@" "$BASE/admin/people"; }
    code=$(post -w '%{http_code}')
    [ "$code" = 200 ] || { echo "FAIL: the person search answered $code" >&2; exit 1; }
    times=$(for _ in 1 2 3 4 5; do post -w '%{time_total}\n'; done | sort -n)
    row "$BACKEND" "$label" 1 "" "$(ms "$(echo "$times" | sed -n 3p)")" "" "median of 5; max $(ms "$(echo "$times" | tail -n1)") ms"
}

# Waits until the outbox has sent the intake runs' mail (to files), so that the pages are
# timed on a quiet server, and reports how fast it went.
drain_mail() {
    local pending first t0 t1
    pending() { curl -s "$BASE/metrics" | awk '/^case_triage_outbox_mails\{status="pending"\}/ {print $2}'; }
    first=$(pending)
    t0=$(date +%s%N)
    for _ in $(seq 1 1500); do
        [ "$(pending)" = 0 ] && break
        sleep 0.2
    done
    t1=$(date +%s%N)
    row "$BACKEND" "intake runs' mail, sent after start" "" \
        "$(python3 -c "print(f'{${first:-0} / max(($t1 - $t0) / 1e9, 0.001):.0f}')")" "" "" \
        "${first:-0} mails in $(python3 -c "print(f'{($t1 - $t0) / 1e9:.1f}')") s, now $(pending) waiting"
}

create_admin() {
    printf '%s\n' "$PASSWORD" | app_env "$BIN" admin create --email bench@example.org \
        --name Bench --role admin >/dev/null
}

login() {
    rm -f "$WORK/jar"
    local csrf code
    csrf=$(curl -s -c "$WORK/jar" -b "$WORK/jar" "$BASE/admin/login" | grep -o 'name="csrf" value="[^"]*"' | sed 's/.*value="//; s/"$//')
    code=$(curl -s -o /dev/null -w '%{http_code}' -c "$WORK/jar" -b "$WORK/jar" \
        --data-urlencode "email=bench@example.org" --data-urlencode "password=$PASSWORD" \
        --data-urlencode "csrf=$csrf" "$BASE/admin/login")
    [ "$code" = 303 ] || { echo "FAIL: login answered $code" >&2; exit 1; }
}

for BACKEND in $BACKENDS; do
    DATA_DIR="$WORK/$BACKEND"
    mkdir -p "$DATA_DIR"
    if [ "$BACKEND" = sqlite ]; then
        DATABASE_URL="sqlite://$DATA_DIR/case-triage.db"  # an absolute path: sqlite:///tmp/…
    else
        if ! pg_isready -q -h 127.0.0.1 -p 5432; then
            echo "PostgreSQL is not reachable on 127.0.0.1:5432: skipping it" >&2
            continue
        fi
        PG_DB="ct_bench_$$"
        psql -q "$PG_ADMIN_URL" -c "DROP DATABASE IF EXISTS $PG_DB" -c "CREATE DATABASE $PG_DB" >/dev/null
        DATABASE_URL="${PG_ADMIN_URL%/*}/$PG_DB"
    fi
    echo "== $BACKEND: intake on an empty database" >&2
    start_server
    row "$BACKEND" "start to first 200 (empty database)" "" "" "$STARTUP_MS" "" "ms"
    declare -A APP_RPS=()
    for c in 8 64; do
        load "intake JSON POST /api/v1/requests" "$c" /api/v1/requests
        APP_RPS[$c]=$LAST_RPS
    done
    for c in 8 64; do
        load "intake form POST /" "$c" / 1
    done
    stop_server
    row "$BACKEND" "peak RSS (VmHWM) after the intake runs" "" "" "" "" "$RSS_MB MB"
    echo "== $BACKEND: raw database baseline" >&2
    for c in 8 64; do raw "$c"; done

    echo "== $BACKEND: loading $COUNT made-up requests" >&2
    t0=$(date +%s%N)
    app_env "$BIN" demo-data --count "$COUNT" >/dev/null
    t1=$(date +%s%N)
    secs=$(python3 -c "print(f'{($t1 - $t0) / 1e9:.1f}')")
    row "$BACKEND" "demo-data --count $COUNT" "" \
        "$(python3 -c "print(f'{$COUNT / max(($t1 - $t0) / 1e9, 0.001):.0f}')")" "" "" "$secs s in total"

    echo "== $BACKEND: staff pages on $COUNT requests" >&2
    # Before the server starts: its mail worker is still busy with the intake runs' mail.
    create_admin
    start_server
    row "$BACKEND" "start to first 200 (loaded)" "" "" "$STARTUP_MS" "" "ms"
    drain_mail
    login
    page "dashboard /admin, with the forecast" /admin
    grep -q 'id="forecast-h"' "$WORK/page" || { echo "FAIL: the dashboard has no forecast" >&2; exit 1; }
    queue=$(grep -o 'href="/admin/queues/[a-z0-9_-]*"' "$WORK/page" | head -n1 | sed 's/.*queues\///; s/"$//')
    page "queue page 1 (/admin/queues/$queue)" "/admin/queues/$queue"
    ref=$(grep -o 'TF-[0-9A-Z]\{4\}-[0-9A-Z]\{4\}' "$WORK/page" | head -n1)
    # A keyset cursor five days from now-ish: deep in the oldest-first list.
    deep_ns=$(python3 -c 'import time; print(int((time.time() - 5 * 86400) * 1e9))')
    page "queue deep page (?after= 5 days ago)" "/admin/queues/$queue?after=${deep_ns}_00000000-0000-0000-0000-000000000000"
    page "queue page, newest first" "/admin/queues/$queue?sort=newest"
    page "queue page, priority=high" "/admin/queues/$queue?priority=high"
    page "queue page, received 7-14 days ago" "/admin/queues/$queue?age=7-14"
    page "queue list with open counts (/admin/queues)" /admin/queues
    page "all open cases (/admin/cases)" /admin/cases
    [ -n "$ref" ] && page "case page /admin/requests/{ref}" "/admin/requests/$ref"
    page "forecast alone (GET /api/v1/stats/forecast)" /api/v1/stats/forecast
    search "person search: name + Solar Hijri year" "Mohammad Karimi 1364"
    search "person search: phone written locally" "0700 123 456"
    search "person search: Arabic script + SH date" "محمد کریمی ۱۳۶۹/۱۰/۱۱"
    t=$(curl -s -o "$WORK/export.csv" -w '%{time_total}' -b "$WORK/jar" "$BASE/admin/export.csv?status=all&category=refugee_referral")
    lines=$(($(wc -l <"$WORK/export.csv") - 1))
    row "$BACKEND" "CSV export (refugee_referral, all statuses)" 1 "" "$(ms "$t")" "" "$lines rows (multi-line cells count double)"
    for c in 8 64; do
        load "intake JSON, duplicate matching on $COUNT" "$c" /api/v1/requests
    done
    stop_server
    row "$BACKEND" "peak RSS (VmHWM) after pages and intake" "" "" "" "" "$RSS_MB MB"
    if [ -n "$PG_DB" ]; then
        psql -q "$PG_ADMIN_URL" -c "DROP DATABASE IF EXISTS $PG_DB" >/dev/null
        PG_DB=""
    fi
    # The data directory (its tens of thousands of mail files) stays until the run ends:
    # on ext4 without a journal, a new file skips every inode of its group freed in the
    # last minutes, one by one, so files created just after a large delete cost 0.6 ms
    # each instead of 0.03, and the next backend's intake, which writes its mail to
    # files, ran 15 % slower for the cleanup of this one.
done

echo
echo "case-triage bench ($PROFILE build, $COUNT requests loaded, ${SECONDS_PER_RUN}s per load run, wrk -t2; $(nproc) cores)"
printf '%-8s | %-44s | %4s | %9s | %9s | %9s | %s\n' backend measure conn "req/s" "p50 ms" "p99 ms" note
printf '%s\n' "$(printf -- '-%.0s' $(seq 1 120))"
printf '%s\n' "${ROWS[@]}"
