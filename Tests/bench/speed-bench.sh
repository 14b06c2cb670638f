#!/usr/bin/env bash
# Issue 19's side-by-side, run by hand (not part of the tests). One real Redis 7.0.15 with
# `appendonly yes` (no RDB preamble) and `redis-cli monitor` capturing, under redis-benchmark's
# write-heavy mix, then SAVE: an appendonlydir, a MONITOR capture and a dump.rdb of the same
# workload. Then RUNS rounds (default 3) of `redis-cost analyze` on each (wall and CPU seconds,
# peak RSS) beside redis-server 7.0.15 loading the appendonlydir and the dump.rdb (the seconds
# its log reports, `used_memory_rss`), and redis-faina 0.1.0 on the capture once; each figure
# min–max over the rounds, the ratios from the same rounds.
# usage: [RUNS=3] Tests/bench/speed-bench.sh [REQUESTS_PER_TEST] [WORKDIR]
source "$(dirname "$0")/common.sh" 200000 "$@"
runs="${RUNS:-3}"
wait_ready() { for _ in $(seq 2400); do grep -q "Ready to accept connections" "$1" 2>/dev/null && return; sleep 0.05; done; echo "the server did not become ready: see $1" >&2; exit 1; }

if [ ! -f "$work/rdb/dump.rdb" ]; then
    rm -rf "$work/data" "$work/rdb"; mkdir -p "$work/data" "$work/rdb"
    p="$(port)"
    "$REDIS_COST_REDIS7" --port "$p" --bind 127.0.0.1 --dir "$work/data" --save "" --appendonly yes \
        --aof-use-rdb-preamble no --auto-aof-rewrite-percentage 0 --daemonize no --logfile "$work/make.log" &
    pid=$!; wait_ready "$work/make.log"
    monitored_benchmark "$p" "$work/capture.txt" 64
    redis-cli -p "$p" save >/dev/null
    redis-cli -p "$p" shutdown nosave >/dev/null 2>&1 || true; wait "$pid" 2>/dev/null || true
    mv "$work/data/dump.rdb" "$work/rdb/dump.rdb"
fi

# redis-server's own load of a folder: "seconds rss_bytes".
server_load() {
    local kind="$1" p log="$work/load-$1.log"
    p="$(port)"; rm -f "$log"
    if [ "$kind" = aof ]; then
        "$REDIS_COST_REDIS7" --port "$p" --bind 127.0.0.1 --dir "$work/data" --save "" --appendonly yes \
            --aof-use-rdb-preamble no --daemonize no --logfile "$log" &
    else
        "$REDIS_COST_REDIS7" --port "$p" --bind 127.0.0.1 --dir "$work/rdb" --dbfilename dump.rdb --save "" \
            --appendonly no --daemonize no --logfile "$log" &
    fi
    local pid=$!; wait_ready "$log"
    local seconds rss
    seconds="$(grep -o 'DB loaded from [a-z ]*: [0-9.]* seconds' "$log" | grep -o '[0-9.]* seconds' | cut -d' ' -f1)"
    rss="$(redis-cli -p "$p" info memory | tr -d '\r' | grep '^used_memory_rss:' | cut -d: -f2)"
    redis-cli -p "$p" shutdown nosave >/dev/null 2>&1 || true; wait "$pid" 2>/dev/null || true
    echo "$seconds $rss"
}

results="$work/speed-bench.txt"; : > "$results"
for run in $(seq "$runs"); do
    for input in aof:data/appendonlydir capture:capture.txt rdb:rdb/dump.rdb; do
        /usr/bin/time -f "cost ${input%%:*} %e %U %S %M" -a -o "$results" "$bin" analyze "$work/${input#*:}" --format json -o "$work/report-${input%%:*}.json"
    done
    echo "server aof $(server_load aof)" >> "$results"
    echo "server rdb $(server_load rdb)" >> "$results"
done
faina="$(setup_faina)"
/usr/bin/time -f "faina capture %e %M" -a -o "$results" "$REDIS_COST_PYTHON" "$faina/bin/redis-faina" "$work/capture.txt" > "$work/faina.txt"

python3 - "$results" "$work" <<'PY'
import json, sys
rows = [line.split() for line in open(sys.argv[1]) if line.strip()]
work = sys.argv[2]
def span(values, fmt="{:.2f}"):
    low, high = fmt.format(min(values)), fmt.format(max(values))
    return low if low == high else f"{low}–{high}"
cost = {k: [r for r in rows if r[0] == "cost" and r[1] == k] for k in ("aof", "capture", "rdb")}
server = {k: [r for r in rows if r[0] == "server" and r[1] == k] for k in ("aof", "rdb")}
faina = [r for r in rows if r[0] == "faina"]
report = {k: json.load(open(f"{work}/report-{k}.json")) for k in cost}
lines = sum(1 for _ in open(f"{work}/capture.txt"))
calls = report["aof"]["totals"]["calls"]
keys = report["rdb"]["snapshots"][0]["keys"]
print(f"inputs (redis-benchmark's write-heavy mix on Redis 7.0.15): appendonlydir {calls:,} calls, capture {lines:,} lines, dump.rdb {keys:,} keys; {len(cost['aof'])} rounds")
print(f"{'input':<22}{'redis-cost wall s':>20}{'CPU s':>14}{'peak RSS MB':>13}   reference")
for k, label in (("aof", "AOF"), ("capture", "capture"), ("rdb", "RDB")):
    wall = [float(r[2]) for r in cost[k]]; cpu = [float(r[3]) + float(r[4]) for r in cost[k]]; rss = [int(r[5]) / 1024 for r in cost[k]]
    if k in server:
        ss = [float(r[2]) for r in server[k]]; srss = [int(r[3]) / 2**20 for r in server[k]]
        ratios = [s / w for s, w in zip(ss, wall)]
        ref = f"redis-server load {span(ss)} s, {span(srss, '{:.0f}')} MB: redis-cost {span(ratios)}× as fast"
    else:
        fs, fkb = float(faina[0][2]), int(faina[0][3])
        ref = f"redis-faina {fs:.2f} s, {fkb / 1024:.0f} MB: redis-cost {span([fs / w for w in wall])}× as fast; {span([lines / w / 1e6 for w in wall])}M lines/s"
    print(f"{label:<22}{span(wall):>20}{span(cpu):>14}{span(rss, '{:.0f}'):>13}   {ref}")
PY
echo "files kept in $work" >&2
