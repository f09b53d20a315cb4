#!/usr/bin/env bash
# Suspended, deleted, restored, locked and unlocked accounts answer as SPEC says, on the very next request.
# Wrong passwords delay (never lock for good); an admin's unlock clears the delay too.
BASE_DELAY=60
EXTRA_THROTTLE="delay_after = 5"
EXTRA_VERDON=""
. "$(dirname "$0")/lib.sh"
write_config
cat >>"$CONF" <<'CONF'

[otp]
required = no
CONF
start_daemon || exit 1

TEMP=$(jctl user add --first Anne --last Martin --birth 1970-01-01 --numen 11A1111111AAA \
	--rescue-email anne@example.org | jq -r .temporary_password)
printf '%s\n%s\n' "$TEMP" "$CANARY_PW" | ctl auth passwd amartin >/dev/null
login() { printf '%s\n\n' "$1" | jctl auth check amartin --service imap | jq -r '.result + ":" + (.reason // "")'; }
expect "without OTP required, the password alone logs in" "ok:" "$(login "$CANARY_PW")"

check "suspend" ctl user suspend amartin --reason "départ en retraite"
expect "suspended + right password → disabled" "refused:disabled" "$(login "$CANARY_PW")"
expect "suspended + wrong password → invalid (state not revealed)" "refused:invalid" "$(login wrong-password-x)"
expect "show says suspended" suspended "$(jctl user show amartin | jq -r .state)"
check "resume" ctl user resume amartin
expect "resumed → ok on the very next request" "ok:" "$(login "$CANARY_PW")"
ctl user resume amartin >/dev/null 2>&1
expect "resume of an active account is refused" 1 "$?"

check "delete" ctl user delete amartin
expect "deleted + right password → disabled" "refused:disabled" "$(login "$CANARY_PW")"
expect "list --state deleted shows it" amartin "$(jctl user list --state deleted | jq -r '.[].identifiant')"
check "restore" ctl user restore amartin
expect "restored → ok" "ok:" "$(login "$CANARY_PW")"

for i in 1 2 3 4 5; do login "wrong-$i-password" >/dev/null; done
expect "after delay_after wrong passwords → locked (a delay of base_delay)" "refused:locked" "$(login "$CANARY_PW")"
expect "show tells the delay, and no lock" "true false" \
	"$(jctl user show amartin | jq -r '"\(.delay > 50) \(.locked)"')"
check "unlock" ctl user unlock amartin
expect "unlocked → ok on the very next request" "ok:" "$(login "$CANARY_PW")"

out=$(jctl user reset-password amartin)
NEWTEMP=$(jq -r .temporary_password <<<"$out")
expect "reset prints a new 16-character temporary password" 16 "${#NEWTEMP}"
expect "the old password stops working at once" "refused:invalid" "$(login "$CANARY_PW")"
expect "the new temporary password → password_change_required" "refused:password_change_required" "$(login "$NEWTEMP")"

ctl user show nobody-at-all >/dev/null 2>&1
expect "show of an unknown login exits 1" 1 "$?"
ctl user suspend nobody-at-all >/dev/null 2>&1
expect "suspend of an unknown login exits 1" 1 "$?"

audit=$(jctl audit amartin --limit 50)
for action in user.suspend user.resume user.delete user.restore user.unlock user.reset; do
	if jq -e --arg a "$action" 'map(select(.action == $a)) | length > 0' <<<"$audit" >/dev/null; then
		ok "audit has $action"
	else not_ok "audit has $action"; fi
done
n=$(jq '[.[] | select(.action == "auth" and .result == "refused")] | length' <<<"$audit")
[ "$n" -ge 7 ] && ok "refused logins are audited ($n)" || not_ok "refused logins are audited ($n)"
