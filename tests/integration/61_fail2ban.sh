#!/usr/bin/env bash
# The fail2ban line: a scenario (observe_scenario.py, then a throttled login) makes refusals from
# known addresses; its log, as syslog would write it, goes through Debian's fail2ban-regex with the
# shipped filter, which must match exactly the refusals that name a numeric address, never the
# address a service name tried to smuggle, never a "locked" answer; and no login typed nor any
# secret is in the log.
BASE_DELAY=60
EXTRA_THROTTLE="delay_after = 4"
. "$(dirname "$0")/lib.sh"
export T CANARY_PW
FILTER="$ROOT/contrib/fail2ban/filter.d/verdon.conf"
HTTP_PORT=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
export HTTP_PORT
write_config
printf '\n[penalty]\nbase_ms = 0\n[http]\nlisten = 127.0.0.1:%s\n' "$HTTP_PORT" >>"$CONF"
start_daemon || exit 1

pytap <<'PY'
from lib_proto import *
import observe_scenario


def scenario(tap):
    admin = Client(T + "/admin.sock")
    auth = Client(T + "/auth.sock")
    ident = observe_scenario.run(tap, admin, auth)
    # After the success, four more wrong passwords, then the throttle answers "locked".
    for i in range(4):
        a = auth.call("AUTH", {"login": ident, "password": "Encore-Faux-%d-Abc" % i,
                               "service": "verdon-imap", "address": "192.0.2.10"})
        tap.eq("FAIL", a.verb, "wrong password %d after the success" % i)
    a = auth.call("AUTH", {"login": ident, "password": "Encore-Faux-9-Abc",
                           "service": "verdon-imap", "address": "192.0.2.10"})
    tap.eq("locked", a.get("reason"), "the fifth is throttled")
    # The HTTP front end: two wrong logins on the self-service page, from 127.0.0.1.
    import json, urllib.error, urllib.request
    for i in range(2):
        req = urllib.request.Request(
            "http://127.0.0.1:%s/api/login" % os.environ["HTTP_PORT"], method="POST",
            data=json.dumps({"login": "inconnu.web%d" % i, "password": "Faux-Web-%d-Xyz" % i}).encode(),
            headers={"Content-Type": "application/json", "X-Verdon-Request": "1"})
        try:
            urllib.request.urlopen(req, timeout=30)
            tap.ok(False, "wrong HTTP login %d refused" % i)
        except urllib.error.HTTPError as e:
            tap.eq(401, e.code, "wrong HTTP login %d refused" % i)
    with open(T + "/ident", "w") as fh:
        fh.write(ident)


main_run(scenario)
PY
stop_daemon

# What syslog writes for the daemon's info lines: a date, the host, "verdond[PID]: ".
sed -n "s/^verdond: info: /$(date '+%b %e %H:%M:%S') testhost verdond[4242]: /p" "$T/verdond.log" >"$T/syslog"
# The filter includes Debian's common.conf from its own directory, as in /etc/fail2ban/filter.d.
mkdir -p "$T/f2b/filter.d"
cp "$FILTER" "$T/f2b/filter.d/verdon.conf"
ln -s /etc/fail2ban/filter.d/common.conf "$T/f2b/filter.d/common.conf"
out=$(fail2ban-regex --print-all-matched "$T/syslog" "$T/f2b/filter.d/verdon.conf" 2>&1)
matched=$(echo "$out" | sed -n 's/^Lines: .* \([0-9]*\) matched.*/\1/p')
# 3 + 4 wrong passwords from 192.0.2.10, the unknown login from 2001:db8::7, two wrong logins on
# the HTTP page from 127.0.0.1; not the non-numeric
# address, not the "locked" answer, not the service name with spaces (a bad request, refused before
# any decision: it cannot reach the line).
expect "fail2ban-regex matches exactly the 10 refusals with a numeric address" "10" "$matched"
hosts=$(echo "$out" | awk '/Matched line\(s\):/ {m = 1; next} /^`-/ {m = 0} m' | grep -oE 'address=(127\.0\.0\.1|192\.0\.2\.[0-9]+|2001:db8::7|203\.0\.113\.9)' | cut -d= -f2 | sort | uniq -c | awk '{print $2 "=" $1}' | tr '\n' ' ')
expect "matches per address (the smuggled address never)" "127.0.0.1=2 192.0.2.10=7 2001:db8::7=1 " "$hosts"
expect "one locked refusal logged, not matched" "1" "$(grep -c 'reason=locked' "$T/syslog")"
expect "the non-numeric address logs as -" "1" "$(grep -c 'refused service=verdon-imap address=- ' "$T/syslog")"
check "penalties logged" grep -q 'penalised address=192.0.2.10 failures=' "$T/syslog"
ident=$(cat "$T/ident")
for s in "$ident" personne.inconnue intrus inconnu.web Faux-Web "$CANARY_PW" Mauvais-Passe Encore-Faux; do
	check "no '$s' in the log" bash -c "! grep -qF -- '$s' '$T/verdond.log'"
done
h=$(grep "address=192.0.2.10 " "$T/syslog" | sed -n 's/.* login=\([0-9a-f]*\)$/\1/p' | sort -u | wc -l)
expect "one login hash for one person" "1" "$h"
[ -n "${SHOW_LOG:-}" ] && sed 's/^/# /' "$T/syslog"
exit 0
