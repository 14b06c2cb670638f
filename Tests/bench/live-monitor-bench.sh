#!/usr/bin/env bash
# Live MONITOR benchmark, run by hand: a real Redis 7.0.15 under redis-benchmark at full speed
# (pipelined, several commands) while `redis-cost monitor` watches it. Prints the calls the
# session counted beside the server's INFO commandstats delta (lost calls), the calls/s, the
# largest output buffer of the monitor client (CLIENT LIST omem, polled every 100 ms) and the
# peak RSS; then the same with `redis-cli monitor > /dev/null` as the reference reader.
# usage: Tests/bench/live-monitor-bench.sh [REQUESTS_PER_TEST] [WORKDIR]
source "$(dirname "$0")/common.sh" 200000 "$@"
p="$(port)"
"$REDIS_COST_REDIS7" --port "$p" --bind 127.0.0.1 --save "" --appendonly no --daemonize no --logfile "$work/server.log" &
server=$!
trap 'redis-cli -p "$p" shutdown nosave >/dev/null 2>&1 || kill "$server" 2>/dev/null || true' EXIT
for _ in $(seq 400); do redis-cli -p "$p" ping >/dev/null 2>&1 && break; sleep 0.05; done
tests=set,get,incr,lpush,rpop,sadd,hset,spop,zadd,lrange_100

stats() { redis-cli -p "$p" info commandstats | tr -d '\r' | grep '^cmdstat_' ; }
# Polls the monitor client's omem every 100 ms; prints the largest seen when told to stop.
watch_omem() {
    local max=0
    while [ ! -e "$work/stop-watch" ]; do
        local omem
        omem="$(redis-cli -p "$p" client list | tr -d '\r' | grep 'flags=O' | sed -n 's/.* omem=\([0-9]*\).*/\1/p' | sort -n | tail -1)"
        [ -n "$omem" ] && [ "$omem" -gt "$max" ] && max="$omem"
        sleep 0.1
    done
    echo "$max" > "$work/omem.max"
}
wait_attached() { for _ in $(seq 400); do redis-cli -p "$p" client list | grep -q 'flags=O' && return; sleep 0.02; done; echo "no monitor client" >&2; exit 1; }

run() {  # $1 = label, then the reader command
    local label="$1"; shift
    rm -f "$work/stop-watch" "$work/omem.max"
    "$@" &
    local reader=$!
    wait_attached
    stats > "$work/before-$label.txt"
    watch_omem &
    local watcher=$!
    local start end
    start="$(date +%s.%N)"
    redis-benchmark -p "$p" -n "$n" -r 100000 -P 16 -q -t "$tests" > "$work/benchmark-$label.log" 2>&1
    end="$(date +%s.%N)"
    touch "$work/stop-watch"; wait "$watcher"
    # The reader runs under /usr/bin/time or sh: signal the process that does the reading.
    pkill -TERM -P "$reader" 2>/dev/null || kill -TERM "$reader"; wait "$reader" || true
    stats > "$work/after-$label.txt"
    echo "$start $end $(cat "$work/omem.max")" > "$work/run-$label.txt"
}

run redis-cost /usr/bin/time -f "%e %M" -o "$work/cost.time" "$bin" monitor -p "$p" --format json -o "$work/report.json"
run redis-cli sh -c "redis-cli -p $p monitor > /dev/null"
python3 - "$work" "$n" <<'PY'
import sys, json
work, n = sys.argv[1], int(sys.argv[2])
bench = ["set", "get", "incr", "lpush", "rpop", "sadd", "hset", "spop", "zadd", "lrange"]
def stats(name):
    out = {}
    for line in open(f"{work}/{name}"):
        field, value = line.strip().split(":", 1)
        out[field[len("cmdstat_"):]] = int(value.split(",")[0].split("=")[1])
    return out
def delta(label):
    before, after = stats(f"before-{label}.txt"), stats(f"after-{label}.txt")
    return {c: after.get(c, 0) - before.get(c, 0) for c in bench}
def run(label):
    start, end, omem = open(f"{work}/run-{label}.txt").read().split()
    return float(end) - float(start), int(omem)
report = json.load(open(f"{work}/report.json"))
counted = {c["name"].lower(): c["calls"] for c in report["commands"]}
d = delta("redis-cost")
ran = sum(d.values())
seen = sum(counted.get(c, 0) for c in bench)
seconds, omem = run("redis-cost")
cost_s, cost_kb = open(f"{work}/cost.time").read().split()
live = report["live"]
print(f"redis-benchmark -P 16 -n {n:,} per test, 10 tests: the server ran {ran:,} calls in {seconds:.2f} s ({ran/seconds:,.0f} calls/s while monitored)")
print(f"redis-cost monitor: counted {seen:,} of them, lost {ran - seen:,}; per command equal: {all(counted.get(c, 0) == d[c] for c in bench)}; "
      f"monitor omem max {omem/1e6:.1f} MB (polled every 100 ms; the session's own watch: {(live.get('maxMonitorOutputBytes') or 0)/1e6:.1f} MB); "
      f"peak RSS {int(cost_kb)/1024:.0f} MB; {live['keysSampled']:,} keys sampled")
seconds, omem = run("redis-cli")
ran = sum(delta("redis-cli").values())
print(f"reference, redis-cli monitor > /dev/null: the server ran {ran:,} calls in {seconds:.2f} s ({ran/seconds:,.0f} calls/s), monitor omem max {omem/1e6:.1f} MB")
PY
echo "files kept in $work" >&2
