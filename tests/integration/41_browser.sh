#!/usr/bin/env bash
# Issue 4 in a real browser: the self-service page of the real verdond, driven in Debian's
# headless Chromium by tests/browser/selfservice.mjs (playwright-core), through first login,
# enrollment, recovery codes, login with a code, password change, app password, forgotten
# password, forgotten identifiant and a trusted browser (its offer on the code step, the browsers
# list, the password alone, revocation); issue 8: the académie's name and webmail link, the hint of
# the académie profile's policy (8 characters with classes), "M'auto dépanner", the rescue address
# changed with a mailed code, "ci-dessous" on a phone, and (on a second daemon whose address
# penalty is on) a throttled request told how long to wait. The mails go to a sendmail script of
# ours that writes each message to a file. Screenshots are kept in $BUILD/test-artifacts/.
ORG="Académie d'Exemple"
WEBMAIL="https://webmail.ac-exemple.fr/"
EXTRA_VERDON="organisation = $ORG"
# The académie profile of docs/examples/verdon-academie.conf.
EXTRA_PASSWORD=$(sed -n '/^\[password\]/,$p' "$(dirname "$0")/../../docs/examples/verdon-academie.conf" | grep -v '^\[')
. "$(dirname "$0")/lib.sh"
BROWSER_DIR="$ROOT/tests/browser"
ARTIFACTS="$BUILD/test-artifacts"
CHROMIUM=${CHROMIUM:-/usr/bin/chromium}

# scripts/deps.sh installs all three: a missing one is a failure, not a skip.
for need in "$CHROMIUM" "$(command -v node)" "$BROWSER_DIR/node_modules/playwright-core/package.json"; do
	if [ ! -e "$need" ]; then
		not_ok "the browser tests' tools are installed (missing: ${need:-node}; run scripts/deps.sh)"
		exit 1
	fi
done

PORT=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
mkdir -p "$T/mail" "$ARTIFACTS"
rm -f "$ARTIFACTS"/selfservice-*.png # only this run's screenshots
# The daemon runs the command without a shell: a script that writes what it is given, under a
# name the test reads only once the message is whole.
cat >"$T/sendmail" <<SH
#!/bin/sh
f="$T/mail/\$(date +%s%N).\$\$"
cat >"\$f.part" && mv "\$f.part" "\$f.eml"
SH
chmod 755 "$T/sendmail"

write_config
cat >>"$CONF" <<CONF

[http]
listen = 127.0.0.1:$PORT
webmail_url = $WEBMAIL

[mail]
sendmail = $T/sendmail -t -i

[penalty]
; the refusals under test must not slow the steps after them past the browser's waits
base_ms = 0

[session]
trusted_browser_days = 7
CONF
start_daemon || exit 1

# The second daemon: its own state, sockets and port, the address penalty on (4 s).
PORT2=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
mkdir -p "$T/b"
sed -e "s|$T/state|$T/b/state|; s|$T/auth.sock|$T/b/auth.sock|; s|$T/admin.sock|$T/b/admin.sock|" \
	-e "s|^listen = .*|listen = 127.0.0.1:$PORT2|; s|^base_ms = 0|base_ms = 4000|" "$CONF" >"$T/b/verdon.conf"
"$VERDOND" -c "$T/b/verdon.conf" >>"$T/b/verdond.log" 2>&1 &
PID2=$!
trap 'kill -TERM $PID2 2>/dev/null; wait $PID2 2>/dev/null; cleanup' EXIT

up=""
for _ in $(seq 1 100); do
	if curl -fsS -m 2 "http://127.0.0.1:$PORT/api/health" >/dev/null 2>&1 &&
		curl -fsS -m 2 "http://127.0.0.1:$PORT2/api/health" >/dev/null 2>&1; then
		up=1
		break
	fi
	sleep 0.1
done
if [ -z "$up" ]; then
	not_ok "verdond answers on http://127.0.0.1:$PORT/api/health (and the second on $PORT2)"
	sed 's/^/# /' "$T/verdond.log" "$T/b/verdond.log" | tail -20
	exit 1
fi
ok "verdond answers on http://127.0.0.1:$PORT/api/health"

out=$(jctl user add --first Jean --last Dupont --birth 1980-04-12 --numen 12A3456789XYZ \
	--rescue-email jean@example.org)
TEMP=$(jq -r .temporary_password <<<"$out")
expect "the account jdupont is created" jdupont "$(jq -r .identifiant <<<"$out")"

VERDON_URL="http://127.0.0.1:$PORT/" VERDON_LOGIN=jdupont VERDON_TEMP_PASSWORD="$TEMP" \
	VERDON_PASSWORD1="$CANARY_PW" VERDON_MAIL_DIR="$T/mail" VERDON_ARTIFACTS="$ARTIFACTS" \
	VERDONCTL="$VERDONCTL" VERDON_CONF="$CONF" VERDON_NUMEN=12A3456789XYZ VERDON_BIRTH=1980-04-12 \
	VERDON_LAST=Dupont VERDON_RESCUE=jean@example.org CHROMIUM="$CHROMIUM" \
	VERDON_ORG="$ORG" VERDON_WEBMAIL="$WEBMAIL" VERDON_POLICY_MIN=8 \
	VERDON_THROTTLE_URL="http://127.0.0.1:$PORT2/" \
	timeout 300 node "$BROWSER_DIR/selfservice.mjs" </dev/null
rc=$?
[ $rc -eq 0 ] || [ $rc -eq 1 ] || not_ok "the browser test program ends by itself (exit $rc)"

# The passwords typed into the page never reach the daemon's log.
if grep -qF "$CANARY_PW" "$T/verdond.log" || grep -qF "$TEMP" "$T/verdond.log"; then
	not_ok "no password typed into the page is in verdond's log"
else
	ok "no password typed into the page is in verdond's log"
fi
ls "$ARTIFACTS"/selfservice-*.png >/dev/null 2>&1 &&
	echo "# screenshots: $(cd "$ARTIFACTS" && echo selfservice-*.png) in $ARTIFACTS"
kill -TERM "$PID2" 2>/dev/null
wait "$PID2" 2>/dev/null
stop_daemon
