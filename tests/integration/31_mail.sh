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

if [ ! -f "$PAM_MODULE" ]; then
	not_ok "the PAM module is built ($PAM_MODULE)"
	exit 1
fi
start_daemon || exit 1
mail_pam_install verdon || exit 1
mail_start || exit 1
ok "Dovecot (IMAP on 127.0.0.1:$IMAP_PORT) and Postfix (submission on 127.0.0.1:$SMTP_PORT) started"

# A loopback address of its own for each test: N (lib.sh's test counter) changes with each
# check, and unlike a counter of ours it survives check's subshell.
src() { echo "127.0.0.$((N + 10))"; }
imap() { imap_login "$1" "$2" "$(src)"; }
smtp() { smtp_auth "$1" "$2" "$(src)"; }
# refused "description" command...: ok when the command exits 1 (a clean refusal, not a crash).
refused() {
	local desc=$1 out rc
	shift
	out=$("$@" 2>&1)
	rc=$?
	if [ "$rc" -ne 0 ] && [ "$rc" -ne 2 ]; then ok "$desc"; else
		not_ok "$desc (exit $rc)"
		echo "# command: $*"
		echo "$out" | tail -8 | sed 's/^/# /'
	fi
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
refused "IMAP LOGIN: password with a wrong code appended is refused" imap jdupont "$CANARY_PW$WRONG"
refused "IMAP LOGIN: the password alone is refused" imap jdupont "$CANARY_PW"
check "IMAP LOGIN: password with the fresh code appended works" imap jdupont "$CANARY_PW$CODE"
refused "IMAP LOGIN: the same string again (replayed code) is refused" imap jdupont "$CANARY_PW$CODE"
refused "SMTP AUTH: password with a used code is refused" smtp jdupont "$CANARY_PW$CODE"

# App passwords, limited to their services.
out=$(admin APP_ADD login=jdupont label="Thunderbird" services=imap)
APP_IMAP=$(jq -r .password <<<"$out")
APP_IMAP_ID=$(jq -r .app_id <<<"$out")
expect "APP_ADD for imap answers OK" OK "$(jq -r .verb <<<"$out")"
out=$(admin APP_ADD login=jdupont label="Phone" services=smtp)
APP_SMTP=$(jq -r .password <<<"$out")
out=$(admin APP_ADD login=jdupont label="Laptop" services=imap,smtp)
APP_BOTH=$(jq -r .password <<<"$out")
check "IMAP LOGIN with the imap app password works" imap jdupont "$APP_IMAP"
check "… again (an app password is not one-time)" imap jdupont "$APP_IMAP"
refused "SMTP AUTH with the imap-only app password is refused" smtp jdupont "$APP_IMAP"
check "SMTP AUTH PLAIN with the smtp app password works" smtp jdupont "$APP_SMTP"
refused "IMAP LOGIN with the smtp-only app password is refused" imap jdupont "$APP_SMTP"
S=$(src)
check "IMAP LOGIN by email with an app password works" imap_login Jean.Dupont@example.org "$APP_BOTH" "$S"
check "… and Dovecot sees the canonical identifiant (PAM_USER)" \
	grep -q "Login: user=<jdupont>, method=PLAIN, rip=$S," "$T/dovecot.log"
check "SMTP AUTH PLAIN by email with an app password works" smtp jean.dupont@example.org "$APP_BOTH"
out=$(jctl audit jdupont --limit 30)
if grep -q Thunderbird <<<"$out"; then ok "the audit names the app password's label"; else
	not_ok "the audit names the app password's label"
	echo "$out" | head -5 | sed 's/^/# /'
fi

# The webmail: password + code on the auth socket, a session token, the token as IMAP and SMTP
# password, then LOGOUT.
out=$(auth AUTH login=jdupont password="$CANARY_PW" otp="$(totp_step "$SECRET" $((BASE + 1)))" \
	service=webmail address=192.0.2.10 token=1)
TOKEN=$(jq -r '.token // empty' <<<"$out")
if [ -n "$TOKEN" ]; then ok "AUTH token=1 on webmail with password + code hands out a token"; else
	not_ok "AUTH token=1 on webmail with password + code hands out a token"
	jq -c 'del(.token)' <<<"$out" | sed 's/^/# /'
fi
check "IMAP LOGIN with the session token works" imap jdupont "$TOKEN"
check "… again (the webmail logs in at every page)" imap jdupont "$TOKEN"
check "SMTP AUTH PLAIN with the session token works" smtp jdupont "$TOKEN"
expect "LOGOUT answers OK" OK "$(auth LOGOUT token="$TOKEN" | jq -r .verb)"
refused "IMAP LOGIN with the token after LOGOUT is refused" imap jdupont "$TOKEN"
refused "SMTP AUTH with the token after LOGOUT is refused" smtp jdupont "$TOKEN"

# Revocation and suspension take effect at the next login (no cache anywhere in between).
expect "APP_REVOKE answers OK" OK "$(admin APP_REVOKE login=jdupont app_id="$APP_IMAP_ID" | jq -r .verb)"
refused "IMAP LOGIN with the revoked app password is refused" imap jdupont "$APP_IMAP"
check "the other app passwords still work" imap jdupont "$APP_BOTH"
check "ctl user suspend jdupont" ctl user suspend jdupont --reason test
refused "IMAP LOGIN of the suspended account is refused" imap jdupont "$APP_BOTH"
refused "SMTP AUTH of the suspended account is refused" smtp jdupont "$APP_SMTP"

# The servers stop by their PIDs and leave nothing behind; no secret reached any log.
DP=$DOVECOT_PID PP=$POSTFIX_PID
mail_stop
if kill -0 "$DP" 2>/dev/null; then not_ok "Dovecot ($DP) stopped"; else ok "Dovecot ($DP) stopped"; fi
if kill -0 "$PP" 2>/dev/null; then not_ok "Postfix ($PP) stopped"; else ok "Postfix ($PP) stopped"; fi
leaked=""
for f in "$T/verdond.log" "$T/dovecot.log" "$T/postfix.log"; do
	grep -a -q -F -e "$CANARY_PW" -e "$APP_IMAP" -e "$APP_SMTP" -e "$APP_BOTH" -e "$TOKEN" "$f" &&
		leaked="$leaked $(basename "$f")"
done
expect "no password, app password or token in the logs" "" "$leaked"
