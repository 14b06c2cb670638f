#!/usr/bin/env bash
# Rebuilds Data/commands.json from the three real servers' COMMAND DOCS / COMMAND INFO,
# then (optionally) from source trees' src/commands/*.json for commands no server reports.
# usage: Tests/tools/refresh-table.sh [REDIS_SOURCE_COMMANDS_DIR [VALKEY_SOURCE_COMMANDS_DIR]]
set -euo pipefail
cd "$(dirname "$0")/../.."
eval "$(Tests/tools/install-servers.sh)"
swift build -c release --product redis-cost >&2
bin="$(swift build -c release --show-bin-path)/redis-cost"
for server in "$REDIS_COST_REDIS7" "$REDIS_COST_REDIS8" "$REDIS_COST_VALKEY9"; do
    read -r port pid dir < <(Tests/tools/start-server.sh "$server")
    "$bin" table refresh -p "$port" --file Data/commands.json || { kill "$pid"; exit 1; }
    kill "$pid"; wait "$pid" 2>/dev/null || true
    rm -rf "$dir"
done
if [ $# -ge 1 ]; then "$bin" table refresh --source-json "$1" --source-name redis-source; fi
if [ $# -ge 2 ]; then "$bin" table refresh --source-json "$2" --source-name valkey-source; fi
