#!/usr/bin/env bash
# The fast lane: while every hash worker is busy with password logins (one worker, Argon2 at the
# SPEC's default cost, eight logins queued), a session-token login, an app-password login, an ACCT
# and an admin read are answered before the queued password logins, not behind them.
. "$(dirname "$0")/lib.sh"

EXTRA_VERDON=$'workers = 1\nfast_workers = 1' EXTRA_PASSWORD=$'argon2_memory_kib = 65536\nargon2_time = 3' write_config
# the [password] floor lines of write_config come first: these later ones win
start_daemon || exit 1

pytap <<'PY'
from lib_proto import *
import threading

def run(tap):
    adm, auth = Client(ADMIN), Client(AUTH)
    pw = os.environ["CANARY_PW"]
    ident, secret, used = active_user(adm, auth, 2400, pw)
    app = adm.call("APP_ADD", {"login": ident, "label": "lane", "services": "imap"}).get("password")
    next_step(used)
    first = auth.call("AUTH", {"login": ident, "password": pw, "otp": totp(secret),
                               "service": "webmail", "token": "1"})
    token = first.get("token")
    tap.ok(token and app, "a session token and an app password to use", first.short())

    order, lock = [], threading.Lock()
    def note(what):
        with lock:
            order.append(what)

    # Eight password logins on one connection, pipelined: the single hash worker takes them in turn.
    slow = Client(AUTH, timeout=120)
    slow.send_raw(b"".join(encode("AUTH", "p%d" % i, {"login": ident, "password": pw,
                                                      "service": "webmail"}) for i in range(8)))
    def drain():
        for _ in range(8):
            a = slow.read(120)
            note("password " + a.short())
    t = threading.Thread(target=drain)
    t.start()
    # Once the first hash is done the second runs and six wait, however fast this CPU hashes.
    tap.ok(wait_for(lambda: order, 60), "the first password login is answered")
    fast = Client(AUTH, timeout=120)
    note("token " + fast.call("AUTH", {"login": ident, "password": token, "service": "imap"}).short())
    note("app " + fast.call("AUTH", {"login": ident, "password": app, "service": "imap"}).short())
    note("acct " + fast.call("ACCT", {"login": ident, "service": "imap"}).short())
    note("show " + Client(ADMIN).call("USER_SHOW", {"login": ident}).short())
    t.join(120)
    tap.note("answers in order: %s" % ", ".join(order))
    passwords_before = 0
    for what in order:
        if what.startswith("password"):
            passwords_before += 1
        elif what.startswith("show"):
            break
    tap.eq(["token OK", "app OK", "acct OK", "show OK"],
           [w for w in order if not w.startswith("password")], "the cheap requests all succeed")
    tap.ok(passwords_before <= 3,
           "they are answered while the password logins still wait (%d of 8 answered before)" %
           passwords_before)
    tap.eq(8, len([w for w in order if w == "password FAIL otp_required"]),
           "the eight password logins are answered too")

main_run(run)
PY
