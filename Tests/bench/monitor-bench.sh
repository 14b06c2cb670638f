#!/usr/bin/env bash
# MONITOR capture benchmark, run by hand: a real Redis 7.0.15 under redis-benchmark with
# `redis-cli monitor` capturing, then `redis-cost analyze` of the capture (lines/s, MB/s,
# peak RSS) beside redis-faina 0.1.0 (PyPI) on the same file. redis-faina is Python 2 and
# reads the pre-2.6 `(db 0)` prefix: it is downloaded into the work folder and patched there
# so that it runs at all (never committed). usage: Tests/bench/monitor-bench.sh [REQUESTS_PER_TEST] [WORKDIR]
source "$(dirname "$0")/common.sh" 200000 "$@"
capture="$work/capture.txt"
if [ ! -s "$capture" ]; then
    p="$(port)"
    "$REDIS_COST_REDIS7" --port "$p" --bind 127.0.0.1 --save "" --appendonly no --daemonize no --logfile "$work/server.log" &
    pid=$!
    for _ in $(seq 400); do redis-cli -p "$p" ping >/dev/null 2>&1 && break; sleep 0.05; done
    redis-cli -p "$p" ping >/dev/null 2>&1 || { echo "the server did not start: see its log in $work" >&2; exit 1; }
    monitored_benchmark "$p" "$capture" 16
    redis-cli -p "$p" shutdown nosave >/dev/null 2>&1 || true
    wait "$pid" 2>/dev/null || true
fi
lines="$(wc -l < "$capture")"
bytes="$(wc -c < "$capture")"
/usr/bin/time -f "%e %U %S %M" -o "$work/monitor.time" "$bin" analyze "$capture" --format json -o "$work/monitor-report.json"
read -r seconds user sys kb < "$work/monitor.time"

faina="$(setup_faina)"
/usr/bin/time -f "%e %M" -o "$work/faina.time" "$REDIS_COST_PYTHON" "$faina/bin/redis-faina" "$capture" > "$work/faina.txt"
read -r faina_seconds faina_kb < "$work/faina.time"
python3 - "$lines" "$bytes" "$seconds" "$kb" "$work/monitor-report.json" "$faina_seconds" "$faina_kb" "$work/faina.txt" "$user" "$sys" <<'PY'
import sys, json
lines, size, s, kb = int(sys.argv[1]), int(sys.argv[2]), float(sys.argv[3]), int(sys.argv[4])
cpu = float(sys.argv[9]) + float(sys.argv[10])
calls = json.load(open(sys.argv[5]))["totals"]["calls"]
fs, fkb = float(sys.argv[6]), int(sys.argv[7])
faina_lines = next(l.split()[-1] for l in open(sys.argv[8]) if l.startswith("Lines Processed"))
print(f"capture: {lines:,} lines, {size/1e6:.0f} MB, {calls:,} calls analyzed")
print(f"redis-cost analyze: {s:.2f} s ({cpu:.2f} s CPU), {lines/s:,.0f} lines/s, {size/1e6/s:.1f} MB/s, peak RSS {kb/1024:.0f} MB")
print(f"redis-faina 0.1.0 (patched, {faina_lines} lines processed): {fs:.2f} s, {lines/fs:,.0f} lines/s, {size/1e6/fs:.1f} MB/s, peak RSS {fkb/1024:.0f} MB")
PY
echo "files kept in $work" >&2
