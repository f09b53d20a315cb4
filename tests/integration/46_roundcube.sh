#!/usr/bin/env bash
# Issue 9: verdon's Roundcube plugin (webmail/roundcube/verdon) in Debian's Roundcube, served by
# `php -S`, logging in to the private Dovecot and Postfix of the mail tests through
# pam_verdon.so, driven in Debian's headless Chromium by tests/browser/roundcube.mjs: password
# then code, Inbox, a mail sent and delivered, a message opened, an idle window crossed, wrong,
# replayed and recovery codes, too many codes, a locked account, first login, password change
# through the password plugin, logout (the token refused by IMAP afterwards), a revoked token.
# Screenshots at phone and desktop width go to $BUILD/test-artifacts/roundcube/.
. "$(dirname "$0")/lib.sh"
MAIL_DELIVERY=1
. "$(dirname "$0")/mail_lib.sh"
. "$(dirname "$0")/roundcube_lib.sh"
BROWSER_DIR="$ROOT/tests/browser"
ARTIFACTS="$BUILD/test-artifacts/roundcube"
CHROMIUM=${CHROMIUM:-/usr/bin/chromium}
# The browser stays idle past the window within which verdon records a token's use only once
# (the window that killed tokens 60 s after their last recorded use before 36d5b51), and inside
# [session] idle_timeout. A daemon that has [session] touch_interval gets it short; one without it
# has the fixed 60 s window, waited for in full.
printf '[session]\ntouch_interval = 5\n' >"$T/probe.conf"
if ! "$VERDOND" -n -c "$T/probe.conf" 2>&1 | grep -q "unknown key 'touch_interval'"; then
	TOUCH_CONF="touch_interval = 5"
	IDLE_S=${IDLE_S:-12}
else
	TOUCH_CONF="; no touch_interval in this verdond: the fixed 60 s window"
	IDLE_S=${IDLE_S:-70}
fi
# Trusted browsers (device secrets): tested when this verdond has [session] trusted_browser_days.
printf '[session]\ntrusted_browser_days = 30\n' >"$T/probe.conf"
if ! "$VERDOND" -n -c "$T/probe.conf" 2>&1 | grep -q "unknown key 'trusted_browser_days'"; then
	TRUST_DAYS=30
else
	TRUST_DAYS=0
fi
rm -f "$T/probe.conf"

rc_cleanup() {
	rc_stop
	mail_cleanup
}
trap rc_cleanup EXIT

# scripts/deps.sh installs all of these: a missing one is a failure, not a skip.
for need in "$CHROMIUM" "$(command -v node)" "$(command -v php)" "$(command -v sqlite3)" \
	"$BROWSER_DIR/node_modules/playwright-core/package.json" "$RC_SHARE/index.php" \
	/var/lib/roundcube/public_html/index.php "$RC_SHARE/plugins/password/password.php"; do
	if [ ! -e "$need" ]; then
		not_ok "the Roundcube tests' tools are installed (missing: ${need:-a command}; run scripts/deps.sh)"
		exit 1
	fi
done
if ldd "$PAM_MODULE" 2>/dev/null | grep -q libasan; then
	PAM_MODULE="$ROOT/build/pam_verdon.so"
	if [ ! -f "$PAM_MODULE" ] || ldd "$PAM_MODULE" | grep -q libasan; then
		skip "Roundcube: no PAM module without ASan to load into Dovecot"
		exit 0
	fi
fi
check "the plugin's PHP files parse" bash -c 'for f in "$1"/*.php "$1"/lib/*.php "$1"/drivers/*.php \
	"$1"/localization/*.inc "$1"/config.inc.php.dist; do php -l "$f" >/dev/null || exit 1; done' _ \
	"$ROOT/webmail/roundcube/verdon"

write_config
cat >>"$CONF" <<CONF

[session]
idle_timeout = 600
$TOUCH_CONF
$([ "$TRUST_DAYS" -gt 0 ] && echo "trusted_browser_days = $TRUST_DAYS")

[penalty]
; the refusals under test must not slow the steps after them past the browser's waits
base_ms = 0
CONF
# mmartin's wrong passwords lock it (delay from the 3rd, 120 s): the "locked" step.
sed -i 's/^base_delay = .*/base_delay = 120\ndelay_after = 3/' "$CONF"
RC_VERDON_CONFIG="\$config['verdon_trusted_browser_days'] = $TRUST_DAYS;
\$config['verdon_code_ttl'] = 30; // the floor: crossed by the browser test"
start_daemon || exit 1
# The plugin's protocol client alone: the real daemon, a server that never answers, one that
# answers garbage (python, stopped by their PIDs at the end of this block).
fake_server() { # SOCKET GREETING
	python3 -c '
import socket, sys, time
s = socket.socket(socket.AF_UNIX)
s.bind(sys.argv[1])
s.listen(4)
end = time.time() + 30
s.settimeout(1)
while time.time() < end:
    try:
        c, _ = s.accept()
    except socket.timeout:
        continue
    if sys.argv[2]:
        c.sendall(sys.argv[2].encode())
    time.sleep(3)
    c.close()
' "$1" "$2" &
}
fake_server "$T/silent.sock" ""
SILENT_PID=$!
fake_server "$T/garbage.sock" "HELLO there"$'\n'
GARBAGE_PID=$!
for _ in $(seq 1 50); do [ -S "$T/silent.sock" ] && [ -S "$T/garbage.sock" ] && break; sleep 0.1; done
while IFS= read -r line; do
	case $line in
	"ok - "*) ok "client: ${line#ok - }" ;;
	"not ok - "*) not_ok "client: ${line#not ok - }" ;;
	*) echo "$line" ;;
	esac
done < <(php "$ROOT/tests/integration/verdon_client_test.php" "$T/auth.sock" "$T/silent.sock" "$T/garbage.sock" 2>&1)
kill "$SILENT_PID" "$GARBAGE_PID" 2>/dev/null
wait "$SILENT_PID" "$GARBAGE_PID" 2>/dev/null

mail_pam_install verdon || exit 1
mail_start || exit 1
rc_start || { not_ok "Roundcube answers on 127.0.0.1 (php -S)"; exit 1; }
ok "Dovecot :$IMAP_PORT, Postfix :$SMTP_PORT and Roundcube $RC_URL started"
echo "# idle window under test: $IDLE_S s ($TOUCH_CONF)"

# person FIRST LAST NUMEN PASSWORD: an account with its own password and an active
# authenticator confirmed with the current step's code (no drift); prints "SECRET RECOVERY_CODES STEP"
# (four recovery codes, comma-separated).
person() {
	local out temp secret codes step
	out=$(jctl user add --first "$1" --last "$2" --birth 1980-04-12 --numen "$3" --rescue-email x@example.net)
	temp=$(jq -r .temporary_password <<<"$out")
	printf '%s\n%s\n' "$temp" "$5" | ctl auth passwd "$(jq -r .identifiant <<<"$out")" >/dev/null 2>&1 || return 1
	secret=$(jctl otp enroll "$(jq -r .identifiant <<<"$out")" | jq -r .uri | sed -n 's/.*[?&]secret=\([A-Z2-7]*\).*/\1/p')
	fresh_step 5
	step=$(step_now)
	codes=$(jctl otp confirm "$(jq -r .identifiant <<<"$out")" "$(totp_step "$secret" "$step")") || return 1
	echo "$secret $(jq -r '.recovery_codes[0:4] | join(",")' <<<"$codes") $step"
}
read -r SECRET RECOVERY STEP1 < <(person Jean Dupont 12A3456789XYZ x "$CANARY_PW") || true
read -r SECRET2 _ STEP2 < <(person Marie Martin 12A3456789XYA x "Tilleul-Bleu-4421-Soir") || true
TEMP3=$(jctl user add --first Paul --last Nouveau --birth 1981-01-02 --numen 12A3456789XYB \
	--rescue-email x@example.net | jq -r .temporary_password)
# lleger: a password of their own, no authenticator yet (otp_enrollment_required).
TEMP4=$(jctl user add --first Luc --last Leger --birth 1982-03-04 --numen 12A3456789XYC \
	--rescue-email x@example.net | jq -r .temporary_password)
printf '%s\n%s\n' "$TEMP4" "Sapin-Gris-5310-Neige" | ctl auth passwd lleger >/dev/null 2>&1 || TEMP4=""
if [ -z "$SECRET" ] || [ -z "$SECRET2" ] || [ -z "$RECOVERY" ] || [ -z "$TEMP3" ] || [ -z "$TEMP4" ]; then
	not_ok "the accounts jdupont, mmartin (password + authenticator), pnouveau (first login), lleger (no authenticator) exist"
	exit 1
fi
ok "the accounts jdupont, mmartin (password + authenticator), pnouveau (first login), lleger (no authenticator) exist"

# What the browser cannot do itself, it asks this helper: the token Roundcube holds, an IMAP
# login with it, the count of verdon sessions, an admin revocation, a delivered mail.
cat >"$T/helper" <<SH
#!/usr/bin/env bash
T="$T" ROOT="$ROOT" CONF="$CONF" VERDONCTL="$VERDONCTL" IMAP_PORT="$IMAP_PORT"
SH
cat >>"$T/helper" <<'SH'
. "$ROOT/tests/integration/roundcube_lib.sh"
imap_login() { IMAP_PASSWORD=$2 python3 -c '
import imaplib, os, sys
c = imaplib.IMAP4("127.0.0.1", int(sys.argv[1]), timeout=20)
try:
    c.login(sys.argv[2], os.environ["IMAP_PASSWORD"])
except imaplib.IMAP4.error:
    sys.exit(1)
c.logout()' "$IMAP_PORT" "$1"; }
case $1 in
token) rc_token ;;
imap) imap_login "$2" "$(cat)" ;;
sessions) "$VERDONCTL" -c "$CONF" --json session list "$2" | jq 'if type == "array" then length else (.sessions // [] | length) end' ;;
revoke) "$VERDONCTL" -c "$CONF" session revoke "$2" --all ;;
suspend) "$VERDONCTL" -c "$CONF" user suspend "$2" --reason test ;;
devices) "$VERDONCTL" -c "$CONF" --json device list "$2" ;;
device-revoke) "$VERDONCTL" -c "$CONF" device revoke "$2" --all ;;
down) mv "$T/auth.sock" "$T/auth.sock.away" ;;
up) mv "$T/auth.sock.away" "$T/auth.sock" ;;
delivered) for _ in $(seq 1 150); do grep -rqF "$2" "$T/mail/jdupont/Maildir/new" "$T/mail/jdupont/Maildir/cur" 2>/dev/null && exit 0; sleep 0.1; done; exit 1 ;;
*) exit 2 ;;
esac
SH
chmod 755 "$T/helper"

mkdir -p "$ARTIFACTS"
rm -f "$ARTIFACTS"/*.png
RC_URL="$RC_URL" RC_HELPER="$T/helper" RC_ARTIFACTS="$ARTIFACTS" CHROMIUM="$CHROMIUM" \
	RC_LOGIN=jdupont RC_PASSWORD="$CANARY_PW" RC_SECRET="$SECRET" RC_RECOVERY="$RECOVERY" \
	RC_NEW_PASSWORD="Hibou-Rouge-2985-Nuit" RC_LOGIN2=mmartin RC_PASSWORD2="Tilleul-Bleu-4421-Soir" \
	RC_SECRET2="$SECRET2" RC_LOGIN3=pnouveau RC_PASSWORD3="$TEMP3" \
	RC_LOGIN4=lleger RC_PASSWORD4="Sapin-Gris-5310-Neige" RC_IDLE_S="$IDLE_S" RC_TRUST_DAYS="$TRUST_DAYS" RC_LAST_STEP="$STEP1" RC_LAST_STEP2="$STEP2" \
	timeout 420 node "$BROWSER_DIR/roundcube.mjs" </dev/null
rc=$?
if [ "$TRUST_DAYS" -gt 0 ]; then
	# The login without a code is audited as its own kind (verdon queues the records of logins
	# that change nothing: wait for it a little).
	seen=""
	for _ in $(seq 1 30); do
		seen=$(jctl audit jdupont --limit 500 | jq -r '[.[] | select(.action == "auth" and .result == "ok"
			and .detail == "trusted_browser")] | length')
		[ "${seen:-0}" -gt 0 ] && break
		sleep 0.2
	done
	check "verdon's audit shows the trusted-browser login (detail trusted_browser)" test "${seen:-0}" -gt 0
else
	skip "trusted browsers: this verdond has no [session] trusted_browser_days (device secrets)"
fi
[ $rc -eq 0 ] || [ $rc -eq 1 ] || not_ok "the browser test program ends by itself (exit $rc)"

# Nothing typed into Roundcube, nor the tokens, reached a log.
leaked=""
for f in "$T/verdond.log" "$T/dovecot.log" "$T/postfix.log" "$RC_LOG" "$RC_TREE"/logs/*; do
	[ -f "$f" ] && grep -a -q -F -e "$CANARY_PW" -e "Hibou-Rouge-2985-Nuit" -e "$TEMP3" -e "Sapin-Gris-5310-Neige" "$f" && leaked="$leaked ${f##*/}"
done
expect "no password in verdon's, Dovecot's, Postfix's or Roundcube's logs" "" "$leaked"
if [ $rc -ne 0 ] && [ -s "$RC_TREE/logs/errors.log" ]; then
	echo "# Roundcube's errors.log:"
	tail -n 15 "$RC_TREE/logs/errors.log" | sed 's/^/# /'
fi
ls "$ARTIFACTS"/*.png >/dev/null 2>&1 && echo "# screenshots: $(ls "$ARTIFACTS" | wc -l) in $ARTIFACTS"
