#!/usr/bin/env bash
# How far the cluster modes scale with the number of primaries, run by hand. For each N: N fresh
# Redis 7.0.15 servers (cluster-enabled, no persistence, free loopback ports, each in its own
# folder) joined by `redis-cli --cluster create` (no replicas), ready when every node says
# cluster_state:ok; then
#  (a) live: `redis-cost monitor --cluster --duration D --format json` on the first node, under
#      GNU time (else /proc/PID polled for VmHWM and CPU ticks), while a fixed workload runs
#      through redis-py's RedisCluster (cluster_scale_workload.py: 200 keys per primary written
#      once, then 20,000 SET/GET/HSET/HGETALL/LPUSH/LRANGE calls on keys drawn with a fixed
#      seed, whatever N). The report's calls of those six commands, summed over nodes, against
#      the nodes' INFO commandstats delta (the tool's own commands, cluster.nodes[].toolCommands,
#      are other commands); CLIENT LIST of every node during the session (one monitor and one
#      redis-cost-sampler each); the tool's CPU seconds (user+sys) and peak RSS.
#  (b) offline: `redis-cli -p PORT monitor > cap-i.txt` on every node (N processes), the same
#      workload on the flushed cluster, an ECHO marker on every node awaited in its capture, then
#      `redis-cost analyze cap-*.txt --baseline empty --format json` under time: captured lines,
#      wall seconds, lines/s, CPU seconds, peak RSS; the report's calls equal the captured lines
#      (in all, and per workload command).
# One row per N on stdout (and in WORK/table.txt); the details per N in WORK/nN/ (details.txt,
# the reports, captures, server logs). A failed N (servers, cluster create, attach) is a row
# saying why, and the next N runs. Every server and capture is stopped by pid (trap); at the end
# no process may name one of the ports (pgrep -f).
# usage: Tests/bench/cluster-scale-bench.sh [N...] [--work DIR]   (default N: 3 16 64 128)
# REDIS_COST_BIN=path runs that binary instead of building one. LIVE_SECONDS sets D (default
# 30 + N/2 s: the workload must end within it), KEYS_PER_NODE (200) and CALLS (20000) the workload.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/../.."
root="$(pwd)"
sizes=()
work=""
while [ $# -gt 0 ]; do
    case "$1" in
        --work) work="$2"; shift 2 ;;
        --work=*) work="${1#--work=}"; shift ;;
        *) [[ "$1" =~ ^[0-9]+$ ]] && [ "$1" -ge 3 ] || { echo "N must be a number of primaries ≥ 3: $1" >&2; exit 2; }
           sizes+=("$1"); shift ;;
    esac
done
[ ${#sizes[@]} -gt 0 ] || sizes=(3 16 64 128)
work="${work:-$(mktemp -d)}"
mkdir -p "$work"
work="$(cd "$work" && pwd)"
source Tests/bench/servers-and-binary.sh
cli="$(command -v redis-cli)"
helper="$root/Tests/bench/cluster_scale_workload.py"
keys_per_node="${KEYS_PER_NODE:-200}"
calls="${CALLS:-20000}"
seed=20261203
gnu_time=""
if [ -x /usr/bin/time ] && /usr/bin/time -v true 2>/dev/null && [ -z "${NO_GNU_TIME:-}" ]; then gnu_time=/usr/bin/time; fi
echo "== $("$REDIS_COST_REDIS7" --version | cut -d' ' -f1-3), $("$bin" --version), ${gnu_time:-no GNU time: /proc polled}, ulimit -n $(ulimit -n), $(nproc) cores, load $(cut -d' ' -f1-3 /proc/loadavg)" >&2
: > "$work/ports-all.txt"

# N free loopback ports whose cluster bus port (+10000) is free too, all held until chosen.
free_ports() {
    python3 - "$1" <<'EOF'
import socket, sys
n, got, held = int(sys.argv[1]), [], []
while len(got) < n:
    s = socket.socket(); s.bind(("127.0.0.1", 0)); p = s.getsockname()[1]; held.append(s)
    if p >= 55535 or p in got or p + 10000 in got or p - 10000 in got:
        continue
    b = socket.socket()
    try:
        b.bind(("127.0.0.1", p + 10000))
    except OSError:
        continue
    held.append(b); got.append(p)
print(" ".join(map(str, got)))
EOF
}

# Polls /proc/PID until it is gone; OUT gets "user_s sys_s hwm_kb" of the last poll (no GNU time).
watch_proc() {
    local pid="$1" out="$2" tck hwm=0 ut st h
    tck="$(getconf CLK_TCK)"
    while [ -e "/proc/$pid/stat" ]; do
        h="$(awk '/^VmHWM:/ {print $2}' "/proc/$pid/status" 2>/dev/null || true)"
        [ -n "$h" ] && [ "$h" -gt "$hwm" ] && hwm="$h"
        read -r ut st < <(awk '{print $14, $15}' "/proc/$pid/stat" 2>/dev/null || echo "")
        [ -n "${ut:-}" ] && awk -v u="$ut" -v s="$st" -v t="$tck" -v h="$hwm" 'BEGIN {printf "%.2f %.2f %d\n", u/t, s/t, h}' > "$out.tmp" && mv "$out.tmp" "$out"
        sleep 0.1
    done
}

# Starts a measured command in the background: sets mpid (to wait on) and tpid (the tool itself).
start_measured() {
    local stem="$1"; shift
    if [ -n "$gnu_time" ]; then
        "$gnu_time" -v -o "$stem.time" "$@" &
        mpid=$!
        tpid=""
        for _ in $(seq 200); do tpid="$(pgrep -P "$mpid" || true)"; [ -n "$tpid" ] && break; sleep 0.01; done
    else
        "$@" &
        mpid=$!; tpid=$mpid
        watch_proc "$tpid" "$stem.proc" &
        wpid=$!
    fi
}
# Waits for it; sets mrc, cpu (user+sys s) and rss (peak MB).
finish_measured() {
    local stem="$1"
    mrc=0; wait "$mpid" || mrc=$?
    mpid=""; tpid=""
    if [ -n "$gnu_time" ]; then
        read -r cpu rss < <(awk -F': ' '/User time/ {u=$2} /System time/ {s=$2} /Maximum resident/ {m=$2}
                                       END {printf "%.2f %.1f\n", u+s, m/1024}' "$stem.time")
    else
        wait "$wpid" 2>/dev/null || true; wpid=""
        read -r cpu rss < <(awk '{printf "%.2f %.1f\n", $1+$2, $3/1024}' "$stem.proc")
    fi
}

run_n() {
    local n="$1" dir="$work/n$1"
    rm -rf "$dir"; mkdir -p "$dir"
    # Not local: the EXIT trap of run_n's subshell reads them after run_n has returned.
    pids=(); caps=(); ports=(); mpid=""; tpid=""; wpid=""
    cleanup() {
        local p
        for p in $tpid $mpid $wpid "${caps[@]}"; do kill "$p" 2>/dev/null || true; done
        for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
        for p in $tpid $mpid $wpid "${caps[@]}" "${pids[@]}"; do wait "$p" 2>/dev/null || true; done
    }
    trap cleanup EXIT
    fail() { echo "$*" > "$dir/failure.txt"; echo "N=$n: $*" >&2; exit 1; }
    say() { echo "$*" | tee -a "$dir/details.txt" >&2; }
    now() { date +%s.%N; }
    since() { awk -v a="$1" -v b="$(now)" 'BEGIN {printf "%.2f", b-a}'; }

    read -r -a ports <<< "$(free_ports "$n")"
    echo "${ports[*]}" >> "$work/ports-all.txt"
    echo "${ports[*]}" > "$dir/ports.txt"
    local t0 i p
    t0="$(now)"
    for i in "${!ports[@]}"; do
        p="${ports[$i]}"
        mkdir -p "$dir/node-$i"
        "$REDIS_COST_REDIS7" --port "$p" --bind 127.0.0.1 --cluster-enabled yes --cluster-config-file nodes.conf \
            --save "" --appendonly no --daemonize no --dir "$dir/node-$i" --logfile "$dir/node-$i/server.log" &
        pids+=($!)
    done
    for i in "${!ports[@]}"; do
        for _ in $(seq 400); do "$cli" -p "${ports[$i]}" ping >/dev/null 2>&1 && break; sleep 0.05; done
        "$cli" -p "${ports[$i]}" ping >/dev/null 2>&1 || fail "server $i (port ${ports[$i]}) did not start: see $dir/node-$i/server.log"
    done
    say "N=$n: $n servers up in $(since "$t0") s (RSS of all: $(ps -o rss= -p "$(IFS=,; echo "${pids[*]}")" | awk '{s+=$1} END {printf "%.0f MB", s/1024}'))"

    t0="$(now)"
    local addrs=()
    for p in "${ports[@]}"; do addrs+=("127.0.0.1:$p"); done
    "$cli" --cluster create "${addrs[@]}" --cluster-replicas 0 --cluster-yes > "$dir/cluster-create.txt" 2>&1 \
        || fail "redis-cli --cluster create failed after $(since "$t0") s: $(tail -3 "$dir/cluster-create.txt" | tr '\n' ' ')"
    local created ok_deadline
    created="$(since "$t0")"
    ok_deadline=$(( $(date +%s) + ${CLUSTER_OK_TIMEOUT:-600} ))
    for p in "${ports[@]}"; do
        until "$cli" -p "$p" cluster info 2>/dev/null | grep -q '^cluster_state:ok'; do
            [ "$(date +%s)" -lt "$ok_deadline" ] || fail "node $p not cluster_state:ok $(since "$t0") s after the create"
            sleep 0.1
        done
    done
    say "N=$n: cluster create $created s, cluster_state:ok on every node $(since "$t0") s after it; idle servers $(ps -o rss= -p "$(IFS=,; echo "${pids[*]}")" | awk '{s+=$1} END {printf "%.0f MB", s/1024}'), load $(cut -d' ' -f1 /proc/loadavg)"

    # (a) live
    local live_seconds="${LIVE_SECONDS:-$((30 + n / 2))}"
    t0="$(now)"
    start_measured "$dir/live" "$bin" monitor --cluster -p "${ports[0]}" --duration "${live_seconds}s" --format json -o "$dir/live.json" 2> "$dir/live.stderr"
    [ -n "$tpid" ] || fail "redis-cost monitor did not start"
    "$python" "$helper" attached 120 "${ports[@]}" || fail "monitor --cluster did not attach to every node: $(cat "$dir/live.stderr")"
    say "N=$n: live: monitor attached to every node $(since "$t0") s after the start (tool pid $tpid, $(ls -l "/proc/$tpid/fd" 2>/dev/null | grep -c socket || true) sockets)"
    "$python" "$helper" stats "$dir/live-before.json" "${ports[@]}"
    local tw
    tw="$(now)"
    "$python" "$helper" work "${ports[0]}" "$keys_per_node" "$calls" "$seed" "$dir/live-sent.json" > "$dir/live-work.txt"
    local work_s
    work_s="$(since "$tw")"
    "$python" "$helper" stats "$dir/live-after.json" "${ports[@]}"
    local clients sockets="gone" running="yes"
    clients="$("$python" "$helper" clients "${ports[@]}")"
    if kill -0 "$tpid" 2>/dev/null; then sockets="$(ls -l "/proc/$tpid/fd" 2>/dev/null | grep -c socket || true)"; else running="no"; fi
    read -r monitors samplers both <<< "$clients"
    say "N=$n: live: workload $(cat "$dir/live-work.txt") in $work_s s; CLIENT LIST: $monitors monitor and $samplers redis-cost-sampler clients over $n nodes ($both nodes with exactly one of each); the tool's sockets: $sockets; session still running after the workload: $running"
    [ "$running" = yes ] || say "N=$n: live: the session ended before the workload did (LIVE_SECONDS=$live_seconds too short)"
    finish_measured "$dir/live"
    local live_cpu="$cpu" live_rss="$rss"
    [ "$mrc" = 0 ] || say "N=$n: live: redis-cost monitor exited $mrc: $(tail -3 "$dir/live.stderr")"
    local live_check
    live_check="$("$python" "$helper" live "$dir/live.json" "$dir/live-before.json" "$dir/live-after.json" "$dir/live-sent.json" "$n")"
    say "N=$n: live: $live_check"
    local seen expected live_problems
    read -r seen expected live_problems < <("$python" -c 'import json,sys; d=json.loads(sys.argv[1]); print(d["seen"], d["expected"], len(d["problems"]))' "$live_check")
    local live_ok="exact"
    [ "$live_problems" = 0 ] || live_ok="MISMATCH"
    [ "$monitors $samplers $both" = "$n $n $n" ] || live_ok="$live_ok, CLIENTS $monitors+$samplers"
    [ "$running" = yes ] || live_ok="$live_ok, SESSION TOO SHORT"
    [ "$mrc" = 0 ] || live_ok="$live_ok, EXIT $mrc"

    # (b) offline
    for p in "${ports[@]}"; do "$cli" -p "$p" flushall >/dev/null; done
    for i in "${!ports[@]}"; do
        "$cli" -p "${ports[$i]}" monitor > "$dir/cap-$i.txt" &
        caps+=($!)
    done
    for i in "${!ports[@]}"; do
        for _ in $(seq 500); do [ "$(head -c 2 "$dir/cap-$i.txt")" = "OK" ] && break; sleep 0.02; done
        [ "$(head -c 2 "$dir/cap-$i.txt")" = "OK" ] || fail "redis-cli monitor did not attach to ${ports[$i]}"
    done
    tw="$(now)"
    "$python" "$helper" work "${ports[0]}" "$keys_per_node" "$calls" "$seed" "$dir/offline-sent.json" > "$dir/offline-work.txt"
    work_s="$(since "$tw")"
    local marker="cluster-scale-bench-end-$n-$$"
    for p in "${ports[@]}"; do "$cli" -p "$p" echo "$marker" >/dev/null; done
    for i in "${!ports[@]}"; do
        for _ in $(seq 1000); do tail -c 200 "$dir/cap-$i.txt" | grep -q "$marker" && break; sleep 0.02; done
        tail -c 200 "$dir/cap-$i.txt" | grep -q "$marker" || fail "the end marker never reached cap-$i.txt"
    done
    for p in "${caps[@]}"; do kill "$p" 2>/dev/null || true; done
    for p in "${caps[@]}"; do wait "$p" 2>/dev/null || true; done
    caps=()
    say "N=$n: offline: workload $(cat "$dir/offline-work.txt") in $work_s s under $n redis-cli monitors; captures $(cat "$dir"/cap-*.txt | wc -c | awk '{printf "%.1f MB", $1/1048576}')"
    t0="$(now)"
    start_measured "$dir/offline" "$bin" analyze "$dir"/cap-*.txt --baseline empty --format json -o "$dir/offline.json" 2> "$dir/offline.stderr"
    finish_measured "$dir/offline"
    local off_s="$(since "$t0")" off_cpu="$cpu" off_rss="$rss"
    [ "$mrc" = 0 ] || fail "redis-cost analyze exited $mrc: $(tail -3 "$dir/offline.stderr")"
    local off_check lines off_problems
    off_check="$("$python" "$helper" offline "$dir/offline.json" "$dir/offline-sent.json" "$dir"/cap-*.txt)"
    say "N=$n: offline: $off_check"
    read -r lines off_problems < <("$python" -c 'import json,sys; d=json.loads(sys.argv[1]); print(d["lines"], len(d["problems"]))' "$off_check")
    local off_ok="exact"
    [ "$off_problems" = 0 ] || off_ok="MISMATCH"

    printf '%4d  live: %s/%s calls (%s), %s s CPU, %s MB peak RSS | offline: %s lines (%s), %s s, %s lines/s, %s s CPU, %s MB peak RSS\n' \
        "$n" "$seen" "$expected" "$live_ok" "$live_cpu" "$live_rss" "$lines" "$off_ok" "$off_s" \
        "$(awk -v l="$lines" -v s="$off_s" 'BEGIN {printf "%.0f", l/s}')" "$off_cpu" "$off_rss" > "$dir/row.txt"
    cat "$dir/row.txt" >&2
}

printf '%4s  %s\n' N "live: calls seen/expected, CPU s, peak RSS MB | offline: lines, seconds, lines/s, peak RSS MB" > "$work/table.txt"
for n in "${sizes[@]}"; do
    set +e
    (run_n "$n")
    set -e
    if [ -s "$work/n$n/row.txt" ]; then
        cat "$work/n$n/row.txt" >> "$work/table.txt"
    else
        printf '%4d  FAILED: %s\n' "$n" "$(cat "$work/n$n/failure.txt" 2>/dev/null || echo "see the log above")" >> "$work/table.txt"
    fi
done

# No process may be left behind on any of the ports (servers, captures, the tool).
left=""
for p in $(cat "$work/ports-all.txt"); do
    left="$left$(pgrep -f -- "(127\.0\.0\.1:|-p )$p( |\$)" | tr '\n' ' ' || true)"
done
if [ -n "${left// /}" ]; then echo "processes left behind: $left" >&2; cat "$work/table.txt"; exit 1; fi
echo "no process left on the $(wc -w < "$work/ports-all.txt") ports; files kept in $work" >&2
cat "$work/table.txt"
