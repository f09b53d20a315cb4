"""What radclient cannot do for the RADIUS tests: a Message-Authenticator with
one bit flipped, the very same packet sent twice (a retransmission), and a
check of every reply's Response Authenticator and Message-Authenticator, and
that the MA comes first (BlastRADIUS).

usage: radius_client.py HOST PORT SECRET [options] USER PASSWORD
  --flip-ma        flip one bit of the Message-Authenticator
  --no-ma          send none
  --twice          send the same packet twice, print both replies
  --status         a Status-Server instead (USER and PASSWORD ignored)
  --state HEX      answer a challenge
  --proxy-state S  add a Proxy-State (may be repeated)
  --calling ID     Calling-Station-Id
  --bind ADDR      send from this source address
  --tls CERT,KEY,CA  RadSec (RFC 6614): over TLS on TCP with this client certificate and key,
                   the server checked against CA (SECRET is then "radsec")
Prints one line per reply: CODE first=MA ok|BAD [attr=value …], or "no reply".
"""
import hashlib
import hmac
import os
import socket
import ssl
import struct
import sys

CODES = {2: "Access-Accept", 3: "Access-Reject", 11: "Access-Challenge"}
NAMES = {18: "Reply-Message", 24: "State", 25: "Class", 27: "Session-Timeout", 33: "Proxy-State"}


def attr(t, v):
    return bytes([t, len(v) + 2]) + v


def hide(pw, secret, auth):
    pw = pw.ljust(max(16, (len(pw) + 15) // 16 * 16), b"\0")
    out, prev = b"", auth
    for i in range(0, len(pw), 16):
        b = hashlib.md5(secret + prev).digest()
        c = bytes(x ^ y for x, y in zip(pw[i:i + 16], b))
        out += c
        prev = c
    return out


def build(code, ident, secret, attrs, ma=True, flip=False):
    auth = os.urandom(16)
    body = b""
    if ma:
        body += attr(80, b"\0" * 16)
    for t, v in attrs:
        body += attr(t, v(auth) if callable(v) else v)
    length = 20 + len(body)
    pkt = bytearray(struct.pack("!BBH", code, ident, length) + auth + body)
    if ma:
        mac = bytearray(hmac.new(secret, bytes(pkt), hashlib.md5).digest())
        if flip:
            mac[5] ^= 0x10
        pkt[22:38] = mac
    return bytes(pkt), auth


def check_reply(data, auth, secret):
    code, ident, length = struct.unpack("!BBH", data[:4])
    ra = hashlib.md5(data[:4] + auth + data[20:length] + secret).digest()
    ok = ra == data[4:20]
    attrs, off = [], 20
    while off < length:
        t, n = data[off], data[off + 1]
        attrs.append((t, data[off + 2:off + n]))
        off += n
    first_ma = bool(attrs) and attrs[0][0] == 80
    if first_ma:
        z = bytearray(data[:length])
        z[4:20] = auth
        z[22:38] = b"\0" * 16
        ok = ok and hmac.new(secret, bytes(z), hashlib.md5).digest() == attrs[0][1]
    words = [CODES.get(code, str(code)), "first=MA" if first_ma else "first=other",
             "ok" if ok else "BAD"]
    for t, v in attrs[1:] if first_ma else attrs:
        name = NAMES.get(t, str(t))
        if t == 24:
            words.append("%s=%s" % (name, v.hex()))
        elif t == 27:
            words.append("%s=%d" % (name, struct.unpack("!I", v)[0]))
        else:
            words.append("%s=%s" % (name, v.decode("utf-8", "replace")))
    return " ".join(words)


def main():
    args = sys.argv[1:]
    host, port, secret = args[0], int(args[1]), args[2].encode()
    rest = args[3:]
    opts = {"proxy": []}
    pos = []
    i = 0
    while i < len(rest):
        a = rest[i]
        if a in ("--flip-ma", "--no-ma", "--twice", "--status"):
            opts[a] = True
        elif a == "--proxy-state":
            opts["proxy"].append(rest[i + 1].encode())
            i += 1
        elif a in ("--state", "--calling", "--bind", "--tls"):
            opts[a] = rest[i + 1]
            i += 1
        else:
            pos.append(a)
        i += 1
    attrs = []
    code = 1
    if opts.get("--status"):
        code = 12
    else:
        user, pw = pos[0].encode(), pos[1].encode()
        attrs.append((1, user))
        attrs.append((2, lambda auth: hide(pw, secret, auth)))
        if "--state" in opts:
            attrs.append((24, bytes.fromhex(opts["--state"])))
        if "--calling" in opts:
            attrs.append((31, opts["--calling"].encode()))
    for p in opts["proxy"]:
        attrs.append((33, p))
    pkt, auth = build(code, os.getpid() % 256, secret, attrs, ma=not opts.get("--no-ma"),
                      flip=bool(opts.get("--flip-ma")))
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    wait = float(os.environ.get("RADIUS_WAIT", "3"))
    if "--tls" in opts:
        try:
            s = tls_connect(family, host, port, opts["--tls"].split(","), wait)
        except (OSError, ssl.SSLError):  # a refused handshake (TLS 1.2) fails here, not at recv
            print("no reply")
            return
    else:
        s = socket.socket(family, socket.SOCK_DGRAM)
        if "--bind" in opts:
            s.bind((opts["--bind"], 0))
        s.settimeout(wait)
        s.connect((host, port))
    for _ in range(2 if opts.get("--twice") else 1):
        try:
            s.send(pkt)
            print(check_reply(recv_packet(s, "--tls" in opts), auth, secret))
        except (OSError, ssl.SSLError):  # a timeout, or a TLS connection closed on us
            print("no reply")


def tls_connect(family, host, port, files, wait):
    cert, key, ca = files
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    ctx.minimum_version = ssl.TLSVersion.TLSv1_2
    ctx.load_cert_chain(cert, key)
    ctx.load_verify_locations(ca)
    ctx.check_hostname = False  # the test server's certificate names 127.0.0.1 only
    raw = socket.create_connection((host, port), timeout=wait)
    assert raw.family == family
    return ctx.wrap_socket(raw)


PENDING = [b""]


def recv_packet(s, stream):
    """A datagram, or over TLS one packet framed by its Length (the next may follow it)."""
    if not stream:
        return s.recv(4096)
    data = PENDING[0]
    while len(data) < 4 or len(data) < struct.unpack("!H", data[2:4])[0]:
        chunk = s.recv(4096)
        if not chunk:
            raise ConnectionError("closed")
        data += chunk
    n = struct.unpack("!H", data[2:4])[0]
    PENDING[0] = data[n:]
    return data[:n]

main()
