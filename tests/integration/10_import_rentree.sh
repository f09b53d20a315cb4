#!/usr/bin/env bash
# The rentrée as a secretariat has it (issue 8): a French Excel export in Windows-1252 with
# semicolons, accented headers and names, quoted fields and bad lines: nobody is created and
# every bad line is listed, --skip-bad creates the others; a NUMEN twice in the file or held by
# another account names its real holder; --out writes the mail-merge file (0600, same encoding
# and separator) and the table then shows no password; --dry-run creates nothing.
. "$(dirname "$0")/lib.sh"
start_daemon || exit 1

utf8="$T/rentree.utf8"
{
	printf 'Nom;Prénom;Date de naissance;NUMEN;Adresse de secours;Établissement\r\n'
	printf 'Lefèvre;Élodie;12/04/1980;12A3456789XYZ;elodie@example.org;0750001A\r\n'
	printf '"Le Gall";"Anne-Cécile";"01/01/1970";32A3456789XYZ;am@example.org;0750001A\r\n'
	printf '"Durand; dit ""Dudu""";Paul;1960-01-01;62A3456789XYZ;paul@example.org;0750002B\r\n'
	printf 'Noël;François;31/02/1999;72A3456789XYZ;fn@example.org;0750002B\r\n'
	printf 'Müller;Jürgen;1975-05-05;82A3456789XYZ;jm@example.org;0750002B\r\n'
} >"$utf8"
iconv -f UTF-8 -t WINDOWS-1252 "$utf8" >"$T/rentree.csv"
if iconv -f UTF-8 -t UTF-8 "$T/rentree.csv" >/dev/null 2>&1; then
	not_ok "the test file is Windows-1252, not UTF-8"
else
	ok "the test file is Windows-1252, not UTF-8"
fi

ctl user import "$T/rentree.csv" >"$T/first.out" 2>"$T/first.err"
expect "a file with bad lines exits 1" 1 "$?"
sed 's/^/# /' "$T/first.out" "$T/first.err"
expect "nobody was created" 0 "$(jctl user list | jq length)"
grep -q '^4  *Nom  *a name in Latin letters$' "$T/first.out" && ok "line 4 (quoted name with ; and \"\") is listed with its column" ||
	not_ok "line 4 listed with its column"
grep -q '^5 .*Date de naissance' "$T/first.out" && ok "line 5 (31/02) is listed with its column, accents as in the header" ||
	not_ok "line 5 listed with its column"
grep -q 'nothing imported: 2 bad lines' "$T/first.err" && ok "the admin is told nothing was imported" ||
	not_ok "the admin is told nothing was imported"

out=$(jctl user import --dry-run "$T/rentree.csv")
expect "--dry-run exits 1 too with bad lines and lists every line" 5 "$(jq '.lines | length' <<<"$out")"
expect "--dry-run tells the identifiant line 2 would get" elefevre "$(jq -r '.lines[] | select(.line == 2) | .identifiant' <<<"$out")"
expect "--dry-run creates nobody" 0 "$(jctl user list | jq length)"
expect "the encoding was detected" WINDOWS-1252 "$(jq -r .encoding <<<"$out")"

ctl user import --skip-bad --out "$T/merge.csv" "$T/rentree.csv" >"$T/skip.out" 2>&1
expect "--skip-bad exits 1 (bad lines remain)" 1 "$?"
sed 's/^/# /' "$T/skip.out"
expect "--skip-bad created the 3 good lines" 3 "$(jctl user list | jq length)"
expect "the accented names were decoded" "Élodie Lefèvre" "$(jctl user show elefevre | jq -r '.first + " " + .last')"
expect "the établissement was stored" 0750001A "$(jctl user show elefevre | jq -r .etablissement)"
expect "--out is 0600" 600 "$(stat -c %a "$T/merge.csv")"
expect "--out has a header and 3 rows" 4 "$(wc -l <"$T/merge.csv")"
if iconv -f UTF-8 -t UTF-8 "$T/merge.csv" >/dev/null 2>&1; then
	not_ok "--out is in the input's encoding (Windows-1252)"
else
	ok "--out is in the input's encoding (Windows-1252)"
fi
merge=$(iconv -f WINDOWS-1252 -t UTF-8 "$T/merge.csv" | tr -d '\r')
grep -q '^identifiant;courriel;mot de passe temporaire;valable jusqu.au;nom;prénom;établissement$' <<<"$merge" &&
	ok "--out header, semicolon separated" || not_ok "--out header: $(head -1 <<<"$merge")"
pw=$(grep '^elefevre;' <<<"$merge" | cut -d';' -f3)
expect "--out carries the temporary password" 16 "${#pw}"
grep -q "^elefevre;elodie.lefevre@example.org;$pw;[0-9/]* [0-9:]*;Lefèvre;Élodie;0750001A$" <<<"$merge" &&
	ok "--out row: identifiant, email, password, expiry, names, établissement" || not_ok "--out row: $merge"
expect "--out rows in the file's order" "elefevre alegall jmuller" "$(tail -n +2 <<<"$merge" | cut -d';' -f1 | xargs)"
if grep -q "$pw" "$T/skip.out"; then not_ok "the terminal shows no password with --out"; else ok "the terminal shows no password with --out"; fi
printf '%s\n' "$pw" | ctl auth check elefevre --service webmail >"$T/check.out" 2>&1
grep -q password_change_required "$T/check.out" && ok "the mail-merge password logs in (change required)" ||
	not_ok "the mail-merge password logs in: $(cat "$T/check.out")"

ctl user import --skip-bad --out "$T/merge.csv" "$T/rentree.csv" >"$T/again.out" 2>&1
expect "an existing --out file is refused" 1 "$?"
grep -q "never overwritten" "$T/again.out" && ok "… saying it is never overwritten" || not_ok "refusal says why: $(cat "$T/again.out")"

out=$(jctl user import --skip-bad "$T/rentree.csv")
expect "the same file again creates nobody" 0 "$(jq .created <<<"$out")"
expect "… and finds the 3 existing" 3 "$(jq .existing <<<"$out")"

# Duplicate NUMENs: twice in the file, and one already held by another person.
{
	printf 'nom,prenom,naissance,numen,courriel\n'
	printf 'Dupont,Jean,1980-01-01,92A3456789XYZ,jean@example.org\n'
	printf 'Martin,Marie,1981-02-02,92A3456789XYZ,marie@example.org\n'
	printf 'Bernard,Luc,1982-03-03,12A3456789XYZ,luc@example.org\n'
} >"$T/dup.csv"
out=$(jctl user import "$T/dup.csv")
expect "duplicates: nobody created" 3 "$(jctl user list | jq length)"
expect "the NUMEN twice in the file names the first line and its identifiant" "already on line 2 (which gives jdupont)" \
	"$(jq -r '.lines[] | select(.line == 3) | .detail' <<<"$out")"
expect "a NUMEN held by another person names its holder, never another identifiant" "already held by elefevre (Élodie Lefèvre)" \
	"$(jq -r '.lines[] | select(.line == 4) | .detail' <<<"$out")"
expect "… in the numen column" numen "$(jq -r '.lines[] | select(.line == 4) | .column' <<<"$out")"
out=$(jctl user add --first Luc --last Bernard --birth 1982-03-03 --numen 12A3456789XYZ --rescue-email luc@example.org 2>&1)
grep -q "already held by elefevre" <<<"$out" && ok "user add names the holder of a NUMEN too" || not_ok "user add names the holder: $out"

expect "user show finds an account by NUMEN" elefevre "$(jctl user show --numen 12a3456789xyz | jq -r .identifiant)"

# UTF-8 with --encoding, and ISO-8859-15 forced.
printf 'last;first;birth;numen;rescue_email;uai\nGarçon;Zoé;1990-09-09;A2A3456789XYZ;zg@example.org;0750003C\n' |
	iconv -f UTF-8 -t ISO-8859-15 >"$T/latin9.csv"
out=$(jctl user import --encoding ISO-8859-15 "$T/latin9.csv")
expect "--encoding ISO-8859-15 imports" 1 "$(jq .created <<<"$out")"
expect "… with the name decoded" "Zoé" "$(jctl user show zgarcon | jq -r .first)"
ctl user import --encoding KLINGON "$T/latin9.csv" >"$T/enc.out" 2>&1
expect "an unknown --encoding is a clear error" 1 "$?"
grep -q "unknown encoding KLINGON" "$T/enc.out" && ok "… naming it" || not_ok "unknown encoding named: $(cat "$T/enc.out")"

# Rows go out several at a time, but the file's order still decides the numbering of namesakes.
{
	printf 'last,first,birth,numen,rescue_email\n'
	for i in $(seq 1 40); do
		case $i in
		10 | 11 | 13) printf 'Bernard,Jean,1970-01-%02d,B%012d,jb%d@example.org\n' $((i % 28 + 1)) "$i" "$i" ;;
		*) printf 'Nom%s,Prenom,1970-01-01,B%012d,p%d@example.org\n' "$(printf '%s' "$i" | tr 0-9 a-j)" "$i" "$i" ;;
		esac
	done
} >"$T/order.csv"
out=$(jctl user import "$T/order.csv")
expect "40 rows created" 40 "$(jq .created <<<"$out")"
expect "namesakes numbered in the file's order" "11:jbernard 12:jbernard2 14:jbernard3" \
	"$(jq -r '[.lines[] | select(.identifiant | startswith("jbernard")) | "\(.line):\(.identifiant)"] | join(" ")' <<<"$out")"
expect "… and their emails too" "jean.bernard@example.org jean.bernard2@example.org jean.bernard3@example.org" \
	"$(jq -r '[.lines[] | select(.identifiant | startswith("jbernard")) | .email] | join(" ")' <<<"$out")"

# A daemon that takes 1 request at a time per connection: the rows it is too busy for are sent
# again alone, and every row still ends up checked and created.
stop_daemon
sed -i 's/^\[verdon\]$/[verdon]\nadmin_max_pending = 1/' "$CONF"
start_daemon || exit 1
{
	printf 'last,first,birth,numen,rescue_email\n'
	for i in $(seq 1 30); do
		printf 'Busy%s,Ines,1970-01-01,C%012d,b%d@example.org\n' "$(printf '%s' "$i" | tr 0-9 a-j)" "$i" "$i"
	done
} >"$T/busy.csv"
out=$(jctl user import "$T/busy.csv")
expect "admin_max_pending = 1: every row created anyway" "30 0" "$(jq -r '"\(.created) \(.errors)"' <<<"$out")"

# A daemon that takes 16 rows at a time per connection (admin_max_pending = 16, below the CLI's
# 128): the CLI narrows its window to what the daemon takes after the first refusals, so that only
# a few rows are refused and sent again alone, not most of the file.
stop_daemon
sed -i 's/^admin_max_pending = 1$/admin_max_pending = 16/' "$CONF"
MPORT=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
printf '\n[metrics]\nlisten = 127.0.0.1:%s\n' "$MPORT" >>"$CONF"
start_daemon || exit 1
tempfails() { curl -sf "http://127.0.0.1:$MPORT/metrics" | awk '$1 == "verdon_tempfail_total" { print $2 }'; }
"$ROOT/tests/bench/people_csv.sh" 2000 >"$T/window.csv"
before=$(tempfails)
out=$(jctl user import "$T/window.csv")
expect "admin_max_pending = 16: 2000 rows created" "2000 0" "$(jq -r '"\(.created) \(.errors)"' <<<"$out")"
refused=$(($(tempfails) - ${before:-0}))
if [ -n "$before" ] && [ "$refused" -le 150 ]; then
	ok "… the window narrowed: $refused rows refused for a full window (at most 150)"
else
	not_ok "… the window narrowed: $refused rows refused for a full window (at most 150; before: '$before')"
fi
