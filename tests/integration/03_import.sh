#!/usr/bin/env bash
# CSV import as admins have it: a French spreadsheet export (semicolon, BOM, CRLF, DD/MM/YYYY),
# a plain comma file, bad lines reported with their numbers, and idempotence.
. "$(dirname "$0")/lib.sh"
start_daemon || exit 1

printf '\xef\xbb\xbfNom;Prénom;Date de naissance;NUMEN;email_secours;portable\r\n' >"$T/fr.csv"
printf 'Dupont;Jean;12/04/1980;12A3456789XYZ;jean@example.org;+33 6 12 34 56 78\r\n' >>"$T/fr.csv"
printf 'Martin;Zoé;30/02/1999;22A3456789XYZ;zoe@example.org;\r\n' >>"$T/fr.csv"
printf '"Le Gall";"Anne-Marie";01/01/1970;32A3456789XYZ;am@example.org;\r\n' >>"$T/fr.csv"
printf 'Sans;Numen;01/01/1970;court;x@example.org;\r\n' >>"$T/fr.csv"
printf 'Dupont;Jean;05/05/1985;42A3456789XYZ;jean2@example.org;\r\n' >>"$T/fr.csv"

out=$(jctl user import "$T/fr.csv")
expect "a file with bad lines exits 1" 1 "$?"
expect "a file with bad lines creates nobody" 0 "$(jctl user list | jq length)"
expect "… and lists both bad lines" "3 5" "$(jq -r '[.lines[].line] | join(" ")' <<<"$out")"
out=$(jctl user import --skip-bad "$T/fr.csv")
expect "--skip-bad exits 1 too" 1 "$?"
expect "3 created" 3 "$(jq .created <<<"$out")"
expect "2 errors" 2 "$(jq .errors <<<"$out")"
expect "line 3 (30 February) is reported" error "$(jq -r '.lines[] | select(.line == 3) | .status' <<<"$out")"
expect "line 5 (bad NUMEN) is reported" error "$(jq -r '.lines[] | select(.line == 5) | .status' <<<"$out")"
expect "line 4 quoted names: alegall" alegall "$(jq -r '.lines[] | select(.line == 4) | .identifiant' <<<"$out")"
expect "line 6 the second Jean Dupont: jdupont2" jdupont2 "$(jq -r '.lines[] | select(.line == 6) | .identifiant' <<<"$out")"
pw=$(jq -r '.lines[] | select(.line == 2) | .temporary_password' <<<"$out")
expect "created lines carry their temporary password" 16 "${#pw}"
expect "the DD/MM/YYYY date was stored as YYYY-MM-DD" 1980-04-12 "$(jctl user show jdupont | jq -r .birth)"
expect "the mobile column was stored" "+33 6 12 34 56 78" "$(jctl user show jdupont | jq -r .mobile)"

out=$(jctl user import --skip-bad "$T/fr.csv")
expect "the same file again creates nobody" 0 "$(jq .created <<<"$out")"
expect "… and finds the 3 existing" 3 "$(jq .existing <<<"$out")"
expect "still 3 accounts" 3 "$(jctl user list | jq length)"

printf 'last,first,birth,numen,rescue_email,id\nCurie,Marie,1967-11-07,52A3456789XYZ,marie@example.org,mcurie\n"Durand, dit ""Dudu""",Paul,1960-01-01,62A3456789XYZ,paul@example.org,\n' >"$T/en.csv"
out=$(jctl user import --skip-bad "$T/en.csv")
expect "a comma file with LF imports its good line" 1 "$(jq .created <<<"$out")"
expect "an id column is honoured" mcurie "$(jq -r '.lines[] | select(.line == 2) | .identifiant' <<<"$out")"
expect "a quoted name with a comma and quotes parses, and is refused as a name" "bad_request" "$(jq -r '.lines[] | select(.line == 3) | .reason' <<<"$out")"

printf 'last;first;numen\nA;B;72A3456789XYZ\n' >"$T/bad.csv"
ctl user import "$T/bad.csv" >"$T/bad.out" 2>&1
expect "a header without required columns is refused" 1 "$?"
grep -q "birth" "$T/bad.out" && ok "the message names the missing column" || not_ok "the message names the missing column: $(cat "$T/bad.out")"
expect "nothing was created by the bad file" 4 "$(jctl user list | jq length)"
