#!/usr/bin/env bash
# The time model fitted on one live workload (`monitor --fit-model`), judged on the others:
# per fit workload (the data mix, rq), a fresh Redis 7.0.15 runs it while `redis-cost monitor
# --stats-interval 1s --fit-model` watches; the held-out workloads — those of
# time-model-bench.sh (data mix, rq, huey, celery), each recorded by `redis-cli monitor` on its
# own fresh server with INFO commandstats around it — are then estimated with that model
# (`analyze capture --baseline empty --constants model.json`) and printed as time-model-bench
# prints them: the ten commands with the most measured time, measured and estimated ms, their
# ratio, the ten's sum ratio and how many are within ×1.5. The fit's own workload is never
# among the held-out ones.
# usage: Tests/bench/live-fit-bench.sh [WORKDIR] (pip install rq huey celery packaging into the venv
# first). Captures already in WORKDIR (WORKDIR/rq/monitor.txt …) are reused.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/../.."
work="${1:-$(mktemp -d)}"
mkdir -p "$work"
source Tests/bench/servers-and-binary.sh
pid=""; mon=""
cleanup() { [ -n "$mon" ] && kill "$mon" 2>/dev/null; [ -n "$pid" ] && kill "$pid" 2>/dev/null; wait 2>/dev/null || true; }
trap cleanup EXIT
start_server() {
    p="$(port)"
    "$REDIS_COST_REDIS7" --port "$p" --bind 127.0.0.1 --save "" --appendonly no --daemonize no --logfile "$1/server.log" &
    pid=$!
    for _ in $(seq 400); do redis-cli -p "$p" ping >/dev/null 2>&1 && break; sleep 0.05; done
}
stop_server() { kill "$pid"; wait "$pid" 2>/dev/null || true; pid=""; }

# The held-out captures.
if [ ! -s "$work/data-mix/monitor.txt" ]; then
    mkdir -p "$work/data-mix"; start_server "$work/data-mix"
    redis-cli -p "$p" monitor > "$work/data-mix/monitor.txt" &
    mon=$!
    for _ in $(seq 200); do [ "$(head -c 3 "$work/data-mix/monitor.txt")" = "OK" ] && break; sleep 0.02; done
    "$python" Tests/bench/gen_data_mix.py "$p" "$work/data-mix/commandstats.json" 1
    redis-cli -p "$p" ping time-model-bench-end >/dev/null
    for _ in $(seq 500); do tail -c 40 "$work/data-mix/monitor.txt" | grep -q time-model-bench-end && break; sleep 0.02; done
    kill "$mon"; mon=""; stop_server
fi
for library in rq huey celery; do
    [ -s "$work/$library/monitor.txt" ] || "$python" Tests/tools/gen_app_workload.py "$library" "$REDIS_COST_REDIS7" "$work/$library" >&2
done

# The fits, each on its own fresh server with redis-cost monitor watching.
fit="$work/fit-data-mix"; mkdir -p "$fit"; start_server "$fit"
"$bin" monitor -p "$p" --stats-interval 1s --fit-model "$fit/model.json" -o "$fit/report.md" 2> "$fit/fit.txt" &
mon=$!
for _ in $(seq 400); do redis-cli -p "$p" info commandstats | grep -q cmdstat_monitor && break; sleep 0.05; done
sleep 0.5
"$python" Tests/bench/gen_data_mix.py "$p" "$fit/commandstats.json" 1
kill -TERM "$mon"; wait "$mon" || true; mon=""; stop_server
fit="$work/fit-rq"
REDIS_COST_FIT_MONITOR="exec '$bin' monitor -p {port} --stats-interval 1s --fit-model '$fit-model.json' -o '$fit-report.md' 2> '$fit-fit.txt'" \
    "$python" Tests/tools/gen_app_workload.py rq "$REDIS_COST_REDIS7" "$fit" >&2
mv "$fit-model.json" "$fit/model.json"; mv "$fit-fit.txt" "$fit/fit.txt"; mv "$fit-report.md" "$fit/report.md"

for source in data-mix rq; do
    echo; echo "== fitted live on $source ($work/fit-$source/fit.txt):"; cat "$work/fit-$source/fit.txt"
    for w in data-mix rq huey celery; do
        [ "$w" = "$source" ] && continue
        "$bin" analyze "$work/$w/monitor.txt" --baseline empty --constants "$work/fit-$source/model.json" --format json -o "$work/$w/report-fit-$source.json"
        "$python" Tests/bench/compare_commandstats.py "$w (held out; model fitted live on $source)" "$work/$w/commandstats.json" "$work/$w/report-fit-$source.json"
    done
done
echo "files kept in $work" >&2
