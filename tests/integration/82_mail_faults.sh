#!/usr/bin/env bash
# Mail and HTTP faults (issue 14, point 5). A mail that does not go must not leave its code valid
# without the person knowing: for a sendmail that exits 75, one that hangs past [mail] timeout
# (2 s here, waited for real; its child killed with it), a sendmail path that does not exist, an
# SMTP relay that refuses the message (554) and one that accepts the connection and never speaks,
# each case checks the one log line, the audit record (verdonctl audit), the code dead afterwards,
# the answer the same as an unknown login's, and a new ask that mails at once (the
# one-outstanding-code rule and [recovery] mails_per_hour = 1 would hold it back for the failed
# one) and whose code works once mail works again. The same for the forgotten identifiant, the
# helpdesk notice (over HTTP: the answer an unknown login gets) and the rescue-address code (over
# HTTP: the pending change gone from the page). Then clients that go away: HTTP
# requests closed before their answer (a login that spends a TOTP code, a reset that spends a mail
# code, a forgot-password, a page read half-way) and an AUTH on the line protocol closed before its
# answer: the daemon stays up, logs nothing alarming, and the state change holds (a code used by a
# disconnected client is used); verdonctl store verify agrees.
EXTRA_THROTTLE="lock_after = 50"
EXTRA_VERDON="idle_timeout = 600"
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/mail_lib.sh"
export T CANARY_PW

HTTP_PORT=$(mail_free_port)
sink_start || { not_ok "the SMTP sink starts"; exit 1; }

# The relay that refuses: it takes the whole message, then answers 554 (so the test knows the code
# that must be dead); the relay that hangs: it accepts the connection and never says a word.
REFUSE_PORT=$(mail_free_port)
HANG_PORT=$(mail_free_port)
FAKE_PIDS=""
cat >"$T/fake_relay.py" <<'PY'
import os, socket, sys, time

port, mode, out = int(sys.argv[1]), sys.argv[2], sys.argv[3]
srv = socket.socket()
srv.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
srv.bind(("127.0.0.1", port))
srv.listen(8)
held = []
while True:
    c, _ = srv.accept()
    if mode == "hang":
        held.append(c)  # accepted, never answered (closed when the test stops this server)
        continue
    c.settimeout(30)
    f = c.makefile("rb")
    c.sendall(b"220 refuser ESMTP\r\n")
    data = b""
    while True:
        line = f.readline(65536)
        if not line:
            break
        verb = line[:4].upper()
        if verb == b"DATA":
            c.sendall(b"354 go on\r\n")
            while not data.endswith(b"\r\n.\r\n"):
                chunk = f.readline(65536)
                if not chunk:
                    break
                data += chunk
            with open(out + ".tmp", "wb") as fh:
                fh.write(data)
            os.rename(out + ".tmp", out + ".%d" % time.time_ns())
            c.sendall(b"554 5.7.1 refused by policy\r\n")
        elif verb == b"QUIT":
            c.sendall(b"221 bye\r\n")
            break
        else:
            c.sendall(b"250 ok\r\n")
    c.close()
PY
mkdir -p "$T/refused"
python3 "$T/fake_relay.py" "$REFUSE_PORT" refuse "$T/refused/msg" >"$T/refuse.log" 2>&1 &
REFUSE_PID=$!
python3 "$T/fake_relay.py" "$HANG_PORT" hang - >"$T/hang.log" 2>&1 &
HANG_PID=$!
FAKE_PIDS="$REFUSE_PID $HANG_PID"
fakes_stop() {
	local p
	for p in $FAKE_PIDS; do kill "$p" 2>/dev/null && wait "$p" 2>/dev/null; done
	FAKE_PIDS=""
}
trap 'fakes_stop; sink_stop; cleanup' EXIT
mail_wait_port "$REFUSE_PORT" "$REFUSE_PID" "$T/refuse.log" || exit 1
mail_wait_port "$HANG_PORT" "$HANG_PID" "$T/hang.log" || exit 1

# The sendmail of the test: it keeps each message under $T/mail, then does what $T/mode says:
# ok (exit 0), fail (exit 75, EX_TEMPFAIL), hang (a child sleeps; killed at [mail] timeout).
mkdir -p "$T/mail"
echo ok >"$T/mode"
cat >"$T/sendmail.sh" <<SH
umask 077
f="$T/mail/\$(date +%s%N).\$\$"
cat >"\$f.tmp" && mv "\$f.tmp" "\$f"
case "\$(cat "$T/mode")" in
fail) exit 75 ;;
hang) sleep 30 & echo "\$!" >"$T/hung.pid"; wait ;;
esac
exit 0
SH

write_config
cat >>"$CONF" <<CONF

[mail]
sendmail = /bin/sh $T/sendmail.sh
from = verdon@example.org
; the floor: a hung sendmail or relay is given up after 2 s
timeout = 2

[http]
listen = 127.0.0.1:$HTTP_PORT

[penalty]
base_ms = 0

[recovery]
; one mail an hour: a failed mail that kept its slot would hold the next ask back
mails_per_hour = 1
mails_per_day = 1
CONF
cp "$CONF" "$T/base.conf"
start_daemon || exit 1
export HTTP_PORT REFUSE_PORT HANG_PORT SMTP_PORT CONF VERDONCTL

pytap <<'PY'
import http.client
import json
import re
import signal
import socket
import struct
import subprocess

from lib_proto import *

MAILDIR, SINK, REFUSED = T + "/mail", T + "/sink", T + "/refused"
LOG = T + "/verdond.log"
PW = os.environ["CANARY_PW"]
PORT = int(os.environ["HTTP_PORT"])
SECRETS = [PW]


def files(d):
    return sorted(f for f in os.listdir(d) if not f.endswith(".tmp"))


def newest(d, before, timeout=10.0):
    """The content of the first file of d not in before (waited for), or None."""
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        new = [f for f in files(d) if f not in before]
        if new:
            with open(os.path.join(d, new[0]), "rb") as fh:
                return fh.read()
        time.sleep(0.05)
    return None


def code_of(raw):
    if raw and raw.startswith(b"{"):  # the sink keeps the envelope and the data as JSON
        raw = json.loads(raw).get("data", "").encode()
    m = re.search(rb"Votre code(?: de confirmation)? : (\d{6})\r?\n", raw or b"")
    return m.group(1).decode() if m else None


def log_size():
    return os.path.getsize(LOG)


def log_since(off):
    with open(LOG, "rb") as fh:
        fh.seek(off)
        return fh.read().decode("utf-8", "replace")


def wait_log(off, pattern, timeout=15.0):
    """The first log line after off matching pattern (waited for), or None."""
    rx = re.compile(pattern)
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        for line in log_since(off).splitlines():
            if rx.search(line):
                return line
        time.sleep(0.1)
    return None


def ctl(*args):
    r = subprocess.run([os.environ["VERDONCTL"], "-c", os.environ["CONF"], "--json"] + list(args),
                       capture_output=True, text=True, timeout=60)
    try:
        return json.loads(r.stdout) if r.stdout.strip() else None
    except ValueError:
        return r.stdout


def audit_failed(ident, action):
    rows = ctl("audit", ident, "--limit", "50") or []
    return [r for r in rows if isinstance(r, dict) and r.get("action") == action
            and r.get("result") == "failed"]


def set_mail(mode=None, relay=None, sendmail=None):
    """The sendmail's mode, or a reloaded config with another relay or sendmail command."""
    if mode is not None:
        with open(T + "/mode", "w") as fh:
            fh.write(mode + "\n")
    if relay is None and sendmail is None and mode is not None:
        return
    with open(T + "/base.conf") as fh:
        conf = fh.read()
    if sendmail is not None:
        conf = re.sub(r"(?m)^sendmail = .*$", "sendmail = " + sendmail, conf)
    if relay:
        conf = conf.replace("[mail]\n", "[mail]\nrelay = %s\n" % relay)
    with open(os.environ["CONF"], "w") as fh:
        fh.write(conf)
    off = log_size()
    os.kill(int(os.environ["DAEMON_PID"]), signal.SIGHUP)
    if not wait_log(off, r"configuration reloaded"):
        raise AssertionError("the reload was not logged")


def enroll(admin, auth, n):
    """Person n, active, with TOTP: (identifiant, secret, confirmation step, recovery codes)."""
    p = enrolled(admin, auth, n, PW)
    SECRETS.extend([p[1]] + p[3])
    return p


def unknown_answer(auth):
    return auth.call("RESET_ASK", {"login": "personne.inconnue", "address": "192.0.2.9"}, rid="x").raw


def reset_case(tap, auth, person, n, name, mail, captured, log_rx, restore):
    """One failing mail for person n's reset code; then mail works again and a new ask succeeds.

    The second factor is a recovery code: a refused confirmation checks the mail code first and
    spends nothing, so the same recovery code then serves the successful one (no TOTP step waited).
    """
    ident, _, _, rec = person
    mail()
    off = log_size()
    before = files(captured) if captured else None
    a = auth.call("RESET_ASK", {"login": ident, "address": "192.0.2.%d" % n}, rid="x")
    tap.eq(unknown_answer(auth), a.raw,
           "%s: RESET_ASK answers as for an unknown login (the answer never waits on mail)" % name)
    line = wait_log(off, r"mail: the reset code for %s not sent" % re.escape(ident))
    errors = [l for l in log_since(off).splitlines() if "error:" in l]
    tap.ok(line is not None and re.search(log_rx, line) and "withdrawn" in line
           and errors == [line],
           "%s: one clear log line says the code was not sent, why, and that it is withdrawn" % name,
           errors or log_since(off)[-600:])
    rows = audit_failed(ident, "reset.mail")
    tap.ok(len(rows) == 1 and rows[0].get("reason") == "tempfail"
           and "code withdrawn" in rows[0].get("detail", ""),
           "%s: verdonctl audit shows reset.mail failed with the reason" % name, rows)
    code = code_of(newest(captured, before, 5.0)) if captured else None
    SECRETS.append(code or "")
    if captured:
        tap.ok(code is not None, "%s: (the message it was handed carried a code)" % name)
        c = auth.call("RESET_CONFIRM", {"login": ident, "code": code or "000000",
                                        "recovery": rec[0], "new": "Jamais-Recu-7-Code"})
        tap.eq("FAIL invalid", c.short(), "%s: that code is dead" % name)
    # Mail works again: a new ask at once mails a new code, which works.
    restore()
    before, sink_before = files(MAILDIR), files(SINK)
    auth.call("RESET_ASK", {"login": ident, "address": "192.0.2.%d" % n}, rid="x")
    raw = newest(MAILDIR, before, 5.0) or newest(SINK, sink_before, 5.0)
    code = code_of(raw)
    SECRETS.append(code or "")
    tap.ok(code is not None, "%s: a new ask at once mails a new code once mail works" % name,
           log_since(off)[-800:])
    before, sink_before = files(MAILDIR), files(SINK)
    c = auth.call("RESET_CONFIRM", {"login": ident, "code": code or "000000", "recovery": rec[0],
                                    "new": "Nouveau-Passe-%d-Vert" % n})
    tap.eq("OK", c.short(), "%s: … and that code resets the password" % name)
    # its "password changed" notice lands before the next case breaks mail again
    if c.verb == "OK" and newest(MAILDIR, before, 5.0) is None:
        newest(SINK, sink_before, 5.0)


def run(tap):
    admin, auth = Client(ADMIN), Client(AUTH)
    # Everybody first: by the time a TOTP code is needed, the confirmation's step is past.
    people = {n: enroll(admin, auth, n) for n in (1, 2, 3, 4, 5, 7, 8, 9)}
    sendmail = "/bin/sh %s/sendmail.sh" % T
    ok_sendmail = lambda: set_mail("ok")

    reset_case(tap, auth, people[1], 1, "sendmail exits 75", lambda: set_mail("fail"), MAILDIR,
               r"exited with status 75", ok_sendmail)
    t0 = time.monotonic()
    reset_case(tap, auth, people[2], 2, "sendmail hangs", lambda: set_mail("hang"), MAILDIR,
               r"killed after 2 seconds \(\[mail\] timeout\)", ok_sendmail)
    tap.ok(time.monotonic() - t0 > 2, "… the 2 s timeout was waited for real")
    try:
        with open(T + "/hung.pid") as fh:
            hung = int(fh.read())
        with open("/proc/%d/stat" % hung) as fh:
            alive = ") Z " not in fh.read()
    except (OSError, ValueError):
        alive = False
    tap.ok(not alive, "… and the hung sendmail's child was killed with it")
    reset_case(tap, auth, people[3], 3, "sendmail missing",
               lambda: set_mail(sendmail="/nonexistent/sbin/sendmail -t -i"), None,
               r"cannot start /nonexistent/sbin/sendmail: No such file or directory",
               lambda: set_mail("ok", sendmail=sendmail))
    reset_case(tap, auth, people[4], 4, "relay refuses (554)",
               lambda: set_mail(relay="smtp://127.0.0.1:%s" % os.environ["REFUSE_PORT"]), REFUSED,
               r"mail relay: .*last reply 554", lambda: set_mail("ok", sendmail=sendmail))
    t0 = time.monotonic()
    reset_case(tap, auth, people[5], 5, "relay never answers",
               lambda: set_mail(relay="smtp://127.0.0.1:%s" % os.environ["HANG_PORT"]), None,
               r"mail relay: .*timed out",
               lambda: set_mail(relay="smtp://127.0.0.1:%s" % os.environ["SMTP_PORT"]))
    tap.ok(time.monotonic() - t0 > 2, "… given up after the 2 s timeout, waited for real")
    set_mail("ok", sendmail=sendmail)

    ident_case(tap, admin, auth)
    http_forgot_case(tap, admin)
    rescue_case(tap, people[7])
    disconnects(tap, auth, people[8], people[9])

    # No code, password or secret reached the log.
    with open(LOG, encoding="utf-8", errors="replace") as fh:
        log = fh.read()
    leaked = [s for s in SECRETS if s and s in log]
    tap.ok(not leaked, "no code, password or secret in the daemon's log", leaked)


def ident_case(tap, admin, auth):
    """The forgotten identifiant: a failed mail gives its [recovery] slot back."""
    a = user_add(admin, 6)
    ident = a.get("identifiant")
    who = {"numen": numen(6), "birth": "1980-01-01", "last": letters(6), "address": "192.0.2.6"}
    set_mail("fail")
    off = log_size()
    auth.call("IDENT_ASK", who, rid="z")
    line = wait_log(off, r"mail: the identifiant for %s not sent" % re.escape(ident))
    tap.ok(line is not None and "status 75" in line,
           "forgotten identifiant, sendmail exits 75: one clear log line", line)
    tap.eq(1, len(audit_failed(ident, "ident.mail")), "… audited as ident.mail failed")
    set_mail("ok")
    before = files(MAILDIR)
    auth.call("IDENT_ASK", who, rid="z")
    raw = newest(MAILDIR, before, 5.0) or b""
    tap.ok(("Votre identifiant : %s" % ident).encode() in raw,
           "… a new ask at once mails it (the failed one's slot was given back)")


class Http:
    """A cookie-keeping JSON client of the HTTP API."""

    def __init__(self):
        self.cookie = None

    def call(self, method, path, body=None):
        c = http.client.HTTPConnection("127.0.0.1", PORT, timeout=30)
        h = {"X-Verdon-Request": "1"}
        if body is not None:
            h["Content-Type"] = "application/json"
        if self.cookie:
            h["Cookie"] = self.cookie
        c.request(method, path, body=json.dumps(body) if body is not None else None, headers=h)
        r = c.getresponse()
        data = r.read()
        for k, v in r.getheaders():
            if k.lower() == "set-cookie" and v.startswith("verdon_session="):
                self.cookie = v.split(";", 1)[0]
        c.close()
        try:
            return r.status, json.loads(data or b"null")
        except ValueError:
            return r.status, data


def http_forgot_case(tap, admin):
    """Over HTTP, a failed mail changes nothing in the answer: known and unknown alike."""
    ident = user_add(admin, 10).get("identifiant")  # no authenticator: the helpdesk notice
    set_mail("fail")
    off = log_size()
    known = Http().call("POST", "/api/forgot-password", {"login": ident})
    line = wait_log(off, r"mail: the helpdesk notice for %s not sent" % re.escape(ident))
    unknown = Http().call("POST", "/api/forgot-password", {"login": "personne.inconnue"})
    tap.eq((200, {"status": "sent_if_known"}), known,
           "HTTP forgot-password, sendmail exits 75: 200 sent_if_known")
    tap.eq(unknown, known, "… the very answer an unknown login gets")
    tap.ok(line is not None and "a new ask may mail it at once" in line,
           "… and the failure is in the log (the helpdesk notice, its slot given back)", line)
    set_mail("ok")


def login(ident, secret, used):
    h = Http()
    next_step(used)
    st, body = h.call("POST", "/api/login", {"login": ident, "password": PW, "otp": totp(secret)})
    if st != 200:
        raise AssertionError("login: %r %r" % (st, body))
    return h, step()


def rescue_case(tap, person):
    """The rescue-address code: a failed mail withdraws the pending change."""
    ident, secret, used, _ = person
    h, used = login(ident, secret, used)
    set_mail("fail")
    off = log_size()
    before = files(MAILDIR)
    st, body = h.call("POST", "/api/rescue-email", {"email": "nouvelle7@example.net"})
    tap.eq(200, st, "rescue address, sendmail exits 75: the ask answers 200 (before the mail)")
    line = wait_log(off, r"mail: the rescue-address code for %s not sent" % re.escape(ident))
    tap.ok(line is not None and "change withdrawn" in line and "status 75" in line,
           "… one clear log line: the change is withdrawn", line)
    tap.eq(1, len(audit_failed(ident, "rescue.mail")), "… audited as rescue.mail failed")
    code = code_of(newest(MAILDIR, before, 5.0))
    SECRETS.append(code or "")
    st, body = h.call("GET", "/api/rescue-email")
    tap.ok(st == 200 and "pending_masked" not in body,
           "… the page shows no pending change any more (the person can see it)", body)
    st, body = h.call("POST", "/api/rescue-email/confirm", {"code": code or "000000"})
    tap.ok(st == 400 and isinstance(body, dict) and body.get("why") in ("none", None),
           "… the code that was not delivered is dead", (st, body))
    set_mail("ok")
    before = files(MAILDIR)
    st, body = h.call("POST", "/api/rescue-email", {"email": "nouvelle7@example.net"})
    code = code_of(newest(MAILDIR, before, 5.0))
    SECRETS.append(code or "")
    tap.ok(st == 200 and code is not None, "… a new ask at once mails a new code", (st, body))
    st, body = h.call("POST", "/api/rescue-email/confirm", {"code": code or "000000"})
    tap.eq(200, st, "… which changes the address")


def raw_http(request, read=0):
    """Sends one raw HTTP request and closes without reading its answer.

    A plain close (FIN): the daemon has the whole request and answers into a closed socket.
    With read, that many bytes are read first and the close resets the connection (RST) while
    the answer is still coming.
    """
    s = socket.create_connection(("127.0.0.1", PORT), timeout=10)
    s.sendall(request)
    if read:
        s.recv(read)
        s.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    s.close()


def audit_rows(ident):
    return [r for r in ctl("audit", ident, "--limit", "500") or [] if isinstance(r, dict)]


def audited(ident, before, actor, action, result):
    """Whether a record of ident newer than the `before` ones (a count) matches (newest first)."""
    rows = audit_rows(ident)
    return any(r.get("actor") == actor and r.get("action") == action and r.get("result") == result
               for r in rows[:len(rows) - before])


def post(path, body, cookie=None):
    data = json.dumps(body).encode()
    head = ("POST %s HTTP/1.1\r\nHost: x\r\nX-Verdon-Request: 1\r\nContent-Type: application/json"
            "\r\nContent-Length: %d\r\n" % (path, len(data)))
    if cookie:
        head += "Cookie: %s\r\n" % cookie
    return head.encode() + b"\r\n" + data


ALARM = re.compile(r"(?i)error|fatal|abort|assert|sanitizer|segv|crash")


def quiet(tap, off):
    lines = [l for l in log_since(off).splitlines() if ALARM.search(l)]
    tap.ok(len(lines) <= 1, "… nothing alarming in the log (at most one clear line)", lines)


def disconnects(tap, auth, person, person9):
    pid = int(os.environ["DAEMON_PID"])
    ident, secret, used, rec = person

    # A login that spends a TOTP code, closed before its answer: audited, and the code is spent.
    next_step(used)
    off, n, code = log_size(), len(audit_rows(ident)), totp(secret)
    used = step()
    raw_http(post("/api/login", {"login": ident, "password": PW, "otp": code}))
    tap.ok(wait_for(lambda: audited(ident, n, "http", "auth", "ok"), 10),
           "HTTP login closed before its answer: it happened, and is audited as the success it was")
    a = auth.call("AUTH", {"login": ident, "password": PW, "otp": code, "service": "test"})
    tap.eq("FAIL invalid", a.short(), "… its TOTP code is spent (a replay is refused)")
    quiet(tap, off)

    # A reset-password that spends its mail code, closed before the answer: the reset holds.
    before = files(MAILDIR)
    auth.call("RESET_ASK", {"login": ident, "address": "192.0.2.8"})
    mcode = code_of(newest(MAILDIR, before, 5.0))
    SECRETS.append(mcode or "")
    off, n = log_size(), len(audit_rows(ident))
    raw_http(post("/api/reset-password", {"login": ident, "code": mcode or "000000",
                                          "recovery_code": rec[0],
                                          "new_password": "Change-Sans-Ecoute-8"}))
    tap.ok(wait_for(lambda: audited(ident, n, "http", "reset.confirm", "ok"), 10),
           "HTTP reset-password closed before its answer: audited as done")
    a = auth.call("AUTH", {"login": ident, "password": "Change-Sans-Ecoute-8", "service": "test"})
    tap.eq("FAIL otp_required", a.short(), "… the new password holds")
    c = auth.call("RESET_CONFIRM", {"login": ident, "code": mcode or "000000", "recovery": rec[1],
                                    "new": "Encore-Une-Fois-8-Vert"})
    tap.eq("FAIL invalid", c.short(), "… and its mail code is used")
    quiet(tap, off)

    # A forgot-password closed at once, a health check too, and a page reset half-way.
    off = log_size()
    raw_http(post("/api/forgot-password", {"login": "personne.inconnue"}))
    raw_http(b"GET /api/health HTTP/1.1\r\nHost: x\r\n\r\n")
    raw_http(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n", read=64)
    time.sleep(1)
    tap.eq(200, Http().call("GET", "/api/health")[0], "HTTP clients gone mid-answer: the daemon serves on")
    quiet(tap, off)

    # The line protocol: AUTH with a fresh code, then gone before the answer.
    ident9, secret9, used9, _ = person9
    next_step(used9)
    off, n, code = log_size(), len(audit_rows(ident9)), totp(secret9)
    gone = Client(AUTH)
    gone.send("AUTH", "1", {"login": ident9, "password": PW, "otp": code, "service": "test"})
    gone.close()
    tap.ok(wait_for(lambda: audited(ident9, n, "auth", "auth", "ok"), 10),
           "AUTH closed before its answer: it happened, and is audited as the success it was")
    a = auth.call("AUTH", {"login": ident9, "password": PW, "otp": code, "service": "test"})
    tap.eq("FAIL invalid", a.short(), "… its TOTP code is spent (a replay is refused)")
    quiet(tap, off)
    try:
        os.kill(pid, 0)
        up = True
    except OSError:
        up = False
    tap.ok(up, "the daemon is still running")


main_run(run)
PY

check "verdonctl store verify: the store is consistent after it all" ctl store verify
if kill -0 "$DAEMON_PID" 2>/dev/null; then ok "the daemon is still running"; else not_ok "the daemon is still running"; fi
exit 0
