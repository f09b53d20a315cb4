#!/usr/bin/env bash
# Moving a store between backends: a 10,000-account LMDB store made by verdon, copied to PostgreSQL
# by `verdonctl store copy`, then back to LMDB; on each side the same people log in the same way
# (password + code, app password, session token) and a code used on one side stays used.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/pg_lib.sh"

copy_cleanup() {
	node_stop p
	pg_cleanup
	cleanup
}
trap copy_cleanup EXIT

ROWS=10000
start_daemon || exit 1

# Three people with every kind of credential, written down for the later steps.
pytap <<'PY'
from lib_proto import *
import json

def run(tap):
    adm, auth = Client(ADMIN), Client(AUTH)
    pw = os.environ["CANARY_PW"]
    people = [active_user(adm, auth, 900 + i, pw) for i in range(3)]
    app = adm.call("APP_ADD", {"login": people[1][0], "label": "Thunderbird", "services": "imap"})
    next_step(people[0][2])
    code = totp(people[0][1])
    t = auth.call("AUTH", {"login": people[0][0], "password": pw, "otp": code, "service": "webmail",
                           "token": "1"})
    tap.ok(app.verb == "OK" and t.verb == "OK", "three people with a code, an app password and a token")
    json.dump({"people": people, "app": app.get("password"), "token": t.get("token"),
               "used": [people[0][0], code]}, open(T + "/sample.json", "w"))

main_run(run)
PY

python3 - "$ROWS" >"$T/rentree.csv" <<'PY'
import sys
def letters(n, width=6):
    out = ""
    for _ in range(width):
        out = chr(ord("a") + n % 26) + out
        n //= 26
    return out.capitalize()
print("last,first,birth,numen,rescue_email")
for n in range(int(sys.argv[1])):
    print("%s,Agent,1975-05-05,%010dCPY,agent%d@example.net" % (letters(n), n, n))
PY
start=$(date +%s)
ctl user import "$T/rentree.csv" >"$T/import.out" 2>&1
echo "# imported $ROWS accounts in $(($(date +%s) - start)) s"
expect "the LMDB store holds the accounts" "$((ROWS + 3))" "$(jctl status | jq -r .accounts)"

pg_start db || { not_ok "a private PostgreSQL starts"; exit 1; }
CONNINFO=$(pg_conninfo db)
out=$(ctl store copy --to postgresql "$CONNINFO" 2>&1)
expect "a running node's store is not copied" 1 "$?"
check "… and says to stop it first" grep -q "stop it before copying" <<<"$out"
stop_daemon

start=$(date +%s)
out=$(ctl store copy --to postgresql "$CONNINFO" 2>&1)
rc=$?
echo "$out" | sed 's/^/# /'
echo "# copied to PostgreSQL in $(($(date +%s) - start)) s"
expect "store copy --to postgresql succeeds" 0 "$rc"
check "… and verifies the counts" grep -q "copy verified" <<<"$out"
expect "every account is in PostgreSQL" "$((ROWS + 3))" "$(pg_psql db 'SELECT count(*) FROM verdon_accounts')"
out=$(ctl store copy --to postgresql "$CONNINFO" 2>&1)
expect "a copy onto a non-empty store is refused" 1 "$?"
check "… saying so" grep -q "not empty" <<<"$out"

# A node on PostgreSQL, with the key file of the LMDB node.
node_config p "$CONNINFO"
cp "$T/state/verdon.key" "$T/p/state/verdon.key"
node_start p || { not_ok "a node starts on the copied store"; exit 1; }

# check_logins SOCKDIR PERSON: the password + code of PERSON, the app password, the token; the
# store holds ACCOUNTS accounts.
ACCOUNTS=$((ROWS + 3))
check_logins() {
	SOCK="$1" PERSON="$2" ACCOUNTS="$ACCOUNTS" pytap <<'PY'
from lib_proto import *
import json

def run(tap):
    s = json.load(open(T + "/sample.json"))
    pw = os.environ["CANARY_PW"]
    auth = Client(os.environ["SOCK"] + "auth.sock")
    adm = Client(os.environ["SOCK"] + "admin.sock")
    ident, secret, confirmed = s["people"][int(os.environ["PERSON"])]
    where = os.environ["SOCK"]
    tap.eq(os.environ["ACCOUNTS"], adm.call("STATUS").get("accounts"), "every account is there (%s)" % where)
    tap.eq("FAIL otp_required", auth.call("AUTH", {"login": ident, "password": pw,
                                                    "service": "webmail"}).short(),
           "the password is right (%s)" % where)
    next_step(confirmed)
    tap.eq("OK", auth.call("AUTH", {"login": ident, "password": pw, "otp": totp(secret),
                                    "service": "webmail"}).verb,
           "password + code log in (%s)" % where)
    tap.eq("OK", auth.call("AUTH", {"login": s["people"][1][0], "password": s["app"],
                                    "service": "imap"}).verb,
           "the app password logs in to IMAP (%s)" % where)
    tap.eq("OK", auth.call("AUTH", {"login": s["people"][0][0], "password": s["token"],
                                    "service": "imap"}).verb,
           "the session token logs in to IMAP (%s)" % where)
    tap.eq("FAIL invalid", auth.call("AUTH", {"login": s["used"][0], "password": pw,
                                              "otp": s["used"][1], "service": "webmail"}).short(),
           "the code used before the copy stays used (%s)" % where)

main_run(run)
PY
}
check_logins "$T/p/" 1

# An import on the PostgreSQL node: rows in group commits there too, namesakes numbered in the
# file's order, and the same file again writes nothing (not one audit row more).
{
	printf 'last,first,birth,numen,rescue_email\n'
	for i in $(seq 1 300); do
		if [ $((i % 100)) -eq 50 ]; then
			printf 'Homonyme,Jean,1971-01-%02d,%010dPGH,h%d@example.net\n' $((i / 100 + 1)) "$i" "$i"
		else
			printf 'Pg%s,Paul,1972-02-02,%010dPGI,p%d@example.net\n' "$(printf '%s' "$i" | tr 0-9 a-j)" "$i" "$i"
		fi
	done
} >"$T/pg.csv"
out=$(jctl -c "$T/p/verdon.conf" user import "$T/pg.csv")
expect "an import on the PostgreSQL node creates every row" "300 0" "$(jq -r '"\(.created) \(.errors)"' <<<"$out")"
expect "… namesakes numbered in the file's order" "50:jhomonyme 150:jhomonyme2 250:jhomonyme3" \
	"$(jq -r '[.lines[] | select(.identifiant | startswith("jhomonyme")) | "\(.line - 1):\(.identifiant)"] | join(" ")' <<<"$out")"
audit=$(pg_psql db 'SELECT count(*) FROM verdon_audit')
out=$(jctl -c "$T/p/verdon.conf" user import "$T/pg.csv")
expect "… the same file again: every row exists" "0 300" "$(jq -r '"\(.created) \(.existing)"' <<<"$out")"
expect "… and nothing was written (audit rows)" "$audit" "$(pg_psql db 'SELECT count(*) FROM verdon_audit')"
ACCOUNTS=$((ACCOUNTS + 300))

node_stop p
out=$(ctl -c "$T/p/verdon.conf" store copy --to lmdb "$T/back" 2>&1)
expect "store copy --to lmdb succeeds" 0 "$?"
check "… and verifies the counts" grep -q "copy verified" <<<"$out"
check "the key file goes with an LMDB copy (0600)" test "$(stat -c %a "$T/back/verdon.key")" = 600
sed -e "s|^state_dir = .*|state_dir = $T/back|" "$CONF" >"$T/back.conf"
CONF="$T/back.conf" start_daemon || { not_ok "verdond starts on the copy back to LMDB"; exit 1; }
check_logins "$T/" 2
