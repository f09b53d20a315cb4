#!/usr/bin/env bash
# make soak: ROUNDS (default 1,000) kill -9 rounds during a mixed stream of acknowledged changes
# (USER_ADD, APP_ADD) and logins (password + code), each round restarting verdond on the same
# state; then every acknowledged change is looked for, every accepted code is checked to be used,
# and the store is verified. Bounded by SOAK_MINUTES (15). Prints one summary; exit 1 on a loss.
set -u
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
BUILD=${BUILD:-build}
case "$BUILD" in /*) ;; *) BUILD="$ROOT/$BUILD" ;; esac
. "$ROOT/tests/integration/lib.sh"
export ROUNDS=${ROUNDS:-1000} SOAK_MINUTES=${SOAK_MINUTES:-15} VERDOND CONF

write_config
start_daemon || exit 1
stop_daemon

PYTHONPATH="$ROOT/tests/integration" PYTHONDONTWRITEBYTECODE=1 T="$T" CANARY_PW="$CANARY_PW" \
	timeout $((SOAK_MINUTES * 60 + 120)) python3 - <<'PY'
import random, signal, subprocess
from lib_proto import *

ROUNDS = int(os.environ["ROUNDS"])
DEADLINE = time.monotonic() + 60 * int(os.environ["SOAK_MINUTES"])
pw = os.environ["CANARY_PW"]
log = open(T + "/verdond.log", "ab")

def start():
    p = subprocess.Popen([os.environ["VERDOND"], "-c", os.environ["CONF"]], stdout=log, stderr=log)
    for _ in range(200):
        if os.path.exists(ADMIN) and os.path.exists(AUTH):
            try:
                Client(ADMIN, timeout=5).close()
                return p
            except OSError:
                pass
        time.sleep(0.02)
    raise SystemExit("verdond did not start")

def kill(p):
    p.send_signal(signal.SIGKILL)
    p.wait()
    for s in (ADMIN, AUTH):
        try:
            os.unlink(s)
        except OSError:
            pass

d = start()
adm, auth = Client(ADMIN), Client(AUTH)
people = [active_user(adm, auth, 600000 + i, pw) for i in range(12)]
used = {ident: confirmed for ident, secret, confirmed in people}
kill(d)

acked_adds, acked_apps, accepted = [], [], []  # identifiants; (ident, app_id); (ident, step)
n_add, rounds = 0, 0
random.seed(7)
while rounds < ROUNDS and time.monotonic() < DEADLINE:
    rounds += 1
    d = start()
    try:
        adm, auth = Client(ADMIN, timeout=10), Client(AUTH, timeout=10)
        stop_at = time.monotonic() + random.uniform(0.05, 0.3)
        while time.monotonic() < stop_at:
            time.sleep(0.01)  # a stream, not a flood: the store stays small over 1,000 rounds
            r = random.random()
            if r < 0.5:
                n_add += 1
                a = user_add(adm, 700000 + n_add)
                if a.verb == "OK":
                    acked_adds.append(a.get("identifiant"))
            elif r < 0.6:
                ident = random.choice(people)[0]
                a = adm.call("APP_ADD", {"login": ident, "label": "soak", "services": "imap"})
                if a.verb == "OK":
                    acked_apps.append((ident, a.get("app_id")))
            else:
                ident, secret, _ = random.choice(people)
                s = step()
                if used[ident] >= s:
                    continue
                a = auth.call("AUTH", {"login": ident, "password": pw, "otp": totp(secret),
                                       "service": "webmail"})
                if a.verb == "OK":
                    used[ident] = s
                    accepted.append((ident, s))
    except (Closed, OSError, socket.timeout):
        pass
    kill(d)

d = start()
adm = Client(ADMIN, timeout=60)
lost = [i for i in acked_adds if adm.call("USER_SHOW", {"login": i}).verb != "OK"]
apps = {}
for ident, app_id in acked_apps:
    if ident not in apps:
        apps[ident] = {r.get("app_id") for r in adm.call("APP_LIST", {"login": ident}).rows}
lost += ["%s/%s" % x for x in acked_apps if x[1] not in apps[x[0]]]
last = {ident: int(adm.call("OTP_STATUS", {"login": ident}).get("last_used", "-1")) for ident, _, _ in people}
replayable = [(i, s) for i, s in accepted if last[i] < s]
v = adm.call("STORE_VERIFY")
d.send_signal(signal.SIGTERM)
d.wait()
print("soak: %d rounds of kill -9 (%d s), acknowledged changes %d, lost changes %d, "
      "codes accepted %d, codes accepted twice possible %d, store verify: %s (%s problems)" % (
          rounds, int(time.monotonic() - DEADLINE + 60 * int(os.environ["SOAK_MINUTES"])),
          len(acked_adds) + len(acked_apps), len(lost), len(accepted), len(replayable),
          v.verb, v.get("problems")))
sys.exit(0 if not lost and not replayable and v.get("problems") == "0" else 1)
PY
