"""A raw client of the verdon line protocol, for the integration scenarios.

It speaks proto/PROTOCOL.md by hand (it shares no code with the daemon), so
that the scenarios can send what a well-behaved client never would: lines
before the handshake, bad escapes, oversized lines, floods of pipelined
requests. Scenarios print "ok - ..." / "not ok - ..." lines through Tap; the
shell side numbers them.
"""

import os
import socket
import subprocess
import sys
import time

T = os.environ.get("T", "")
AUTH = T + "/auth.sock"
ADMIN = T + "/admin.sock"
ESC = b"\x01"
LINE_MAX = 16384
_ESCAPES = {b"\t": b"\x01t", b"\n": b"\x01n", b"\r": b"\x01r", b"\x01": b"\x011"}
_UNESCAPES = {ord("t"): b"\t", ord("n"): b"\n", ord("r"): b"\r", ord("1"): b"\x01"}


def _bytes(v):
    return v if isinstance(v, bytes) else str(v).encode("utf-8")


def escape(value):
    """Escapes TAB, LF, CR and \\001 in a value (str or bytes) → bytes."""
    out = bytearray()
    for b in _bytes(value):
        out += _ESCAPES.get(bytes([b]), bytes([b]))
    return bytes(out)


def unescape(value):
    """The inverse of escape; ValueError on \\001 followed by anything else."""
    out = bytearray()
    i = 0
    while i < len(value):
        if value[i] != 1:
            out.append(value[i])
            i += 1
            continue
        if i + 1 >= len(value) or value[i + 1] not in _UNESCAPES:
            raise ValueError("bad escape at byte %d" % i)
        out += _UNESCAPES[value[i + 1]]
        i += 2
    return bytes(out)


def encode(verb, rid, fields=None):
    """One request line, LF included. fields: dict or list of (key, value)."""
    items = fields.items() if isinstance(fields, dict) else (fields or [])
    parts = [_bytes(verb), _bytes(rid)]
    parts += [_bytes(k) + b"=" + escape(v) for k, v in items]
    return b"\t".join(parts) + b"\n"


class Answer:
    """One line from the daemon: verb, id, fields (str → str, unescaped)."""

    def __init__(self, raw):
        self.raw = raw
        parts = raw.split(b"\t")
        self.verb = parts[0].decode("ascii", "replace")
        self.id = parts[1].decode("ascii", "replace") if len(parts) > 1 else ""
        self.fields = {}
        self.raw_fields = {}
        for p in parts[2:]:
            k, _, v = p.partition(b"=")
            key = k.decode("ascii", "replace")
            self.raw_fields[key] = v
            self.fields[key] = unescape(v).decode("utf-8", "surrogateescape")
        self.rows = []

    def get(self, key, default=None):
        return self.fields.get(key, default)

    @property
    def reason(self):
        return self.fields.get("reason")

    def short(self):
        """verb plus reason, e.g. "FAIL invalid" or "OK"."""
        return self.verb + ("" if self.reason is None else " " + self.reason)

    def __repr__(self):
        return "Answer(%r)" % self.raw


class Closed(Exception):
    """The daemon closed the connection (EOF or reset)."""


class Client:
    """One connection. handshake=True sends VERSION and reads the server's."""

    def __init__(self, path, handshake=True, timeout=30.0, major=1, minor=0):
        self.path = path
        self.timeout = timeout
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.sock.settimeout(timeout)
        self.sock.connect(path)
        self.buf = b""
        self.eof = False
        self.server_version = None
        self._seq = 0
        if handshake:
            self.send_raw(encode("VERSION", "0", {"major": major, "minor": minor}))
            self.server_version = self.read()

    def next_id(self):
        self._seq += 1
        return "r%d" % self._seq

    def send_raw(self, data):
        self.sock.sendall(data)

    def send(self, verb, rid, fields=None):
        self.send_raw(encode(verb, rid, fields))

    def read(self, timeout=None):
        """The next answer; raises Closed at EOF, socket.timeout when none comes."""
        deadline = time.monotonic() + (self.timeout if timeout is None else timeout)
        while b"\n" not in self.buf:
            if self.eof:
                raise Closed()
            left = deadline - time.monotonic()
            if left <= 0:
                raise socket.timeout("no answer")
            self.sock.settimeout(left)
            try:
                data = self.sock.recv(65536)
            except ConnectionResetError:
                data = b""
            if not data:
                self.eof = True
            self.buf += data
        line, _, self.buf = self.buf.partition(b"\n")
        return Answer(line)

    def read_eof(self, timeout=5.0):
        """True when the daemon closes the connection within timeout (data is skipped)."""
        deadline = time.monotonic() + timeout
        while not self.eof:
            left = deadline - time.monotonic()
            if left <= 0:
                return False
            self.sock.settimeout(left)
            try:
                data = self.sock.recv(65536)
            except socket.timeout:
                return False
            except ConnectionResetError:
                data = b""
            if not data:
                self.eof = True
            self.buf += data
        return True

    def call(self, verb, fields=None, rid=None, timeout=None):
        """Sends one request and returns its final answer, with its ROWs in .rows."""
        rid = rid or self.next_id()
        self.send(verb, rid, fields)
        rows = []
        while True:
            a = self.read(timeout)
            if a.id != rid:
                raise AssertionError("answer for %r while waiting for %r" % (a.id, rid))
            if a.verb == "ROW":
                rows.append(a)
                continue
            a.rows = rows
            return a

    def collect(self, ids, timeout=None):
        """Reads until every id has a final answer (or EOF/timeout).

        Returns (answers, order): answers maps id → list of final answers (a
        list, so that a duplicate shows), order lists the ids as they came.
        """
        want = set(ids)
        answers, order = {}, []
        while want:
            try:
                a = self.read(timeout)
            except (Closed, socket.timeout):
                break
            if a.verb == "ROW":
                continue
            answers.setdefault(a.id, []).append(a)
            order.append(a.id)
            want.discard(a.id)
        return answers, order

    def read_all(self, timeout=None):
        """Every answer until the daemon closes (or timeout): a list."""
        out = []
        while True:
            try:
                out.append(self.read(timeout))
            except (Closed, socket.timeout):
                return out

    def pipeline(self, requests, timeout=None):
        """Sends [(verb, id, fields)] in one write, then collects their answers."""
        self.send_raw(b"".join(encode(v, i, f) for v, i, f in requests))
        return self.collect([i for _, i, _ in requests], timeout)

    def half_close(self):
        self.sock.shutdown(socket.SHUT_WR)

    def close(self):
        try:
            self.sock.close()
        except OSError:
            pass


class Tap:
    """Prints "ok - …" / "not ok - …"; the shell numbers them."""

    def __init__(self):
        self.failed = 0

    def ok(self, cond, desc, detail=None):
        if cond:
            print("ok - " + desc, flush=True)
        else:
            self.failed += 1
            print("not ok - " + desc, flush=True)
            if detail is not None:
                for line in str(detail).splitlines()[:20]:
                    print("# " + line, flush=True)
        return cond

    def eq(self, expected, actual, desc):
        return self.ok(expected == actual, desc, "expected: %r\nactual:   %r" % (expected, actual))

    def note(self, text):
        print("# " + text, flush=True)


# Account helpers ----------------------------------------------------------

def letters(n, width=5):
    """A name made of letters only, distinct for each n (names must be Latin letters)."""
    out = ""
    for _ in range(width):
        out = chr(ord("a") + n % 26) + out
        n //= 26
    return out.capitalize()


def numen(n, suffix="XYZ"):
    """A valid NUMEN (13 letters or digits), distinct for each n."""
    return "%010d%s" % (n, suffix)


def user_add(admin, n, **extra):
    """USER_ADD for person n; returns the answer."""
    fields = {
        "first": "Test",
        "last": letters(n),
        "birth": "1980-01-01",
        "numen": numen(n),
        "rescue_email": "rescue%d@example.net" % n,
    }
    fields.update(extra)
    return admin.call("USER_ADD", fields)


def totp(secret, offset=0):
    """The TOTP code of a base32 secret at this instant (+ offset s), by oathtool (not our code).

    The instant is Python's, always: oathtool's own time(2) reads the kernel's coarse clock, which
    lags time.time() by up to a few milliseconds, so just past a step's start it would still give
    the previous step's code, the one step() says was used: a replay.
    """
    stamp = time.strftime("%Y-%m-%d %H:%M:%S UTC", time.gmtime(time.time() + offset))
    args = ["oathtool", "--totp", "-b", secret, "--now=" + stamp]
    return subprocess.run(args, check=True, capture_output=True, text=True).stdout.strip()


def secret_of(uri):
    """The base32 secret in an otpauth:// URI."""
    for part in uri.split("?", 1)[1].split("&"):
        k, _, v = part.partition("=")
        if k == "secret":
            return v
    raise ValueError("no secret in " + uri)


def step():
    return int(time.time()) // 30


def fresh_step(min_left=5):
    """Waits for a new 30 s step when fewer than min_left seconds are left in this one."""
    left = 30 - time.time() % 30
    if left < min_left:
        time.sleep(left + 0.3)


def next_step(after):
    """Waits until the 30 s step is past `after`, with time left to use a code.

    Never in the step's first 0.3 s: the daemon's clock (time(2), the kernel's coarse clock) may
    still be in the previous step for a few milliseconds.
    """
    while step() <= after or time.time() % 30 < 0.3:
        time.sleep(0.1)
    fresh_step()


def second_start():
    """Waits for the start of the next whole second (+50 ms): the windows the daemon keeps in
    whole seconds (last-use writes) then count from there, whatever the machine's load."""
    time.sleep(1.05 - time.time() % 1)


def active_user(admin, auth, n, password):
    """Person n with a changed password and a confirmed OTP.

    Returns (identifiant, base32 secret, step of the confirmation code).
    """
    a = user_add(admin, n)
    if a.verb != "OK":
        raise AssertionError("USER_ADD: %r" % a)
    ident, temp = a.get("identifiant"), a.get("temporary_password")
    p = auth.call("PASSWD", {"login": ident, "password": temp, "new": password,
                             "service": "test"})
    if p.verb != "OK":
        raise AssertionError("PASSWD: %r" % p)
    e = admin.call("OTP_ENROLL", {"login": ident})
    secret = secret_of(e.get("uri", "?"))
    fresh_step()
    confirmed = step()
    c = admin.call("OTP_CONFIRM", {"login": ident, "code": totp(secret)})
    if c.verb != "OK":
        raise AssertionError("OTP_CONFIRM: %r" % c)
    return ident, secret, confirmed


def enrolled(admin, auth, n, password):
    """Person n with a chosen password and an active TOTP.

    Returns (identifiant, base32 secret, step of the confirmation code, recovery codes).
    """
    a = user_add(admin, n)
    ident, temp = a.get("identifiant"), a.get("temporary_password")
    auth.call("PASSWD", {"login": ident, "password": temp, "new": password, "service": "test"})
    secret = secret_of(admin.call("OTP_ENROLL", {"login": ident}).get("uri", "?"))
    fresh_step()
    s = step()
    c = admin.call("OTP_CONFIRM", {"login": ident, "code": totp(secret)})
    if c.verb != "OK":
        raise AssertionError("OTP_CONFIRM: %r" % c)
    return ident, secret, s, c.get("recovery_codes").split(",")


def race(paths, ident, password, code, racers=50, service="race", address=None, timed=False,
         timeout=None):
    """racers connections (spread over the socket paths) send one AUTH at once; their answers.

    With address, each request says it comes from there; with timed, each result is
    (answer, seconds it took); timeout bounds each wait for an answer.
    """
    import threading

    conns = [Client(paths[i % len(paths)], timeout=60) for i in range(racers)]
    barrier = threading.Barrier(racers)
    results = [None] * racers
    fields = {"login": ident, "password": password, "otp": code, "service": service}
    if address is not None:
        fields["address"] = address

    def go(i):
        barrier.wait()
        t0 = time.monotonic()
        try:
            r = conns[i].call("AUTH", fields, rid="race%d" % i, timeout=timeout).short()
        except Exception as e:  # noqa: BLE001 - reported as the racer's result
            r = repr(e)
        results[i] = (r, time.monotonic() - t0) if timed else r

    threads = [threading.Thread(target=go, args=(i,)) for i in range(racers)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(120)
    for c in conns:
        c.close()
    return results


def wait_for(cond, timeout=30.0):
    """Whether cond() came true within timeout seconds (polled every 0.1 s)."""
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        if cond():
            return True
        time.sleep(0.1)
    return False


def main_run(fn):
    """Runs a scenario function; a crash is one more failed test, and exit 1."""
    tap = Tap()
    try:
        fn(tap)
    except Exception as e:  # noqa: BLE001 - any crash is a failure to report
        import traceback

        tap.ok(False, "python scenario ran to its end (%s: %s)" % (type(e).__name__, e),
               traceback.format_exc())
    sys.stdout.flush()
    os._exit(1 if tap.failed else 0)
