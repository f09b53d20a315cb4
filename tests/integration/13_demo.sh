#!/usr/bin/env bash
# `make run` run twice prints a temporary password that works each time (issue 8, point 10):
# scripts/demo.sh on a temporary directory and a free port, stopped by its PID after each run.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/mail_lib.sh"
DEMO_DIR="$T/run"
PORT=$(mail_free_port)

# Runs the demo until it has printed the account, and prints the temporary password it shows.
demo_once() {
	local pid pw=""
	VERDON_DEMO_DIR="$DEMO_DIR" VERDON_DEMO_HTTP="127.0.0.1:$PORT" VERDON_DEMO_BUILD="$BUILD" "$ROOT/scripts/demo.sh" >"$T/demo.out" 2>&1 &
	pid=$!
	for _ in $(seq 1 200); do
		grep -q "Ctrl-C stops it" "$T/demo.out" && break
		kill -0 "$pid" 2>/dev/null || break
		sleep 0.1
	done
	pw=$(sed -n 's/^ *temporary_password  *\([0-9a-z]\{16\}\)$/\1/p' "$T/demo.out")
	DEMO_CONF="$DEMO_DIR/verdon.conf"
	echo "$pw"
	[ -n "$pw" ] && printf '%s\n\n' "$pw" | "$VERDONCTL" -c "$DEMO_CONF" --json auth check cmartin --service webmail |
		jq -r .reason >"$T/reason"
	kill -TERM "$pid" 2>/dev/null
	for _ in $(seq 1 100); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
	kill -KILL "$pid" 2>/dev/null
	wait "$pid" 2>/dev/null
}

pw1=$(demo_once)
expect "the first run prints a temporary password" 16 "${#pw1}"
expect "… that works (password change required)" password_change_required "$(cat "$T/reason")"
pw2=$(demo_once)
expect "the second run prints a temporary password" 16 "${#pw2}"
expect "… that works too" password_change_required "$(cat "$T/reason")"
[ "$pw1" != "$pw2" ] && ok "… a new one" || not_ok "… a new one"
expect "run/demo-account.txt is 0600" 600 "$(stat -c %a "$DEMO_DIR/demo-account.txt")"
