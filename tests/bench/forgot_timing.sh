#!/usr/bin/env bash
# Does the HTTP API's answer to a forgotten password or identifiant take longer when the account
# exists (issue 4: "no measurable difference in time"; issue 7 point 7)? Starts its own verdond
# (HTTP on a free loopback port, [penalty] base_ms = 0 so the per-address penalty does not
# dominate, a sendmail script of ours writing each mail to a file), creates accounts, then
# alternates known and unknown asks (interleaved, which goes first alternating), with GET
# /api/health in each round as the reference. The known asks rotate over enough accounts, each with
# its own rescue address, that every one of them mails within the recovery mail limits ([recovery]
# at 50 an hour): the known side is the side that mails. Prints per group the count, median, p90
# and mean, both medians and their difference, the mails written, and whether status and body were
# byte-identical. Prints figures; asserts nothing about time. The daemon is stopped by its PID.
# Knobs: FORGOT_N (requests a group, default 200), FORGOT_SECONDS (each phase's limit, default 30,
# so 60 s in all), KEEP=1.
set -u
. "$(dirname "${BASH_SOURCE[0]}")/bench_lib.sh"
FORGOT_N=${FORGOT_N:-200}
FORGOT_SECONDS=${FORGOT_SECONDS:-30}
bench_setup forgot_timing verdon-forgot
chmod 755 "$T"
need_files "$VERDOND" "$VERDONCTL"
need_tools python3

# Run without a shell, split on spaces: each message is written whole, then renamed into place.
mkdir -p "$T/mail"
cat >"$T/fake-sendmail.sh" <<SH
umask 077
f="$T/mail/\$(date +%s%N).\$\$"
cat >"\$f.tmp" && mv "\$f.tmp" "\$f"
SH

PORT=$(free_port tcp)
cat >"$CONF" <<CONF
[verdon]
state_dir = $T/state
auth_socket = $T/auth.sock
admin_socket = $T/admin.sock
mail_domain = example.org
issuer = Académie de Test
workers = 2

[password]
; the SPEC's floor: account creation is not what is measured
argon2_memory_kib = 19456
argon2_time = 2

[throttle]
base_delay = 0

[penalty]
; no per-address delay: it would dominate every figure
base_ms = 0

[recovery]
; the known asks rotate over accounts so that each of them mails (see MAILS_EACH below)
mails_per_hour = 50
mails_per_day = 50

[mail]
sendmail = /bin/sh $T/fake-sendmail.sh
from = verdon@example.org

[http]
listen = 127.0.0.1:$PORT
CONF

start_verdond || die "verdond did not start"

# Each account mails at most MAILS_EACH times: the known asks of a phase rotate over ACCOUNTS of them,
# one set for each phase (both pages count against the same account and rescue address).
MAILS_EACH=50
ACCOUNTS=$(((FORGOT_N + MAILS_EACH - 1) / MAILS_EACH))
BIRTH=1980-01-01 LAST=Dupont
IDENTS=""
for i in $(seq 1 $((2 * ACCOUNTS))); do
	id=$(ctl --json user add --first Jeanne --last "$LAST" --birth "$BIRTH" \
		--numen "$(printf '%010dXYZ' "$i")" --rescue-email "rescue$i@example.net" |
		python3 -c 'import json,sys; print(json.load(sys.stdin).get("identifiant",""))')
	[ -n "$id" ] || die "user add failed"
	IDENTS="$IDENTS $id"
done

echo "forgot_timing: verdond $VERDOND, HTTP 127.0.0.1:$PORT, load $(loadavg)"
echo "  N=$FORGOT_N a group, at most $FORGOT_SECONDS s a phase; times from request to body read, in µs"

PORT=$PORT IDENTS=$IDENTS ACCOUNTS=$ACCOUNTS BIRTH=$BIRTH LAST=$LAST N=$FORGOT_N LIMIT=$FORGOT_SECONDS \
	MAILDIR="$T/mail" timeout $((2 * FORGOT_SECONDS + 60)) python3 - <<'PY'
import http.client
import json
import os
import statistics
import time

PORT = int(os.environ["PORT"])
N = int(os.environ["N"])
LIMIT = float(os.environ["LIMIT"])
HDR = {"Content-Type": "application/json", "X-Verdon-Request": "1"}


class Conn:
    """One keep-alive connection, reopened if the daemon closes it (the reopening is not timed)."""

    def __init__(self):
        self.c = None

    def call(self, method, path, body=None):
        data = json.dumps(body).encode() if body is not None else None
        for attempt in (0, 1):
            if self.c is None:
                self.c = http.client.HTTPConnection("127.0.0.1", PORT, timeout=30)
                self.c.connect()
            try:
                t0 = time.perf_counter_ns()
                self.c.request(method, path, body=data, headers=HDR if data else {})
                r = self.c.getresponse()
                raw = r.read()
                t1 = time.perf_counter_ns()
                if r.getheader("Connection", "").lower() == "close":
                    self.c.close()
                    self.c = None
                return (t1 - t0) / 1000.0, r.status, raw
            except (http.client.HTTPException, OSError):
                self.c.close()
                self.c = None
                if attempt:
                    raise


def stats(xs):
    s = sorted(xs)
    return statistics.median(s), s[min(len(s) - 1, int(0.9 * len(s)))], statistics.fmean(s)


def phase(title, path, knowns, unknown):
    conn = Conn()
    t = {"known": [], "unknown": [], "health": []}
    answers = {"known": set(), "unknown": set()}
    deadline = time.monotonic() + LIMIT
    for i in range(N):
        if time.monotonic() > deadline:
            break
        # Alternate which goes first, so neither always follows the health request.
        order = ("known", "unknown") if i % 2 == 0 else ("unknown", "known")
        for k in order:
            body = knowns[i % len(knowns)] if k == "known" else unknown
            us, st, raw = conn.call("POST", path, body)
            t[k].append(us)
            answers[k].add((st, raw))
        us, st, raw = conn.call("GET", "/api/health")
        t["health"].append(us)
    print("%s (%s)" % (title, path))
    print("  %-22s %6s %10s %10s %10s" % ("group", "count", "median", "p90", "mean"))
    for k, label in (("known", "known account"), ("unknown", "unknown account"),
                     ("health", "GET /api/health (ref)")):
        med, p90, mean = stats(t[k])
        print("  %-22s %6d %10.0f %10.0f %10.0f" % (label, len(t[k]), med, p90, mean))
    mk, mu = statistics.median(t["known"]), statistics.median(t["unknown"])
    d = mk - mu
    print("  medians: known %.0f µs, unknown %.0f µs; known - unknown: %+.0f µs (health median %.0f µs)"
          % (mk, mu, d, statistics.median(t["health"])))
    same = len(answers["known"]) == 1 and answers["known"] == answers["unknown"]
    shown = sorted("%d %s" % (st, raw.decode(errors="replace")) for st, raw in
                   answers["known"] | answers["unknown"])
    print("  status and body byte-identical, known vs unknown: %s (%s)"
          % ("yes" if same else "NO", " | ".join(shown)))
    return d


idents = os.environ["IDENTS"].split()
accounts = int(os.environ["ACCOUNTS"])
birth, last = os.environ["BIRTH"], os.environ["LAST"]
maildir = os.environ["MAILDIR"]
before = len(os.listdir(maildir))
phase("forgot-password", "/api/forgot-password", [{"login": i} for i in idents[:accounts]],
      {"login": "personne.inconnue"})
time.sleep(1)
mid = len(os.listdir(maildir))
print("  mails written for forgot-password: %d" % (mid - before))
who = [{"numen": "%010dXYZ" % n, "birth": birth, "last": last}
       for n in range(accounts + 1, 2 * accounts + 1)]
phase("forgot-identifiant", "/api/forgot-identifiant", who, dict(who[0], birth="1999-09-09"))
time.sleep(1)
print("  mails written for forgot-identifiant: %d" % (len(os.listdir(maildir)) - mid))
PY
rc=$?
[ $rc -eq 0 ] || echo "forgot_timing: the measuring loop exited $rc (124: timed out)"
kill -0 "$DAEMON_PID" 2>/dev/null || echo "forgot_timing: verdond died during the run"
exit $rc
