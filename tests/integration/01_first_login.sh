#!/usr/bin/env bash
# The issue's path through verdonctl: accounts, identifiants and emails, OTP enrollment with a QR,
# first password change, two-step login, replay, login by email.
. "$(dirname "$0")/lib.sh"
start_daemon || exit 1

out=$(jctl user add --first Jean --last Dupont --birth 1980-04-12 --numen 12A3456789XYZ \
	--rescue-email jean@example.org)
expect "user add prints identifiant jdupont" jdupont "$(jq -r .identifiant <<<"$out")"
expect "user add prints email jean.dupont@example.org" jean.dupont@example.org "$(jq -r .email <<<"$out")"
TEMP=$(jq -r .temporary_password <<<"$out")
expect "temporary password has 16 characters" 16 "${#TEMP}"

out=$(jctl user add --first Jean --last Dupont --birth 1975-01-02 --numen 34B3456789XYZ \
	--rescue-email jean2@example.org)
expect "the same name again gives jdupont2" jdupont2 "$(jq -r .identifiant <<<"$out")"
expect "and jean.dupont2@example.org" jean.dupont2@example.org "$(jq -r .email <<<"$out")"

out=$(jctl user add --first "Élodie" --last "N'Guyen-Lefèvre" --birth 1990-06-30 \
	--numen 56C3456789XYZ --rescue-email elodie@example.org)
expect "accents and apostrophes fold: enguyenlefevre" enguyenlefevre "$(jq -r .identifiant <<<"$out")"
expect "hyphen kept in the email" elodie.nguyen-lefevre@example.org "$(jq -r .email <<<"$out")"

ctl user add --first Jean --last Dupont --birth 1980-04-12 --numen 12A3456789XYZ \
	--rescue-email jean@example.org >/dev/null 2>&1
expect "the same NUMEN twice is refused (exit 1)" 1 "$?"
ctl user add --first Jean --last Dupont --birth 1980-13-12 --numen 99A3456789XYZ \
	--rescue-email jean@example.org >/dev/null 2>&1
rc=$?
[ $rc -eq 1 ] || [ $rc -eq 2 ] && ok "a bad birth date is refused ($rc)" || not_ok "a bad birth date is refused ($rc)"

# Enrollment: the URI's secret gives the codes; the PNG decodes to the same URI.
out=$(jctl otp enroll jdupont --png "$T/qr.png")
URI=$(jq -r .uri <<<"$out")
SECRET=$(sed -n 's/.*[?&]secret=\([A-Z2-7]*\).*/\1/p' <<<"$URI")
case "$URI" in otpauth://totp/*jdupont\?*issuer=*) ok "enroll prints an otpauth URI" ;; *) not_ok "enroll prints an otpauth URI: $URI" ;; esac
expect "the PNG decodes to the same URI" "$URI" "$(zbarimg --raw -q "$T/qr.png" 2>/dev/null)"
ctl otp confirm jdupont 000000 >/dev/null 2>&1
expect "a wrong confirmation code is refused" 1 "$?"
# Codes of consecutive steps around now (the window is ±1 step), so that nothing waits:
# confirm with the previous step's code, log in with this one, then with the next one.
fresh_step 15
BASE=$(step_now)
check "otp confirm with the oathtool code succeeds" ctl otp confirm jdupont "$(totp_step "$SECRET" $((BASE - 1)))"

# The temporary password only allows a password change.
out=$(printf '%s\n\n' "$TEMP" | jctl auth check jdupont --service webmail)
expect "temporary password → password_change_required" password_change_required "$(jq -r .reason <<<"$out")"
printf '%s\n%s\n' "$TEMP" "court" | ctl auth passwd jdupont >/dev/null 2>&1
expect "a too short new password is refused" 1 "$?"
out=$(printf '%s\n%s\n' "$TEMP" "motdepasse123" | jctl auth passwd jdupont)
expect "a dictionary password is refused with dictionary" dictionary "$(jq -r .reason <<<"$out")"
check "auth passwd with the temporary password and a good one succeeds" \
	bash -c "printf '%s\n%s\n' '$TEMP' '$CANARY_PW' | $VERDONCTL -c $CONF auth passwd jdupont"
out=$(printf '%s\n\n' "$TEMP" | jctl auth check jdupont --service webmail)
expect "the old temporary password no longer works" invalid "$(jq -r .reason <<<"$out")"

# Two steps, then the code once and only once.
out=$(printf '%s\n\n' "$CANARY_PW" | jctl auth check jdupont --service webmail)
expect "password alone → otp_required" otp_required "$(jq -r .reason <<<"$out")"
CODE=$(totp_step "$SECRET" "$BASE")
out=$(printf '%s\n%s\n' "$CANARY_PW" "$CODE" | jctl auth check jdupont --service webmail)
expect "password + fresh code → ok" ok "$(jq -r .result <<<"$out")"
expect "ok carries the identifiant" jdupont "$(jq -r .identifiant <<<"$out")"
out=$(printf '%s\n%s\n' "$CANARY_PW" "$CODE" | jctl auth check jdupont --service webmail)
expect "the same code a second time → refused" refused "$(jq -r .result <<<"$out")"
expect "… with invalid" invalid "$(jq -r .reason <<<"$out")"
printf '%s\n%s\n' "$CANARY_PW" "$CODE" | ctl auth check jdupont --service webmail >/dev/null 2>&1
expect "a refusal exits 1" 1 "$?"

# Login by email, any case, surrounding spaces.
out=$(printf '%s\n%s\n' "$CANARY_PW" "$(totp_step "$SECRET" $((BASE + 1)))" | jctl auth check ' Jean.Dupont@Example.org ' --service webmail)
expect "login as ' Jean.Dupont@Example.org ' works like jdupont" "ok jdupont" \
	"$(jq -r '.result + " " + .identifiant' <<<"$out")"

out=$(printf '%s\n\n' "wrong password" | jctl auth check nobody-here --service webmail)
expect "an unknown user gets invalid" invalid "$(jq -r .reason <<<"$out")"
out=$(jctl user show jdupont)
expect "user show: otp active" active "$(jq -r .otp <<<"$out")"
expect "user show: no failure after success" 0 "$(jq -r .failures <<<"$out")"

# The logs never carry a secret.
if grep -a -q -e "$CANARY_PW" -e "$TEMP" -e "$SECRET" "$T/verdond.log"; then not_ok "no secret in the daemon's log"; else ok "no secret in the daemon's log"; fi
