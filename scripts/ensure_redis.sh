#!/usr/bin/env bash
# Make sure the Redis server named by REDIS_URL (default redis://127.0.0.1:6379/0) answers.
#
# For a server on this machine: installs Debian's redis-server when there is none and starts it when it is not
# running (no systemd needed). A server elsewhere is only waited for.
set -euo pipefail
source "$(dirname "$0")/lib.sh"

url="${REDIS_URL:-redis://127.0.0.1:6379/0}"
read -r host port < <(python3 - "$url" <<'PY'
import sys
from urllib.parse import urlsplit
u = urlsplit(sys.argv[1])
print(u.hostname or "127.0.0.1", u.port or 6379)
PY
)
answers() { [ "$(redis-cli -h "$host" -p "$port" ping 2>/dev/null)" = "PONG" ]; }

case "$host" in
    127.0.0.1 | localhost | ::1)
        command -v redis-server >/dev/null || apt_ensure redis-server
        if ! answers; then
            say "starting Redis on $host:$port"
            # In the foreground of nothing: daemonized, no persistence (tests and the broker's queue only need
            # the live data; a production Redis is configured by its own package, see README).
            redis-server --bind "$host" --port "$port" --daemonize yes --save "" --appendonly no \
                --logfile "${TMPDIR:-/tmp}/casework-redis-$port.log"
        fi
        ;;
    *) command -v redis-cli >/dev/null || apt_ensure redis-tools ;;
esac

for _ in $(seq 1 30); do answers && exit 0; sleep 0.5; done
die "Redis at $host:$port does not answer"
