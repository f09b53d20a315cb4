#!/usr/bin/env bash
# `make run`: a demo verdond on a state directory under the checkout (run/),
# with one demo account, in the foreground until Ctrl-C. Each run prints a
# temporary password that works: the demo account gets a fresh one as long as
# it has not been activated (a run before may have printed one since replaced).
# VERDON_DEMO_DIR, VERDON_DEMO_HTTP and VERDON_DEMO_BUILD (the binaries' directory) move the demo
# elsewhere (the tests do).
set -euo pipefail
cd "$(dirname "$0")/.."
RUN=${VERDON_DEMO_DIR:-$PWD/run}
HTTP=${VERDON_DEMO_HTTP:-127.0.0.1:8080}
BIN=${VERDON_DEMO_BUILD:-build}
CONF=$RUN/verdon.conf
CTL="$BIN/verdonctl -c $CONF"

mkdir -p -m 700 "$RUN"
if [ ! -f "$CONF" ]; then
	cat >"$CONF" <<CONF
; Demo configuration written by 'make run'. See docs/configuration.md for every key.
[verdon]
state_dir = $RUN/state
auth_socket = $RUN/auth.sock
admin_socket = $RUN/admin.sock
admin_socket_mode = 0600
mail_domain = example.org
issuer = Académie de Démo

[throttle]
; short delays so that a demo does not lock you out for long
base_delay = 5

[http]
listen = $HTTP

[mail]
; the demo keeps its mail in run/mail/ instead of sending it
sendmail = $RUN/demo-sendmail.sh
CONF
fi
cat >"$RUN/demo-sendmail.sh" <<'SH'
#!/bin/sh
# The demo's sendmail: each message lands in run/mail/ instead of being sent.
dir=$(dirname "$0")/mail
mkdir -p "$dir"
cat >"$dir/$(date +%s).$$.eml"
SH
chmod 700 "$RUN/demo-sendmail.sh"
"$BIN/verdond" -n -c "$CONF" >/dev/null

"$BIN/verdond" -c "$CONF" &
pid=$!
trap 'kill -TERM $pid 2>/dev/null; wait $pid' INT TERM
for _ in $(seq 1 50); do [ -S "$RUN/admin.sock" ] && break; sleep 0.1; done

# The demo account: created at the first run; later runs give it a new temporary password
# unless it has been activated (then its own password is the one to use).
demo_account() {
	local state
	if ! state=$($CTL --json user show cmartin 2>/dev/null); then
		$CTL user add --first Camille --last Martin --birth 1985-09-01 \
			--numen 85E1234567ABC --rescue-email camille.martin@example.net
	elif grep -q '"password_temporary": true' <<<"$state"; then
		$CTL user reset-password cmartin
	else
		echo "cmartin is activated: log in with the password you chose"
		echo "($CTL user reset-password cmartin gives a temporary one)"
	fi
}
(umask 077; demo_account >"$RUN/demo-account.txt")
cat <<MSG

  verdond is running (pid $pid) on $RUN. Ctrl-C stops it.

  The demo account (also in $RUN/demo-account.txt):
$(sed 's/^/    /' "$RUN/demo-account.txt")

  The self-service page: http://$HTTP/ (mail it sends lands in $RUN/mail/).

  Or try a first login from another terminal:
    $CTL auth check cmartin --service webmail      # temporary password → password_change_required
    $CTL auth passwd cmartin                       # temporary password, then a new one (12+ characters)
    $CTL otp enroll cmartin                        # scan the QR with an authenticator app
    $CTL otp confirm cmartin CODE                  # the code it shows → recovery codes
    $CTL auth check cmartin --service webmail      # password, then a fresh code → ok
    $CTL audit cmartin                             # what happened

MSG
wait $pid
