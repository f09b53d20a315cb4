#!/usr/bin/env bash
# The timers of session tokens and app passwords, crossed for real over short configured
# intervals (issue 7, point 1): a token used past its coarse last-use window stays alive and its
# last use moves; idle past idle_timeout it is refused; past its lifetime it is refused even in
# use. App passwords, and a person's last login after a password alone, are written with the same
# window.
. "$(dirname "$0")/lib.sh"
write_config
cat >>"$CONF" <<'CONF'

[session]
touch_interval = 2
idle_timeout = 8
lifetime = 20

[penalty]
base_ms = 0

[service onefactor]
credentials = password
CONF
start_daemon || exit 1
export T CANARY_PW VERDONCTL CONF

pytap <<'PY'
import json, subprocess
from lib_proto import *

IDLE, LIFETIME, TOUCH = 8, 20, 2


def ctl_json(*args):
    p = subprocess.run([os.environ["VERDONCTL"], "-c", os.environ["CONF"], "--json"] + list(args),
                       capture_output=True, text=True)
    if p.returncode != 0:
        raise AssertionError("verdonctl %s: exit %d: %s" % (" ".join(args), p.returncode, p.stderr))
    return json.loads(p.stdout)


def last_used(ident, kind):
    rows = ctl_json(kind, "list", ident)
    return rows[0]["last_used"] if len(rows) == 1 else None


def run(tap):
    admin, auth = Client(ADMIN), Client(AUTH)
    pw = os.environ["CANARY_PW"]
    users = {}
    for n, name in ((3301, "idle"), (3302, "life")):
        ident, secret, step_used = active_user(admin, auth, n, pw)
        a = auth.call("AUTH", {"login": ident, "password": pw, "service": "webmail", "token": "1",
                               "otp": totp(secret, 30)})
        tap.eq("OK", a.verb, "%s: a full webmail login hands out a token" % name)
        users[name] = (ident, a.get("token"), time.monotonic())

    def use(name):
        ident, token, _ = users[name]
        return auth.call("AUTH", {"login": ident, "password": token, "service": "imap"}).short()

    # The "life" token is kept in use (every 3 s at most) from start to end.
    life = []

    def pause(seconds):
        end = time.monotonic() + seconds
        while time.monotonic() < end:
            time.sleep(min(3, end - time.monotonic()))
            life.append((time.monotonic() - users["life"][2], use("life")))

    ident, _, born = users["idle"]
    # The window counts whole seconds: both uses in one second, so that either both write or
    # neither does, whenever the token was made.
    second_start()
    tap.eq("OK", use("idle"), "idle: the token works at once")
    first = last_used(ident, "session")
    tap.eq("OK", use("idle"), "idle: used again inside the touch window")
    tap.eq(first, last_used(ident, "session"), "idle: inside the window the last use is not written")
    for i in range(3):
        pause(TOUCH + 1)
        tap.eq("OK", use("idle"), "idle: used again %d s after creation (past the %d s touch "
               "window)" % (round(time.monotonic() - born), TOUCH))
        if i == 0:
            moved = last_used(ident, "session")
            tap.ok(moved is not None and first is not None and moved >= first + TOUCH,
                   "idle: session list shows the last use moved (%r → %r)" % (first, moved))
    # Used through more than the idle time in all: alive only because its last use moved.
    tap.ok(time.monotonic() - born > IDLE, "idle: the uses spanned more than idle_timeout")
    pause(IDLE + 2)
    tap.eq("FAIL invalid", use("idle"), "idle: unused for more than idle_timeout (%d s) → refused"
           % IDLE)

    # The other token, in use all along, until past its lifetime.
    pause(LIFETIME + 4 - (time.monotonic() - users["life"][2]))
    answers = life
    young = [a for age, a in answers if age < LIFETIME - 2]
    old = [a for age, a in answers if age > LIFETIME + 1]
    tap.ok(len(young) >= 3 and all(a == "OK" for a in young),
           "life: a token in use every 3 s lives until near its lifetime", answers)
    tap.ok(len(old) >= 1 and all(a == "FAIL invalid" for a in old),
           "life: past its lifetime (%d s) it is refused although in use" % LIFETIME, answers)

    # App passwords: the same coarse window for their last use.
    ident = users["idle"][0]
    ap = admin.call("APP_ADD", {"login": ident, "label": "phone", "services": "imap"})
    tap.eq("OK", ap.verb, "an app password is made")
    app = lambda: auth.call("AUTH", {"login": ident, "password": ap.get("password"),
                                     "service": "imap"}).short()
    second_start()
    tap.eq("OK", app(), "app: it logs in")
    first = last_used(ident, "app-password")
    tap.eq("OK", app(), "app: used again inside the window")
    tap.eq(first, last_used(ident, "app-password"), "app: inside the window nothing is written")
    time.sleep(TOUCH + 1)
    tap.eq("OK", app(), "app: used again past the window")
    moved = last_used(ident, "app-password")
    tap.ok(moved is not None and first is not None and moved >= first + TOUCH,
           "app: app-password list shows the last use moved (%r → %r)" % (first, moved))

    # A password alone (a one-factor service): the last login moves with the same window, and a
    # login inside it, which writes nothing, is still audited (queued, written within a second).
    show = lambda: int(admin.call("USER_SHOW", {"login": ident}).get("last_login"))
    one = lambda p: auth.call("AUTH", {"login": ident, "password": p,
                                       "service": "onefactor"}).short()
    time.sleep(TOUCH + 1)
    # Logins one whole second apart (the last login is kept in whole seconds): written, it
    # would move; the first at a second's start, so that the second is exactly one second later.
    second_start()
    start = time.time()
    tap.eq("OK", one(pw), "password alone: it logs in")
    first = show()
    time.sleep(max(0, start + 1 - time.time()))  # the next second, still inside the window
    tap.eq("OK", one(pw), "password alone: again inside the window")
    tap.eq(first, show(), "password alone: inside the window the last login is not written")
    tap.eq("FAIL invalid", one(pw + "x"), "password alone: a wrong one is refused")
    onefactor = lambda: [json.loads(r.get("json"))["result"]
                         for r in admin.call("AUDIT", {"login": ident, "limit": 20}).rows
                         if '"service":"onefactor"' in r.get("json", "")]
    # At once: an AUDIT read writes the queued records first. A queued record is written after
    # a committed one that came later: the trail holds all three, each with its time.
    tap.eq(["ok", "ok", "refused"], sorted(onefactor()[:3]),
           "password alone: both logins and the refusal are in the audit trail at once")
    time.sleep(TOUCH + 1)
    tap.eq("OK", one(pw), "password alone: used again past the window")
    moved = show()
    tap.ok(moved >= first + TOUCH, "password alone: the last login moved (%r → %r)" % (first, moved))


main_run(run)
PY

# Both tokens are past their lifetime now, still stored: the purge (2 s after a start, then hourly)
# takes them through the due-time index, touching no account. A restart, and they are gone.
expect "two sessions past their lifetime are still stored" 2 "$(jctl store verify | jq -r .sessions)"
stop_daemon
start_daemon || exit 1
check "the purge after the restart took both (the log says so)" \
	wait_for_log "$T/verdond.log" "purged 2 sessions past their lifetime"
expect "no session is left, and the store verifies whole" "0 0" \
	"$(jctl store verify | jq -r '"\(.sessions) \(.problems)"')"
