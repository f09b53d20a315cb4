#!/usr/bin/env bash
# Follow-up and corrections (issue 8): who has not activated yet (--pending, stats), user set,
# user rename with the former identifiant and email still logging in as aliases (audited, listed,
# removable), and reset-password --numen checking the NUMEN.
. "$(dirname "$0")/lib.sh"
start_daemon || exit 1

{
	printf 'nom;prénom;date de naissance;numen;courriel;uai\n'
	printf 'Dupont;Jean;01/01/1980;11A3456789XYZ;j@example.org;0750001A\n'
	printf 'Martin;Marie;02/02/1981;21A3456789XYZ;m@example.org;0750001A\n'
	printf 'Petit;Paul;03/03/1982;31A3456789XYZ;p@example.org;0750002B\n'
	printf 'Roux;Rose;04/04/1983;41A3456789XYZ;r@example.org;0750002B\n'
} >"$T/four.csv"
out=$(jctl user import "$T/four.csv")
expect "4 created" 4 "$(jq .created <<<"$out")"
pw() { jq -r --arg id "$1" '.lines[] | select(.identifiant == $id) | .temporary_password' <<<"$out"; }

# Half of them activate: password changed and authenticator enrolled (the default policy demands one).
activate() {
	local id=$1 temp=$2 secret
	secret=$(jctl otp enroll "$id" | jq -r .uri | sed -n 's/.*[?&]secret=\([A-Z2-7]*\).*/\1/p')
	echo "$secret" >"$T/secret.$id"
	fresh_step 10
	ctl otp confirm "$id" "$(totp "$secret")" >/dev/null || return 1
	printf '%s\n%s\n' "$temp" "$CANARY_PW" | ctl auth passwd "$id" >/dev/null
}
expect "before anyone activates, 4 are pending" 4 "$(jctl user list --pending | jq length)"
check "jdupont activates" activate jdupont "$(pw jdupont)"
check "ppetit activates" activate ppetit "$(pw ppetit)"
printf '%s\n%s\n' "$(pw mmartin)" "$CANARY_PW" | ctl auth passwd mmartin >/dev/null
expect "a changed password without the demanded authenticator is still pending" pending "$(jctl user show mmartin | jq -r .activation)"
expect "--pending lists the two others" "mmartin rroux" "$(jctl user list --pending | jq -r '[.[].identifiant] | join(" ")')"
expect "--pending --etablissement filters" "rroux" "$(jctl user list --pending --etablissement 0750002B | jq -r '[.[].identifiant] | join(" ")')"
expect "--expired lists nobody yet (7 days)" 0 "$(jctl user list --expired | jq length)"
expect "user show says activated" activated "$(jctl user show jdupont | jq -r .activation)"
stats=$(jctl stats)
expect "stats: 2 activated, 2 pending" "2 2 4" "$(jq -r '"\(.activated) \(.pending) \(.accounts)"' <<<"$stats")"
expect "stats by établissement" "0750001A:1/1 0750002B:1/1" \
	"$(jq -r '[.etablissements[] | "\(.etablissement):\(.activated)/\(.pending)"] | join(" ")' <<<"$stats")"
ctl stats >"$T/stats.txt"
grep -q '^0750001A  *2  *1  *1  *0' "$T/stats.txt" && ok "stats prints a table" || not_ok "stats table: $(cat "$T/stats.txt")"

# user set: names and rescue address change display data, never the identifiant.
check "user set" ctl user set mmartin --last Durand --rescue-email marie.d@example.org --mobile "+33 6 00 00 00 00" --etablissement 0750002B
show=$(jctl user show mmartin)
expect "user set changed the fields" "Durand marie.d@example.org +33 6 00 00 00 00 0750002B" \
	"$(jq -r '"\(.last) \(.rescue_email) \(.mobile) \(.etablissement)"' <<<"$show")"
expect "… not the identifiant" mmartin "$(jq -r .identifiant <<<"$show")"
ctl user set mmartin --rescue-email not-an-address >/dev/null 2>&1
expect "a bad rescue address is refused" 2 "$?"
ctl user set mmartin --last 'X<script>' >/dev/null 2>&1
expect "a bad name is refused by the daemon" 1 "$?"
expect "… and changed nothing" Durand "$(jctl user show mmartin | jq -r .last)"

# user rename: new identifiant and email from the names; the former ones log in as aliases.
out=$(jctl user rename mmartin)
expect "rename gives the identifiant of the current names" mdurand "$(jq -r .identifiant <<<"$out")"
expect "… and the email" marie.durand@example.org "$(jq -r .email <<<"$out")"
expect "user show lists the aliases" "mmartin,marie.martin@example.org" "$(jctl user show mdurand | jq -r .aliases)"
expect "the former identifiant finds the account" mdurand "$(jctl user show mmartin | jq -r .identifiant)"
login() { printf '%s\n\n' "$CANARY_PW" | jctl auth check "$1" --service webmail | jq -r '.reason // .result'; }
expect "the new identifiant logs in (password right, OTP next)" otp_enrollment_required "$(login mdurand)"
expect "the former identifiant logs in as an alias" otp_enrollment_required "$(login mmartin)"
expect "the former email logs in as an alias" otp_enrollment_required "$(login marie.martin@example.org)"
expect "a wrong password on the alias is invalid" invalid "$(printf 'wrong-pass-123\n\n' | jctl auth check mmartin --service webmail | jq -r .reason)"
expect "the rename is audited" "mmartin -> mdurand (former identifiant and email kept as aliases)" \
	"$(jctl audit mdurand --limit 50 | jq -r '.[] | select(.action == "user.rename") | .detail')"
# The OTP secret follows the account (it is sealed with the identifiant).
out=$(printf '%s\n\n' "$CANARY_PW" | jctl auth check ppetit --service webmail)
ctl user set ppetit --last Petitjean >/dev/null
check "rename an enrolled account" ctl user rename ppetit
expect "its password still works under the new name" otp_required "$(login ppetitjean)"
# The next step's code: the current one may be the code that confirmed the enrollment.
fresh_step 10
out=$(printf '%s\n%s\n' "$CANARY_PW" "$(totp "$(cat "$T/secret.ppetit")" 30)" | jctl auth check ppetitjean --service webmail)
expect "… and its authenticator too (the secret was sealed again under the new identifiant)" ok "$(jq -r .result <<<"$out")"
ctl user rename ppetitjean >"$T/again.out" 2>&1
expect "renaming again without a name change is refused" 1 "$?"
jctl user add --first Marie --last Martin --birth 1990-01-01 --numen 51A3456789XYZ --rescue-email mm2@example.org >"$T/mm2.json"
expect "a new Marie Martin does not get the alias mmartin" mmartin2 "$(jq -r .identifiant <"$T/mm2.json")"
check "store verify accepts the former logins in the email index" ctl store verify
check "unalias" ctl user unalias mdurand mmartin
expect "the removed alias no longer logs in" invalid "$(login mmartin)"
expect "the other alias remains" "marie.martin@example.org" "$(jctl user show mdurand | jq -r .aliases)"
ctl user unalias mdurand nothere >/dev/null 2>&1
expect "removing an alias the account does not have is refused" 1 "$?"

# reset-password --numen checks the NUMEN.
ctl user reset-password rroux --numen 11A3456789XYZ >"$T/reset.out" 2>&1
expect "a NUMEN that is not the account's is refused" 1 "$?"
grep -q "not this account's" "$T/reset.out" && ok "… saying so" || not_ok "… saying so: $(cat "$T/reset.out")"
out=$(jctl user reset-password rroux --numen 41a3456789xyz)
expect "the account's own NUMEN is accepted (random temporary password)" 16 "$(jq -r .temporary_password <<<"$out" | tr -d '\n' | wc -c)"
