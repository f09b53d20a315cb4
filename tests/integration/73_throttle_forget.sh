#!/usr/bin/env bash
# On PostgreSQL the password throttle's counters live in the shared store (throttle_store.c), so
# wrong passwords on every node add up; [throttle] forget_after (here its floor, 60 s) must then
# forget them there too. Crossed for real: a counter older than forget_after is purged at the next
# purge (2 s after a start), a younger one is kept, and the login it delayed is open again.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/pg_lib.sh"
forget_cleanup() {
	node_stop a
	pg_cleanup
	cleanup
}
trap forget_cleanup EXIT

FORGET=60
pg_start db || { not_ok "a private PostgreSQL starts"; exit 1; }
# Later values win: a delay short enough to be forgotten at forget_after's floor. Not 1 s: the
# delay is kept in whole seconds, and one set at a second's end was over by the next request.
EXTRA_NODE_CONF=$(printf '[throttle]\nbase_delay = 3\nmax_delay = 30\nforget_after = %s\n' "$FORGET") \
	node_config a "$(pg_conninfo db)"
node_start a || { not_ok "the node starts on PostgreSQL"; exit 1; }
counters() { pg_psql db 'SELECT count(*) FROM verdon_throttle'; }

export A_AUTH="$T/a/auth.sock" A_ADMIN="$T/a/admin.sock"
wrong() { # LOGIN N: N wrong passwords for LOGIN; prints the last answer
	python3 - "$1" "$2" <<'PY'
import os, sys
sys.path.insert(0, os.path.join(os.environ["ROOT"], "tests/integration"))
from lib_proto import Client
auth = Client(os.environ["A_AUTH"])
for i in range(int(sys.argv[2])):
    a = auth.call("AUTH", {"login": sys.argv[1], "password": "pas-le-bon-%d" % i, "service": "webmail"})
print(a.short())
PY
}
export ROOT
old=$(wrong personne.ancienne 5)
expect "five wrong passwords delay the login" "FAIL locked" "$old"
expect "one counter in the shared store" 1 "$(counters)"
t0=$(date +%s)
sleep $((FORGET / 2))
wrong personne.recente 5 >/dev/null
expect "a second counter, younger" 2 "$(counters)"
# Past forget_after for the first one only, then a restart: the purge runs 2 s after the start.
sleep $((FORGET + 2 - ($(date +%s) - t0)))
node_stop a
node_start a || { not_ok "the node starts again"; exit 1; }
check "the purge forgot the counter older than forget_after (the log says so)" \
	wait_for_log "$T/a/verdond.log" "forgot 1 password throttle counters past forget_after"
expect "the younger counter is kept" 1 "$(counters)"
# Remembered, five failures and two more would delay the second at once (delay_after = 4);
# forgotten, they are the first two.
expect "the forgotten login starts again from nothing: two wrong passwords, both just invalid" \
	"FAIL invalid" "$(wrong personne.ancienne 2)"
expect "the login whose counter was kept: the second of two more is delayed" "FAIL locked" \
	"$(wrong personne.recente 2)"
