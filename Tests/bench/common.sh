# Sourced by the benchmark scripts: N, a work folder, the servers, a release build.
# usage (from a script): source "$(dirname "$0")/common.sh" DEFAULT_N "$@"
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/../.."
default_n="$1"; shift
n="${1:-$default_n}"
work="${2:-$(mktemp -d)}"
mkdir -p "$work"
eval "$(Tests/tools/install-servers.sh)"
swift build -c release --product redis-cost >&2
bin="$(swift build -c release --show-bin-path)/redis-cost"
port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }

# Issue 19's write-heavy workload against the server on port $1, pipelined $3 deep, while
# `redis-cli monitor` writes the capture $2: redis-benchmark -n N -r 100000.
monitored_benchmark() {
    redis-cli -p "$1" monitor > "$2" &
    local mon=$!
    sleep 0.3
    redis-benchmark -p "$1" -n "$n" -r 100000 -P "$3" -q -t set,lpush,sadd,hset,zadd,incr,get > "$work/benchmark.log" 2>&1
    sleep 1
    kill "$mon" 2>/dev/null || true
}

# redis-faina 0.1.0 (PyPI) in the work folder, patched there so that it runs at all (never
# committed): prints its folder. It is Python 2 and reads the pre-2.6 `(db 0)` prefix; the
# patch fixes print statements, dict.iteritems, sorting (duration, dict) pairs, and reads
# `[db client]` for `(db N)`.
setup_faina() {
    local faina="$work/redis-faina-0.1.0"
    if [ ! -f "$faina/redis_faina/__init__.py" ]; then
        "$REDIS_COST_PYTHON" -m pip download --quiet --no-deps --no-binary :all: -d "$work" redis-faina==0.1.0 >&2
        tar -xzf "$work/redis-faina-0.1.0.tar.gz" -C "$work"
        "$REDIS_COST_PYTHON" - "$faina/redis_faina/__init__.py" <<'PY'
import re, sys
path = sys.argv[1]
text = open(path).read()
text = text.replace(r"(\(db\s(?P<db>\d+)\)\s)?", r"(\[(?P<db>\d+)\s[^\]]*\]\s)?")
text = re.sub(r"^(\s*)print (.+)$", r"\1print(\2)", text, flags=re.M)
text = re.sub(r"^(\s*)print$", r"\1print()", text, flags=re.M)
text = text.replace(".iteritems()", ".items()").replace("sorted(ls)", "sorted(ls, key=lambda x: x[0])")
open(path, "w").write(text)
PY
    fi
    echo "$faina"
}
