#!/usr/bin/env bash
# RDB benchmark, run by hand (not part of the tests). Uses the data set of aof-bench.sh:
#   1. a real Redis 7.0.15 loads that AOF and SAVEs it as dump.rdb (~80 MB for N=1000000)
#   2. redis-cost analyze dump.rdb: wall time, MB/s, keys/s, peak RSS
#   3. redis-server loading the same dump.rdb: load time from its log, RSS after loading
#   4. rdb-py (PyPI, a Rust parser) iterating the same file, in a venv of its own
# usage: Tests/bench/rdb-bench.sh [N] [WORKDIR]   (WORKDIR shared with aof-bench.sh)
source "$(dirname "$0")/common.sh" 1000000 "$@"
[ -f "$work/data/appendonlydir/appendonly.aof.manifest" ] || Tests/bench/aof-bench.sh "$n" "$work" >/dev/null
wait_ready() { for _ in $(seq 2400); do grep -q "Ready to accept connections" "$1" 2>/dev/null && return; sleep 0.05; done; echo "the server did not become ready: see $1" >&2; exit 1; }

if [ ! -f "$work/rdb/dump.rdb" ]; then
    mkdir -p "$work/rdb"
    p="$(port)"; rm -f "$work/save.log"
    "$REDIS_COST_REDIS7" --port "$p" --bind 127.0.0.1 --dir "$work/data" --appendonly yes --save "" \
        --aof-use-rdb-preamble no --daemonize no --logfile "$work/save.log" &
    pid=$!; wait_ready "$work/save.log"
    # (dir is a protected config: save where the server runs, then move the file.)
    redis-cli -p "$p" save >/dev/null
    redis-cli -p "$p" shutdown nosave >/dev/null 2>&1 || true; wait "$pid" 2>/dev/null || true
    mv "$work/data/dump.rdb" "$work/rdb/dump.rdb"
fi
file="$work/rdb/dump.rdb"
bytes="$(wc -c < "$file")"

/usr/bin/time -f "%e %U %S %M" -o "$work/rdbcost.time" "$bin" analyze "$file" --format json -o "$work/rdbreport.json"
read -r cost_seconds cost_user cost_sys cost_kb < "$work/rdbcost.time"
# (CPU seconds: the analysis runs on two threads, so they may exceed the wall seconds.)
echo "redis-cost analyze: $(python3 -c "print(f'{$cost_user + $cost_sys:.2f}')") s CPU (user + sys)"
keys="$(python3 -c "import json; print(json.load(open('$work/rdbreport.json'))['snapshots'][0]['keys'])")"

p="$(port)"; rm -f "$work/rdbload.log"
"$REDIS_COST_REDIS7" --port "$p" --bind 127.0.0.1 --dir "$work/rdb" --dbfilename dump.rdb --appendonly no --save "" \
    --daemonize no --logfile "$work/rdbload.log" &
pid=$!; wait_ready "$work/rdbload.log"
load_seconds="$(grep -o 'DB loaded from disk: [0-9.]* seconds' "$work/rdbload.log" | grep -o '[0-9.]*' | tail -1)"
server_kb="$(( $(redis-cli -p "$p" info memory | tr -d '\r' | grep '^used_memory_rss:' | cut -d: -f2) / 1024 ))"
truth="$(redis-cli -p "$p" dbsize) $(redis-cli -p "$p" llen mylist) $(redis-cli -p "$p" scard myset) $(redis-cli -p "$p" hlen myhash) $(redis-cli -p "$p" zcard myzset)"
redis-cli -p "$p" shutdown nosave >/dev/null 2>&1 || true; wait "$pid" 2>/dev/null || true

[ -x "$work/rdbpy/bin/python" ] || { python3 -m venv "$work/rdbpy" && "$work/rdbpy/bin/pip" install -q rdb-py; }
/usr/bin/time -f "%e %M" -o "$work/rdbpy.time" "$work/rdbpy/bin/python" -c "
import rdb, sys
n = 0
for item in rdb.RdbDecoder(sys.argv[1]):
    n += 1
" "$file"
read -r py_seconds py_kb < "$work/rdbpy.time"

python3 - "$bytes" "$keys" "$cost_seconds" "$cost_kb" "$load_seconds" "$server_kb" "$py_seconds" "$py_kb" "$work/rdbreport.json" "$truth" <<'PY'
import sys, json
size, keys = int(sys.argv[1]), int(sys.argv[2])
rows = [("redis-cost analyze", float(sys.argv[3]), int(sys.argv[4])), ("redis-server 7.0.15 load", float(sys.argv[5]), int(sys.argv[6])),
        ("rdb-py 0.4 iterate", float(sys.argv[7]), int(sys.argv[8]))]
mb = size / 1e6
print(f"RDB: {mb:.0f} MB, {keys:,} keys")
print(f"{'':26}{'seconds':>10}{'MB/s':>10}{'keys/s':>14}{'peak RSS MB':>14}")
for name, s, kb in rows:
    print(f"{name:26}{s:>10.2f}{mb/s:>10.1f}{keys/s:>14,.0f}{kb/1024:>14.0f}")
report = json.load(open(sys.argv[9]))["snapshots"][0]
sizes = {k["key"]: k["size"] for k in report["biggestByElements"]}
ours = [report["keys"]] + [sizes.get(k) for k in ("mylist", "myset", "myhash", "myzset")]
theirs = [int(x) for x in sys.argv[10].split()]
print("fidelity (DBSIZE, LLEN mylist, SCARD myset, HLEN myhash, ZCARD myzset):",
      "identical" if ours == theirs else f"DIFFERENT: ours {ours} server {theirs}", theirs)
PY
