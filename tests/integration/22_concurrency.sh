#!/usr/bin/env bash
# Races and signals: 50 parallel AUTHs with one code give one success; the admin socket checks its
# peer; SIGTERM answers what is in flight; SIGHUP reloads a good config and refuses a broken one.
. "$(dirname "$0")/lib.sh"
export T CANARY_PW

start_daemon || exit 1

# (a) 50 connections, one barrier, the same password and code: exactly one OK, three rounds.
pytap <<'PY'
from lib_proto import *

RACERS = 50

def run(tap):
    admin, auth = Client(ADMIN), Client(AUTH)
    password = os.environ["CANARY_PW"]
    ident, secret, used = active_user(admin, auth, 2000, password)
    tap.note("account %s confirmed at step %d" % (ident, used))
    for rnd in (1, 2, 3):
        next_step(used)  # a code of a step after the last one used
        used = step()
        code = totp(secret)
        results = race([AUTH], ident, password, code, racers=RACERS)
        counts = {r: results.count(r) for r in set(results)}
        tap.eq({"OK": 1, "FAIL invalid": RACERS - 1}, counts,
               "round %d: 50 parallel AUTHs with one code → exactly 1 OK, 49 invalid" % rnd)
        if step() != used:
            tap.note("round %d spilled into the next step" % rnd)
        again = auth.call("AUTH", {"login": ident, "password": password, "otp": code, "service": "race"})
        tap.eq("FAIL invalid", again.short(), "round %d: the code is still used afterwards" % rnd)
        # 50 failures lock an account; an admin clears them between rounds.
        u = admin.call("USER_UNLOCK", {"login": ident})
        tap.eq("OK", u.verb, "round %d: USER_UNLOCK clears the 50 failures" % rnd)
    st = admin.call("OTP_STATUS", {"login": ident})
    tap.eq(str(used * 30), st.get("last_used"), "OTP_STATUS last_used is the last round's step (unix time)")

main_run(run)
PY

# (b) The admin socket (mode 0666 here) checks its peer: nobody is refused, and it is audited.
# nobody runs from a directory of its own under $T with a copy of lib_proto.py: the checkout may
# be out of its reach (a clone under /root). If nobody cannot reach it or the socket, say so.
AS_NOBODY="setpriv --reuid=nobody --regid=nogroup --clear-groups"
NOBODY_DIR=$(other_user_dir nobody) || not_ok "a directory for nobody under $T"
pushd "${NOBODY_DIR:-/}" >/dev/null || exit 1
if out=$($AS_NOBODY env PYTHONPATH="$NOBODY_DIR" PYTHONDONTWRITEBYTECODE=1 python3 -c '
import socket, sys, lib_proto
s = socket.socket(socket.AF_UNIX)
s.connect(sys.argv[1])' "$T/admin.sock" 2>&1); then
	ok "nobody reaches its copy of lib_proto and the admin socket"
else
	not_ok "nobody reaches its copy of lib_proto and the admin socket: the steps below would test nothing"
	echo "$out" | sed 's/^/# /'
fi
PYTAP_LIBDIR="$NOBODY_DIR" pytap $AS_NOBODY <<'PY'
from lib_proto import *

def run(tap):
    tap.eq(65534, os.getuid(), "running as nobody")
    admin = Client(ADMIN)
    tap.eq("VERSION", admin.server_version.verb, "nobody may connect to a 0666 admin socket")
    asks = [("STATUS", {}), ("USER_SHOW", {"login": "x"}), ("AUDIT", {}),
            ("USER_ADD", {"first": "Intrus", "last": "Nobody", "birth": "1990-01-01",
                          "numen": "66N0B0DY00XYZ", "rescue_email": "n@example.net"}),
            ("BACKUP", {"path": T + "/nobody.backup"})]
    for verb, fields in asks:
        a = admin.call(verb, fields)
        tap.eq("FAIL forbidden root or the admin group only",
               "%s %s %s" % (a.verb, a.reason, a.get("detail")), "nobody: %s → FAIL forbidden" % verb)
    auth = Client(AUTH)
    a = auth.call("AUTH", {"login": "ghost", "password": "pw", "service": "test"})
    tap.eq("FAIL invalid", a.short(), "nobody may use the auth socket")

main_run(run)
PY
popd >/dev/null || exit 1
pytap <<'PY'
from lib_proto import *
import json

def run(tap):
    admin = Client(ADMIN)
    s = admin.call("STATUS")
    tap.eq("OK", s.verb, "root is accepted on the admin socket")
    a = admin.call("USER_SHOW", {"login": "nnobody"})
    tap.eq("FAIL not_found", a.short(), "nobody's USER_ADD created nothing")
    tap.ok(not os.path.exists(T + "/nobody.backup"), "nobody's BACKUP wrote nothing")
    au = admin.call("AUDIT", {"limit": "50"})
    recs = [json.loads(r.get("json")) for r in au.rows]
    refused = [r for r in recs if r.get("action") == "admin.connect"]
    tap.eq(5, len(refused), "the AUDIT trail holds the 5 refusals (action admin.connect)")
    tap.ok(all("uid=65534" in r.get("detail", "") and r.get("reason") == "forbidden" for r in refused),
           "… each with reason forbidden and the peer uid=65534",
           "\n".join(json.dumps(r) for r in refused))

main_run(run)
PY
if grep -q "admin socket: refused peer uid=65534" "$T/verdond.log"; then ok "the refusal is logged"; else not_ok "the refusal is logged"; fi

# (c) SIGTERM while 20 AUTHs are in flight: each is answered, then a clean exit 0.
pytap <<'PY'
from lib_proto import *
import signal

def run(tap):
    conns = [Client(AUTH) for _ in range(2)]
    ids = []
    for k, c in enumerate(conns):
        reqs = [("AUTH", "t%d_%d" % (k, i), {"login": "ghost%d" % i, "password": "pw%d" % i,
                                             "service": "test"}) for i in range(10)]
        ids += [r[1] for r in reqs]
        c.send_raw(b"".join(encode(*r) for r in reqs))
    os.kill(int(os.environ["DAEMON_PID"]), signal.SIGTERM)
    got = []
    for c in conns:
        got += c.read_all(30)
        tap.ok(c.eof, "the daemon closes the connection after its answers")
    tap.eq(sorted(ids), sorted(a.id for a in got), "SIGTERM with 20 AUTHs in flight: every id answered once")
    tap.ok(all(a.short() in ("FAIL invalid", "TEMPFAIL tempfail") for a in got),
           "… with FAIL invalid or TEMPFAIL (%s)" % sorted(set(a.short() for a in got)))

main_run(run)
PY
wait "$DAEMON_PID"
expect "the daemon exits 0 after SIGTERM" 0 "$?"
DAEMON_PID=""
expect "… and removes its sockets" "no no" \
	"$([ -e "$T/auth.sock" ] && echo yes || echo no) $([ -e "$T/admin.sock" ] && echo yes || echo no)"

# The same, deterministic: the daemon frozen (SIGSTOP) gets SIGTERM first, then the requests, so
# that the loop sees the signal before the lines waiting in its sockets.
start_daemon || exit 1
pytap <<'PY'
from lib_proto import *
import signal

def run(tap):
    pid = int(os.environ["DAEMON_PID"])
    conns = [Client(AUTH) for _ in range(2)]
    ids = []
    # Level-triggered epoll keeps the last reported connections first in its ready list until
    # the next wait: let a timer tick go by so that the signal is ahead of the lines.
    time.sleep(1.5)
    os.kill(pid, signal.SIGSTOP)
    try:
        time.sleep(0.2)
        os.kill(pid, signal.SIGTERM)
        time.sleep(0.1)
        for k, c in enumerate(conns):
            reqs = [("AUTH", "f%d_%d" % (k, i), {"login": "ghost", "password": "pw%d" % i,
                                                 "service": "test"}) for i in range(5)]
            ids += [r[1] for r in reqs]
            c.send_raw(b"".join(encode(*r) for r in reqs))
        time.sleep(0.1)
    finally:
        os.kill(pid, signal.SIGCONT)
    got = []
    for c in conns:
        got += c.read_all(30)
    tap.eq(sorted(ids), sorted(a.id for a in got),
           "lines waiting when SIGTERM is handled: every id answered, none dropped")
    shorts = [a.short() for a in got]
    tap.ok(set(shorts) <= {"FAIL invalid", "TEMPFAIL tempfail"},
           "… with FAIL invalid, or TEMPFAIL when read after the signal (%d TEMPFAIL)"
           % shorts.count("TEMPFAIL tempfail"), shorts)

main_run(run)
PY
wait "$DAEMON_PID"
expect "the daemon exits 0" 0 "$?"
DAEMON_PID=""

# (d) SIGHUP: a new throttle applies at once; a broken config is refused and the old one kept.
EXTRA_THROTTLE="delay_after = 2" BASE_DELAY=0 write_config
start_daemon || exit 1
# hup PATTERN: sends SIGHUP and waits (≤ 5 s) for one more log line matching PATTERN.
hup() {
	local before
	before=$(grep -c -- "$1" "$T/verdond.log")
	kill -HUP "$DAEMON_PID"
	for _ in $(seq 1 50); do
		[ "$(grep -c -- "$1" "$T/verdond.log")" -gt "$before" ] && return 0
		sleep 0.1
	done
	return 1
}
pytap <<'PY'
from lib_proto import *

def run(tap):
    admin, auth = Client(ADMIN), Client(AUTH)
    idents = []
    for n in (3001, 3002, 3003):
        a = user_add(admin, n)
        idents.append(a.get("identifiant"))
        tap.eq("OK", a.verb, "USER_ADD %s" % a.get("identifiant"))
    got = [auth.call("AUTH", {"login": idents[0], "password": "faux-%d" % i, "service": "test"}).short()
           for i in range(3)]
    tap.eq(["FAIL invalid"] * 3, got, "base_delay 0: three wrong passwords, no delay")
    open(T + "/idents", "w").write("\n".join(idents) + "\n")

main_run(run)
PY
BASE_DELAY=60 EXTRA_THROTTLE="delay_after = 2" write_config
check "SIGHUP with base_delay 60: 'configuration reloaded' logged" hup "configuration reloaded"
pytap <<'PY'
from lib_proto import *

def run(tap):
    auth = Client(AUTH)
    x, y, z = open(T + "/idents").read().split()
    got = []
    for i in range(3):
        a = auth.call("AUTH", {"login": y, "password": "mauvais-%d" % i, "service": "test"})
        got.append(a)
    tap.eq(["FAIL invalid", "FAIL invalid", "FAIL locked"], [a.short() for a in got],
           "after the reload: two wrong passwords, the third is throttled (locked)")
    w = int(got[2].get("wait", "-1"))
    tap.ok(50 <= w <= 60, "… with wait=%d (base_delay 60)" % w)
    a = auth.call("AUTH", {"login": x, "password": "faux-9", "service": "test"})
    w = int(a.get("wait", "-1"))
    tap.ok(a.short() == "FAIL locked" and 110 <= w <= 120,
           "the account with 3 failures from before the reload waits 120 s (%s wait=%d)" % (a.short(), w))

main_run(run)
PY
cp "$CONF" "$T/good.conf"
awk '{print} /^\[throttle\]$/ {print "bogus_key = 1"}' "$T/good.conf" >"$CONF"
line=$(grep -n '^bogus_key' "$CONF" | cut -d: -f1)
check "SIGHUP with a broken config: 'reload refused' logged with FILE:LINE:" \
	hup "reload refused, keeping the running configuration: $CONF:$line: unknown key 'bogus_key' in section \[throttle\]"
if kill -0 "$DAEMON_PID" 2>/dev/null; then ok "the daemon keeps running"; else not_ok "the daemon keeps running"; fi
pytap <<'PY'
from lib_proto import *

def run(tap):
    auth = Client(AUTH)
    z = open(T + "/idents").read().split()[2]
    got = [auth.call("AUTH", {"login": z, "password": "autre-%d" % i, "service": "test"}).short()
           for i in range(3)]
    tap.eq(["FAIL invalid", "FAIL invalid", "FAIL locked"], got,
           "the running configuration (base_delay 60) is kept after the refused reload")

main_run(run)
PY
cp "$T/good.conf" "$CONF"
kill -TERM "$DAEMON_PID"
wait "$DAEMON_PID"
expect "the daemon exits 0 after the reloads" 0 "$?"
DAEMON_PID=""
