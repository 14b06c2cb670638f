#!/usr/bin/env bash
# AOF replay benchmark, run by hand (not part of the tests):
#   1. a real Redis 7.0.15 with appendonly yes / aof-use-rdb-preamble no takes
#      redis-benchmark -n N -r N -P 64 -t set,lpush,sadd,hset,zadd,incr  (N=1000000: ~330 MB AOF)
#   2. redis-cost analyze on that appendonlydir: wall time, MB/s, calls/s, peak RSS
#   3. redis-server loading the same appendonlydir: load time from its log, RSS after loading
# usage: Tests/bench/aof-bench.sh [N] [WORKDIR]
source "$(dirname "$0")/common.sh" 1000000 "$@"

if [ ! -f "$work/data/appendonlydir/appendonly.aof.manifest" ]; then
    mkdir -p "$work/data"
    p="$(port)"
    "$REDIS_COST_REDIS7" --port "$p" --bind 127.0.0.1 --dir "$work/data" --save "" --appendonly yes \
        --aof-use-rdb-preamble no --auto-aof-rewrite-percentage 0 --daemonize no --logfile "$work/gen.log" &
    pid=$!
    for _ in $(seq 400); do redis-cli -p "$p" ping >/dev/null 2>&1 && break; sleep 0.05; done
    redis-cli -p "$p" ping >/dev/null 2>&1 || { echo "the server did not start: see its log in $work" >&2; exit 1; }
    redis-benchmark -p "$p" -n "$n" -r "$n" -P 64 -q -t set,lpush,sadd,hset,zadd,incr > "$work/benchmark.log" 2>&1
    redis-cli -p "$p" shutdown nosave >/dev/null 2>&1 || true
    wait "$pid" 2>/dev/null || true
fi
dir="$work/data/appendonlydir"
bytes="$(cat "$dir"/*.aof | wc -c)"

# redis-cost: wall time and peak RSS (GNU time's maximum resident set size, KB).
/usr/bin/time -f "%e %U %S %M" -o "$work/cost.time" "$bin" analyze "$dir" --format json -o "$work/report.json"
read -r cost_seconds cost_user cost_sys cost_kb < "$work/cost.time"
# (CPU seconds: the analysis runs on two threads, so they may exceed the wall seconds.)
echo "redis-cost analyze: $(python3 -c "print(f'{$cost_user + $cost_sys:.2f}')") s CPU (user + sys)"
calls="$(python3 -c "import json; print(json.load(open('$work/report.json'))['totals']['calls'])")"

# redis-server: load the same directory, read the load time from its log, RSS after loading.
p="$(port)"
rm -f "$work/load.log"
"$REDIS_COST_REDIS7" --port "$p" --bind 127.0.0.1 --dir "$work/data" --save "" --appendonly yes \
    --aof-use-rdb-preamble no --daemonize no --logfile "$work/load.log" &
pid=$!
for _ in $(seq 2400); do grep -q "Ready to accept connections" "$work/load.log" 2>/dev/null && break; sleep 0.05; done
load_seconds="$(grep -o 'DB loaded from append only file: [0-9.]* seconds' "$work/load.log" | grep -o '[0-9.]*' | tail -1)"
server_kb="$(( $(redis-cli -p "$p" info memory | tr -d '\r' | grep '^used_memory_rss:' | cut -d: -f2) / 1024 ))"
# Fidelity on the same file: the server's own sizes against the replayed ones.
truth="$(redis-cli -p "$p" dbsize) $(redis-cli -p "$p" llen mylist) $(redis-cli -p "$p" scard myset) $(redis-cli -p "$p" hlen myhash) $(redis-cli -p "$p" zcard myzset)"
redis-cli -p "$p" shutdown nosave >/dev/null 2>&1 || true
wait "$pid" 2>/dev/null || true

python3 - "$bytes" "$calls" "$cost_seconds" "$cost_kb" "$load_seconds" "$server_kb" "$work/report.json" "$truth" <<'PY'
import sys, json
size, calls, cs, ckb, ls, skb = int(sys.argv[1]), int(sys.argv[2]), float(sys.argv[3]), int(sys.argv[4]), float(sys.argv[5]), int(sys.argv[6])
mb = size / 1e6
print(f"AOF: {mb:.0f} MB, {calls:,} calls")
print(f"{'':24}{'seconds':>10}{'MB/s':>10}{'calls/s':>14}{'peak RSS MB':>14}")
print(f"{'redis-cost analyze':24}{cs:>10.2f}{mb/cs:>10.1f}{calls/cs:>14,.0f}{ckb/1024:>14.0f}")
print(f"{'redis-server 7.0.15 load':24}{ls:>10.2f}{mb/ls:>10.1f}{calls/ls:>14,.0f}{skb/1024:>14.0f}")
report = json.load(open(sys.argv[7]))
sizes = {k["key"]: k["size"] for k in report["biggestKeys"]}
ours = [sum(report["dataset"]["keysPerDatabase"].values())] + [sizes.get(k) for k in ("mylist", "myset", "myhash", "myzset")]
theirs = [int(x) for x in sys.argv[8].split()]
print("fidelity (DBSIZE, LLEN mylist, SCARD myset, HLEN myhash, ZCARD myzset):",
      "identical" if ours == theirs else f"DIFFERENT: ours {ours} server {theirs}", theirs)
PY
echo "files kept in $work" >&2
