#!/usr/bin/env bash
# Issue 3 with real mail servers: a private Dovecot (IMAP, passdb pam through pam_verdon.so) and a
# private Postfix (submission, SASL through that Dovecot), configured by the files of
# docs/examples/, logged into with real clients (python's imaplib, swaks): password with the
# code appended, replay, app passwords per service, a webmail session token and its LOGOUT,
# revocation, suspension.
#
# Every login comes from its own loopback address (127.0.0.N): the refusals under test must
# not be slowed by Dovecot's or verdon's per-address penalties, nor slow the logins after them.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/mail_lib.sh"
LIBDIR=$(cd "$(dirname "$0")" && pwd)
export T

# Under `make sanitize` the module carries ASan, which cannot be loaded into Dovecot's
# unsanitised processes: the normal build's module then talks to the sanitised daemon.
if ldd "$PAM_MODULE" 2>/dev/null | grep -q libasan; then
	PAM_MODULE="$ROOT/build/pam_verdon.so"
	if [ ! -f "$PAM_MODULE" ] || ldd "$PAM_MODULE" | grep -q libasan; then
		skip "real Dovecot and Postfix: no PAM module without ASan to load into them"
		exit 0
	fi
fi
if [ ! -f "$PAM_MODULE" ]; then
	not_ok "the PAM module is built ($PAM_MODULE)"
	exit 1
fi
# The pages show the very files the servers below run.
for pair in dovecot/auth-verdon.conf.ext:dovecot dovecot/pam.d/verdon-imap:dovecot \
	dovecot/pam.d/verdon-smtp:dovecot postfix/main.cf:postfix postfix/master.cf:postfix; do
	check "docs/${pair#*:}.md shows docs/examples/${pair%:*} as it is" python3 -c \
		'import sys; sys.exit(open(sys.argv[1]).read() not in open(sys.argv[2]).read())' \
		"$DOCS_EX/${pair%:*}" "$ROOT/docs/${pair#*:}.md"
done
start_daemon || exit 1
mail_pam_install verdon || exit 1
mail_start || exit 1
ok "Dovecot (IMAP on 127.0.0.1:$IMAP_PORT) and Postfix (submission on 127.0.0.1:$SMTP_PORT) started"

# A loopback address of its own for each test: N (lib.sh's test counter) changes with each
# check, and unlike a counter of ours it survives check's subshell.
src() { echo "127.0.0.$((N + 10))"; }
# imap/smtp USER PASSWORD: exit 0 logged in, 1 refused, 2 anything else (no server, crash…).
imap() { imap_login "$1" "$2" "$(src)"; }
smtp() {
	local rc
	smtp_auth "$1" "$2" "$(src)"
	rc=$?
	case $rc in 0) return 0 ;; 28) return 1 ;; *) return 2 ;; esac
}

# The decision verdon audited for each login, checked at the end (records of logins that
# change no state are written once a second): "ADDRESS|WANT|DESCRIPTION" lines.
AUDIT_WANT=()

# login_test "description" EXIT WANT command...: ok when the client exits EXIT (0 logged in,
# 1 refused); verdon's audit record from this test's address must then read WANT: "ok",
# "ok LABEL" (an app password's label), or "refused REASON".
login_test() {
	local desc=$1 want_rc=$2 want=$3 addr out rc
	shift 3
	addr=$(src)
	out=$("$@" 2>&1)
	rc=$?
	AUDIT_WANT+=("$addr|$want|$desc")
	if [ "$rc" -eq "$want_rc" ]; then ok "$desc"; else
		not_ok "$desc (exit $rc, expected $want_rc)"
		echo "# command: $*"
		echo "$out" | tail -8 | sed 's/^/# /'
	fi
}
accepted() { login_test "$1" 0 "$2" "${@:3}"; }
refused() { login_test "$1" 1 "$2" "${@:3}"; }

# The audit record of the AUTH from ADDRESS, in the form of WANT.
audit_at() { # ADDRESS WANT JSON
	jq -r --arg a "$1" --arg w "$2" '[.[] | select(.action == "auth" and .addr == $a)] |
		if length != 1 then "\(length) records" else .[0] |
		if ($w | startswith("ok ")) then "ok " + (.detail // "")
		elif $w == "ok" then .result
		else .result + " " + (.reason // "") end end' <<<"$3"
}

check_audit() {
	local json="" entry addr want desc last
	last=${AUDIT_WANT[-1]%%|*}
	for _ in $(seq 1 50); do
		json=$(jctl audit jdupont --limit 500)
		[ "$(audit_at "$last" ok "$json")" != "0 records" ] && break
		sleep 0.1
	done
	for entry in "${AUDIT_WANT[@]}"; do
		IFS='|' read -r addr want desc <<<"$entry"
		expect "audit ($addr): $want — $desc" "$want" "$(audit_at "$addr" "$want" "$json")"
	done
}

# proto SOCKET VERB key=value...: one request on a verdon socket; prints the answer as JSON
# ({"verb": …, fields…}).
proto() {
	LIBDIR="$LIBDIR" python3 - "$@" <<'PY'
import json, os, sys

sys.path.insert(0, os.environ["LIBDIR"])
import lib_proto

sock, verb = sys.argv[1], sys.argv[2]
fields = [a.split("=", 1) for a in sys.argv[3:]]
c = lib_proto.Client(sock, timeout=20)
a = c.call(verb, fields)
out = dict(a.fields)
out["verb"] = a.verb
print(json.dumps(out))
PY
}
admin() { proto "$T/admin.sock" "$@"; }
auth() { proto "$T/auth.sock" "$@"; }

# One person with a changed password and an active authenticator.
out=$(jctl user add --first Jean --last Dupont --birth 1980-04-12 --numen 12A3456789XYZ \
	--rescue-email jean@example.org)
TEMP=$(jq -r .temporary_password <<<"$out")
printf '%s\n%s\n' "$TEMP" "$CANARY_PW" | ctl auth passwd jdupont >/dev/null 2>&1 ||
	{ not_ok "jdupont's first password change"; exit 1; }
SECRET=$(jctl otp enroll jdupont | jq -r .uri | sed -n 's/.*[?&]secret=\([A-Z2-7]*\).*/\1/p')
# Consecutive steps around now (the window is ±1), so that nothing waits: confirm with the
# previous step's code, IMAP with this one, the webmail with the next one.
fresh_step 20
BASE=$(step_now)
ctl otp confirm jdupont "$(totp_step "$SECRET" $((BASE - 1)))" >/dev/null 2>&1 ||
	{ not_ok "jdupont's authenticator confirmed"; exit 1; }
CODE=$(totp_step "$SECRET" "$BASE")

# Password with the code appended: what a mail client can carry, once.
WRONG=$(printf '%06d' $(((10#$CODE + 1) % 1000000)))
refused "IMAP LOGIN: password with a wrong code appended is refused" "refused invalid" \
	imap jdupont "$CANARY_PW$WRONG"
refused "IMAP LOGIN: the password alone is refused" "refused otp_required" imap jdupont "$CANARY_PW"
accepted "IMAP LOGIN: password with the fresh code appended works" ok imap jdupont "$CANARY_PW$CODE"
refused "IMAP LOGIN: the same string again (replayed code) is refused" "refused invalid" \
	imap jdupont "$CANARY_PW$CODE"
refused "SMTP AUTH: password with the used code appended is refused" "refused invalid" \
	smtp jdupont "$CANARY_PW$CODE"

# App passwords, limited to their services.
out=$(admin APP_ADD login=jdupont label="Thunderbird" services=imap)
expect "APP_ADD for imap answers OK" OK "$(jq -r .verb <<<"$out")"
APP_IMAP=$(jq -r .password <<<"$out")
APP_IMAP_ID=$(jq -r .app_id <<<"$out")
APP_SMTP=$(admin APP_ADD login=jdupont label="Phone" services=smtp | jq -r .password)
APP_BOTH=$(admin APP_ADD login=jdupont label="Laptop" services=imap,smtp | jq -r .password)
accepted "IMAP LOGIN with the imap app password works" "ok Thunderbird" imap jdupont "$APP_IMAP"
accepted "… again (an app password is not one-time)" "ok Thunderbird" imap jdupont "$APP_IMAP"
refused "SMTP AUTH with the imap-only app password is refused" "refused invalid" \
	smtp jdupont "$APP_IMAP"
accepted "SMTP AUTH PLAIN with the smtp app password works" "ok Phone" smtp jdupont "$APP_SMTP"
refused "IMAP LOGIN with the smtp-only app password is refused" "refused invalid" \
	imap jdupont "$APP_SMTP"
S=$(src)
accepted "IMAP LOGIN by email with an app password works" "ok Laptop" \
	imap Jean.Dupont@example.org "$APP_BOTH"
check "… and Dovecot sees the canonical identifiant (PAM_USER)" \
	grep -q "Login: user=<jdupont>, method=PLAIN, rip=$S," "$T/dovecot.log"
accepted "SMTP AUTH PLAIN by email with an app password works" "ok Laptop" \
	smtp jean.dupont@example.org "$APP_BOTH"
accepted "doveadm auth test -x service=imap (docs/dovecot.md) works" "ok Laptop" \
	doveadm -c "$DOVECOT_CONF" auth test -x service=imap -x rip="$(src)" jdupont "$APP_BOTH"

# The webmail: password + code on the auth socket, a session token, the token as IMAP and SMTP
# password, then LOGOUT.
out=$(auth AUTH login=jdupont password="$CANARY_PW" otp="$(totp_step "$SECRET" $((BASE + 1)))" \
	service=webmail address=192.0.2.10 token=1)
TOKEN=$(jq -r '.token // empty' <<<"$out")
if [ -n "$TOKEN" ]; then ok "AUTH token=1 on webmail with password + code hands out a token"; else
	not_ok "AUTH token=1 on webmail with password + code hands out a token"
	jq -c 'del(.token)' <<<"$out" | sed 's/^/# /'
fi
expect "… and says credential=password_otp" password_otp "$(jq -r .credential <<<"$out")"
accepted "IMAP LOGIN with the session token works" ok imap jdupont "$TOKEN"
accepted "… again (the webmail logs in at every page)" ok imap jdupont "$TOKEN"
accepted "SMTP AUTH PLAIN with the session token works" ok smtp jdupont "$TOKEN"
expect "LOGOUT answers OK" OK "$(auth LOGOUT token="$TOKEN" | jq -r .verb)"
refused "IMAP LOGIN with the token after LOGOUT is refused" "refused invalid" imap jdupont "$TOKEN"
refused "SMTP AUTH with the token after LOGOUT is refused" "refused invalid" smtp jdupont "$TOKEN"

# Revocation and suspension take effect at the next login (no cache anywhere in between).
expect "APP_REVOKE answers OK" OK "$(admin APP_REVOKE login=jdupont app_id="$APP_IMAP_ID" | jq -r .verb)"
refused "IMAP LOGIN with the revoked app password is refused" "refused invalid" \
	imap jdupont "$APP_IMAP"
accepted "the other app passwords still work" "ok Laptop" imap jdupont "$APP_BOTH"
check "ctl user suspend jdupont" ctl user suspend jdupont --reason test
refused "IMAP LOGIN of the suspended account is refused" "refused disabled" imap jdupont "$APP_BOTH"
refused "SMTP AUTH of the suspended account is refused" "refused disabled" smtp jdupont "$APP_SMTP"

# Each refusal and success above was verdon's decision, for the reason expected.
check_audit

# The servers stop by their PIDs and leave nothing behind; no secret reached any log.
DP=$DOVECOT_PID PP=$POSTFIX_PID
mail_stop
if kill -0 "$DP" 2>/dev/null; then not_ok "Dovecot ($DP) stopped"; else ok "Dovecot ($DP) stopped"; fi
if kill -0 "$PP" 2>/dev/null; then not_ok "Postfix ($PP) stopped"; else ok "Postfix ($PP) stopped"; fi
secrets=()
for v in "$CANARY_PW" "$APP_IMAP" "$APP_SMTP" "$APP_BOTH" "$TOKEN"; do
	[ -n "$v" ] && [ "$v" != null ] && secrets+=(-e "$v")
done
leaked=""
for f in "$T/verdond.log" "$T/dovecot.log" "$T/postfix.log"; do
	grep -a -q -F "${secrets[@]}" "$f" && leaked="$leaked $(basename "$f")"
done
expect "no password, app password or token in the logs" "" "$leaked"
