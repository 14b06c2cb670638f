#!/usr/bin/env bash
# Starts a throwaway server on a free loopback port in a temporary directory and prints
# "PORT PID DIR". Stop it with: kill PID. usage: start-server.sh BINARY [extra server args…]
set -euo pipefail
binary="$1"; shift
dir="$(mktemp -d)"
port="$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')"
"$binary" --port "$port" --bind 127.0.0.1 --dir "$dir" --save "" --appendonly no \
    --daemonize no --logfile "$dir/server.log" "$@" &
pid=$!
for _ in $(seq 100); do
    redis-cli -p "$port" ping >/dev/null 2>&1 && break
    sleep 0.05
done
echo "$port $pid $dir"
