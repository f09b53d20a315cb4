#!/usr/bin/env bash
# verdonctl store verify: a store made by verdon verifies whole; one damaged behind the daemon's
# back (an index entry to nobody, a session of a missing account, a record that does not decode)
# is reported entry by entry with exit 1; purging a deleted account takes its sessions too.
. "$(dirname "$0")/lib.sh"

EXTRA_VERDON="delete_grace_days = 0" write_config
start_daemon || exit 1

pytap <<'PY'
from lib_proto import *

def run(tap):
    adm, auth = Client(ADMIN), Client(AUTH)
    pw = os.environ["CANARY_PW"]
    people = [active_user(adm, auth, 800 + i, pw) for i in range(2)]
    for ident, secret, used in people:
        next_step(used)
        a = auth.call("AUTH", {"login": ident, "password": pw, "otp": totp(secret),
                               "service": "webmail", "token": "1"})
        tap.eq("OK", a.verb, "%s logs in and gets a session token" % ident)
    tap.eq("OK", adm.call("USER_DELETE", {"login": people[1][0]}).verb,
           "the second person is deleted (grace period 0)")
    open(T + "/deleted", "w").write(people[1][0])

main_run(run)
PY
out=$(ctl store verify 2>&1)
expect "a store made by verdon verifies whole (exit 0)" 0 "$?"
check "… and says so" grep -q "0 problem(s)" <<<"$out"
echo "$out" | sed 's/^/# /'

# The purge (2 s after start) takes the deleted account's sessions with it.
stop_daemon
start_daemon || exit 1
deleted=$(cat "$T/deleted")
for _ in $(seq 1 50); do
	ctl user show "$deleted" >/dev/null 2>&1 || break
	sleep 0.2
done
check "the deleted account is purged" sh -c "! '$VERDONCTL' -c '$CONF' user show '$deleted'"
out=$(ctl store verify 2>&1)
expect "after the purge the store still verifies whole" 0 "$?"
echo "$out" | sed 's/^/# /'
expect "no session of the purged account is left" 1 "$(jctl store verify | jq -r .sessions)"

# A store made before the due-time index (every table but "due", and no flag in meta): the daemon
# builds the index at start, once, and the store verifies whole.
stop_daemon
mkdir -m 700 "$T/old"
(
	umask 077 # the store holds password hashes: verdond refuses a readable one
	for t in accounts email numen audit sessions; do
		mdb_dump -s "$t" "$T/state" | mdb_load -s "$t" "$T/old" 2>/dev/null
	done
	mdb_dump -p -s meta "$T/state" | awk '/^ due_index$/ { skip = 2 } skip > 0 { skip--; next } { print }' |
		mdb_load -s meta "$T/old" 2>/dev/null
)
cp -p "$T/state/verdon.key" "$T/old/verdon.key"
sed -i "s|^state_dir = .*|state_dir = $T/old|" "$CONF"
start_daemon || exit 1
out=$(ctl store verify 2>&1)
expect "a store made before the due-time index verifies whole once verdond has built it" 0 "$?"
echo "$out" | sed 's/^/# /'
check "the start-up said it built the index" grep -q "indexed 1 deleted accounts and sessions by due time" "$T/verdond.log"

# Damage behind the daemon's back, with LMDB's own tools while it is stopped.
stop_daemon
sed -i "s|^state_dir = .*|state_dir = $T/state|" "$CONF"
printf 'ghost@example.org\nnobody\n' | mdb_load -T -s email "$T/state"
printf 'zzcorrupt\nthis is not JSON\n' | mdb_load -T -s accounts "$T/state"
printf 'deadbeef\n{"id":"nobody","service":"imap","created":1,"last_used":1,"expires":9999999999,"gen":0}\n' |
	mdb_load -T -s sessions "$T/state"
start_daemon || exit 1
out=$(ctl store verify 2>&1)
expect "a damaged store fails verification (exit 1)" 1 "$?"
echo "$out" | sed 's/^/# /'
check "the index entry to nobody is named" grep -q "email.*ghost@example.org.*points at a missing account" <<<"$out"
check "the record that does not decode is named" grep -q "accounts.*zzcorrupt.*does not decode" <<<"$out"
check "the session of a missing account is named" grep -q "sessions.*deadbeef.*missing account" <<<"$out"
check "the session outside the due-time index is named" grep -q "sessions.*deadbeef.*not in the due-time index" <<<"$out"
expect "four problems are counted" 4 "$(jctl store verify | jq -r .problems)"
