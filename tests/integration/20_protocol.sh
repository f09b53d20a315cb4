#!/usr/bin/env bash
# The line protocol against the real daemon, with a raw client (lib_proto.py): the handshake,
# pipelining and ids, half-close, escaping, the line limit, malformed lines, unknown verbs,
# max_pending, idle_timeout, many connections, silent clients.
. "$(dirname "$0")/lib.sh"
export T

# Runs python (the code on stdin) with lib_proto importable; numbers its ok / not ok lines.
pytap() {
	local line rc
	while IFS= read -r line; do
		case "$line" in
		"ok - "*) ok "${line#ok - }" ;;
		"not ok - "*) not_ok "${line#not ok - }" ;;
		*) echo "$line" ;;
		esac
	done < <(PYTHONPATH="$ROOT/tests/integration" PYTHONDONTWRITEBYTECODE=1 DAEMON_PID="$DAEMON_PID" timeout 300 python3 -)
	wait $!
	rc=$?
	[ $rc -eq 0 ] || [ $rc -eq 1 ] || not_ok "python scenario exited $rc (124: timed out)"
}

start_daemon || exit 1

pytap <<'PY'
from lib_proto import *

def run(tap):
    c = Client(AUTH, handshake=False)
    v = c.read(5)
    tap.eq(b"VERSION\t0\tmajor=1\tminor=0", v.raw, "the server speaks first: VERSION major=1 minor=0")
    c.close()

    # A request before VERSION: refused, then hung up on.
    c = Client(AUTH, handshake=False)
    c.read(5)
    c.send("AUTH", "x1", {"login": "someone", "password": "pw", "service": "test"})
    a = c.read(5)
    tap.eq("FAIL x1 bad_request", "%s %s %s" % (a.verb, a.id, a.reason),
           "a request before VERSION → FAIL bad_request (its id)")
    tap.ok(c.read_eof(5), "… and the connection is closed")
    c.close()

    # major=2: refused and closed, the request after it never answered.
    c = Client(AUTH, handshake=False)
    c.read(5)
    c.send_raw(encode("VERSION", "0", {"major": 2, "minor": 0}) +
               encode("AUTH", "x2", {"login": "someone", "password": "pw"}))
    got = [x.raw for x in c.read_all(5)]
    tap.eq([b"FAIL\t0\treason=bad_request\tdetail=expected VERSION with major=1 first"], got,
           "VERSION major=2 → one FAIL bad_request, the next request unanswered")
    tap.ok(c.eof, "… and the connection is closed")
    c.close()

    # Another minor is fine; the client need not read the server's VERSION first.
    c = Client(AUTH, handshake=False)
    c.send_raw(encode("VERSION", "0", {"major": 1, "minor": 7}) +
               encode("NOPE", "m7", {}))
    got = [x.raw for x in (c.read(5), c.read(5))]
    tap.eq([b"VERSION\t0\tmajor=1\tminor=0", b"FAIL\tm7\treason=unknown_verb"], got,
           "VERSION major=1 minor=7 sent at once is accepted")
    c.close()

main_run(run)
PY

pytap <<'PY'
from lib_proto import *

def run(tap):
    # Pipelined: slow AUTHs (Argon2 on an unknown login) and fast unknown verbs, one write.
    c = Client(AUTH)
    reqs = [("AUTH", "slow%d" % i, {"login": "ghost%d" % i, "password": "pw%d" % i,
                                    "service": "test"}) for i in range(4)]
    reqs += [("USER_SHOW", "fast%d" % i, {"login": "x"}) for i in range(4)]
    c.send_raw(b"".join(encode(*r) for r in reqs))
    c.half_close()
    got = c.read_all(30)
    ids = sorted(a.id for a in got)
    tap.eq(sorted(r[1] for r in reqs), ids, "8 pipelined requests: every id answered exactly once")
    tap.eq(["FAIL invalid"] * 4, [a.short() for a in got if a.id.startswith("slow")],
           "… the AUTHs: FAIL invalid")
    tap.eq(["FAIL unknown_verb"] * 4, [a.short() for a in got if a.id.startswith("fast")],
           "… USER_SHOW on the auth socket: FAIL unknown_verb")
    tap.note("order of answers: " + " ".join(a.id for a in got))
    tap.ok(c.eof, "… then the half-closed connection is closed")
    c.close()

    # One request then half-close, without waiting for anything (Exim's readsocket).
    c = Client(AUTH, handshake=False)
    c.send_raw(encode("VERSION", "0", {"major": 1, "minor": 0}) +
               encode("AUTH", "h1", {"login": "ghost", "password": "pw", "service": "exim"}))
    c.half_close()
    got = [a.raw for a in c.read_all(30)]
    tap.eq([b"VERSION\t0\tmajor=1\tminor=0", b"FAIL\th1\treason=invalid"], got,
           "one AUTH then half-close: answered, then closed")
    tap.ok(c.eof, "… EOF after the answer")
    c.close()

    c = Client(ADMIN, handshake=False)
    c.send_raw(encode("VERSION", "0", {"major": 1, "minor": 0}) + encode("STATUS", "h2", {}))
    c.half_close()
    got = c.read_all(30)
    tap.eq(["VERSION", "OK"], [a.verb for a in got], "STATUS then half-close on the admin socket: OK")
    c.close()

main_run(run)
PY

pytap <<'PY'
from lib_proto import *

def run(tap):
    admin = Client(ADMIN)
    a = user_add(admin, 1)
    tap.eq("OK", a.verb, "USER_ADD for the escaping test")
    ident = a.get("identifiant")
    reason = "congé\tlong=oui\nligne 2\x01fin\rX"
    s = admin.call("USER_SUSPEND", {"login": ident, "reason": reason})
    tap.eq("OK", s.verb, "USER_SUSPEND with TAB, LF, CR, \\001 and = in the reason")
    show = admin.call("USER_SHOW", {"login": ident})
    tap.eq("suspended", show.get("state"), "USER_SHOW: state suspended")
    tap.eq(escape(reason), show.raw_fields.get("state_reason"),
           "state_reason comes back escaped on the wire (\\001t \\001n \\001r \\0011)")
    tap.eq(reason, show.get("state_reason"), "… and unescapes to the reason sent")
    tap.ok(b"\r" not in show.raw and show.raw.count(b"\t") == len(show.fields) + 1,
           "… no raw TAB or CR inside a value")
    admin.close()

main_run(run)
PY

pytap <<'PY'
from lib_proto import *

def run(tap):
    # The limit counts the LF: 16384 bytes in all is the longest line.
    head = b"NOPE\tbig1\tx="
    c = Client(AUTH)
    c.send_raw(head + b"A" * (LINE_MAX - len(head) - 1) + b"\n")
    a = c.read(10)
    tap.eq("FAIL big1 unknown_verb", "%s %s %s" % (a.verb, a.id, a.reason),
           "a line of exactly 16384 bytes (LF included) is read")
    c.send("NOPE", "big2")
    a = c.read(10)
    tap.eq("FAIL big2 unknown_verb", "%s %s %s" % (a.verb, a.id, a.reason),
           "… and the connection still works")
    c.close()

    head = b"NOPE\tbig3\tx="
    c = Client(AUTH)
    c.send_raw(head + b"A" * (LINE_MAX - len(head)) + b"\n")
    got = [x.raw for x in c.read_all(10)]
    tap.eq([b"FAIL\t0\treason=bad_request\tdetail=line too long"], got,
           "16385 bytes → FAIL 0 bad_request 'line too long'")
    tap.ok(c.eof, "… then the connection is closed")
    c.close()

    # A megabyte without LF: cut off at the limit, without waiting for the rest.
    c = Client(AUTH)
    sent = 0
    c.sock.settimeout(10)
    try:
        while sent < 1 << 20:
            sent += c.sock.send(b"B" * 65536)
    except (BrokenPipeError, ConnectionResetError):
        pass
    tap.ok(sent < 1 << 20, "a megabyte without LF: the daemon hangs up before the end (%d sent)" % sent)
    got = [x.short() for x in c.read_all(10)]
    tap.eq(["FAIL bad_request"], got, "… after FAIL bad_request")
    c.close()

    c = Client(AUTH)
    a = c.call("AUTH", {"login": "ghost", "password": "pw", "service": "test"})
    tap.eq("FAIL invalid", a.short(), "another client is served after the oversized ones")
    c.close()

main_run(run)
PY

pytap <<'PY'
from lib_proto import *

CASES = [
    ("bad escape", b"AUTH\tm1\tlogin=a\x01xb\tpassword=p\n", "m1", "bad escape sequence"),
    ("escape at the end of a value", b"AUTH\tm2\tlogin=a\x01\tpassword=p\n", "m2", "bad escape sequence"),
    ("duplicate key", b"AUTH\tm3\tlogin=a\tlogin=b\tpassword=p\n", "m3", "duplicate key"),
    ("NUL byte", b"AUTH\tm4\tlogin=a\x00b\tpassword=p\n", "0", "NUL byte in line"),
    ("field without =", b"AUTH\tm5\tlogin\n", "m5", "malformed field"),
    ("upper-case key", b"AUTH\tm6\tLogin=a\n", "m6", "malformed field"),
    ("33 fields", b"NOPE\tm7\t" + b"\t".join(b"k%d=v" % i for i in range(33)) + b"\n", "m7",
     "too many fields"),
    ("lower-case verb", b"auth\tm8\tlogin=a\n", "0", "missing or malformed verb"),
    ("33-byte id", b"AUTH\t" + b"i" * 33 + b"\tlogin=a\n", "0", "missing or malformed id"),
    ("no id", b"AUTH\n", "0", "missing or malformed id"),
    ("empty line", b"\n", "0", "empty line"),
]

def run(tap):
    for name, line, rid, detail in CASES:
        c = Client(AUTH)
        # A good request right behind the bad one must not be answered.
        c.send_raw(line + encode("NOPE", "after", {}))
        got = [(a.verb, a.id, a.reason, a.get("detail")) for a in c.read_all(10)]
        tap.eq([("FAIL", rid, "bad_request", detail)], got,
               "%s → FAIL %s bad_request '%s', nothing after" % (name, rid, detail))
        tap.ok(c.eof, "… %s: the connection is closed" % name)
        c.close()

    # A well-formed line with an unknown verb is not a protocol error.
    for sock, verb in ((AUTH, "USER_ADD"), (AUTH, "FROB"), (ADMIN, "AUTH")):
        c = Client(sock)
        a = c.call(verb, {"login": "x"}, rid="u1")
        tap.eq("FAIL u1 unknown_verb", "%s %s %s" % (a.verb, a.id, a.reason),
               "%s on the %s socket → FAIL unknown_verb" % (verb, "auth" if sock == AUTH else "admin"))
        if sock == AUTH:
            b = c.call("AUTH", {"login": "ghost", "password": "pw", "service": "test"}, rid="u2")
        else:
            b = c.call("STATUS", rid="u2")
        tap.ok(b.verb in ("OK", "FAIL") and b.id == "u2" and b.reason != "unknown_verb",
               "… and the connection stays usable (%s)" % b.short())
        c.close()

main_run(run)
PY

pytap <<'PY'
from lib_proto import *
import threading

def run(tap):
    # The default max_pending is 16: the 17th request in one write is refused at once.
    c = Client(AUTH)
    reqs = [("AUTH", "p%d" % i, {"login": "ghost", "password": "pw%d" % i, "service": "test"})
            for i in range(17)]
    answers, order = c.pipeline(reqs, timeout=60)
    shorts = sorted(x.short() for l in answers.values() for x in l)
    tap.eq(sorted(["FAIL invalid"] * 16 + ["TEMPFAIL tempfail"]), shorts,
           "17 pipelined AUTHs with max_pending 16: 16 answered, 1 TEMPFAIL")
    tap.eq(17, len(order), "… each of the 17 ids once")
    c.close()

    # 200 connections open at once, each with a request.
    conns = [Client(AUTH if i % 4 else ADMIN, timeout=60) for i in range(200)]
    for i, k in enumerate(conns):
        if i % 4:
            k.send("AUTH", "c%d" % i, {"login": "ghost%d" % i, "password": "pw", "service": "test"})
        else:
            k.send("STATUS", "c%d" % i)
    res = []
    for i, k in enumerate(conns):
        try:
            res.append(k.read(60))
        except Exception as e:  # noqa: BLE001
            res.append(e)
    good = [r for i, r in enumerate(res)
            if isinstance(r, Answer) and r.id == "c%d" % i and
            r.short() == ("FAIL invalid" if i % 4 else "OK")]
    tap.eq(200, len(good), "200 connections at once: each gets its answer")
    seen = [int(r.get("connections", 0)) for i, r in enumerate(res) if i % 4 == 0 and isinstance(r, Answer)]
    tap.ok(seen and min(seen) >= 200, "… STATUS counts them all open (min %s)" % (min(seen) if seen else None))
    for k in conns:
        k.close()

    # Clients that connect and say nothing, or half a line, hold nobody up.
    silent = [Client(AUTH, handshake=False) for _ in range(5)]
    silent += [Client(ADMIN, handshake=False) for _ in range(5)]
    partial = Client(AUTH)
    partial.send_raw(b"AUTH\tp1\tlogin=ghost\tpassword=")
    t0 = time.monotonic()
    c = Client(AUTH, timeout=10)
    a = c.call("AUTH", {"login": "ghost", "password": "pw", "service": "test"})
    tap.eq("FAIL invalid", a.short(), "with 10 silent clients and half a line pending, another is served")
    tap.ok(time.monotonic() - t0 < 5, "… at once (%.2f s)" % (time.monotonic() - t0))
    for k in silent + [partial, c]:
        k.close()

main_run(run)
PY

if kill -0 "$DAEMON_PID" 2>/dev/null; then ok "the daemon survived all of it"; else not_ok "the daemon survived all of it"; fi

# Tighter limits: max_pending 2, idle_timeout 2 s.
stop_daemon
EXTRA_VERDON=$'max_pending = 2\nidle_timeout = 2' write_config
start_daemon || exit 1

pytap <<'PY'
from lib_proto import *

def run(tap):
    c = Client(AUTH)
    reqs = [("AUTH", "q%d" % i, {"login": "ghost", "password": "pw%d" % i, "service": "test"})
            for i in range(10)]
    answers, order = c.pipeline(reqs, timeout=60)
    shorts = sorted(x.short() for l in answers.values() for x in l)
    tap.eq(sorted(["FAIL invalid"] * 2 + ["TEMPFAIL tempfail"] * 8), shorts,
           "max_pending 2: 10 pipelined AUTHs → 2 answered, 8 TEMPFAIL")
    tap.eq(sorted(r[1] for r in reqs), sorted(order), "… every id exactly once")
    a = c.call("AUTH", {"login": "ghost", "password": "again", "service": "test"})
    tap.eq("FAIL invalid", a.short(), "… and the connection is still served")
    c.close()

    # A client that talks every 0.7 s is not idle.
    c = Client(AUTH)
    t0, answered = time.monotonic(), 0
    while time.monotonic() - t0 < 5:
        if c.call("NOPE").reason == "unknown_verb":
            answered += 1
        time.sleep(0.7)
    tap.ok(answered >= 6 and not c.eof, "idle_timeout 2: a client active for 5 s stays (%d answers)" % answered)
    c.close()

    c = Client(AUTH)
    t0 = time.monotonic()
    closed = c.read_eof(10)
    took = time.monotonic() - t0
    tap.ok(closed and 1.9 <= took <= 4.5, "idle_timeout 2: an idle client is cut off in 2-4 s (%.1f s)" % took)
    c.close()

    c = Client(AUTH, handshake=False)
    c.read(5)
    t0 = time.monotonic()
    closed = c.read_eof(10)
    took = time.monotonic() - t0
    tap.ok(closed and 1.9 <= took <= 4.5, "… also one that never sent VERSION (%.1f s)" % took)
    c.close()

    c = Client(AUTH)
    a = c.call("AUTH", {"login": "ghost", "password": "pw", "service": "test"})
    tap.eq("FAIL invalid", a.short(), "a new client is still served")

main_run(run)
PY

if kill -0 "$DAEMON_PID" 2>/dev/null; then ok "the daemon is still running"; else not_ok "the daemon is still running"; fi
