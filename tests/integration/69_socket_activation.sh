#!/usr/bin/env bash
# Socket activation without systemd: systemd-socket-activate holds the auth and admin sockets (as
# verdond-auth.socket and verdond-admin.socket would) and starts verdond at the first connection,
# which then waits in the backlog and is answered. verdond uses the passed sockets, says so, and at
# SIGTERM leaves their files (systemd's to keep). A passed socket more open than verdon.conf says
# is refused: the daemon exits with an error naming the .socket unit's settings.
. "$(dirname "$0")/lib.sh"
export T
if ! command -v systemd-socket-activate >/dev/null; then
	skip "systemd-socket-activate is not installed"
	exit 0
fi
write_config
# systemd-socket-activate makes the files under umask 022: 0755, whose rw bits (0644) fit 0666.
(umask 022 && exec systemd-socket-activate -l "$T/auth.sock" -l "$T/admin.sock" --fdname=auth:admin \
	"$VERDOND" -c "$CONF" >>"$T/verdond.log" 2>&1) &
DAEMON_PID=$!
for _ in $(seq 1 100); do [ -S "$T/admin.sock" ] && [ -S "$T/auth.sock" ] && break; sleep 0.1; done
check "the sockets exist before verdond runs" test -S "$T/admin.sock"
check "verdond is not started yet" bash -c "! grep -q serving '$T/verdond.log'"
out=$(python3 - "$T" "$ROOT/tests/integration" <<'PY'
import sys
sys.path.insert(0, sys.argv[2])
from lib_proto import Client
a = Client(sys.argv[1] + "/admin.sock", timeout=60).call("STATUS")
b = Client(sys.argv[1] + "/auth.sock", timeout=60).server_version
print(a.verb, "auth" if b is not None else "no-auth")
PY
)
expect "the first connection starts verdond and is answered on both sockets" "OK auth" "$out"
expect "both sockets came from systemd" 2 "$(grep -c 'socket from systemd' "$T/verdond.log")"
kill -TERM "$DAEMON_PID"
wait "$DAEMON_PID"
expect "a clean stop" 0 "$?"
DAEMON_PID=""
check "the socket files are left to systemd" test -S "$T/admin.sock" -a -S "$T/auth.sock"

# A .socket unit out of step: the admin socket 0600 in verdon.conf, 0755 from the activator.
rm -f "$T/auth.sock" "$T/admin.sock"
sed -i 's/^admin_socket_mode = 0666$/admin_socket_mode = 0600/' "$CONF"
(umask 022 && exec systemd-socket-activate -l "$T/auth.sock" -l "$T/admin.sock" --fdname=auth:admin \
	"$VERDOND" -c "$CONF" >>"$T/refused.log" 2>&1) &
DAEMON_PID=$!
for _ in $(seq 1 100); do [ -S "$T/admin.sock" ] && break; sleep 0.1; done
python3 -c 'import socket, sys; s = socket.socket(socket.AF_UNIX); s.settimeout(30); s.connect(sys.argv[1]); s.recv(100)' \
	"$T/admin.sock" 2>/dev/null
for _ in $(seq 1 300); do kill -0 "$DAEMON_PID" 2>/dev/null || break; sleep 0.1; done
wait "$DAEMON_PID"
rc=$?
DAEMON_PID=""
check "verdond refuses to serve it (exit $rc)" test "$rc" -ne 0
check "and says why" grep -q 'admin.sock: the socket systemd passed is more open than verdon.conf says' "$T/refused.log"
exit 0
