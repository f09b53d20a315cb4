#!/usr/bin/env bash
# A temporary password's lifetime crossed for real (temporary_password_seconds, short here): before
# it, the password asks for a change; after it, it is refused like a wrong one, the account shows as
# expired and `user list --expired` finds it; a reset hands out a fresh one that works again.
EXTRA_VERDON="temporary_password_seconds = 12"
. "$(dirname "$0")/lib.sh"
start_daemon || exit 1

out=$(jctl user add --first Anne --last Martin --birth 1970-01-01 --numen 11A1111111AAA \
	--rescue-email anne@example.org)
TEMP=$(jq -r .temporary_password <<<"$out")
born=$(date +%s)
expect "the temporary password expires 12 s after it was handed out" 12 \
	"$(($(jq -r .temporary_expires <<<"$out") - born))"
jctl user add --first Paul --last Petit --birth 1971-01-01 --numen 21A1111111AAA \
	--rescue-email paul@example.org >/dev/null
login() { printf '%s\n\n' "$2" | jctl auth check "$1" --service imap | jq -r '.result + ":" + (.reason // "")'; }

expect "before the lifetime: a change is asked" "refused:password_change_required" "$(login amartin "$TEMP")"
expect "before the lifetime: --expired lists nobody" 0 "$(jctl user list --expired | jq length)"
expect "before the lifetime: both are pending" 2 "$(jctl user list --pending | jq length)"

# Paul sets his own password in time; Anne does not.
PTEMP=$(jctl user reset-password ppetit | jq -r .temporary_password)
printf '%s\n%s\n' "$PTEMP" "$CANARY_PW" | ctl auth passwd ppetit >/dev/null
expect "a password set in time does not expire" "password_temporary=false" \
	"password_temporary=$(jctl user show ppetit | jq -r .password_temporary)"

sleep $((born + 13 - $(date +%s)))
expect "after the lifetime: refused like a wrong password" "refused:invalid" "$(login amartin "$TEMP")"
printf '%s\n%s\n' "$TEMP" "Nouveau-Mot-2-Passe-Long" | ctl auth passwd amartin >/dev/null 2>&1
expect "after the lifetime: it cannot set a new password either" 1 "$?"
expect "user show says expired" expired "$(jctl user show amartin | jq -r .activation)"
expect "--expired lists her alone" amartin "$(jctl user list --expired | jq -r '[.[].identifiant] | join(" ")')"
expect "--pending still counts her (and Paul, with no authenticator yet)" "amartin ppetit" "$(jctl user list --pending | jq -r '[.[].identifiant] | join(" ")')"

NEW=$(jctl user reset-password amartin | jq -r .temporary_password)
expect "a reset hands out a fresh one that asks for a change" "refused:password_change_required" \
	"$(login amartin "$NEW")"
expect "--expired is empty again" 0 "$(jctl user list --expired | jq length)"
