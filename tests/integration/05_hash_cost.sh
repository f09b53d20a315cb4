#!/usr/bin/env bash
# Imported hashes are bounded (issue 7, point 5): a $6$ with rounds=999999999 would keep a worker
# busy for minutes on every unauthenticated try. Above a configured ceiling the import is refused with
# the key named; at the ceiling it works; a hash already stored above it is never run; and SIGTERM
# does not wait for a hash in progress.
EXTRA_PASSWORD="hash_max_sha512_rounds = 20000
hash_max_bcrypt_cost = 6
hash_max_yescrypt_cost = 5"
. "$(dirname "$0")/lib.sh"
write_config
printf '\n[otp]\nrequired = no\n' >>"$CONF"
start_daemon || exit 1

PW="Ancien-Mot-2-Passe!"
login() { printf '%s\n\n' "$2" | jctl auth check "$1" --service imap | jq -r '.result + ":" + (.reason // "")'; }
# import LAST NUMEN HASH: the import's JSON for one line
import_one() {
	printf 'last,first,birth,numen,rescue_email,password_hash\n%s,Anne,1960-01-01,%s,a@example.org,%s\n' \
		"$1" "$2" "$3" >"$T/one.csv"
	jctl user import "$T/one.csv"
}
# A well-formed $6$ string whose rounds cannot be afforded: its hash part need not match anything.
HUGE='$6$rounds=999999999$abcdefgh$'$(printf 'A%.0s' $(seq 86))

out=$(import_one Lent 11A1111111AAA "$HUGE")
expect "a \$6\$ with rounds=999999999 is refused" 1 "$(jq .errors <<<"$out")"
detail=$(jq -r '.lines[0].detail' <<<"$out")
case "$detail" in *hash_max_sha512_rounds*999999999*20000*) ok "the refusal names the limit: $detail" ;;
*) not_ok "the refusal names the limit: $detail" ;; esac
human=$(printf 'last,first,birth,numen,rescue_email,password_hash\nLent,Anne,1960-01-01,11A1111111AAA,a@example.org,%s\n' "$HUGE" >"$T/h.csv"; ctl user import "$T/h.csv" 2>&1)
case "$human" in *hash_max_sha512_rounds*) ok "verdonctl's table shows the limit too" ;;
*) not_ok "verdonctl's table shows the limit too: $human" ;; esac
# The raw protocol says the same to any admin client.
raw=$(T="$T" HUGE="$HUGE" PYTHONPATH="$ROOT/tests/integration" PYTHONDONTWRITEBYTECODE=1 python3 - <<'PY'
import os
from lib_proto import Client, ADMIN
c = Client(ADMIN)
a = c.call("USER_ADD", {"first": "Anne", "last": "Lent", "birth": "1960-01-01",
                        "numen": "11A1111111AAA", "rescue_email": "a@example.org",
                        "password_hash": os.environ["HUGE"]})
print(a.short(), a.get("detail"))
PY
)
case "$raw" in *bad_request*hash_max_sha512_rounds*) ok "USER_ADD answers bad_request naming the limit" ;;
*) not_ok "USER_ADD answers bad_request naming the limit: $raw" ;; esac
expect "nothing was created" 0 "$(jctl user list | jq length)"

AT=$(mkpasswd -m sha-512 -R 20000 -S abcdefgh "$PW")
out=$(import_one Pile 22A2222222BBB "$AT")
expect "a \$6\$ exactly at the limit is imported" 1 "$(jq .created <<<"$out")"
expect "… and logs in" "ok:" "$(login apile "$PW")"
out=$(import_one Haut 33A3333333CCC "$(mkpasswd -m sha-512 -R 20001 -S abcdefgh "$PW")")
expect "one round above the limit is refused" 1 "$(jq .errors <<<"$out")"

B6=$(mkpasswd -m bcrypt -R 6 "$PW")
B7=$(mkpasswd -m bcrypt -R 7 "$PW")
expect "bcrypt at cost 6 (the limit) is imported" 1 "$(import_one Bcsix 44A4444444DDD "$B6" | jq .created)"
expect "… and logs in" "ok:" "$(login abcsix "$PW")"
out=$(import_one Bcsept 55A5555555EEE "$B7")
expect "bcrypt at cost 7 is refused" hash_max_bcrypt_cost "$(jq -r '.lines[0].detail' <<<"$out" | cut -d: -f1)"

Y5=$(mkpasswd -m yescrypt -R 5 "$PW")
Y6=$(mkpasswd -m yescrypt -R 6 "$PW")
expect "yescrypt at cost 5 (the limit) is imported" 1 "$(import_one Yscinq 66A6666666FFF "$Y5" | jq .created)"
expect "… and logs in" "ok:" "$(login ayscinq "$PW")"
out=$(import_one Ysix 77A7777777GGG "$Y6")
expect "yescrypt at cost 6 is refused" hash_max_yescrypt_cost "$(jq -r '.lines[0].detail' <<<"$out" | cut -d: -f1)"

# A daemon whose ceiling lets the huge hash in (as every daemon before this fix did).
stop_daemon
sed -i 's/^hash_max_sha512_rounds = .*/hash_max_sha512_rounds = 999999999/' "$CONF"
start_daemon || exit 1
expect "with the ceiling raised, the huge hash is imported" 1 "$(import_one Lent 11A1111111AAA "$HUGE" | jq .created)"
(printf 'x\n\n' | timeout 600 "$VERDONCTL" -c "$CONF" --json auth check alent --service imap >/dev/null 2>&1) &
client=$!
# Wait until a worker is in that hash: the daemon counts the hashes it started.
for _ in $(seq 1 100); do
	[ "$(jctl status | jq -r '.hashes // 0')" -ge 1 ] 2>/dev/null && break
	sleep 0.1
done
sleep 0.5
kill -TERM "$DAEMON_PID"
t0=$(date +%s.%N)
for _ in $(seq 1 150); do
	kill -0 "$DAEMON_PID" 2>/dev/null || break
	sleep 0.1
done
if kill -0 "$DAEMON_PID" 2>/dev/null; then
	not_ok "SIGTERM during a hash of 999999999 rounds stops the daemon within 15 s (it waits 5 s for a hash)"
	kill -KILL "$DAEMON_PID"
else
	ok "SIGTERM during a hash of 999999999 rounds stopped the daemon in $(echo "$(date +%s.%N) - $t0" | bc | cut -c1-4) s"
fi
wait "$DAEMON_PID" 2>/dev/null
DAEMON_PID=""
kill "$client" 2>/dev/null
wait "$client" 2>/dev/null
grep -q "without waiting for 1 password hashes running" "$T/verdond.log" && ok "the log says a hash was not waited for" ||
	not_ok "the log says a hash was not waited for"

# Back to the low ceiling: the stored huge hash is never run, the login answers at once.
sed -i 's/^hash_max_sha512_rounds = .*/hash_max_sha512_rounds = 20000/' "$CONF"
start_daemon || exit 1
r=$(timeout 20 bash -c "printf 'x\n\n' | '$VERDONCTL' -c '$CONF' --json auth check alent --service imap" | jq -r '.result + ":" + (.reason // "")')
expect "a login on a stored hash above the ceiling answers tempfail at once" "tempfail:tempfail" "$r"
grep -q "stored password hash is refused: hash_max_sha512_rounds" "$T/verdond.log" &&
	ok "the log names the limit" || not_ok "the log names the limit"
expect "the account at the limit still logs in" "ok:" "$(login apile "$PW")"
stop_daemon
echo "1..$N"
