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
