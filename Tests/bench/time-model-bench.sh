#!/usr/bin/env bash
# The time model against INFO commandstats, run by hand: a fresh Redis 7.0.15, `redis-cost
# calibrate -o` on it, then workloads not used for the fit — real job-queue libraries from PyPI
# (rq, huey, celery, driven by Tests/tools/gen_app_workload.py, each on its own fresh Redis
# 7.0.15) and a data-heavy mix of O(N) reads and writes on keys of 1 to 100,000 elements
# (gen_data_mix.py, on the calibrated server) — each recorded by `redis-cli monitor` with
# INFO commandstats before and after. Per workload it prints the ten commands with the most
# measured time: measured ms (the commandstats delta), estimated ms (`analyze capture
# --baseline empty --constants model.json`), their ratio, and the ratio of the ten's sums;
# then the data mix's ten by phase (data_mix_phases.py: the build, the calls on keys of each
# size, strings, small keys), which says where an estimate misses.
# usage: Tests/bench/time-model-bench.sh [SCALE] [WORKDIR] (pip install rq huey celery packaging into
# the venv first); SCALE multiplies the data mix's calls (default 1). REDIS_COST_BIN=path runs
# that binary instead of building one (the "before" of a change).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/../.."
n="${1:-1}"
work="${2:-$(mktemp -d)}"
mkdir -p "$work"
source Tests/bench/servers-and-binary.sh
p="$(port)"
"$REDIS_COST_REDIS7" --port "$p" --bind 127.0.0.1 --save "" --appendonly no --daemonize no --logfile "$work/server.log" &
pid=$!
mon=""
cleanup() { [ -n "$mon" ] && kill "$mon" 2>/dev/null; kill "$pid" 2>/dev/null; wait "$pid" 2>/dev/null || true; }
trap cleanup EXIT
for _ in $(seq 400); do redis-cli -p "$p" ping >/dev/null 2>&1 && break; sleep 0.05; done
redis-cli -p "$p" ping >/dev/null 2>&1 || { echo "the server did not start: see its log in $work" >&2; exit 1; }

echo "== calibrate on $("$REDIS_COST_REDIS7" --version | cut -d' ' -f1-3), port $p" >&2
"$bin" calibrate -p "$p" -n 0 -o "$work/model.json" > "$work/calibrate.md"
cat "$work/calibrate.md" >&2
[ "$(redis-cli -p "$p" dbsize)" = 0 ] || { echo "calibrate left keys behind" >&2; exit 1; }

# The data mix, on the calibrated server (empty again): the capture begins with the server's data set.
mkdir -p "$work/data-mix"
redis-cli -p "$p" monitor > "$work/data-mix/monitor.txt" &
mon=$!
for _ in $(seq 200); do [ "$(head -c 3 "$work/data-mix/monitor.txt")" = "OK" ] && break; sleep 0.02; done
"$python" Tests/bench/gen_data_mix.py "$p" "$work/data-mix/commandstats.json" "$n"
redis-cli -p "$p" ping time-model-bench-end >/dev/null
for _ in $(seq 500); do tail -c 40 "$work/data-mix/monitor.txt" | grep -q time-model-bench-end && break; sleep 0.02; done
kill "$mon"; mon=""

for library in rq huey celery; do
    "$python" Tests/tools/gen_app_workload.py "$library" "$REDIS_COST_REDIS7" "$work/$library" >&2
done

for w in data-mix rq huey celery; do
    "$bin" analyze "$work/$w/monitor.txt" --baseline empty --constants "$work/model.json" --format json -o "$work/$w/report.json"
    "$python" Tests/bench/compare_commandstats.py "$w" "$work/$w/commandstats.json" "$work/$w/report.json"
done
"$python" Tests/bench/data_mix_phases.py "$bin" "$work/data-mix/monitor.txt" "$work/data-mix/commandstats.json" "$work/model.json"
echo "files kept in $work" >&2
