#!/usr/bin/env bash
# MONITOR capture benchmark, run by hand: a real Redis 7.0.15 under redis-benchmark with
# `redis-cli monitor` capturing, then `redis-cost analyze` of the capture (lines/s, MB/s,
# peak RSS). usage: Tests/bench/monitor-bench.sh [REQUESTS_PER_TEST] [WORKDIR]
source "$(dirname "$0")/common.sh" 200000 "$@"
capture="$work/capture.txt"
if [ ! -s "$capture" ]; then
    p="$(port)"
    "$REDIS_COST_REDIS7" --port "$p" --bind 127.0.0.1 --save "" --appendonly no --daemonize no --logfile "$work/server.log" &
    pid=$!
    for _ in $(seq 400); do redis-cli -p "$p" ping >/dev/null 2>&1 && break; sleep 0.05; done
    redis-cli -p "$p" ping >/dev/null 2>&1 || { echo "the server did not start: see its log in $work" >&2; exit 1; }
    redis-cli -p "$p" monitor > "$capture" &
    mon=$!
    sleep 0.3
    redis-benchmark -p "$p" -n "$n" -r 100000 -P 16 -q -t set,get,incr,lpush,rpop,sadd,hset,spop,zadd,lrange_100 > "$work/benchmark.log" 2>&1
    sleep 1
    kill "$mon" 2>/dev/null || true
    redis-cli -p "$p" shutdown nosave >/dev/null 2>&1 || true
    wait "$pid" 2>/dev/null || true
fi
lines="$(wc -l < "$capture")"
bytes="$(wc -c < "$capture")"
/usr/bin/time -f "%e %M" -o "$work/monitor.time" "$bin" analyze "$capture" --format json -o "$work/monitor-report.json"
read -r seconds kb < "$work/monitor.time"
python3 - "$lines" "$bytes" "$seconds" "$kb" "$work/monitor-report.json" <<'PY'
import sys, json
lines, size, s, kb = int(sys.argv[1]), int(sys.argv[2]), float(sys.argv[3]), int(sys.argv[4])
calls = json.load(open(sys.argv[5]))["totals"]["calls"]
print(f"capture: {lines:,} lines, {size/1e6:.0f} MB, {calls:,} calls analyzed")
print(f"redis-cost analyze: {s:.2f} s, {lines/s:,.0f} lines/s, {size/1e6/s:.1f} MB/s, peak RSS {kb/1024:.0f} MB")
PY
echo "files kept in $work" >&2
