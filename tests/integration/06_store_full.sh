#!/usr/bin/env bash
# A full store (issue 7, point 10) and verdonctl --json refusals (point 13). With a 1 MiB map, accounts
# are added until the map is full: every write then answers TEMPFAIL (nothing half written), the log
# says so at error level once (not once per refused write), `verdonctl status` shows it, the 90 %
# alarm still fires; a bigger map after a restart takes writes again and the state clears. And
# `verdonctl --json` prints a JSON object with the reason and message on standard output for a
# refusal (FAIL) and for a TEMPFAIL, keeping its exit codes.
EXTRA_VERDON="map_size_mb = 1"
. "$(dirname "$0")/lib.sh"
export T
start_daemon || exit 1

# Refusals with --json (point 13): a JSON object on stdout, the exit code kept.
out=$(jctl user show nobody 2>/dev/null)
rc=$?
expect "user show of an unknown account exits 1 (refused)" 1 "$rc"
expect "… and prints result refused on stdout" refused "$(jq -r .result <<<"$out" 2>/dev/null)"
expect "… with the reason" not_found "$(jq -r .reason <<<"$out" 2>/dev/null)"
case "$(jq -r .message <<<"$out" 2>/dev/null)" in *nobody*) ok "… and the message naming the account" ;;
*) not_ok "… and the message naming the account: $out" ;; esac
jctl user add --first Jean --last Dupont --birth 1980-01-01 --numen 12A3456789XYZ --rescue-email r@example.org >/dev/null
out=$(jctl user add --first Jean --last Dupont --birth 1980-01-01 --numen 12A3456789XYZ --rescue-email r@example.org 2>/dev/null)
rc=$?
expect "the same NUMEN again exits 1 and prints reason exists" "1 exists" "$rc $(jq -r .reason <<<"$out" 2>/dev/null)"
expect "… and the detail names the holder" "numen: already held by jdupont (Jean Dupont)" "$(jq -r .detail <<<"$out" 2>/dev/null)"

# Fill the map through the admin socket: pipelined USER_ADDs until one answers TEMPFAIL.
fill=$(PYTHONPATH="$ROOT/tests/integration" PYTHONDONTWRITEBYTECODE=1 timeout 300 python3 - <<'PY'
from lib_proto import *
c = Client(ADMIN)
ok = temp = other = 0
for batch in range(200):
    reqs = []
    for i in range(10):  # within max_pending
        n = batch * 10 + i
        reqs.append(("USER_ADD", str(n + 1), {"first": "Test", "last": letters(n), "birth": "1980-01-01",
                     "numen": numen(n), "rescue_email": "rescue%d@example.net" % n}))
    answers, _ = c.pipeline(reqs, timeout=60)
    for rid, lst in answers.items():
        v = lst[0].verb
        ok += v == "OK"
        temp += v == "TEMPFAIL"
        other += v not in ("OK", "TEMPFAIL")
    if temp >= 10:
        break
print(ok, temp, other)
PY
)
read -r added refused other <<<"$fill"
[ "${added:-0}" -gt 0 ] && [ "${refused:-0}" -ge 10 ] && ok "the map filled: $added accounts, then $refused TEMPFAIL" ||
	not_ok "the map filled: $fill"
expect "no other answer than OK and TEMPFAIL" 0 "${other:-x}"
expect "every OK account is there, nothing half written" "$((added + 1))" "$(jctl user list | jq length)"

out=$(jctl user add --first Zoe --last Plein --birth 1980-01-01 --numen 99A9999999ZZZ --rescue-email z@example.org 2>"$T/err")
rc=$?
expect "verdonctl user add on a full store exits 3 (tempfail)" 3 "$rc"
expect "… and prints result tempfail on stdout" tempfail "$(jq -r .result <<<"$out" 2>/dev/null)"
expect "… with reason tempfail" tempfail "$(jq -r .reason <<<"$out" 2>/dev/null)"
grep -q "tempfail" "$T/err" && ok "… and says it on stderr too" || not_ok "… and says it on stderr too"

n=$(grep -c "error: store: full" "$T/verdond.log")
expect "the full store is logged at error level, once for $refused refused writes" 1 "$n"
st=$(jctl status)
expect "verdonctl status says the store is full" true "$(jq -r .store_full <<<"$st")"
[ "$(jq -r .store_full_refused <<<"$st")" -ge "$refused" ] && ok "… and counts the refused writes" ||
	not_ok "… and counts the refused writes: $st"
[ "$(jq -r .store_full_since <<<"$st")" -gt 0 ] && ok "… and since when" || not_ok "… and since when: $st"
ctl status | grep -q "store_full.*yes" && ok "the table form shows it too" || not_ok "the table form shows it too: $(ctl status)"
# The 90 % alarm comes from the housekeeping a second after start, then every minute: restart.
stop_daemon
start_daemon || exit 1
for _ in $(seq 1 40); do grep -q "of the map is used" "$T/verdond.log" && break; sleep 0.5; done
grep -q "error: store: [0-9]*% of the map is used" "$T/verdond.log" && ok "the 90 % alarm is still logged" ||
	not_ok "the 90 % alarm is still logged"

# More room: writes succeed again and the state clears.
stop_daemon
sed -i 's/^map_size_mb = 1$/map_size_mb = 8/' "$CONF"
start_daemon || exit 1
check "with a bigger map the add succeeds" jctl user add --first Zoe --last Plein --birth 1980-01-01 --numen 99A9999999ZZZ --rescue-email z@example.org
expect "status says the store is not full" false "$(jctl status | jq -r .store_full)"
stop_daemon
echo "1..$N"
