#!/usr/bin/env bash
# `make run`: a demo verdond on a state directory under the checkout (run/),
# with one demo account, in the foreground until Ctrl-C.
set -euo pipefail
cd "$(dirname "$0")/.."
RUN=$PWD/run
CONF=$RUN/verdon.conf
CTL="build/verdonctl -c $CONF"

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
listen = 127.0.0.1:8080

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
build/verdond -n -c "$CONF" >/dev/null

build/verdond -c "$CONF" &
pid=$!
trap 'kill -TERM $pid 2>/dev/null; wait $pid' INT TERM
for _ in $(seq 1 50); do [ -S "$RUN/admin.sock" ] && break; sleep 0.1; done

if [ ! -f "$RUN/demo-account.txt" ]; then
	(umask 077; $CTL user add --first Camille --last Martin --birth 1985-09-01 \
		--numen 85E1234567ABC --rescue-email camille.martin@example.net >"$RUN/demo-account.txt")
fi
cat <<MSG

  verdond is running (pid $pid) on $RUN. Ctrl-C stops it.

  The demo account, created once (kept in run/demo-account.txt):
$(sed 's/^/    /' "$RUN/demo-account.txt")

  The self-service page: http://127.0.0.1:8080/ (mail it sends lands in run/mail/).

  Or try a first login from another terminal:
    $CTL auth check cmartin --service webmail      # temporary password → password_change_required
    $CTL auth passwd cmartin                       # temporary password, then a new one (12+ characters)
    $CTL otp enroll cmartin                        # scan the QR with an authenticator app
    $CTL otp confirm cmartin CODE                  # the code it shows → recovery codes
    $CTL auth check cmartin --service webmail      # password, then a fresh code → ok
    $CTL audit cmartin                             # what happened

MSG
wait $pid
