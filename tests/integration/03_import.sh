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

# Import rows go in group commits: rows queued one behind the other share one write transaction,
# and a row that finds its person already there writes nothing at all. Here 64 import rows are
# pipelined straight to the daemon (the CLI does not even send the rows its check found there).
pytap <<'PY'
from lib_proto import *

def rows(tag):
    return [("USER_ADD", "%s%d" % (tag, i), {
        "first": "Meme", "last": letters(700 + i), "birth": "1975-05-05",
        "numen": numen(700 + i, "SAM"), "rescue_email": "meme%d@example.net" % i, "import": "1"})
        for i in range(64)]

def newest(adm):
    a = adm.call("AUDIT", {"limit": "1"})
    return a.rows[0].get("seq") if a.rows else None

def run(tap):
    adm = Client(ADMIN, timeout=60)
    first, _ = adm.pipeline(rows("a"), timeout=60)
    status = [first["a%d" % i][0].get("status") for i in range(64)]
    tap.eq(["created"] * 64, status, "64 pipelined import rows: each answered created")
    seq = newest(adm)
    data = os.path.join(T, "state", "data.mdb")
    before = os.stat(data).st_mtime_ns
    again, _ = adm.pipeline(rows("b"), timeout=60)
    status = [again["b%d" % i][0].get("status") for i in range(64)]
    tap.eq(["exists"] * 64, status, "the same 64 rows again: each answered exists")
    tap.eq(before, os.stat(data).st_mtime_ns, "… and the store file was not written (no commit)")
    tap.eq(seq, newest(adm), "… nor any audit record")
    same = [first["a%d" % i][0].get("identifiant") == again["b%d" % i][0].get("identifiant")
            for i in range(64)]
    tap.eq([True] * 64, same, "… each naming the account the first run created")

main_run(run)
PY

# kill -9 in the middle of a large import: every row the CLI reported created is there after a
# restart, the store verifies whole, and the file run again completes without creating anyone twice.
IMPORT_CRASH_N=${IMPORT_CRASH_N:-20000}
"$ROOT/tests/bench/people_csv.sh" "$IMPORT_CRASH_N" >"$T/crash.csv"
base=$(jctl status | jq .accounts)
jctl user import "$T/crash.csv" >"$T/crash.json" 2>"$T/crash.err" &
IMPORTER=$!
for _ in $(seq 1 600); do
	n=$(jctl status 2>/dev/null | jq '.accounts // 0')
	[ "${n:-0}" -ge $((base + 2000)) ] && break
	kill -0 "$IMPORTER" 2>/dev/null || break
	sleep 0.05
done
kill9_daemon
wait "$IMPORTER"
expect "the import cut by kill -9 exits 3 (unavailable)" 3 "$?"
jq -r '.lines[] | select(.status == "created") | "\(.identifiant) \(.email)"' "$T/crash.json" >"$T/crash.created"
reported=$(wc -l <"$T/crash.created")
if [ "$reported" -gt 0 ] && [ "$reported" -lt "$IMPORT_CRASH_N" ]; then
	ok "kill -9 came in the middle of the import ($reported of $IMPORT_CRASH_N reported created)"
else
	not_ok "kill -9 came in the middle of the import ($reported of $IMPORT_CRASH_N reported created): $(head -3 "$T/crash.err")"
fi
start_daemon || exit 1
pytap <<'PY'
from lib_proto import *

def run(tap):
    adm = Client(ADMIN, timeout=60)
    created = [l.split() for l in open(T + "/crash.created")]
    missing = []
    for start in range(0, len(created), 16):
        batch = created[start:start + 16]
        answers, _ = adm.pipeline([("USER_SHOW", str(i), {"login": ident})
                                   for i, (ident, _) in enumerate(batch)], timeout=60)
        for i, (ident, email) in enumerate(batch):
            a = answers.get(str(i), [None])[0]
            if a is None or a.verb != "OK" or a.get("email") != email:
                missing.append((ident, a.short() if a else None))
    tap.eq([], missing[:5], "after kill -9 and restart, every account reported created is there "
           "(%d checked)" % len(created))

main_run(run)
PY
out=$(ctl store verify 2>&1)
expect "the store verifies whole after the kill" 0 "$?"
out=$(jctl user import "$T/crash.csv")
expect "the file again: done, no error" 0 "$?"
expect "… every row created or existing" "$IMPORT_CRASH_N 0" \
	"$(jq -r '"\(.created + .existing) \(.errors)"' <<<"$out")"
expect "… the rows reported created before the kill now exist" "$reported" \
	"$(jq -r '.lines[] | select(.status == "exists") | .identifiant' <<<"$out" | sort | comm -12 - <(cut -d' ' -f1 "$T/crash.created" | sort) | wc -l)"
expect "… and nobody was created twice" 0 \
	"$(jctl user list | jq '[.[] | select(.identifiant | test("^[a-z]essai[a-z]+[0-9]+$"))] | length')"
