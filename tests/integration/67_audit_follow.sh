#!/usr/bin/env bash
# verdonctl audit --follow: the latest records oldest first, then each new record once, in order,
# as decisions are committed (polled once a second: crossed for real by waiting), in JSON lines
# with --json and in key=value lines without; the daemon refuses a malformed after=.
. "$(dirname "$0")/lib.sh"
FOLLOW_PID=""
stop_follow() { [ -n "$FOLLOW_PID" ] && kill "$FOLLOW_PID" 2>/dev/null && wait "$FOLLOW_PID" 2>/dev/null; FOLLOW_PID=""; }
trap 'stop_follow; cleanup' EXIT
start_daemon || exit 1

jctl user add --first Suivi --last Journal --birth 1980-01-01 --numen 77F3456789XYZ \
	--rescue-email suivi@example.org >/dev/null
"$VERDONCTL" -c "$CONF" --json audit --follow >"$T/follow.jsonl" 2>"$T/follow.err" &
FOLLOW_PID=$!
"$VERDONCTL" -c "$CONF" audit --follow --limit 5 >"$T/follow.txt" 2>&1 &
TEXT_PID=$!
for _ in $(seq 1 100); do [ -s "$T/follow.jsonl" ] && break; sleep 0.1; done
expect "the first batch: the user.add record" "user.add" "$(jq -r .action "$T/follow.jsonl" | head -1)"
for i in 1 2 3; do
	printf 'faux-mot-de-passe-%s\n\n' "$i" | ctl auth check sjournal --service imap --address 192.0.2.$i >/dev/null 2>&1
done
for _ in $(seq 1 150); do [ "$(grep -c '"action":"auth"' "$T/follow.jsonl")" -ge 3 ] && break; sleep 0.1; done
expect "three refusals followed" "192.0.2.1 192.0.2.2 192.0.2.3" \
	"$(jq -r 'select(.action == "auth") | .addr' "$T/follow.jsonl" | tr '\n' ' ' | sed 's/ $//')"
sleep 2.5 # more polls: nothing is printed twice
seqs=$(jq -r .seq "$T/follow.jsonl")
expect "every record once, in ascending order" "$(sort -n <<<"$seqs" | uniq)" "$seqs"
check "still following" kill -0 "$FOLLOW_PID"
check "text lines carry key=value fields" grep -q ' action=auth id=sjournal service=imap addr=192.0.2.3 result=refused reason=invalid' "$T/follow.txt"
kill "$TEXT_PID" 2>/dev/null; wait "$TEXT_PID" 2>/dev/null
stop_follow
out=$(python3 - "$T/admin.sock" "$ROOT/tests/integration" <<'PY'
import sys
sys.path.insert(0, sys.argv[2])
from lib_proto import Client
a = Client(sys.argv[1]).call("AUDIT", {"after": "12x"})
print(a.verb, a.get("reason"))
PY
)
expect "AUDIT after=12x is a bad request" "FAIL bad_request" "$out"
exit 0
