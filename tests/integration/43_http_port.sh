#!/usr/bin/env bash
# Two daemons on one HTTP port (issue 7, point 11): with SO_REUSEPORT a second verdond with another
# store started without error and the kernel shared the logins between the two. The second must
# refuse to start and say why; the first keeps serving.
. "$(dirname "$0")/lib.sh"
PORT=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
write_config
printf '\n[http]\nlisten = 127.0.0.1:%s\n' "$PORT" >>"$CONF"
start_daemon || exit 1
U="http://127.0.0.1:$PORT"
for _ in $(seq 1 50); do curl -s -o /dev/null "$U/api/health" && break; sleep 0.1; done
expect "the first daemon serves HTTP" 200 "$(curl -s -o /dev/null -w '%{http_code}' "$U/api/health")"

# The second: its own state directory and sockets, the same HTTP port.
mkdir -p "$T/two"
sed -e "s|$T/state|$T/two/state|; s|$T/auth.sock|$T/two/auth.sock|; s|$T/admin.sock|$T/two/admin.sock|" \
	"$CONF" >"$T/two/verdon.conf"
"$VERDOND" -c "$T/two/verdon.conf" >"$T/two/verdond.log" 2>&1 &
second=$!
for _ in $(seq 1 150); do
	kill -0 "$second" 2>/dev/null || break
	sleep 0.1
done
if kill -0 "$second" 2>/dev/null; then
	not_ok "the second daemon on the same HTTP port refuses to start (still running after 15 s)"
	kill -TERM "$second"
	wait "$second"
else
	wait "$second"
	rc=$?
	[ "$rc" -ne 0 ] && ok "the second daemon on the same HTTP port exits $rc" ||
		not_ok "the second daemon on the same HTTP port exits non-zero (got $rc)"
fi
if grep -q "cannot listen on 127.0.0.1:$PORT: the port is in use" "$T/two/verdond.log"; then
	ok "its log says the port is in use"
else
	not_ok "its log says the port is in use"
	sed 's/^/# /' "$T/two/verdond.log"
fi
[ -e "$T/two/auth.sock" ] && not_ok "the second left no auth socket" || ok "the second left no auth socket"
expect "the first daemon still serves HTTP" 200 "$(curl -s -o /dev/null -w '%{http_code}' "$U/api/health")"
# A restart on the same port works at once (SO_REUSEADDR is kept: TIME_WAIT does not block it).
stop_daemon
start_daemon || exit 1
for _ in $(seq 1 50); do curl -s -o /dev/null "$U/api/health" && break; sleep 0.1; done
expect "a restart listens on the same port again" 200 "$(curl -s -o /dev/null -w '%{http_code}' "$U/api/health")"
stop_daemon
echo "1..$N"
