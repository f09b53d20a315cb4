#!/usr/bin/env bash
# Issue 8, points 7 and 8, over real HTTP (curl against the real verdond): the person changes their
# rescue address after a full login (a 6-digit code mailed to the new address confirms it, the old
# one is told), with every refusal: not logged in, an enrollment-stage session, a bad address, a
# wrong code, too many tries, a code expired after a short configured lifetime (crossed for real
# by waiting), all audited; the page's config (organisation, webmail, password policy); and a
# penalised address told how long to wait at once when it asks to be (X-Verdon-No-Hold: 1).
. "$(dirname "$0")/lib.sh"

PORT=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
LIFETIME=30 # the floor [http] rescue_code_lifetime allows
mkdir -p "$T/mail" "$T/h" "$T/b"
cat >"$T/sendmail" <<SH
#!/bin/sh
f="$T/mail/\$(date +%s%N).\$\$"
cat >"\$f.part" && mv "\$f.part" "\$f.eml"
SH
chmod 755 "$T/sendmail"
EXTRA_VERDON="organisation = Académie de Test-sur-Mer"
write_config
cat >>"$CONF" <<CONF

[http]
listen = 127.0.0.1:$PORT
trusted_proxies = 127.0.0.1
webmail_url = https://webmail.example.org/
rescue_code_lifetime = $LIFETIME

[mail]
sendmail = $T/sendmail -t -i

[penalty]
base_ms = 1500
max_ms = 3000

[recovery]
; this scenario asks for many codes on purpose; the limit itself is checked at the end
mails_per_hour = 12
mails_per_day = 50
CONF
start_daemon || exit 1
U="http://127.0.0.1:$PORT"
for _ in $(seq 1 50); do curl -s -o /dev/null "$U/api/health" && break; sleep 0.1; done

# Every failure and every ask counts against the client address: each call speaks from its own
# address (X-Forwarded-For through the trusted proxy curl stands for), so none is held.
ANET=1
JAR="$T/jar"
HN=0
call() {
	local m=$1 p=$2 data=${3-}
	shift $(($# < 3 ? $# : 3))
	ANET=$((ANET + 1))
	local args=(-s -m 20 -X "$m" -o "$T/b/$((HN + 1))" -w '%{http_code}' -b "$JAR" -c "$JAR"
		-H "X-Forwarded-For: 198.51.100.$ANET")
	HN=$((HN + 1))
	case "$m" in POST) args+=(-H "X-Verdon-Request: 1") ;; esac
	[ -n "$data" ] && args+=(-H "Content-Type: application/json" --data-binary "$data")
	STATUS=$(curl "${args[@]}" "$@" "$U$p")
	BODY=$(tr -d '\0' <"$T/b/$HN")
}
j() { jq -r "$1" <<<"$BODY"; }
expect_call() {
	if [ "$STATUS" = "$2" ] && [ "$(j '.error // empty')" = "${3:-}" ]; then ok "$1"; else
		not_ok "$1"
		echo "# expected: $2 ${3:-}"
		echo "# actual:   $STATUS $BODY"
	fi
}
nmails() { find "$T/mail" -name '*.eml' | wc -l; }
# wait_mail N: until N messages are there (mail leaves after the answer); the newest to $MAIL.
wait_mail() {
	for _ in $(seq 1 150); do
		[ "$(nmails)" -ge "$1" ] && break
		sleep 0.1
	done
	MAIL=$(ls -t "$T"/mail/*.eml 2>/dev/null | head -1)
}
mail_to() { grep -l "^To: $1" "$T"/mail/*.eml 2>/dev/null | sort | tail -1; }
code_in() { sed -n 's/^Votre code de confirmation : \([0-9]\{6\}\)$/\1/p' "$1" | head -1; }

# ---------------------------------------------------------------- the page's config
call GET /api/config
expect "GET /api/config → 200" 200 "$STATUS"
expect "… the organisation's name" "Académie de Test-sur-Mer" "$(j .organisation)"
expect "… the webmail's address" "https://webmail.example.org/" "$(j .webmail_url)"
expect "… the password policy (default: 12 characters, no classes, dictionary)" "12 false true" \
	"$(j .password.min_length) $(j .password.character_classes) $(j .password.dictionary)"
expect "… the rescue code's lifetime" "$LIFETIME" "$(j .rescue_code_lifetime)"

# ---------------------------------------------------------------- not logged in, or not fully
call POST /api/rescue-email '{"email":"nouvelle@example.net"}'
expect_call "asking without a session → 401" 401 unauthenticated
call GET /api/rescue-email
expect_call "reading it without a session → 401" 401 unauthenticated
call POST /api/rescue-email/confirm '{"code":"123456"}'
expect_call "confirming without a session → 401" 401 unauthenticated
out=$(jctl user add --first Jean --last Dupont --birth 1980-04-12 --numen 12A3456789XYZ \
	--rescue-email jean@example.org)
TEMP=$(jq -r .temporary_password <<<"$out")
call POST /api/first-login "$(jq -cn --arg t "$TEMP" --arg n "$CANARY_PW" '{login:"jdupont",temporary_password:$t,new_password:$n}')"
expect "first login → 200 enroll" "200 enroll" "$STATUS $(j .stage)"
call POST /api/rescue-email '{"email":"nouvelle@example.net"}'
expect_call "an enrollment-stage session may not change the rescue address → 403" 403 wrong_state
call POST /api/otp/enroll '{}'
SECRET=$(j .secret)
fresh_step 5
call POST /api/otp/confirm "$(jq -cn --arg c "$(totp "$SECRET")" '{code:$c}')"
expect "enrollment confirmed → 200 (a full session)" 200 "$STATUS"

call GET /api/me
expect "me shows the rescue address partly masked" "j***@e***.org" "$(j .rescue_email_masked)"
grep -q 'jean@example.org' "$T/b/$HN" && not_ok "me does not show the whole rescue address" ||
	ok "me does not show the whole rescue address"

# ---------------------------------------------------------------- bad addresses
call POST /api/rescue-email '{"email":"pas une adresse"}'
expect_call "not an address → 400 bad_request" 400 bad_request
call POST /api/rescue-email '{"email":"jean.dupont@example.org"}'
expect_call "the academic address itself → 400 bad_request" 400 bad_request
call POST /api/rescue-email '{"email":"jean@example.org"}'
expect_call "the current rescue address → 400 bad_request" 400 bad_request
call POST /api/rescue-email '{}'
expect_call "no email → 400 bad_request" 400 bad_request
expect "no mail for a refused ask" 0 "$(nmails)"

# ---------------------------------------------------------------- a wrong code, too many tries
call POST /api/rescue-email '{"email":"nouvelle@example.net"}'
expect "ask → 200 code_sent, expires_in = the lifetime" "200 code_sent $LIFETIME" \
	"$STATUS $(j .status) $(j .expires_in)"
wait_mail 1
M1=$(mail_to nouvelle@example.net)
CODE1=$(code_in "${M1:-/dev/null}")
[ -n "$M1" ] && [ -n "$CODE1" ] && ok "a 6-digit code is mailed to the new address" ||
	not_ok "a 6-digit code is mailed to the new address ($(ls "$T/mail"))"
grep -q 'adresse de secours' "${M1:-/dev/null}" && ok "… in French" || not_ok "… in French"
grep -q 'valable 30 secondes' "${M1:-/dev/null}" && ok "… saying how long it lives" || not_ok "… saying how long it lives"
call GET /api/rescue-email
expect "GET /api/rescue-email: the current address and the pending one, masked, with the time left" \
	"200 j***@e***.org no***@e***.net" "$STATUS $(j .rescue_email_masked) $(j .pending_masked)"
[ "$(j .expires_in)" -ge 1 ] && [ "$(j .expires_in)" -le $LIFETIME ] && ok "… expires_in $(j .expires_in)" ||
	not_ok "… expires_in: $BODY"
WRONG=$([ "$CODE1" = 000000 ] && echo 111111 || echo 000000)
call POST /api/rescue-email/confirm "{\"code\":\"$WRONG\"}"
expect_call "a wrong code → 400 invalid" 400 invalid
expect "… why wrong, 4 tries left" "wrong 4" "$(j .why) $(j .tries_left)"
call POST /api/rescue-email/confirm '{"code":"abc"}'
expect_call "a malformed code → 400 invalid (a try spent)" 400 invalid
for _ in 1 2; do call POST /api/rescue-email/confirm "{\"code\":\"$WRONG\"}"; done
call POST /api/rescue-email/confirm "{\"code\":\"$WRONG\"}"
expect "the fifth wrong code → no try left" "400 wrong 0" "$STATUS $(j .why) $(j .tries_left)"
call POST /api/rescue-email/confirm "{\"code\":\"$CODE1\"}"
expect "then even the right code → 400 invalid, why none (too many tries)" "400 invalid none" \
	"$STATUS $(j .error) $(j .why)"
call GET /api/me
expect "… the rescue address is unchanged" "j***@e***.org" "$(j .rescue_email_masked)"

# ---------------------------------------------------------------- the change
before=$(nmails)
call POST /api/rescue-email '{"email":"nouvelle@example.net"}'
expect "a new ask → 200" 200 "$STATUS"
wait_mail $((before + 1))
CODE2=$(code_in "$(mail_to nouvelle@example.net)")
call POST /api/rescue-email/confirm "{\"code\":\"$CODE2\"}"
expect "the mailed code confirms → 200 with the new address masked" "200 no***@e***.net" \
	"$STATUS $(j .rescue_email_masked)"
wait_mail $((before + 2))
OLD=$(mail_to jean@example.org)
[ -n "$OLD" ] && ok "the old address is told of the change" || not_ok "the old address is told of the change"
grep -q 'no\*\*\*@e\*\*\*.net' "${OLD:-/dev/null}" && ok "… naming the new address masked" ||
	not_ok "… naming the new address masked"
grep -q 'nouvelle@example.net' "${OLD:-/dev/null}" && not_ok "… never whole" || ok "… never whole"
call GET /api/me
expect "me shows the new address masked" "no***@e***.net" "$(j .rescue_email_masked)"
call GET /api/rescue-email
expect "… and nothing pending any more" "null" "$(j .pending_masked)"
expect "USER_SHOW has the new rescue address" nouvelle@example.net \
	"$(jctl user show jdupont | jq -r .rescue_email)"
call POST /api/rescue-email/confirm "{\"code\":\"$CODE2\"}"
expect "the code does not serve twice → 400 why none" "400 none" "$STATUS $(j .why)"
before=$(nmails)
call POST /api/forgot-password '{"login":"jdupont"}'
wait_mail $((before + 1))
case "$(grep '^To:' "$MAIL")" in *nouvelle@example.net*) ok "a forgotten-password code now goes to the new address" ;;
*) not_ok "a forgotten-password code now goes to the new address: $(grep '^To:' "$MAIL")" ;; esac

# ---------------------------------------------------------------- expiry, crossed for real
before=$(nmails)
call POST /api/rescue-email '{"email":"troisieme@example.com"}'
t0=$(date +%s)
wait_mail $((before + 1))
CODE3=$(code_in "$(mail_to troisieme@example.com)")
echo "# waiting $((LIFETIME + 2)) s for the code to expire"
sleep $((LIFETIME + 2 - ($(date +%s) - t0)))
call POST /api/rescue-email/confirm "{\"code\":\"$CODE3\"}"
expect "the right code after its lifetime → 400 invalid, why expired" "400 invalid expired" \
	"$STATUS $(j .error) $(j .why)"
expect "… the rescue address is unchanged" nouvelle@example.net \
	"$(jctl user show jdupont | jq -r .rescue_email)"

# ---------------------------------------------------------------- the audit trail
audit=$(jctl audit jdupont --limit 100)
for a in "rescue.ask ok" "rescue.ask refused" "rescue.confirm ok" "rescue.confirm refused"; do
	n=$(jq -r --arg a "${a% *}" --arg r "${a#* }" '[.. | objects | select(.action? == $a and .result? == $r)] | length' <<<"$audit" 2>/dev/null)
	[ "${n:-0}" -gt 0 ] && ok "audited: $a" || not_ok "audited: $a ($(head -c 300 <<<"$audit"))"
done
for s in "$CODE1" "$CODE2" "$CODE3"; do
	if grep -qF "$s" <<<"$audit" || grep -qF "$s" "$T/verdond.log"; then not_ok "no code in the audit or the log"; break; fi
done && ok "no code in the audit or the log"

# ---------------------------------------------------------------- the recovery mail limits hold
# [recovery] mails_per_hour (12 here): asks beyond it are refused and mail nothing.
before=$(ls "$T/mail" | wc -l)
held=0
for i in $(seq 1 13); do
	call POST /api/rescue-email "{\"email\":\"flood$i@example.net\"}"
	[ "$STATUS" = 200 ] || held=$((held + 1))
done
sleep 1
after=$(ls "$T/mail" | wc -l)
[ "$held" -ge 1 ] && ok "asks beyond mails_per_hour are refused ($held of 13)" || not_ok "no ask refused"
expect "… and mail nothing: mails sent = asks accepted" $((13 - held)) $((after - before))

# ---------------------------------------------------------------- told how long to wait
curl -s -o /dev/null -H 'X-Verdon-Request: 1' -H 'Content-Type: application/json' \
	-H 'X-Forwarded-For: 203.0.113.7' --data '{"login":"nobody","password":"Mauvais-1"}' "$U/api/login"
t0=$(date +%s%N)
BODY=$(curl -s -m 20 -w ' %{http_code}' -H 'X-Verdon-Request: 1' -H 'X-Verdon-No-Hold: 1' \
	-H 'Content-Type: application/json' -H 'X-Forwarded-For: 203.0.113.7' \
	--data '{"login":"nobody","password":"Mauvais-2"}' "$U/api/login")
ms=$((($(date +%s%N) - t0) / 1000000))
STATUS=${BODY##* }
BODY=${BODY% *}
expect "a penalised address that asks to be told → 429 penalty" "429 penalty" "$STATUS $(j .error)"
w=$(j .wait)
[ "$w" -ge 1 ] && [ "$w" -le 2 ] && ok "… wait $w s (penalty 1500 ms)" || not_ok "… wait: $BODY"
[ "$ms" -lt 1000 ] && ok "… at once (${ms} ms), not held" || not_ok "… after ${ms} ms"
stop_daemon
