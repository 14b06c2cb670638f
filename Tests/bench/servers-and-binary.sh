# Sourced, from the repository's root, by the benchmarks that take what they run on from the
# environment: the servers and the venv named there (REDIS_COST_REDIS7, REDIS_COST_PYTHON),
# else installed; REDIS_COST_BIN (another binary, the "before" of a change), else a release
# build. Sets bin and python, and port() prints a free loopback port.
[ -n "${REDIS_COST_REDIS7:-}" ] && [ -n "${REDIS_COST_PYTHON:-}" ] || eval "$(Tests/tools/install-servers.sh)"
if [ -n "${REDIS_COST_BIN:-}" ]; then
    bin="$REDIS_COST_BIN"
else
    swift build -c release --product redis-cost >&2
    bin="$(swift build -c release --show-bin-path)/redis-cost"
fi
python="${REDIS_COST_PYTHON:-.venv/bin/python}"
port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
