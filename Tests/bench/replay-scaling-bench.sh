#!/usr/bin/env bash
# Replay scaling benchmark, run by hand (not part of the tests). Per family of commands:
#   1. a real Redis 7.0.15 with appendonly yes / aof-use-rdb-preamble no (no rewrite) takes,
#      through the venv's redis client, one key filled with N elements and then N calls of the
#      command, at N, 4N and 16N (N=20000: up to 320 000 elements and calls)
#   2. redis-server loads that appendonlydir: load time from its log, CPU time from /proc
#   3. redis-cost analyze on the same appendonlydir: wall and CPU time, peak RSS (GNU time)
# A replay that costs what the server's load costs is within ~2× of it on every row and grows
# ~4× per row, as the server does. Ratio and growth compare CPU seconds, which other work on
# the machine disturbs less than wall time. `same` compares the server's DBSIZE and the sizes
# of k and d after loading with the replay's.
# usage: Tests/bench/replay-scaling-bench.sh [N] [WORKDIR] [FAMILY…]
source "$(dirname "$0")/common.sh" 20000 "$@"
# A family ending in -MONITOR is the same workload read by redis-cost from a MONITOR capture
# recorded while it ran (the AOF holds SPOP as SREM of the members it took; a capture does not).
families=(ZPOPMIN ZPOPMAX ZREMRANGEBYRANK ZRANGESTORE ZREMRANGEBYSCORE ZREM ZADD-MOVE LTRIM LPOP RPOP XDEL XTRIM-MINID SPOP SPOP-MONITOR HDEL)
[ $# -gt 2 ] && families=("${@:3}")
# A process's user + system CPU seconds so far.
cpu_seconds() { python3 -c "import os; f = open('/proc/$1/stat').read().rsplit(')', 1)[1].split(); print((int(f[11]) + int(f[12])) / os.sysconf('SC_CLK_TCK'))"; }
wait_ready() { for _ in $(seq 2400); do grep -q "Ready to accept connections" "$1" 2>/dev/null && return; sleep 0.05; done; echo "the server did not become ready: see $1" >&2; exit 1; }

# Writes the workload of one family through the client: the fill, then the calls.
generate() {
    "$REDIS_COST_PYTHON" - "$@" <<'PY'
import random, sys
import redis
port, family, n = int(sys.argv[1]), sys.argv[2].removesuffix("-MONITOR"), int(sys.argv[3])
r = redis.Redis(port=port)
rng = random.Random(1)
order = list(range(n))
rng.shuffle(order)  # inserts and removals land all over the key, not only at its ends

def run(commands):
    for start in range(0, len(commands), 10000):
        pipe = r.pipeline(transaction=False)
        for command in commands[start:start + 10000]:
            pipe.execute_command(*command)
        pipe.execute()

def batches(verb, items):
    return [(verb, "k", *[x for item in items[i:i + 1000] for x in item]) for i in range(0, n, 1000)]

fill = {
    "zset": lambda: batches("ZADD", [(i, f"m{i}") for i in order]),
    "list": lambda: batches("RPUSH", [(f"e{i}",) for i in range(n)]),
    "stream": lambda: [("XADD", "k", f"{i + 1}-0", "f", "v") for i in range(n)],
    "set": lambda: batches("SADD", [(f"m{i}",) for i in order]),
    "hash": lambda: batches("HSET", [(f"f{i}", "v") for i in order]),
}
calls = {
    "ZPOPMIN": [("ZPOPMIN", "k")] * n,
    "ZPOPMAX": [("ZPOPMAX", "k")] * n,
    "ZREMRANGEBYRANK": [("ZREMRANGEBYRANK", "k", 0, 0)] * n,
    "ZRANGESTORE": [("ZRANGESTORE", "d", "k", 0, 9)] * n,
    "ZREMRANGEBYSCORE": [("ZREMRANGEBYSCORE", "k", i, i) for i in order],
    "ZREM": [("ZREM", "k", f"m{i}") for i in order],
    "ZADD-MOVE": [("ZADD", "k", rng.randrange(10 * n), f"m{i}") for i in order],
    "LTRIM": [("LTRIM", "k", 1, -1)] * n,
    "LPOP": [("LPOP", "k")] * n,
    "RPOP": [("RPOP", "k")] * n,
    "XDEL": [("XDEL", "k", f"{i + 1}-0") for i in order],
    "XTRIM-MINID": [("XTRIM", "k", "MINID", f"{i + 2}-0") for i in range(n)],
    "SPOP": [("SPOP", "k")] * n,
    "HDEL": [("HDEL", "k", f"f{i}") for i in order],
}[family]
kind = {"L": "list", "R": "list", "X": "stream", "S": "set", "H": "hash"}.get(family[0], "zset")
run(fill[kind]())
run(calls)
PY
}

rows="$work/rows.txt"
: > "$rows"
# What every row of redis-cost pays whatever the input: start, command table, report.
mkdir -p "$work/empty/appendonlydir"
printf 'file appendonly.aof.1.incr.aof seq 1 type i\n' > "$work/empty/appendonlydir/appendonly.aof.manifest"
printf '*1\r\n$4\r\nPING\r\n' > "$work/empty/appendonlydir/appendonly.aof.1.incr.aof"
/usr/bin/time -f "%e s, %U + %S s CPU" -o "$work/startup.time" "$bin" analyze "$work/empty/appendonlydir" --format json -o /dev/null
for family in "${families[@]}"; do
    for scale in 1 4 16; do
        size=$((n * scale))
        data="$work/$family-$size"
        # (`generated` marks a complete workload: an interrupted one is written again.)
        if [ ! -f "$data/generated" ]; then
            rm -rf "$data"; mkdir -p "$data"
            p="$(port)"
            "$REDIS_COST_REDIS7" --port "$p" --bind 127.0.0.1 --dir "$data" --save "" --appendonly yes \
                --aof-use-rdb-preamble no --auto-aof-rewrite-percentage 0 --daemonize no --logfile "$work/gen.log" &
            pid=$!
            for _ in $(seq 400); do redis-cli -p "$p" ping >/dev/null 2>&1 && break; sleep 0.05; done
            if [[ "$family" == *-MONITOR ]]; then
                redis-cli -p "$p" monitor > "$data/capture.txt" &
                monitor=$!
                sleep 0.5
            fi
            generate "$p" "$family" "$size"
            if [[ "$family" == *-MONITOR ]]; then
                redis-cli -p "$p" ping >/dev/null; sleep 0.5; kill "$monitor"; wait "$monitor" 2>/dev/null || true
            fi
            redis-cli -p "$p" shutdown nosave >/dev/null 2>&1 || true
            wait "$pid" 2>/dev/null || true
            touch "$data/generated"
        fi

        # redis-server: its own load time of the AOF, then the sizes it holds.
        p="$(port)"; rm -f "$work/load.log"
        "$REDIS_COST_REDIS7" --port "$p" --bind 127.0.0.1 --dir "$data" --save "" --appendonly yes \
            --aof-use-rdb-preamble no --auto-aof-rewrite-percentage 0 --daemonize no --logfile "$work/load.log" &
        pid=$!
        wait_ready "$work/load.log"
        load_seconds="$(grep -o 'DB loaded from append only file: [0-9.]* seconds' "$work/load.log" | grep -o '[0-9.]*' | tail -1)"
        load_cpu="$(cpu_seconds "$pid")"
        truth="$(redis-cli -p "$p" dbsize)"
        for key in k d; do
            case "$(redis-cli -p "$p" type "$key")" in
                zset) truth="$truth $(redis-cli -p "$p" zcard "$key")" ;;
                list) truth="$truth $(redis-cli -p "$p" llen "$key")" ;;
                stream) truth="$truth $(redis-cli -p "$p" xlen "$key")" ;;
                set) truth="$truth $(redis-cli -p "$p" scard "$key")" ;;
                hash) truth="$truth $(redis-cli -p "$p" hlen "$key")" ;;
                *) truth="$truth -" ;;
            esac
        done
        redis-cli -p "$p" shutdown nosave >/dev/null 2>&1 || true
        wait "$pid" 2>/dev/null || true

        # redis-cost: wall time and peak RSS (GNU time's maximum resident set size, KB).
        input=("$data/appendonlydir")
        [[ "$family" == *-MONITOR ]] && input=("$data/capture.txt" --baseline empty)
        /usr/bin/time -f "%e %U %S %M" -o "$work/cost.time" "$bin" analyze "${input[@]}" --format json -o "$work/report.json"
        read -r cost_seconds cost_user cost_system cost_kb < "$work/cost.time"
        cost_cpu="$(python3 -c "print($cost_user + $cost_system)")"
        "$REDIS_COST_PYTHON" - "$work/report.json" "$family" "$size" "$load_seconds" "$load_cpu" "$cost_seconds" "$cost_cpu" "$cost_kb" "$truth" <<'PY' | tee -a "$rows" >&2
import json, sys
report_file, family, size, server, server_cpu, cost, cost_cpu, kb, truth = sys.argv[1:]
report = json.load(open(report_file))
sizes = {k["key"]: k["size"] for k in report["biggestKeys"]}
ours = " ".join([str(sum(report["dataset"]["keysPerDatabase"].values()))] + [str(sizes.get(k, "-")) for k in ("k", "d")])
print(family, size, server, server_cpu, cost, cost_cpu, kb, "yes" if ours == truth else f"NO(ours:{ours.replace(' ', ',')};server:{truth.replace(' ', ',')})")
PY
    done
done

"$REDIS_COST_PYTHON" - "$rows" <<'PY'
import sys
rows = [line.split() for line in open(sys.argv[1])]
print(f"{'':26}{'redis-server load':>20}{'redis-cost analyze':>22}")
print(f"{'family':18}{'N':>8}{'wall s':>10}{'CPU s':>10}{'wall s':>11}{'CPU s':>11}{'CPU ratio':>11}{'growth':>8}{'RSS MB':>8}  same")
previous = {}
for family, size, server, server_cpu, cost, cost_cpu, kb, same in rows:
    server_cpu, cost_cpu = float(server_cpu), float(cost_cpu)
    growth = f"{cost_cpu / previous[family]:.1f}x" if previous.get(family) else ""
    previous[family] = cost_cpu
    print(f"{family:18}{int(size):>8}{float(server):>10.2f}{server_cpu:>10.2f}{float(cost):>11.2f}{cost_cpu:>11.2f}"
          f"{cost_cpu / max(server_cpu, 0.01):>10.1f}x{growth:>8}{int(kb) / 1024:>8.0f}  {same}")
PY
echo "redis-cost on a one-call AOF (its fixed cost in every row): $(cat "$work/startup.time")"
echo "files kept in $work" >&2
