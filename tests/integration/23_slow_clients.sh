#!/usr/bin/env bash
# Slow clients on the auth socket (issue 7, point 8): 50 connections sending a line one byte a
# second are cut once the line is older than line_timeout (3 s here) although never idle, while a
# normal login meanwhile answers fast; connections per peer uid are bounded.
EXTRA_VERDON=$'line_timeout = 3\nmax_connections_per_uid = 70'
. "$(dirname "$0")/lib.sh"
start_daemon || exit 1
export T CANARY_PW

pytap <<'PY'
import select
from lib_proto import *

BOUND, SLOW = 3, 50


def run(tap):
    admin, auth = Client(ADMIN), Client(AUTH)
    ident, _, _ = active_user(admin, auth, 2301, os.environ["CANARY_PW"])
    ap = admin.call("APP_ADD", {"login": ident, "label": "phone", "services": "imap"}).get("password")
    auth.close()

    line = encode("AUTH", "s1", {"login": "slowpoke", "password": "x" * 40, "service": "imap"})
    slow = [Client(AUTH, timeout=5) for _ in range(SLOW)]
    start = time.monotonic()
    cut_at = {}
    fast = []
    i = 0
    # One byte a second on each, for at most 4 × the bound; a normal login every second meanwhile.
    while len(cut_at) < SLOW and time.monotonic() - start < 4 * BOUND + 4 and i < len(line):
        for k, c in enumerate(slow):
            if k in cut_at:
                continue
            try:
                c.send_raw(line[i:i + 1])
            except OSError:
                cut_at[k] = time.monotonic() - start
                continue
            r, _, _ = select.select([c.sock], [], [], 0)
            if r and c.read_eof(timeout=0.01):
                cut_at[k] = time.monotonic() - start
        t0 = time.monotonic()
        a = Client(AUTH, timeout=10).call("AUTH", {"login": ident, "password": ap, "service": "imap"})
        fast.append((a.verb, time.monotonic() - t0))
        i += 1
        time.sleep(max(0, start + i - time.monotonic()))
    for c in slow:
        c.close()
    tap.eq(SLOW, len(cut_at), "all %d byte-a-second connections are cut" % SLOW)
    latest = max(cut_at.values()) if cut_at else 0
    earliest = min(cut_at.values()) if cut_at else 0
    tap.ok(earliest >= BOUND - 1 and latest <= BOUND + 3,
           "… once their line is older than line_timeout = %d s (cut between %.1f and %.1f s)"
           % (BOUND, earliest, latest))
    tap.ok(len(fast) >= BOUND and all(v == "OK" for v, _ in fast),
           "a normal login meanwhile answers OK (%d logins)" % len(fast))
    tap.ok(max(t for _, t in fast) < 1.0,
           "… and fast (slowest %.3f s)" % max(t for _, t in fast))

    # Connections per peer uid: the daemon and this test share one uid, admin socket included.
    held = [Client(AUTH) for _ in range(69)]
    extra = Client(AUTH, handshake=False, timeout=5)
    tap.ok(extra.read_eof(timeout=3) and extra.buf == b"",
           "the 71st connection of one uid is refused (max_connections_per_uid = 70)")
    held.pop().close()
    time.sleep(0.3)
    again = Client(AUTH, timeout=5)
    tap.eq("VERSION", again.server_version.verb if again.server_version else None,
           "after one closes, the next is served")
    for c in held + [again, extra, admin]:
        c.close()


main_run(run)
PY
