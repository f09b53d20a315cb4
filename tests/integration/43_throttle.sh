#!/usr/bin/env bash
# The password throttle and the hard lock (issue 7 point 4), device secrets and trusted browsers:
# known and unknown logins get the same answers from eight addresses (socket and HTTP); a delay is
# crossed for real and never becomes a lock; an attacker's 200 wrong passwords stop neither the
# owner's app password, session token, nor device-cookie web login; ten wrong codes after a right
# password lock until `user unlock`; `user show` tells the delay and the lock; unknown logins are
# kept hashed in the audit; device secrets are issued, trusted, listed, revoked (socket, verdonctl,
# HTTP) and die with a password change.
. "$(dirname "$0")/lib.sh"
PORT=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
BASE_DELAY=2 EXTRA_THROTTLE="delay_after = 5
max_delay = 4
lock_after = 10
forget_after = 60" write_config
cat >>"$CONF" <<CONF

[session]
trusted_browser_days = 30

[penalty]
base_ms = 0
max_ms = 0

[http]
listen = 127.0.0.1:$PORT
trusted_proxies = 127.0.0.1
CONF
start_daemon || exit 1
for _ in $(seq 1 50); do curl -s -o /dev/null "http://127.0.0.1:$PORT/api/health" && break; sleep 0.1; done

TEMP=$(jctl user add --first Jean --last Dupont --birth 1980-04-12 --numen 12A3456789XYZ \
	--rescue-email jean@example.org | jq -r .temporary_password)
printf '%s\n%s\n' "$TEMP" "$CANARY_PW" | ctl auth passwd jdupont >/dev/null
S=$(jctl otp enroll jdupont | jq -r .secret)
fresh_step 20
RECOVERY=$(jctl otp confirm jdupont "$(totp_step "$S" "$(step_now)")" | jq -r '.recovery_codes | join(",")')
APP=$(jctl app-password add jdupont --label Thunderbird --services imap | jq -r .password)
export PORT S RECOVERY APP CONF VERDONCTL

pytap <<'PY'
import http.client, json, os, subprocess, sys, time
from lib_proto import *

tap = Tap()
PW = os.environ["CANARY_PW"]
PORT = int(os.environ["PORT"])
RECOVERY = os.environ["RECOVERY"].split(",")
APP = os.environ["APP"]
c = Client(AUTH)


def ctl(*args):
    out = subprocess.run([os.environ["VERDONCTL"], "-c", os.environ["CONF"], "--json"] + list(args),
                         capture_output=True, text=True, timeout=30)
    return json.loads(out.stdout) if out.stdout.strip() else None


def auth(login, password, addr, **extra):
    f = {"login": login, "password": password, "service": "webmail", "address": addr}
    f.update(extra)
    return c.call("AUTH", f)


def web(method, path, body=None, addr="192.0.2.1", cookies=None):
    conn = http.client.HTTPConnection("127.0.0.1", PORT, timeout=30)
    h = {"X-Forwarded-For": addr, "X-Verdon-Request": "1", "User-Agent":
         "Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0"}
    if body is not None:
        h["Content-Type"] = "application/json"
    if cookies:
        h["Cookie"] = "; ".join("%s=%s" % kv for kv in cookies.items())
    conn.request(method, path, json.dumps(body) if body is not None else None, h)
    r = conn.getresponse()
    data = r.read()
    set_cookies = {}
    for k, v in r.getheaders():
        if k.lower() == "set-cookie":
            name, _, rest = v.partition("=")
            set_cookies[name] = rest.split(";")[0]
    conn.close()
    try:
        return r.status, json.loads(data or b"{}"), set_cookies
    except ValueError:
        return r.status, {}, set_cookies


def shape(a):
    """An answer as the caller sees it: reason, and whether a wait was given."""
    return (a.verb, a.get("reason"), a.get("wait") is not None and int(a.get("wait")) > 0)


# --- eight wrong passwords from eight addresses: known and unknown alike (socket) -------------
seqs, waits = {}, {}
for login, net in (("jdupont", 10), ("jdupond", 20)):
    got = [auth(login, "Mauvais-Passe-%d" % i, "198.51.100.%d" % (net + i)) for i in range(8)]
    seqs[login] = [shape(a) for a in got]
    waits[login] = [int(a.get("wait", "0")) for a in got]
tap.eq(seqs["jdupont"], seqs["jdupond"],
       "socket: eight addresses, eight wrong passwords: the same answers for a known and an unknown login")
tap.eq([("FAIL", "invalid", False)] * 5 + [("FAIL", "locked", True)] * 3, seqs["jdupont"],
       "… five invalid, then locked with a wait (delay_after 5, base_delay 2)")
tap.ok(all(1 <= w <= 2 for w in waits["jdupont"][5:] + waits["jdupond"][5:]),
       "… the wait is the configured delay for both", waits)
show = ctl("user", "show", "jdupont")
tap.ok(show is not None and show.get("delay", 0) >= 1 and show.get("locked") is False
       and show.get("failures") == 5, "user show tells the delay, and that it is no lock", show)

# --- crossing the delay for real: it grows, capped, and never becomes a lock ------------------
time.sleep(2.5)
seq = {}
for login in ("jdupont", "jdupond"):
    a = auth(login, "Mauvais-Passe-99", "198.51.100.40")
    b = auth(login, "Mauvais-Passe-98", "198.51.100.41")
    seq[login] = [shape(a), shape(b), int(b.get("wait", "0"))]
tap.eq(seq["jdupont"][:2], seq["jdupond"][:2], "after the delay, known and unknown again alike")
tap.eq([("FAIL", "invalid", False), ("FAIL", "locked", True)], seq["jdupont"][:2],
       "after waiting base_delay: heard again (invalid), then delayed anew")
tap.ok(3 <= seq["jdupont"][2] <= 4, "… the delay doubled, capped at max_delay 4", seq)
time.sleep(4.5)
a = auth("jdupont", PW, "198.51.100.42")
tap.eq("FAIL otp_required", a.short(), "past the capped delay the owner's password is heard: no lock")

# --- the same through HTTP: 401 invalid, then 429 locked with a wait -------------------------
subprocess.run([os.environ["VERDONCTL"], "-c", os.environ["CONF"], "user", "unlock", "jdupont"],
               capture_output=True, timeout=30)
hseq = {}
for login, net in (("jdupont", 50), ("jdupons", 60)):
    hseq[login] = []
    for i in range(8):
        st, body, _ = web("POST", "/api/login", {"login": login, "password": "Faux-%d" % i},
                           addr="198.51.100.%d" % (net + i))
        hseq[login].append((st, body.get("error"), body.get("wait", 0) > 0))
tap.eq(hseq["jdupont"], hseq["jdupons"], "HTTP: eight addresses: the same answers for known and unknown")
tap.eq([(401, "invalid", False)] * 5 + [(429, "locked", True)] * 3, hseq["jdupont"],
       "… 401 invalid five times, then 429 locked with a wait (docs/http-api.md)")

# --- the owner's credentials before the attack ---------------------------------------------
time.sleep(4.5)
a = auth("jdupont", PW, "203.0.113.5", otp=RECOVERY[0], token="1")
token = a.get("token", "")
tap.ok(a.verb == "OK" and token.startswith("vt-"), "the owner's webmail login hands out a session token", a.short())
st, body, ck = web("POST", "/api/login", {"login": "jdupont", "password": PW, "otp": RECOVERY[1]},
                    addr="203.0.113.6")
device = ck.get("verdon_device", "")
tap.ok(st == 200 and device.startswith("vd-"), "a full web login sets the device cookie (vd-…)", (st, body, ck))
st, body, ck = web("POST", "/api/login", {"login": "jdupont", "password": PW, "otp": RECOVERY[2], "trust": True},
                    addr="203.0.113.7")
trusted = ck.get("verdon_device", "")
tap.ok(st == 200 and trusted.startswith("vd-") and trusted != device,
       "a web login with trust: another browser gets its own cookie", (st, body))

# --- the attack: 200 wrong passwords from rotating addresses ---------------------------------
before = time.monotonic()
answers = [auth("jdupont", "Attaque-%03d" % i, "192.0.2.%d" % (1 + i % 200)) for i in range(200)]
locked = sum(1 for a in answers if a.get("reason") == "locked")
tap.ok(all(a.verb == "FAIL" for a in answers) and locked >= 150,
       "200 wrong passwords: all refused, most of them throttled without hashing (%d locked)" % locked)
# a fresh counted failure, so that the delay (max 4 s) surely holds for the checks below
for _ in range(20):
    if auth("jdupont", "Attaque-fin-%d" % _, "192.0.2.250").get("reason") == "invalid":
        break
    time.sleep(0.5)
a = c.call("AUTH", {"login": "jdupont", "password": APP, "service": "imap", "address": "203.0.113.9"})
tap.eq("OK", a.short(), "during the attack, the owner's app password still opens imap")
a = c.call("AUTH", {"login": "jdupont", "password": token, "service": "imap", "address": "203.0.113.9"})
tap.eq("OK", a.short(), "… and the webmail's session token too")
st, body, _ = web("POST", "/api/login", {"login": "jdupont", "password": PW, "otp": RECOVERY[3]},
                   addr="203.0.113.10")
tap.eq((429, "locked"), (st, body.get("error")), "a browser without a device cookie is slowed by the attack")
st, body, ck = web("POST", "/api/login", {"login": "jdupont", "password": PW, "otp": RECOVERY[3]},
                    addr="203.0.113.10", cookies={"verdon_device": device})
tap.eq(200, st, "the owner's browser with its device cookie logs in (password + code) during the attack")
device = ck.get("verdon_device", device)
st, body, _ = web("POST", "/api/login", {"login": "jdupont", "password": PW},
                   addr="203.0.113.11", cookies={"verdon_device": trusted})
tap.eq((200, "full"), (st, body.get("stage")), "the trusted browser logs in with the password alone, during the attack")
st, body, _ = web("POST", "/api/login", {"login": "jdupont", "password": "Attaque-xyz"},
                   addr="203.0.113.12", cookies={"verdon_device": trusted})
tap.eq((401, "invalid"), (st, body.get("error")), "a wrong password with a trusted cookie is still invalid")

# --- the person's browsers over HTTP -----------------------------------------------------------
sid = None
st, body, ck = web("POST", "/api/login", {"login": "jdupont", "password": PW},
                    addr="203.0.113.11", cookies={"verdon_device": trusted})
sid = ck.get("verdon_session")
st, body, _ = web("GET", "/api/devices", cookies={"verdon_session": sid})
devs = body.get("devices", [])
tap.ok(st == 200 and len(devs) == 2 and sorted(d["trusted"] for d in devs) == [False, True]
       and all(d["label"] == "Firefox sur Linux" for d in devs),
       "GET /api/devices lists both browsers, labelled, one trusted", (st, body))
untrusted = [d["id"] for d in devs if not d["trusted"]]
st, body, _ = web("DELETE", "/api/devices/" + (untrusted[0] if untrusted else "x"),
                   cookies={"verdon_session": sid})
tap.eq(200, st, "DELETE /api/devices/ID revokes one")
st, body, _ = web("GET", "/api/devices", cookies={"verdon_session": sid})
tap.eq(1, len(body.get("devices", [])), "… one is left")
st, body, _ = web("DELETE", "/api/devices/zz", cookies={"verdon_session": sid})
tap.eq(404, st, "a malformed id → 404")

# --- device secrets on the socket ---------------------------------------------------------------
subprocess.run([os.environ["VERDONCTL"], "-c", os.environ["CONF"], "user", "unlock", "jdupont"],
               capture_output=True, timeout=30)
a = auth("jdupont", PW, "203.0.113.20", otp=RECOVERY[4], trust="1", device_label="Roundcube Firefox")
sec = a.get("device", "")
tap.ok(a.verb == "OK" and sec.startswith("vd-") and len(sec) == 35 and a.get("device_trusted") == "1"
       and int(a.get("device_expires", "0")) > time.time() + 29 * 86400,
       "AUTH with trust=1: OK carries device=, device_expires (30 days), device_trusted=1", a.short())
a = auth("jdupont", PW, "203.0.113.20", device=sec, token="1")
tap.ok(a.verb == "OK" and a.get("credential") == "trusted_browser" and a.get("token", "").startswith("vt-"),
       "password + trusted device, no code → OK credential=trusted_browser, with a token", a.raw)
a = c.call("AUTH", {"login": "jdupont", "password": PW, "device": sec, "service": "imap", "appended": "1",
                    "address": "203.0.113.20"})
tap.eq("FAIL otp_required", a.short(), "… but not on imap, where the code comes appended")
a = auth("jdupont", "Faux-Faux", "203.0.113.20", device=sec)
tap.eq("FAIL invalid", a.short(), "a wrong password with the device → invalid")
a = auth("jdupont", PW, "203.0.113.20", device="vd-" + "a" * 32)
tap.eq("FAIL otp_required", a.short(), "an unknown device secret stands for nothing")
a = auth("jdupont", PW, "203.0.113.20", otp=RECOVERY[5], device_label="Sans confiance", trust="0", device=sec)
plain = a.get("device", "")
tap.ok(a.verb == "OK" and plain.startswith("vd-") and plain != sec and a.get("device_trusted") == "0",
       "device_label with trust=0 (and the trusted one): a new, untrusted device secret", a.short())
a = auth("jdupont", PW, "203.0.113.20", device=sec)
tap.eq("FAIL otp_required", a.short(), "… which replaced the one it came with")
a = auth("jdupont", PW, "203.0.113.20", device=plain)
tap.eq("FAIL otp_required", a.short(), "an untrusted device does not skip the code")
rows = ctl("device", "list", "jdupont") or []
labels = sorted(r["label"] for r in rows)
tap.ok("Roundcube Firefox" not in labels and "Sans confiance" in labels, "verdonctl device list shows them", rows)
a = auth("jdupont", PW, "203.0.113.20", otp=RECOVERY[9], trust="1", device_label="Roundcube Firefox")
sec = a.get("device", "")
rows = ctl("device", "list", "jdupont") or []
mine = [r["device_id"] for r in rows if r["label"] == "Roundcube Firefox" and r["trusted"] is True]
ctl("device", "revoke", "jdupont", mine[0] if mine else "none")
a = auth("jdupont", PW, "203.0.113.20", device=sec)
tap.eq("FAIL otp_required", a.short(), "verdonctl device revoke: the revoked browser needs the code again")
a = auth("jdupont", PW, "203.0.113.20", otp=RECOVERY[6], trust="1", device_label="Encore")
sec = a.get("device", "")
new_pw = "Nouveau-Passe-Vert-2231"
p = c.call("PASSWD", {"login": "jdupont", "password": PW, "new": new_pw, "otp": RECOVERY[7], "service": "webmail"})
tap.eq("OK", p.short(), "password changed")
a = auth("jdupont", new_pw, "203.0.113.20", device=sec)
tap.eq("FAIL otp_required", a.short(), "a password change revokes every device secret")
tap.eq([], ctl("device", "list", "jdupont"), "… none listed")
PW = new_pw

# --- ten wrong codes after a right password: locked until an admin unlocks --------------------
fresh = RECOVERY[8]
got = [auth("jdupont", PW, "203.0.113.30", otp="%06d" % (111111 * (i + 1) - i)) for i in range(9)]
tap.ok(all(a.short() == "FAIL invalid" for a in got), "nine wrong codes after the right password: invalid")
for _ in range(3):
    auth("jdupont", PW, "203.0.113.30", otp="%06d" % (111111 * 9 - 8))  # the last one again
tap.eq(9, ctl("user", "show", "jdupont").get("code_failures"),
       "the same password and code sent again count once (a client that caches them)")
tap.ok(ctl("user", "show", "jdupont").get("locked") is False, "… not locked yet")
a = auth("jdupont", PW, "203.0.113.30", otp="000000")
tap.eq("FAIL invalid", a.short(), "the tenth wrong code: invalid")
show = ctl("user", "show", "jdupont")
tap.ok(show.get("locked") is True and show.get("code_failures") == 10, "user show: locked, 10 code failures", show)
a = auth("jdupont", PW, "203.0.113.31", otp=fresh)
tap.eq(("FAIL locked", "0"), (a.short(), a.get("wait")), "the right password and a right code now: locked wait=0")
a = auth("jdupont", "Pas-le-bon-1", "203.0.113.32")
tap.eq("FAIL invalid", a.short(), "a wrong password on the locked account: invalid, nothing told")
st, body, _ = web("POST", "/api/login", {"login": "jdupont", "password": PW, "otp": fresh}, addr="203.0.113.33")
tap.eq((429, "locked", 0), (st, body.get("error"), body.get("wait")), "HTTP: 429 locked, wait 0")
time.sleep(3)
a = auth("jdupont", PW, "203.0.113.34", otp=fresh)
tap.eq("FAIL locked", a.short(), "time does not lift it")
ctl("user", "unlock", "jdupont")
a = auth("jdupont", PW, "203.0.113.35", otp=fresh)
tap.eq("OK", a.short(), "after verdonctl user unlock: OK")
tap.ok(ctl("user", "show", "jdupont").get("locked") is False, "user show: not locked")
st, body, _ = web("POST", "/api/login", {"login": "jdupont", "password": PW}, addr="203.0.113.36")
tap.eq((401, "otp_required", 30), (st, body.get("error"), body.get("trusted_browser_days")),
       "HTTP otp_required tells the page it may offer a trusted browser for 30 days")

# --- the audit keeps no login that names no account -------------------------------------------
audit = ctl("audit", "--limit", "2000") or []
text = json.dumps(audit)
tap.ok("jdupond" not in text and "jdupons" not in text and "Mauvais" not in text and "Attaque" not in text,
       "the audit never holds an unknown login in clear")
hashed = [r for r in audit if r.get("login", "").startswith("jd…#")]
tap.ok(len(hashed) >= 8 and all(len(r["login"]) == len("jd…#") + 16 for r in hashed),
       "… but a two-character prefix and a keyed hash, the same each time",
       hashed[:2])
tap.eq(2, len(set(r["login"] for r in hashed)), "… one hash per login (two unknown logins)")
delayed = [r for r in audit if r.get("detail") == "delayed" and r.get("reason") == "locked"]
tap.ok(any(r.get("id") == "jdupont" for r in delayed) and any(r.get("login", "").startswith("jd…#") for r in delayed)
       and len(delayed) >= 190, "throttled attempts are audited, known and unknown (%d records)" % len(delayed))
kinds = set(r.get("detail") for r in audit if r.get("id") == "jdupont" and r.get("result") == "ok")
tap.ok("trusted_browser" in kinds, "a trusted-browser login is audited as its own kind", kinds)
sys.exit(1 if tap.failed else 0)
PY
grep -F "$CANARY_PW" "$T/verdond.log" >/dev/null && not_ok "the daemon's log holds no password" || ok "the daemon's log holds no password"
