#!/usr/bin/env bash
# A store made by verdon before its records were binary (tests/fixtures/json-store: JSON accounts
# and sessions, made at a60f3f5 by its make.sh): today's verdond rewrites every record once at
# start, logs it, and the store then holds binary records only, verifies whole, and answers as
# before: the same people, fields, states, aliases, app passwords, sessions, OTP secrets.
. "$(dirname "$0")/lib.sh"
FIX="$ROOT/tests/fixtures/json-store"
. "$FIX/secrets.env"

# The fixture's tables into a new store, as mdb_load writes them (the store holds hashes: 0600).
load_fixture() {
	mkdir -m 700 "$T/state"
	(
		umask 077
		awk -v dir="$T" '/^# table / { t = $3; next } { print > (dir "/" t ".dump") }' "$FIX/store.dump"
		for f in "$T"/*.dump; do
			mdb_load -s "$(basename "$f" .dump)" "$T/state" <"$f" 2>/dev/null
		done
	)
	# The key that sealed its OTP secrets, kept as text so that no key file is tracked.
	(umask 077 && base64 -d "$FIX/verdon-key.b64" >"$T/state/verdon.key")
}

# What the fixture's JSON says of each account and session, read straight from the dump.
fixture_json() {
	python3 - "$FIX/store.dump" <<'PY'
import json, sys
table, out = None, {"accounts": {}, "sessions": {}}
lines = [l.rstrip("\n") for l in open(sys.argv[1])]
i = 0
while i < len(lines):
    l = lines[i]
    if l.startswith("# table "):
        table, body = l.split()[2], False
    elif l == "HEADER=END":
        body = True
    elif l == "DATA=END":
        body = False
    elif body and table in out:
        key = bytes.fromhex(l.strip()).decode()
        out[table][key] = json.loads(bytes.fromhex(lines[i + 1].strip()))
        i += 1
    i += 1
json.dump(out, sys.stdout)
PY
}

load_fixture
fixture_json >"$T/fixture.json"
expect "the fixture holds five JSON accounts" 5 "$(jq '.accounts | length' "$T/fixture.json")"
expect "… and one JSON session" 1 "$(jq '.sessions | length' "$T/fixture.json")"

write_config
start_daemon || exit 1
check "the start-up says it rewrote them" \
	grep -q "rewrote 5 account and 1 session records in the binary form" "$T/verdond.log"

# Binary records only now: the first byte of every account and session value is the format byte.
stop_daemon
firsts=$(for t in accounts sessions; do mdb_dump -s "$t" "$T/state" | sed -n '/^HEADER=END/,/^DATA=END/p' |
	sed '1d;$d' | awk 'NR % 2 == 0 { print substr($1, 1, 2) }'; done | sort | uniq -c | awk '{ print $2 "x" $1 }')
expect "every record is binary (format byte 01)" "01x6" "$firsts"
start_daemon || exit 1

out=$(ctl store verify 2>&1)
expect "the migrated store verifies whole" 0 "$?"
echo "$out" | sed 's/^/# /'

# Field by field, what the new daemon shows is what the JSON said.
for who in "$IDENT" "$PENDING" "$RENAMED" "$SUSPENDED" "$DELETED"; do
	want=$(jq -c --arg w "$who" '.accounts[$w] | [.email, .first, .last, .birth, .rescue, .state,
		.created, .last_login, (.otp_active // false), ((.recovery // []) | length),
		(.pw_temp // false), ((.aliases // []) | join(","))]' "$T/fixture.json")
	got=$(jctl user show "$who" | jq -c '[.email, .first, .last, .birth, .rescue_email, .state,
		.created, .last_login, (.otp == "active"), .recovery_codes, .password_temporary, .aliases]')
	expect "$who: the same email, names, birth, rescue, state, times, OTP, codes, aliases" "$want" "$got"
	want=$(jq -c --arg w "$who" '[.accounts[$w].apps // [] | .[] | [.id, .label, .services, .created]]' \
		"$T/fixture.json")
	got=$(jctl app-password list "$who" | jq -c '[.[] | [.app_id, .label, .services, .created]]')
	expect "$who: the same app passwords" "$want" "$got"
done
expect "the renamed account still answers to its former identifiant" "$RENAMED" \
	"$(jctl user show "$FORMER" | jq -r .identifiant)"

# The session: listed with the same creation and expiry as its JSON record.
want=$(jq -r '.sessions[] | "\(.created) \(.expires) \(.service)"' "$T/fixture.json")
got=$(jctl session list "$IDENT" | jq -r '.[0] | "\(.created) \(.expires) \(.service)"')
expect "the session keeps its creation, expiry and service" "$want" "$got"

# And they log in as before: password + the code of the OTP secret sealed by the old daemon,
# the app password; the suspended account stays refused.
export IDENT PASSWORD OTP_SECRET APP_PASSWORD SUSPENDED
pytap <<'PY'
from lib_proto import *

def run(tap):
    auth = Client(AUTH)
    ident, pw = os.environ["IDENT"], os.environ["PASSWORD"]
    a = auth.call("AUTH", {"login": ident, "password": pw, "otp": totp(os.environ["OTP_SECRET"]),
                           "service": "webmail"})
    tap.eq("OK", a.verb, "password + code of the migrated OTP secret: %r" % (a,))
    a = auth.call("AUTH", {"login": ident, "password": os.environ["APP_PASSWORD"], "service": "imap"})
    tap.eq("OK", a.verb, "the migrated app password logs in to IMAP: %r" % (a,))
    a = auth.call("AUTH", {"login": os.environ["SUSPENDED"], "password": pw, "otp": "000000",
                           "service": "webmail"})
    tap.eq("FAIL", a.verb, "the suspended account is still refused")

main_run(run)
PY

# Once is enough: a second start reads the flag and rewrites nothing.
stop_daemon
: >"$T/verdond.log"
start_daemon || exit 1
check "a second start rewrites nothing" sh -c "! grep -q rewrote '$T/verdond.log'"
out=$(ctl store verify 2>&1)
expect "… and the store still verifies whole" 0 "$?"
echo "# $N checks"
