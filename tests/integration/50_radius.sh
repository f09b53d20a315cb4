#!/usr/bin/env bash
# The RADIUS front end with radclient (freeradius-utils) and tests/integration/radius_client.py:
# accept, reject, the challenge flow (code, wrong code, replayed code, replayed State, a State
# expired for real), the appended code, an app password, a missing or flipped
# Message-Authenticator, a wrong secret, an unknown client, a retransmission answered from the
# cache with one audit record, Status-Server, Proxy-State, a 128-byte and a non-ASCII password,
# CHAP refused, the reject delay of a penalised Calling-Station-Id that delays nobody else, a MAC
# station logged with its NAS (address=-) and penalised apart, the fail2ban filter over the log.
. "$(dirname "$0")/lib.sh"
command -v radclient >/dev/null || { echo "not ok - radclient missing: run scripts/deps.sh"; exit 1; }
PORT=$(python3 -c 'import socket; s = socket.socket(socket.AF_INET6, socket.SOCK_DGRAM); s.bind(("::1", 0)); p = s.getsockname()[1]; t = socket.socket(socket.AF_INET, socket.SOCK_DGRAM); t.bind(("127.0.0.1", p)); print(p)')
SECRET="vpn-Secret-$$-long-enough"
WIFI_SECRET="wifi-Secret-$$-long-enough"
printf '%s\n' "$SECRET" >"$T/vpn.secret"
printf '%s\n' "$WIFI_SECRET" >"$T/wifi.secret"
chmod 600 "$T/vpn.secret" "$T/wifi.secret"
write_config
cat >>"$CONF" <<CONF

[penalty]
base_ms = 1000
max_ms = 2000

[radius]
listen = 127.0.0.1:$PORT, [::1]:$PORT
state_lifetime = 10

[radius.client vpn]
address = 127.0.0.1/32
secret_file = $T/vpn.secret
service = radius-vpn
otp = challenge
class = vpn-staff
session_timeout = 3600

[radius.client wifi]
address = ::1/128
secret_file = $T/wifi.secret
service = radius-wifi
otp = append

[service radius-vpn]
credentials = password_otp, app_password
radius_reply_message = Bienvenue sur le VPN
radius_class = vpn-service
radius_session_timeout = 7200

[service radius-wifi]
credentials = appended_otp
radius_reply_message = Wi-Fi ouvert
radius_session_timeout = 600
CONF

# verdond -n checks the RADIUS sections; a secret file others can read is refused.
chmod 644 "$T/vpn.secret"
out=$("$VERDOND" -n -c "$CONF" 2>&1)
case "$out" in *"vpn.secret: readable by group or others"*) ok "verdond -n refuses a secret_file readable by others" ;;
*) not_ok "verdond -n refuses a secret_file readable by others: $out" ;; esac
chmod 600 "$T/vpn.secret"
check "verdond -n accepts the RADIUS sections" "$VERDOND" -n -c "$CONF"
cp "$CONF" "$T/bad.conf"
printf '\n[radius.client bad]\naddress = 10.0.0.0/33\nsecret_file = %s\n' "$T/vpn.secret" >>"$T/bad.conf"
out=$("$VERDOND" -n -c "$T/bad.conf" 2>&1)
case "$out" in *"[radius.client bad] address: invalid value"*) ok "verdond -n refuses a bad CIDR with its line" ;;
*) not_ok "verdond -n refuses a bad CIDR: $out" ;; esac
cp "$CONF" "$T/bad.conf"
printf '\n[service radius-bad]\nradius_session_timeout = 1h\n' >>"$T/bad.conf"
line=$(grep -n '^radius_session_timeout = 1h' "$T/bad.conf" | cut -d: -f1)
out=$("$VERDOND" -n -c "$T/bad.conf" 2>&1)
case "$out" in *"bad.conf:$line: radius_session_timeout: expected a number of seconds"*) ok "verdond -n refuses a service's bad radius_session_timeout with its line" ;;
*) not_ok "verdond -n refuses a service's bad radius_session_timeout with its line $line: $out" ;; esac
start_daemon || exit 1

# rc SECRET 'attributes': one Access-Request (radclient -x); prints radclient's output.
rc() { printf '%s\n' "$2" | radclient -x -r 1 -t "${RC_WAIT:-4}" "127.0.0.1:$PORT" auth "$1" 2>&1; }
got() { sed -n 's/^Received \(Access-[A-Za-z]*\).*/\1/p' | head -n1 | grep . || echo none; }
state_of() { sed -n 's/^[[:space:]]*State = //p' | head -n1; }
py() { RADIUS_WAIT=${RADIUS_WAIT:-3} python3 "$ROOT/tests/integration/radius_client.py" "$@"; }
audit_count() { jctl audit "$1" --limit 1000 | jq "[.[] | select(.actor == \"radius\")] | length"; }

# Accounts: jdupont (password + code), pmartin (a 128-byte password), lelie (non-ASCII).
user() { # first last numen password
	local temp
	temp=$(jctl user add --first "$1" --last "$2" --birth 1980-04-12 --numen "$3" \
		--rescue-email x@example.org | jq -r .temporary_password)
	printf '%s\n%s\n' "$temp" "$4" | ctl auth passwd "$5" >/dev/null
	jctl otp enroll "$5" | jq -r .secret
}
LONG_PW=$(python3 -c 'print(("Zq7-longue-phrase-de-passe-" * 6)[:128])')
UTF_PW="Éléphant-çà-œuvre-Жук-2026"
S=$(user Jean Dupont 12A3456789XYZ "$CANARY_PW" jdupont)
S2=$(user Paul Martin 12A3456789XYA "$LONG_PW" pmartin)
S3=$(user Léa Élie 12A3456789XYB "$UTF_PW" lelie)
fresh_step 25
B=$(step_now)
for u in jdupont:$S pmartin:$S2 lelie:$S3; do ctl otp confirm "${u%%:*}" "$(totp_step "${u#*:}" $((B - 1)))" >/dev/null; done
expect "the 128-byte password is 128 bytes" 128 "${#LONG_PW}"

MA='Message-Authenticator = 0x00'
# The challenge flow: the password, then the code with the State.
out1=$(rc "$SECRET" "User-Name = jdupont, User-Password = \"$CANARY_PW\", Calling-Station-Id = st-1, $MA")
expect "password right → Access-Challenge" Access-Challenge "$(got <<<"$out1")"
case "$out1" in *'Reply-Message = "Code de vérification :"'*) ok "… with the French Reply-Message" ;;
*) not_ok "… with the French Reply-Message: $out1" ;; esac
ST=$(state_of <<<"$out1")
CODE=$(totp_step "$S" "$B")
out2=$(rc "$SECRET" "User-Name = jdupont, User-Password = \"$CODE\", State = $ST, Calling-Station-Id = st-1, $MA")
expect "the code with the State → Access-Accept" Access-Accept "$(got <<<"$out2")"
# The service's Reply-Message; the client's Class and Session-Timeout over the service's.
case "$out2" in *'Reply-Message = "Bienvenue sur le VPN"'*) ok "… with the service's Reply-Message" ;;
*) not_ok "… with the service's Reply-Message: $out2" ;; esac
case "$out2" in *"Class = 0x$(printf vpn-staff | od -An -tx1 | tr -d ' \n')"*'Session-Timeout = 3600'*) ok "… and the client's Class and Session-Timeout over the service's" ;;
*) not_ok "… and the client's Class and Session-Timeout over the service's: $out2" ;; esac
case "$out2" in *vpn-service* | *7200* | *"$(printf vpn-service | od -An -tx1 | tr -d ' \n')"*) not_ok "… and none of the service's overridden ones: $out2" ;;
*) ok "… and none of the service's overridden ones" ;; esac
{
	echo "# radclient, one challenge flow:"
	sed 's/^/#   /' <<<"$out1"
	sed 's/^/#   /' <<<"$out2"
} | grep -v -e Cleartext -e Expected
out=$(rc "$SECRET" "User-Name = jdupont, User-Password = \"$CODE\", State = $ST, Calling-Station-Id = st-1, $MA")
expect "the same State again (replayed) → Access-Reject" Access-Reject "$(got <<<"$out")"
ST=$(rc "$SECRET" "User-Name = jdupont, User-Password = \"$CANARY_PW\", Calling-Station-Id = st-2, $MA" | state_of)
out=$(rc "$SECRET" "User-Name = jdupont, User-Password = \"$CODE\", State = $ST, Calling-Station-Id = st-2, $MA")
expect "a fresh State with the used code (replayed) → Access-Reject" Access-Reject "$(got <<<"$out")"
ST=$(rc "$SECRET" "User-Name = jdupont, User-Password = \"$CANARY_PW\", Calling-Station-Id = st-3, $MA" | state_of)
WRONG=$(printf '%06d' $(((10#$CODE + 1) % 1000000)))
out=$(rc "$SECRET" "User-Name = jdupont, User-Password = \"$WRONG\", State = $ST, Calling-Station-Id = st-3, $MA")
expect "a wrong code → Access-Reject" Access-Reject "$(got <<<"$out")"
out=$(rc "$SECRET" "User-Name = jdupont, User-Password = \"wrong-$CANARY_PW\", Calling-Station-Id = st-4, $MA")
expect "a wrong password → Access-Reject (no challenge)" Access-Reject "$(got <<<"$out")"
out=$(rc "$SECRET" "User-Name = nobody, User-Password = \"$CANARY_PW\", Calling-Station-Id = st-5, $MA")
expect "an unknown user → Access-Reject" Access-Reject "$(got <<<"$out")"

# Replies: Message-Authenticator first and right, Response Authenticator right, Proxy-State echoed.
out=$(py 127.0.0.1 "$PORT" "$SECRET" --calling st-6 --proxy-state p1 --proxy-state p2 jdupont "$CANARY_PW")
case "$out" in "Access-Challenge first=MA ok "*"Proxy-State=p1 Proxy-State=p2") ok "a challenge: MA first, authenticators right, Proxy-States echoed in order" ;;
*) not_ok "a challenge: MA first, authenticators right, Proxy-States echoed: $out" ;; esac
out=$(py 127.0.0.1 "$PORT" "$SECRET" --calling st-7 nobody x)
case "$out" in "Access-Reject first=MA ok"*) ok "a reject: MA first, authenticators right" ;; *) not_ok "a reject: MA first: $out" ;; esac

# Dropped, never answered: no MA, a flipped MA, a wrong secret, an unknown client.
out=$(rc "$SECRET" "User-Name = jdupont, User-Password = \"$CANARY_PW\", Calling-Station-Id = st-8")
expect "no Message-Authenticator → no answer" none "$(got <<<"$out")"
out=$(RADIUS_WAIT=2 py 127.0.0.1 "$PORT" "$SECRET" --flip-ma --calling st-8 jdupont "$CANARY_PW")
expect "a Message-Authenticator with one bit flipped → no answer" "no reply" "$out"
out=$(rc "not-the-$SECRET" "User-Name = jdupont, User-Password = \"$CANARY_PW\", Calling-Station-Id = st-8, $MA")
expect "a wrong secret → no answer" none "$(got <<<"$out")"
out=$(RADIUS_WAIT=2 py 127.0.0.1 "$PORT" "$SECRET" --bind 127.0.0.3 --calling st-8 jdupont "$CANARY_PW")
expect "an unknown client (127.0.0.3) → no answer" "no reply" "$out"
grep -q "dropped a packet from 127.0.0.3 .*unknown client" "$T/verdond.log" && ok "… logged as an unknown client" ||
	not_ok "… logged as an unknown client"
grep -q "dropped a packet from 127.0.0.1 .*bad Message-Authenticator" "$T/verdond.log" && ok "a bad MA is logged" ||
	not_ok "a bad MA is logged"
out=$(rc "$SECRET" "User-Name = jdupont, CHAP-Password = \"$CANARY_PW\", Calling-Station-Id = st-9, $MA")
expect "CHAP → Access-Reject" Access-Reject "$(got <<<"$out")"
grep -q "refused a request from 127.0.0.1 port [0-9]*: CHAP cannot be checked against Argon2" "$T/verdond.log" && ok "… with a clear log line" || not_ok "… with a clear log line"

out=$(rc "$SECRET" "User-Name = jdupont, MS-CHAP-Challenge = 0x00112233445566778899aabbccddeeff, MS-CHAP2-Response = 0x$(printf '%0100d' 0), Calling-Station-Id = st-9, $MA")
expect "MS-CHAPv2 → Access-Reject" Access-Reject "$(got <<<"$out")"
grep -q "MS-CHAP cannot be checked against Argon2" "$T/verdond.log" && ok "… with a clear log line" || not_ok "… MS-CHAP's clear log line"

# Status-Server (RFC 5997).
out=$(printf '%s\n' "$MA" | radclient -x -r 1 -t 4 "127.0.0.1:$PORT" status "$SECRET" 2>&1)
expect "Status-Server → Access-Accept" Access-Accept "$(got <<<"$out")"
expect "Status-Server without MA → no answer" "no reply" "$(RADIUS_WAIT=2 py 127.0.0.1 "$PORT" "$SECRET" --status --no-ma)"

# An app password: straight in, and a retransmission answered from the cache, audited once.
AP=$(jctl app-password add jdupont --label "VPN portable" --services radius-vpn | jq -r .password)
out=$(rc "$SECRET" "User-Name = jdupont, User-Password = \"$AP\", Calling-Station-Id = st-10, $MA")
expect "an app password → Access-Accept" Access-Accept "$(got <<<"$out")"
n0=$(audit_count jdupont)
out=$(py 127.0.0.1 "$PORT" "$SECRET" --twice --calling st-10 jdupont "$AP")
expect "the same packet twice → two identical Access-Accepts" 1 "$(sort -u <<<"$out" | grep -c '^Access-Accept first=MA ok')"
expect "… from two replies" 2 "$(grep -c . <<<"$out")"
expect "… and one audit record" $((n0 + 1)) "$(audit_count jdupont)"
out=$(py 127.0.0.1 "$PORT" "$SECRET" --twice --calling st-11 jdupont "wrong-again")
expect "a retransmitted wrong password → the same reject twice" "Access-Reject first=MA ok" "$(sort -u <<<"$out")"
# A wrong app password of the right shape (decided in the RADIUS thread itself, no Argon2):
# a reject, audited once, its station penalised.
last=${AP: -1}
for c in "${AP:0:1}" "${AP:1:1}" "${AP:2:1}"; do [ "$c" != "$last" ] && break; done
n0=$(audit_count jdupont)
out=$(RC_WAIT=10 rc "$SECRET" "User-Name = jdupont, User-Password = \"${AP%?}$c\", Calling-Station-Id = st-badapp, $MA")
expect "a wrong app password → Access-Reject" Access-Reject "$(got <<<"$out")"
expect "… audited once" $((n0 + 1)) "$(audit_count jdupont)"
check "… its station penalised" grep -q "penalised address=- failures=1 nas=127.0.0.1 station=st-badapp$" "$T/verdond.log"

# The appended code on the Wi-Fi client (IPv6), which sets no reply attribute: its service's.
out=$(printf '%s\n' "User-Name = jdupont, User-Password = \"$CANARY_PW$(totp_step "$S" $((B + 1)))\", Calling-Station-Id = st-12, $MA" |
	radclient -6 -x -r 1 -t 4 "[::1]:$PORT" auth "$WIFI_SECRET" 2>&1)
expect "password with the code appended, over IPv6 → Access-Accept" Access-Accept "$(got <<<"$out")"
case "$out" in *'Reply-Message = "Wi-Fi ouvert"'*'Session-Timeout = 600'*) ok "… with its service's Reply-Message and Session-Timeout" ;;
*) not_ok "… with its service's Reply-Message and Session-Timeout: $out" ;; esac
case "$out" in *Class*) not_ok "… and no Class (the service sets none): $out" ;; *) ok "… and no Class (the service sets none)" ;; esac
out=$(py ::1 "$PORT" "$WIFI_SECRET" --calling st-13 jdupont "$CANARY_PW")
case "$out" in "Access-Reject first=MA ok"*) ok "the password alone on an append client → Access-Reject" ;;
*) not_ok "the password alone on an append client: $out" ;; esac

# A 128-byte password, a non-ASCII one.
out=$(rc "$SECRET" "User-Name = pmartin, User-Password = \"$LONG_PW\", Calling-Station-Id = st-14, $MA")
expect "a 128-byte password → Access-Challenge" Access-Challenge "$(got <<<"$out")"
out=$(rc "$SECRET" "User-Name = lelie, User-Password = \"$UTF_PW\", Calling-Station-Id = st-15, $MA")
expect "a non-ASCII password → Access-Challenge" Access-Challenge "$(got <<<"$out")"
ST=$(state_of <<<"$out")
out=$(rc "$SECRET" "User-Name = lelie, User-Password = \"$(totp_step "$S3" "$B")\", State = $ST, Calling-Station-Id = st-15, $MA")
expect "… and its code → Access-Accept" Access-Accept "$(got <<<"$out")"

# The reject delay of a penalised station (its Calling-Station-Id, a MAC) holds nobody else.
MAC1=AA-BB-CC-00-00-01
MAC2=aa:bb:cc:00:00:02
rc "$SECRET" "User-Name = pmartin, User-Password = \"bad-1\", Calling-Station-Id = $MAC1, $MA" >/dev/null
: >"$T/order"
(RC_WAIT=10 rc "$SECRET" "User-Name = pmartin, User-Password = \"bad-2\", Calling-Station-Id = $MAC1, $MA" |
	got >"$T/pen.out"; echo penalised >>"$T/order") &
p1=$!
sleep 0.3
(rc "$SECRET" "User-Name = jdupont, User-Password = \"$AP\", Calling-Station-Id = st-other, $MA" |
	got >"$T/other.out"; echo other >>"$T/order") &
wait $p1 $!
expect "the penalised station's reject waits; another station's accept goes first" "other penalised" \
	"$(tr '\n' ' ' <"$T/order" | sed 's/ $//')"
expect "… a reject" Access-Reject "$(cat "$T/pen.out")"
expect "… an accept" Access-Accept "$(cat "$T/other.out")"
# A station that is no IP address: the refusal line names the NAS and the station, address=- (a
# ban of the NAS would shut out everybody behind it); its penalty is its own at this NAS.
re_refused='refused service=radius-vpn address=- reason=invalid action=auth login=[0-9a-f]\{16\}'
check "a MAC station's refusal names the NAS and the station" grep -q "$re_refused nas=127.0.0.1 station=$MAC1\$" "$T/verdond.log"
check "… and its penalty grows on the station" grep -q "penalised address=- failures=2 nas=127.0.0.1 station=$MAC1\$" "$T/verdond.log"
out=$(RC_WAIT=10 rc "$SECRET" "User-Name = pmartin, User-Password = \"bad-3\", Calling-Station-Id = $MAC2, $MA")
expect "another MAC on the same NAS → Access-Reject" Access-Reject "$(got <<<"$out")"
check "… counted apart: its own first failure" grep -q "penalised address=- failures=1 nas=127.0.0.1 station=$MAC2\$" "$T/verdond.log"
out=$(RC_WAIT=10 rc "$SECRET" "User-Name = pmartin, User-Password = \"bad-4\", Calling-Station-Id = \"ab cd address=192.0.2.99 x\", $MA")
expect "a station id with spaces and '=' → Access-Reject" Access-Reject "$(got <<<"$out")"
check "… logged sanitised" grep -q "$re_refused nas=127.0.0.1 station=ab_cd_address_192.0.2.99_x\$" "$T/verdond.log"
check "… never as an address" bash -c "! grep -q 'address=192.0.2.99' '$T/verdond.log'"
out=$(RC_WAIT=10 rc "$SECRET" "User-Name = pmartin, User-Password = \"bad-5\", Calling-Station-Id = 192.0.2.77, $MA")
expect "a numeric station (the person's IP) → Access-Reject" Access-Reject "$(got <<<"$out")"
check "… logged as the address, as before" grep -q 'refused service=radius-vpn address=192.0.2.77 reason=invalid action=auth login=[0-9a-f]\{16\}$' "$T/verdond.log"

# A State crossing its lifetime (10 s) for real.
ST=$(rc "$SECRET" "User-Name = pmartin, User-Password = \"$LONG_PW\", Calling-Station-Id = st-16, $MA" | state_of)
sleep 11
out=$(rc "$SECRET" "User-Name = pmartin, User-Password = \"$(totp "$S2")\", State = $ST, Calling-Station-Id = st-16, $MA")
expect "a State past its lifetime → Access-Reject" Access-Reject "$(got <<<"$out")"
sleep 1.5
if jctl audit --limit 1000 >"$T/audit.json" &&
	jq -e '[.[] | select(.detail == "expired State")] | length == 1' "$T/audit.json" >/dev/null; then
	ok "… audited as an expired State"
else not_ok "… audited as an expired State"; fi

if [ ! -s "$T/verdond.log" ] ||
	grep -F -e "$CANARY_PW" -e "$LONG_PW" -e "$UTF_PW" -e "$SECRET" "$T/verdond.log" >/dev/null; then
	not_ok "no secret in the log"
else ok "no secret in the log"; fi

# Drops are logged at a bounded rate: a burst of 300 packets from an unknown client.
before=$(grep -c "dropped a packet from 127.0.0.3" "$T/verdond.log")
secs=$(python3 - "$PORT" <<'PY'
import socket, sys, time
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.bind(("127.0.0.3", 0))
t0 = time.monotonic()
for _ in range(300):
    s.sendto(b"\x01\x01\x00\x14" + b"\x00" * 16, ("127.0.0.1", int(sys.argv[1])))
print(int(time.monotonic() - t0) + 2)
PY
)
sleep 1.2
RADIUS_WAIT=1 py 127.0.0.1 "$PORT" "$SECRET" --bind 127.0.0.3 --status >/dev/null # the next second's first line
logged=$(($(grep -c "dropped a packet from 127.0.0.3" "$T/verdond.log") - before))
if [ "$logged" -le $((10 * secs + 1)) ] && [ "$logged" -ge 10 ]; then ok "300 dropped packets: $logged log lines (10 a second at most)"
else not_ok "300 dropped packets: $logged log lines, over $secs s"; fi
grep -q "more lines about dropped or refused packets not logged" "$T/verdond.log" &&
	ok "… and a line counting the rest" || not_ok "… and a line counting the rest"

# A new secret by SIGHUP: the old one is dropped, the new one answered.
NEW_SECRET="vpn-Rotated-$$-secret"
printf '%s\n' "$NEW_SECRET" >"$T/vpn.secret"
kill -HUP "$DAEMON_PID"
for _ in $(seq 1 50); do grep -q "configuration reloaded" "$T/verdond.log" && break; sleep 0.1; done
out=$(printf '%s\n' "$MA" | radclient -x -r 1 -t 3 "127.0.0.1:$PORT" status "$NEW_SECRET" 2>&1)
expect "after SIGHUP, the new secret is answered" Access-Accept "$(got <<<"$out")"
expect "… and the old one dropped" "no reply" "$(RADIUS_WAIT=2 py 127.0.0.1 "$PORT" "$SECRET" --status)"

# fail2ban's filter over this log: the numeric station only, never the NAS, never a MAC.
sed -n "s/^verdond: info: /$(date '+%b %e %H:%M:%S') testhost verdond[4242]: /p" "$T/verdond.log" >"$T/syslog"
mkdir -p "$T/f2b/filter.d"
cp "$ROOT/contrib/fail2ban/filter.d/verdon.conf" "$T/f2b/filter.d/verdon.conf"
ln -s /etc/fail2ban/filter.d/common.conf "$T/f2b/filter.d/common.conf"
hosts=$(fail2ban-regex --print-all-matched "$T/syslog" "$T/f2b/filter.d/verdon.conf" 2>&1 |
	awk '/Matched line\(s\):/ {m = 1; next} /^`-/ {m = 0} m' | grep -o 'address=[^ ]*' | sort | uniq -c | awk '{print $2 "=" $1}' | tr '\n' ' ')
expect "fail2ban-regex matches the numeric station's refusal only" "address=192.0.2.77=1 " "$hosts"
