#!/usr/bin/env bash
# The README's "Backup and restore" section, followed word for word (issue 8): its two shell blocks
# run as they are written, with only the paths moved into the test's directory and systemctl standing
# for stopping and starting this test's daemon. The same logins work after the state directory is wiped.
. "$(dirname "$0")/lib.sh"
start_daemon || exit 1

# The lines of the fenced sh block that follows the marker $1 in the README.
readme_block() {
	awk -v mark="$1" '
		index($0, "<!-- " mark) == 1 { armed = 1; next }
		armed && /^```sh$/ { inside = 1; next }
		inside && /^```$/ { exit }
		inside { print }' "$ROOT/README.md"
}
for b in backup-steps restore-steps; do
	readme_block "$b" >"$T/$b.sh"
	[ -s "$T/$b.sh" ] && ok "the README has the $b block" || not_ok "the README has the $b block"
done
grep -q 'verdon.key' "$T/backup-steps.sh" && ok "the backup steps keep verdon.key" || not_ok "the backup steps keep verdon.key"

# Accounts whose logins must come back: one fully activated (password + authenticator), one new.
TEMP=$(jctl user add --first Jean --last Dupont --birth 1980-04-12 --numen 12A3456789XYZ \
	--rescue-email jean@example.org | jq -r .temporary_password)
SECRET=$(jctl otp enroll jdupont | jq -r .uri | sed -n 's/.*[?&]secret=\([A-Z2-7]*\).*/\1/p')
fresh_step 10
ctl otp confirm jdupont "$(totp "$SECRET")" >/dev/null
printf '%s\n%s\n' "$TEMP" "$CANARY_PW" | ctl auth passwd jdupont >/dev/null
TEMP2=$(jctl user add --first Anne --last Martin --birth 1981-01-01 --numen 22A3456789XYZ \
	--rescue-email anne@example.org | jq -r .temporary_password)
logins() {
	printf '%s\n\n' "$CANARY_PW" | jctl auth check jdupont --service webmail | jq -r .reason
	printf '%s\n\n' "$TEMP2" | jctl auth check amartin --service webmail | jq -r .reason
}
expect "before: the logins answer" "otp_required password_change_required" "$(logins | xargs)"

# The README's commands, with the paths of this test and its daemon.
run_steps() {
	sed -e "s|/var/lib/verdon|$T/state|g" -e "s|/var/backups/verdon|$T/backups|g" "$1" >"$1.run"
	(
		set -e
		verdonctl() { "$VERDONCTL" -c "$CONF" "$@"; }
		systemctl() {
			local r=1
			set +e # lib.sh's helpers are not written for set -e
			case "$1 $2" in
			"stop verdond") stop_daemon && r=0 ;;
			"start verdond") start_daemon && r=0 ;;
			esac
			set -e
			return $r
		}
		. "$1.run"
	) >"$1.out" 2>&1
}
run_steps "$T/backup-steps.sh"
expect "the backup steps run" 0 "$?"
sed 's/^/# /' "$T/backup-steps.sh.out"
expect "the backup holds verdon.key, 0600" 600 "$(stat -c %a "$T/backups/verdon.key" 2>/dev/null)"
ls "$T/state" >/dev/null 2>&1 && [ ! -e "$T/state/backup.mdb" ] && ok "no copy is left in the state directory" || not_ok "no copy is left in the state directory"

# A change after the backup is lost by the restore; the wipe really removes the store.
jctl user add --first Paul --last Later --birth 1982-02-02 --numen 32A3456789XYZ --rescue-email p@example.org >/dev/null
run_steps "$T/restore-steps.sh"
rc=$?
# run_steps started the daemon inside a subshell: its PID is found by its command line.
DAEMON_PID=$(pgrep -f "^$VERDOND -c $CONF\$" | head -1)
DAEMON_PID=${DAEMON_PID:-}
expect "the restore steps run" 0 "$rc"
sed 's/^/# /' "$T/restore-steps.sh.out"
grep -q "accounts  *2" "$T/restore-steps.sh.out" && ok "verdonctl status after the restore: 2 accounts" || not_ok "status shows 2 accounts"
expect "after the restore: the same logins work" "otp_required password_change_required" "$(logins | xargs)"
# The next step's code (the window takes ±1 step): the current one may be the code used to confirm.
fresh_step 10
out=$(printf '%s\n%s\n' "$CANARY_PW" "$(totp "$SECRET" 30)" | jctl auth check jdupont --service webmail)
expect "… the authenticator too (its secret was sealed with the restored key)" ok "$(jq -r .result <<<"$out")"
jctl user show plater >/dev/null 2>&1
expect "the account made after the backup is gone" 1 "$?"
