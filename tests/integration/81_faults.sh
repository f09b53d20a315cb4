#!/usr/bin/env bash
# Fault injection at the store, in SQLite's manner: each scenario (first login, password + code
# login, app-password add, token issue and use, import, password reset) runs once for every n,
# with the nth store operation failing (I/O error, or a full store), until it completes without
# reaching n. Each time: the answer is right or TEMPFAIL, never a wrong OK; a code is never
# accepted twice; what a TEMPFAIL answered did not happen; the store verifies whole.
. "$(dirname "$0")/lib.sh"

FAILPOINT_BUILD=${FAILPOINT_BUILD:-$ROOT/build/failpoint}
VERDOND="$FAILPOINT_BUILD/verdond"
if [ ! -x "$VERDOND" ]; then
	not_ok "the failpoint build exists ($VERDOND: make failpoint)"
	exit 1
fi
start_daemon || exit 1
export VERDONCTL CONF FAULT_ONLY="${FAULT_ONLY:-}"

pytap <<'PY'
from lib_proto import *
import subprocess

MAX_N = 200
pw = os.environ["CANARY_PW"]
adm = Client(ADMIN, timeout=60)
auth = Client(AUTH, timeout=60)
counter = [0]

def fresh():
    counter[0] += 1
    return 10000 + counter[0]

def call(c, verb, fields=None):
    return c.call(verb, fields or {})

def arm(n, kind):
    a = adm.call("FAILPOINT", {"n": n, "kind": kind})
    assert a.verb == "OK", "FAILPOINT: %r (is this the failpoint build?)" % a

def disarm():
    return adm.call("FAILPOINT").get("fired") == "1"

def store_whole():
    a = adm.call("STORE_VERIFY")
    return a.verb == "OK" and a.get("problems") == "0", a

def tempfail(a):
    return a.verb == "TEMPFAIL"

# Each scenario: setup() → ctx (unarmed); act(ctx) → answers (armed); check(ctx, answers) → None
# or what is wrong (unarmed).

def first_login_setup():
    a = user_add(adm, fresh())
    return {"ident": a.get("identifiant"), "temp": a.get("temporary_password"),
            "new": pw + "-%d" % counter[0]}

def first_login_act(c):
    x = auth.call("AUTH", {"login": c["ident"], "password": c["temp"], "service": "webmail"})
    y = auth.call("PASSWD", {"login": c["ident"], "password": c["temp"], "new": c["new"],
                             "service": "webmail"})
    return [x, y]

def first_login_check(c, ans):
    x, y = ans
    if not (tempfail(x) or x.short() == "FAIL password_change_required"):
        return "AUTH with the temporary password answered %s" % x.short()
    new_ok = auth.call("AUTH", {"login": c["ident"], "password": c["new"], "service": "webmail"}).short()
    old = auth.call("AUTH", {"login": c["ident"], "password": c["temp"], "service": "webmail"}).short()
    if y.verb == "OK":
        if new_ok == "FAIL invalid" or old != "FAIL invalid":
            return "PASSWD said OK but new → %s, temporary → %s" % (new_ok, old)
    elif tempfail(y):
        if old != "FAIL password_change_required" or new_ok != "FAIL invalid":
            return "PASSWD said TEMPFAIL but new → %s, temporary → %s" % (new_ok, old)
    else:
        return "PASSWD answered %s" % y.short()
    return None

people = []

def person():
    """An active person with a code unused in this step (20 people, one code each a step)."""
    while True:
        for p in people:
            if p["used"] < step():
                return p
        if len(people) < 20:
            ident, secret, used = active_user(adm, auth, fresh(), pw)
            people.append({"ident": ident, "secret": secret, "used": used})
        else:
            time.sleep(0.5)

def login_setup():
    p = person()
    fresh_step(3)
    p["code"] = totp(p["secret"])
    p["used"] = step()
    return p

def login_act(p):
    return [auth.call("AUTH", {"login": p["ident"], "password": pw, "otp": p["code"],
                               "service": "webmail"})]

def login_check(p, ans):
    a = ans[0]
    again = [auth.call("AUTH", {"login": p["ident"], "password": pw, "otp": p["code"],
                                "service": "webmail"}).short() for _ in range(2)]
    if a.verb == "OK":
        if "OK" in again:
            return "the code was accepted twice: %s then %s" % (a.short(), again)
    elif tempfail(a):
        if again != ["OK", "FAIL invalid"]:
            return "after a TEMPFAIL the code gave %s (want OK once, then invalid)" % again
    else:
        return "the login answered %s" % a.short()
    return None

def app_setup():
    return person()

def app_act(p):
    return [adm.call("APP_ADD", {"login": p["ident"], "label": "fault", "services": "imap"})]

def app_check(p, ans):
    a = ans[0]
    rows = adm.call("APP_LIST", {"login": p["ident"]}).rows
    mine = [r for r in rows if r.get("app_id") == a.get("app_id")]
    if a.verb == "OK":
        x = auth.call("AUTH", {"login": p["ident"], "password": a.get("password"), "service": "imap"})
        if not mine or x.verb != "OK":
            return "APP_ADD said OK but the list has %d and the login %s" % (len(mine), x.short())
        adm.call("APP_REVOKE", {"login": p["ident"], "app_id": a.get("app_id")})
    elif not tempfail(a):
        return "APP_ADD answered %s" % a.short()
    return None

def token_setup():
    return login_setup()

def token_act(p):
    return [auth.call("AUTH", {"login": p["ident"], "password": pw, "otp": p["code"],
                               "service": "webmail", "token": "1"})]

def token_check(p, ans):
    a = ans[0]
    if a.verb == "OK":
        x = auth.call("AUTH", {"login": p["ident"], "password": a.get("token"), "service": "imap"})
        if x.verb != "OK":
            return "the token issued under a fault does not log in: %s" % x.short()
        p["token"] = a.get("token")
    elif not tempfail(a):
        return "AUTH token=1 answered %s" % a.short()
    return login_check(p, ans)

token_holder = {}

def use_setup():
    if "token" not in token_holder:
        p = login_setup()
        a = token_act(p)[0]
        assert a.verb == "OK", a
        token_holder.update(p, token=a.get("token"))
    return token_holder

def use_act(p):
    return [auth.call("AUTH", {"login": p["ident"], "password": p["token"], "service": "imap"})]

def use_check(p, ans):
    a = ans[0]
    if a.verb != "OK" and not tempfail(a):
        return "the token answered %s" % a.short()
    x = auth.call("AUTH", {"login": p["ident"], "password": p["token"], "service": "imap"})
    if x.verb != "OK":
        return "the token no longer works after a fault: %s" % x.short()
    return None

def import_setup():
    n = fresh()
    path = "%s/import-%d.csv" % (T, n)
    with open(path, "w") as f:
        f.write("last,first,birth,numen,rescue_email\n")
        for i in range(3):
            f.write("%s,Import,1980-01-01,%s,imp%d-%d@example.net\n" % (
                letters(n * 10 + i), numen(n * 10 + i, "IMP"), n, i))
    return {"path": path, "n": n}

def ctl(*args):
    return subprocess.run([os.environ["VERDONCTL"], "-c", os.environ["CONF"], "--json"] + list(args),
                          capture_output=True, text=True, timeout=120)

def import_act(c):
    r = ctl("user", "import", c["path"])
    return [r]

def import_check(c, ans):
    r = ctl("user", "import", c["path"])  # again, unarmed: creates what the fault left out
    shown = []
    for i in range(3):
        a = adm.call("USER_SHOW", {"login": "i" + letters(c["n"] * 10 + i).lower()})
        shown.append(a.verb)
    if shown != ["OK"] * 3:
        return "after a second import the people are %s (import said %s / %s)" % (
            shown, ans[0].stdout[-200:], r.stdout[-200:])
    dup = adm.call("USER_SHOW", {"login": "i" + letters(c["n"] * 10).lower() + "2"})
    if dup.verb == "OK":
        return "a person was created twice"
    return None

def reset_setup():
    return person()

def reset_act(p):
    return [adm.call("USER_RESET", {"login": p["ident"]})]

def reset_check(p, ans):
    a = ans[0]
    old = auth.call("AUTH", {"login": p["ident"], "password": pw, "service": "webmail"}).short()
    if a.verb == "OK":
        t = auth.call("AUTH", {"login": p["ident"], "password": a.get("temporary_password"),
                               "service": "webmail"}).short()
        if old != "FAIL invalid" or t != "FAIL password_change_required":
            return "USER_RESET said OK but old → %s, temporary → %s" % (old, t)
        people.remove(p)  # no longer usable with pw
    elif tempfail(a):
        if old != "FAIL otp_required":
            return "USER_RESET said TEMPFAIL but the old password → %s" % old
    else:
        return "USER_RESET answered %s" % a.short()
    return None

SCENARIOS = [
    ("first login", first_login_setup, first_login_act, first_login_check, "io"),
    ("password + code login", login_setup, login_act, login_check, "io"),
    ("password + code login, store full", login_setup, login_act, login_check, "full"),
    ("app-password add", app_setup, app_act, app_check, "io"),
    ("token issue", token_setup, token_act, token_check, "io"),
    ("token use", use_setup, use_act, use_check, "io"),
    ("user import", import_setup, import_act, import_check, "io"),
    ("user import, store full", import_setup, import_act, import_check, "full"),
    ("password reset", reset_setup, reset_act, reset_check, "io"),
]

def run(tap):
    only = os.environ.get("FAULT_ONLY")
    for name, setup, act, check, kind in SCENARIOS:
        if only and only != name:
            continue
        problems, n, tempfails = [], 0, 0
        while n < MAX_N:
            n += 1
            ctx = setup()
            arm(n, kind)
            ans = act(ctx)
            fired = disarm()
            tempfails += sum(1 for a in ans if getattr(a, "verb", "") == "TEMPFAIL"
                             or getattr(a, "returncode", 0) != 0)
            wrong = check(ctx, ans)
            if wrong:
                problems.append("n=%d: %s" % (n, wrong))
            whole, v = store_whole()
            if not whole:
                problems.append("n=%d: store verify: %r %r" % (n, v, [r.raw for r in v.rows][:5]))
            if not fired:
                break
        tap.ok(not problems and n < MAX_N,
               "%s: a fault at each of its %d store operations: answers right or TEMPFAIL (%d), "
               "store whole each time" % (name, n - 1, tempfails), "\n".join(problems[:10]))

main_run(run)
PY
