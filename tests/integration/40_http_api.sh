#!/usr/bin/env bash
# The self-service JSON API over real HTTP (curl against the real verdond): every flow and every
# refusal of docs/http-api.md, the QR decoded with zbarimg, the security headers on every answer,
# CSRF, content types, body limits, bad JSON, trusted proxies, the address penalty, slow clients
# and the per-address connection limit.
. "$(dirname "$0")/lib.sh"

PORT=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
TIMEOUT=3
PER_IP=6
write_config
cat >>"$CONF" <<CONF

[penalty]
base_ms = 1500
max_ms = 3000

[http]
listen = 127.0.0.1:$PORT
trusted_proxies = 127.0.0.1
timeout = $TIMEOUT
per_ip_connections = $PER_IP
CONF
start_daemon || exit 1
U="http://127.0.0.1:$PORT"
mkdir -p "$T/h" "$T/b"
for _ in $(seq 1 50); do curl -s -o /dev/null "$U/api/health" && break; sleep 0.1; done

# Every failure counts against the client address (the penalty): each part speaks from its
# own address, given by X-Forwarded-For through the trusted proxy that curl stands for.
ANET=1
newaddr() { ANET=$((ANET + 1)); ADDR="198.51.100.$ANET"; }
newaddr
JAR="$T/jar.a"
HN=0

# call METHOD PATH [JSON [curl options...]]: STATUS, BODY; headers kept in $T/h/N for the
# security-header sweep at the end. POST and DELETE carry the CSRF header (unless NOCSRF=1;
# CSRF=value changes it); a body is sent as application/json (CT=type changes it).
call() {
	local m=$1 p=$2 data=${3-}
	shift $(($# < 3 ? $# : 3))
	local args=(-s -X "$m" -D "$T/h/$((HN + 1))" -o "$T/b/$((HN + 1))" -w '%{http_code}'
		-b "$JAR" -c "$JAR" -H "X-Forwarded-For: $ADDR")
	HN=$((HN + 1))
	case "$m" in POST | DELETE) [ -n "${NOCSRF:-}" ] || args+=(-H "X-Verdon-Request: ${CSRF:-1}") ;; esac
	[ -n "$data" ] && args+=(-H "Content-Type: ${CT-application/json}" --data-binary "$data")
	STATUS=$(curl "${args[@]}" "$@" "$U$p")
	BODY=$(tr -d '\0' <"$T/b/$HN")
	echo "$p" >"$T/h/$HN.path"
}
j() { jq -r "$1" <<<"$BODY"; }
hdr() { grep -i "^$1:" "$T/h/$HN" | head -1 | cut -d' ' -f2- | tr -d '\r'; }
# expect_call "description" STATUS ERROR: the last call's status and error field.
expect_call() {
	if [ "$STATUS" = "$2" ] && [ "$(j '.error // empty')" = "${3:-}" ]; then ok "$1"; else
		not_ok "$1"
		echo "# expected: $2 ${3:-}"
		echo "# actual:   $STATUS $BODY"
	fi
}
json() { jq -cn "$@"; }

# ---------------------------------------------------------------- the page and health
call GET /
expect "GET / serves the page" 200 "$STATUS"
expect "… as HTML" "text/html; charset=utf-8" "$(hdr Content-Type)"
grep -q '<html' "$T/b/$HN" && ok "… the page's text" || not_ok "… the page's text"
for f in app.js style.css; do
	call GET "/$f"
	expect "GET /$f" 200 "$STATUS"
done
call GET /nothing.html
expect_call "an unknown file → 404" 404 not_found
call GET /api/health
expect "health → 200 ok" "200 ok" "$STATUS $(j .status)"
call GET /api/nothing
expect_call "an unknown API path → 404" 404 not_found
call PUT /api/login '{}'
expect_call "a wrong method → 405" 405 method_not_allowed
expect "… with Allow: POST" POST "$(hdr Allow)"
call DELETE /api/rescue-email
expect_call "a wrong method on a path with two → 405" 405 method_not_allowed
expect "… with Allow naming both (RFC 9110: every method the resource has)" "GET, POST" "$(hdr Allow)"

# ---------------------------------------------------------------- requests refused from their form
NOCSRF=1 call POST /api/login '{"login":"x","password":"y"}'
expect_call "POST without X-Verdon-Request → 403 csrf" 403 csrf
CSRF=yes call POST /api/login '{"login":"x","password":"y"}'
expect_call "… or with another value → 403 csrf" 403 csrf
NOCSRF=1 call DELETE /api/app-passwords/abc
expect_call "DELETE without it → 403 csrf" 403 csrf
CT=text/plain call POST /api/login '{"login":"x"}'
expect_call "text/plain → 415" 415 unsupported_media_type
CT=application/x-www-form-urlencoded call POST /api/login 'login=x&password=y'
expect_call "a form → 415" 415 unsupported_media_type
CT= call POST /api/login '{"login":"x"}'
expect_call "no Content-Type → 415" 415 unsupported_media_type
CT='application/json; charset=utf-8' call POST /api/login '{"login":"x"}'
expect_call "application/json with a charset is JSON (here: a field missing → 400)" 400 bad_request
head -c 17000 /dev/zero | tr '\0' a >"$T/big"
call POST /api/login "@$T/big"
expect_call "a body over 16 KiB → 413" 413 too_large
call POST /api/login "@$T/big" -H 'Transfer-Encoding: chunked'
expect_call "… chunked too → 413" 413 too_large
printf '{"login":"%s","password":"x"}' "$(head -c 16300 /dev/zero | tr '\0' a)" >"$T/edge"
call POST /api/login "@$T/edge"
expect_call "a body just under the limit is read (the login is too long: 400)" 400 bad_request
call POST /api/login '{"login":'
expect_call "truncated JSON → 400 bad_json" 400 bad_json
call POST /api/login '["login","x"]'
expect_call "a JSON array → 400 bad_json" 400 bad_json
call POST /api/login '{"login":"a","login":"b","password":"x"}'
expect_call "a duplicate key → 400 bad_json" 400 bad_json
call POST /api/login '{"login":"a\u0000b","password":"x"}'
expect_call "a NUL inside a string → 400 bad_json" 400 bad_json
call POST /api/login '{"login":1,"password":"x"}'
expect_call "a number for a string → 400" 400 bad_request
for p in /api/me /api/otp/qr.png /api/app-passwords; do
	call GET "$p"
	expect_call "GET $p without a session → 401" 401 unauthenticated
done
call POST /api/otp/enroll '{}' -b 'verdon_session=AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA'
expect_call "an unknown session id → 401" 401 unauthenticated

# ---------------------------------------------------------------- first login
out=$(jctl user add --first Jean --last Dupont --birth 1980-04-12 --numen 12A3456789XYZ \
	--rescue-email jean@example.org)
TEMP=$(jq -r .temporary_password <<<"$out")
newaddr
call POST /api/login "$(json --arg p "$TEMP" '{login:"jdupont",password:$p}')"
expect_call "login with the temporary password → 401 password_change_required" 401 password_change_required
call POST /api/first-login "$(json '{login:"jdupont",temporary_password:"Faux-Temporaire-1",new_password:"Zebre-Violet-42-Lune"}')"
expect_call "first login with a wrong temporary password → 401 invalid" 401 invalid
newaddr
call POST /api/first-login "$(json --arg t "$TEMP" '{login:"jdupont",temporary_password:$t,new_password:"court"}')"
expect_call "a too short new password → 400 too_short" 400 too_short
case "$(j .detail)" in *caract*) ok "… with the policy's detail in French: $(j .detail)" ;; *) not_ok "… detail: $BODY" ;; esac
call POST /api/first-login "$(json --arg t "$TEMP" '{login:"jdupont",temporary_password:$t}')"
expect_call "a missing field → 400 bad_request" 400 bad_request
call POST /api/first-login "$(json --arg t "$TEMP" --arg n "$CANARY_PW" '{login:"jdupont",temporary_password:$t,new_password:$n}')"
expect "first login → 200 stage enroll" "200 jdupont enroll" "$STATUS $(j .identifiant) $(j .stage)"
COOKIE=$(hdr Set-Cookie)
case "$COOKIE" in verdon_session=???????????????????????????????????????????\;*) ok "a 43-character session id" ;; *) not_ok "session cookie: $COOKIE" ;; esac
for a in HttpOnly SameSite=Strict Path=/; do
	case "$COOKIE" in *"; $a"*) ok "cookie has $a" ;; *) not_ok "cookie has $a: $COOKIE" ;; esac
done
case "$COOKIE" in *Secure*) not_ok "no Secure without TLS in front" ;; *) ok "no Secure without TLS in front" ;; esac
call GET /api/me
expect "me: enroll, no authenticator" "200 jdupont jean.dupont@example.org enroll none" \
	"$STATUS $(j .identifiant) $(j .email) $(j .stage) $(j .otp)"
call GET /api/app-passwords
expect_call "an enroll session may not list app passwords → 403" 403 wrong_state
call POST /api/password '{"current":"a","new":"b","otp":"1"}'
expect_call "… nor change the password → 403" 403 wrong_state
call GET /api/otp/qr.png
expect_call "no QR before enrollment → 404" 404 no_pending_otp

# ---------------------------------------------------------------- enrollment and the QR
call POST /api/otp/enroll '{}'
expect "enroll → 200" 200 "$STATUS"
URI=$(j .uri)
SECRET=$(j .secret)
expect "secret_groups is the secret in groups of four" "$(sed 's/..../& /g; s/ $//' <<<"$SECRET")" "$(j .secret_groups)"
expect "the QR paths" "/api/otp/qr.png /api/otp/qr.svg" "$(j .qr_png) $(j .qr_svg)"
call GET /api/otp/qr.png
cp "$T/b/$HN" "$T/qr.png"
expect "qr.png → 200 image/png" "200 image/png" "$STATUS $(hdr Content-Type)"
expect "… no-store" no-store "$(hdr Cache-Control)"
expect "the PNG decodes with zbarimg to the API's uri" "$URI" "$(zbarimg --raw -q "$T/qr.png" 2>/dev/null)"
parts=$(python3 -c '
import sys, urllib.parse as u
p = u.urlsplit(sys.argv[1]); q = u.parse_qs(p.query)
print(p.scheme, p.netloc, u.unquote(p.path), q["issuer"][0], q["secret"][0], q["algorithm"][0], q["digits"][0], q["period"][0], sep="|")' "$URI")
expect "… otpauth://totp/ISSUER:identifiant with issuer, secret, algorithm, digits, period" \
	"otpauth|totp|/Académie de Test:jdupont|Académie de Test|$SECRET|SHA1|6|30" "$parts"
call GET /api/otp/qr.svg
expect "qr.svg → 200 image/svg+xml" "200 image/svg+xml" "$STATUS $(hdr Content-Type)"
grep -q '<svg' "$T/b/$HN" && ok "… an SVG document" || not_ok "… an SVG document"
call GET /api/me
expect "me: otp pending" pending "$(j .otp)"
call POST /api/otp/confirm '{"code":"000000"}'
expect_call "a wrong confirmation code → 400 invalid" 400 invalid
call POST /api/otp/confirm '{}'
expect_call "no code → 400 bad_request" 400 bad_request
fresh_step 20
BASE=$(step_now)
call POST /api/otp/confirm "$(json --arg c "$(totp_step "$SECRET" $((BASE - 1)))" '{code:$c}')"
expect "the right code → 200 with 10 recovery codes" "200 10" "$STATUS $(j '.recovery_codes | length')"
RECOVERY=("$(j '.recovery_codes[0]')" "$(j '.recovery_codes[1]')")
call GET /api/me
expect "the session is now full, the authenticator active" "full active" "$(j .stage) $(j .otp)"
call GET /api/otp/qr.png
expect_call "the QR is gone after confirmation" 404 no_pending_otp
cp "$JAR" "$T/jar.old"
call POST /api/logout
expect "logout → 200 {}" "200 {}" "$STATUS $BODY"
case "$(hdr Set-Cookie)" in verdon_session=\;*Max-Age=0*) ok "logout clears the cookie" ;; *) not_ok "logout cookie: $(hdr Set-Cookie)" ;; esac
JAR="$T/jar.old"
call GET /api/me
expect_call "the old session is dead" 401 unauthenticated
JAR="$T/jar.a"

# ---------------------------------------------------------------- login in two steps
newaddr
call POST /api/login "$(json --arg p "$CANARY_PW" '{login:"jdupont",password:$p}')"
expect_call "password alone → 401 otp_required" 401 otp_required
CODE=$(totp_step "$SECRET" "$BASE")
call POST /api/login "$(json --arg p "$CANARY_PW" --arg c "$CODE" '{login:"jdupont",password:$p,otp:$c}')"
expect "password + code → 200 stage full" "200 jdupont full" "$STATUS $(j .identifiant) $(j .stage)"
call GET /api/me
expect "me after login" "200 full" "$STATUS $(j .stage)"
JAR="$T/jar.b"
newaddr
call POST /api/login "$(json --arg p "$CANARY_PW" --arg c "$CODE" '{login:"jdupont",password:$p,otp:$c}')"
expect_call "the same code again → 401 invalid" 401 invalid
newaddr
call POST /api/login "$(json --arg p "$CANARY_PW" --arg c "${RECOVERY[0]}" '{login:"jean.dupont@example.org",password:$p,otp:$c}')"
expect "login by email with a recovery code → 200 full (a second session)" "200 jdupont full" \
	"$STATUS $(j .identifiant) $(j .stage)"
JAR="$T/jar.a"

# ---------------------------------------------------------------- app passwords
call POST /api/app-passwords '{"label":"Thunderbird","services":["imap","smtp"]}'
expect "create an app password → 200" 200 "$STATUS"
APP_ID=$(j .id)
APP_PW=$(j .password)
[ -n "$APP_ID" ] && [ ${#APP_PW} -ge 16 ] && ok "… with an id and a password shown once" || not_ok "… $BODY"
out=$(printf '%s\n\n' "$APP_PW" | jctl auth check jdupont --service imap)
expect "the app password opens IMAP on the auth socket" ok "$(jq -r .result <<<"$out")"
for bad in '{"label":"x","services":[]}' '{"label":"x","services":"imap"}' \
	'{"label":"x","services":["IMAP"]}' '{"label":"","services":["imap"]}' '{"services":["imap"]}'; do
	call POST /api/app-passwords "$bad"
	expect_call "app password $bad → 400" 400 bad_request
done
call GET /api/app-passwords
expect "the list shows it" "200 1 $APP_ID Thunderbird imap,smtp" \
	"$STATUS $(j '.app_passwords | length') $(j '.app_passwords[0].id') $(j '.app_passwords[0].label') $(j '.app_passwords[0].services | join(",")')"
jq -e '.app_passwords[0] | (.created | type) == "number" and (.last_used | type) == "number"' <<<"$BODY" >/dev/null &&
	ok "… created and last_used are numbers" || not_ok "… $BODY"
call DELETE "/api/app-passwords/$APP_ID"
expect "revoke it → 200 {}" "200 {}" "$STATUS $BODY"
call DELETE "/api/app-passwords/$APP_ID"
expect_call "revoke it again → 404" 404 not_found
call DELETE "/api/app-passwords/..%2Fx"
expect_call "a malformed id → 404" 404 not_found
out=$(printf '%s\n\n' "$APP_PW" | jctl auth check jdupont --service imap)
expect "the revoked app password no longer opens IMAP" refused "$(jq -r .result <<<"$out")"

# ---------------------------------------------------------------- password change
NEWPW="Nouveau-Passe-Vert-8812"
newaddr
call POST /api/password "$(json --arg n "$NEWPW" '{current:"Pas-Le-Bon-Passe-1",new:$n,otp:"123456"}')"
expect_call "a wrong current password → 401 invalid" 401 invalid
newaddr
call POST /api/password "$(json --arg p "$CANARY_PW" --arg c "$(totp_step "$SECRET" $((BASE + 1)))" '{current:$p,new:"motdepasse123",otp:$c}')"
expect_call "a dictionary password → 400 dictionary" 400 dictionary
call POST /api/password "$(json --arg p "$CANARY_PW" --arg n "$NEWPW" --arg c "${RECOVERY[1]}" '{current:$p,new:$n,otp:$c}')"
expect "current + new + code → 200 {}" "200 {}" "$STATUS $BODY"
call GET /api/me
expect "this session lives on" 200 "$STATUS"
JAR="$T/jar.b"
call GET /api/me
expect_call "the person's other session ended" 401 unauthenticated
JAR="$T/jar.a"
out=$(printf '%s\n\n' "$NEWPW" | jctl auth check jdupont --service webmail)
expect "the new password is the password" otp_required "$(jq -r .reason <<<"$out")"

# ---------------------------------------------------------------- what admins do ends sessions
ctl user suspend jdupont >/dev/null
call GET /api/me
expect_call "a suspended person's session ends" 401 unauthenticated
ctl user resume jdupont >/dev/null
newaddr
call POST /api/login "$(json --arg p "$NEWPW" '{login:"jdupont",password:$p}')"
expect_call "… and logging in again asks for the code" 401 otp_required
ctl user suspend jdupont >/dev/null
call POST /api/login "$(json --arg p "$NEWPW" '{login:"jdupont",password:$p}')"
expect_call "a suspended account, right password → 401 disabled" 401 disabled
ctl user resume jdupont >/dev/null

# An account without an authenticator: the password alone opens an enroll session.
out=$(jctl user add --first Anne --last Martin --birth 1985-02-03 --numen 34B3456789XYZ \
	--rescue-email anne@example.org)
ATEMP=$(jq -r .temporary_password <<<"$out")
printf '%s\n%s\n' "$ATEMP" "$CANARY_PW" | ctl auth passwd amartin >/dev/null
JAR="$T/jar.c"
newaddr
call POST /api/login "$(json --arg p "$CANARY_PW" '{login:"amartin",password:$p}')"
expect "no authenticator yet: login → 200 stage enroll" "200 amartin enroll" "$STATUS $(j .identifiant) $(j .stage)"
call GET /api/me
expect "… me says enroll" enroll "$(j .stage)"

# A temporary password proves no second factor: it replaces the password, not the phone.
out=$(jctl user reset-password jdupont)
call POST /api/first-login "$(json --arg t "$(jq -r .temporary_password <<<"$out")" --arg n "Troisieme-Passe-Bleu-77" '{login:"jdupont",temporary_password:$t,new_password:$n}')"
expect "first login with an authenticator active → 200 stage login, no session" "200 login " \
	"$STATUS $(j .stage) $(hdr Set-Cookie)"

# Wrong passwords never lock (they only delay, and base_delay is 0 here): the owner still logs in.
# The delays and the hard lock (429) are 43_throttle's.
for i in 1 2 3 4 5 6 7; do
	newaddr
	call POST /api/login "{\"login\":\"amartin\",\"password\":\"Mauvais-Passe-000$i\"}"
done
expect_call "seven wrong passwords: still 401 invalid, never locked" 401 invalid
newaddr
call POST /api/login "$(json --arg p "$CANARY_PW" '{login:"amartin",password:$p}')"
expect "… and the right password is heard (200 enroll)" "200 enroll" "$STATUS $(j .stage)"

# ---------------------------------------------------------------- trusted proxies
newaddr
call POST /api/login '{"login":"nobody","password":"Mauvais-Passe-1111"}' -H "X-Forwarded-For: 192.0.2.99, $ADDR"
addr=$(jctl audit --limit 1 | jq -r '.[0].addr')
expect "the right-most forwarded address is the client's (audit)" "$ADDR" "$addr"
call POST /api/login '{"login":"nobody","password":"Mauvais-Passe-2222"}' --interface 127.0.0.2 \
	-H "X-Forwarded-For: 192.0.2.50"
expect_call "from a peer that is not a proxy (127.0.0.2) …" 401 invalid
addr=$(jctl audit --limit 1 | jq -r '.[0].addr')
expect "… X-Forwarded-For is ignored" 127.0.0.2 "$addr"
ctl user unlock amartin >/dev/null
JAR="$T/jar.d"
newaddr
call POST /api/login "$(json --arg p "$CANARY_PW" '{login:"amartin",password:$p}')" -H 'X-Forwarded-Proto: https'
case "$(hdr Set-Cookie)" in *"; Secure"*) ok "behind TLS (X-Forwarded-Proto: https) the cookie is Secure" ;; *) not_ok "Secure: $(hdr Set-Cookie)" ;; esac

# ---------------------------------------------------------------- the address penalty
newaddr
call POST /api/login '{"login":"nobody","password":"Mauvais-Passe-3333"}'
t0=$(date +%s%N)
call POST /api/login '{"login":"nobody","password":"Mauvais-Passe-4444"}'
ms=$((($(date +%s%N) - t0) / 1000000))
expect_call "after a failure, the address's next request is held, then answered" 401 invalid
[ "$ms" -ge 1200 ] && ok "… after ${ms} ms (penalty 1500 ms)" || not_ok "… after ${ms} ms (penalty 1500 ms)"
newaddr
t0=$(date +%s%N)
call GET /api/health
call POST /api/login '{"login":"nobody","password":"Mauvais-Passe-5555"}'
ms=$((($(date +%s%N) - t0) / 1000000))
[ "$ms" -lt 1000 ] && ok "another address is not held (${ms} ms)" || not_ok "another address held ${ms} ms"

# ---------------------------------------------------------------- slow and greedy clients
slow=$(python3 - "$PORT" "$TIMEOUT" <<'PY'
import socket, sys, time
port, timeout = int(sys.argv[1]), int(sys.argv[2])

def trickle(data):
    s = socket.create_connection(("127.0.0.1", port))
    t0 = time.time()
    try:
        for b in data:
            s.send(bytes([b]))
            time.sleep(0.25)
            if time.time() - t0 > timeout + 10:
                return "never cut"
        s.settimeout(timeout + 5)
        return "answered %r" % s.recv(100)[:12]
    except OSError:
        return "%.1f" % (time.time() - t0)
    finally:
        s.close()

print(trickle(b"GET /api/health HTTP/1.1\r\nHost: x\r\nX-Slow: " + b"a" * 200))
print(trickle(b"POST /api/login HTTP/1.1\r\nHost: x\r\nX-Verdon-Request: 1\r\n"
              b"Content-Type: application/json\r\nContent-Length: 200\r\n\r\n" + b" " * 200))
PY
)
n=0
while read -r t; do
	n=$((n + 1))
	what=$([ $n -eq 1 ] && echo "headers" || echo "a body")
	if awk -v t="$t" -v lim="$TIMEOUT" 'BEGIN { exit !(t + 0 >= lim - 0.5 && t + 0 <= lim + 2.5) }'; then
		ok "a client sending $what one byte at a time is cut off after ${t} s (timeout ${TIMEOUT} s)"
	else not_ok "slow $what: $t"; fi
done <<<"$slow"
greedy=$(python3 - "$PORT" "$PER_IP" <<'PY'
import socket, sys
port, limit = int(sys.argv[1]), int(sys.argv[2])
held = []
import time
for _ in range(limit):
    s = socket.socket(); s.bind(("127.0.0.3", 0)); s.connect(("127.0.0.1", port)); held.append(s)
# the server counts a connection once its thread has accepted it, not when the kernel has:
# give the held ones that moment, so that the extra one is the one past the limit
time.sleep(1)
extra = socket.socket(); extra.bind(("127.0.0.3", 0)); extra.connect(("127.0.0.1", port))
extra.settimeout(2)
try:
    extra.send(b"GET /api/health HTTP/1.1\r\nHost: x\r\n\r\n")
    print("refused" if extra.recv(100) == b"" else "served")
except OSError:
    print("refused")
held[0].settimeout(2)
held[0].send(b"GET /api/health HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
print("served" if held[0].recv(12) == b"HTTP/1.1 200" else "not served")
PY
)
expect "one address past per_ip_connections ($PER_IP) is refused, its other connections served" \
	"refused served" "$(echo $greedy)"
call GET /api/health
expect "other addresses are still served" 200 "$STATUS"

# ---------------------------------------------------------------- every answer
missing=0
api_missing=0
for f in "$T"/h/[0-9]*; do
	case "$f" in *.path) continue ;; esac
	for h in "Content-Security-Policy: default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'" \
		"X-Frame-Options: DENY" "Referrer-Policy: no-referrer" "X-Content-Type-Options: nosniff"; do
		tr -d '\r' <"$f" | grep -qixF "$h" || { missing=$((missing + 1)); echo "# $(cat "$f.path"): no $h"; }
	done
	case "$(cat "$f.path")" in /api/*)
		tr -d '\r' <"$f" | grep -qix 'Cache-Control: no-store' || { api_missing=$((api_missing + 1)); echo "# $(cat "$f.path"): not no-store"; } ;;
	esac
done
expect "the security headers are on all $HN answers" 0 "$missing"
expect "every /api/ answer is no-store" 0 "$api_missing"

# ---------------------------------------------------------------- the log
if grep -qF -e "$CANARY_PW" -e "$NEWPW" -e "$SECRET" -e "$APP_PW" -e "${RECOVERY[0]}" "$T/verdond.log"; then
	not_ok "no secret in the daemon's log"
else ok "no secret in the daemon's log"; fi
kill -0 "$DAEMON_PID" 2>/dev/null && ok "verdond is still running" || not_ok "verdond died"
stop_daemon
grep -q "http" "$T/verdond.log" && ! grep -qi "panic\|fatal" "$T/verdond.log" && ok "clean stop" || not_ok "stop: $(tail -3 "$T/verdond.log")"
echo "1..$N"
