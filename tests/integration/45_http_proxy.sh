#!/usr/bin/env bash
# Behind the reverse proxy (issue 7, point 9): the per-address connection limit and the penalty
# apply to the address a trusted proxy forwards, not to the proxy. The proxy (127.0.0.1 here)
# holds more connections than per_ip_connections; one forwarded address past it is refused while
# another is served; failures from one forwarded address do not slow another.
. "$(dirname "$0")/lib.sh"
PORT=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
PER_IP=4
write_config
cat >>"$CONF" <<CONF

[penalty]
base_ms = 2000
max_ms = 8000

[http]
listen = 127.0.0.1:$PORT
trusted_proxies = 127.0.0.1
timeout = 10
per_ip_connections = $PER_IP
CONF
start_daemon || exit 1
for _ in $(seq 1 50); do curl -s -o /dev/null "http://127.0.0.1:$PORT/api/health" && break; sleep 0.1; done
export PORT PER_IP T CANARY_PW

pytap <<'PY'
import json, select, socket, threading
from lib_proto import *

PORT, PER_IP = int(os.environ["PORT"]), int(os.environ["PER_IP"])


def conn(src="127.0.0.1"):
    s = socket.socket()
    s.bind((src, 0))
    s.connect(("127.0.0.1", PORT))
    s.settimeout(15)
    return s


def request(method, path, xff, body=None, src="127.0.0.1"):
    """One request on its own connection: (status, JSON body or None, seconds)."""
    data = json.dumps(body).encode() if body is not None else b""
    head = "%s %s HTTP/1.1\r\nHost: x\r\nConnection: close\r\n" % (method, path)
    if xff:
        head += "X-Forwarded-For: %s\r\n" % xff
    if body is not None:
        head += ("X-Verdon-Request: 1\r\nContent-Type: application/json\r\n"
                 "Content-Length: %d\r\n" % len(data))
    t0 = time.monotonic()
    s = conn(src)
    try:
        s.sendall(head.encode() + b"\r\n" + data)
        out = b""
        while True:
            chunk = s.recv(65536)
            if not chunk:
                break
            out += chunk
    except OSError:
        out = b""
    finally:
        s.close()
    took = time.monotonic() - t0
    if not out.startswith(b"HTTP/1.1 "):
        return None, None, took
    head, _, payload = out.partition(b"\r\n\r\n")
    try:
        doc = json.loads(payload) if payload else None
    except ValueError:
        doc = None
    return int(out[9:12]), doc, took


def partial(xff):
    """A request from xff whose body never ends: it stays in flight."""
    s = conn()
    s.sendall(("POST /api/login HTTP/1.1\r\nHost: x\r\nX-Forwarded-For: %s\r\n"
               "X-Verdon-Request: 1\r\nContent-Type: application/json\r\n"
               "Content-Length: 200\r\n\r\n{" % xff).encode())
    return s


def run(tap):
    # (a) The proxy itself holds more connections than per_ip_connections.
    proxy_conns = []
    for i in range(3 * PER_IP):
        s = conn()
        s.sendall(b"GET /api/health HTTP/1.1\r\nHost: x\r\nX-Forwarded-For: 203.0.113.%d\r\n\r\n"
                  % (10 + i))
        proxy_conns.append(s)
    served = 0
    for s in proxy_conns:
        try:
            served += s.recv(12) == b"HTTP/1.1 200"
        except OSError:
            pass
    tap.eq(3 * PER_IP, served, "the proxy keeps %d connections open for %d addresses "
           "(per_ip_connections = %d counts forwarded addresses)" % (3 * PER_IP, 3 * PER_IP, PER_IP))
    for s in proxy_conns:
        s.close()

    # (b) One forwarded address with PER_IP requests in flight: its next is refused, others not.
    held = [partial("198.51.100.1") for _ in range(PER_IP)]
    # The server reads their headers in its own time; a probe that arrives first takes a slot, and a
    # held request then refused (503) no longer holds one: such a held request is sent again. Ask
    # until the four hold their slots (8 s at most, under the server's 10 s timeout).
    deadline = time.monotonic() + 8
    time.sleep(0.5)
    while True:
        for i, s in enumerate(held):
            if select.select([s], [], [], 0)[0]:
                s.close()
                held[i] = partial("198.51.100.1")
                time.sleep(0.2)
        status, doc, _ = request("GET", "/api/health", "198.51.100.1")
        if status == 503 or time.monotonic() > deadline:
            break
        time.sleep(0.2)
    tap.ok(status == 503 and doc is not None and doc.get("error") == "tempfail",
           "198.51.100.1 past %d requests in flight through the proxy → 503 tempfail (%r %r)"
           % (PER_IP, status, doc))
    status, _, _ = request("GET", "/api/health", "198.51.100.2")
    tap.eq(200, status, "198.51.100.2 through the same proxy is served meanwhile")
    for s in held:
        s.close()
    time.sleep(0.5)
    status, _, _ = request("GET", "/api/health", "198.51.100.1")
    tap.eq(200, status, "once its requests end, 198.51.100.1 is served again")

    # (c) The penalty follows the forwarded address too.
    for i in range(2):
        request("POST", "/api/login", "198.51.100.7",
                {"login": "ghost", "password": "Mauvais-Passe-%d" % i})
    status, _, took = request("POST", "/api/login", "198.51.100.7",
                              {"login": "ghost", "password": "Mauvais-Passe-9"})
    tap.ok(status == 401 and took >= 2.0,
           "failures from 198.51.100.7 delay its next login (%r after %.2f s)" % (status, took))
    status, _, took = request("POST", "/api/login", "198.51.100.8",
                              {"login": "ghost", "password": "Mauvais-Passe-0"})
    tap.ok(status == 401 and took < 2.0,
           "198.51.100.8 through the same proxy is not delayed (%r after %.2f s)" % (status, took))

    # (d) Requests held by the penalty of a forwarded address: 10 parallel logins with one valid
    # code all answer within the penalty's cap (8 s), exactly one 200.
    pw = os.environ["CANARY_PW"]
    ident, secret, _ = active_user(Client(ADMIN), Client(AUTH), 4301, pw)
    for i in range(2):
        request("POST", "/api/login", "198.51.100.9",
                {"login": "ghost", "password": "Mauvais-Passe-%d" % i})
    code = totp(secret, 30)
    results = [None] * 10
    barrier = threading.Barrier(10)

    def go(i):
        barrier.wait()
        results[i] = request("POST", "/api/login", "198.51.100.9",
                             {"login": ident, "password": pw, "otp": code})

    threads = [threading.Thread(target=go, args=(i,)) for i in range(10)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    statuses = [r[0] for r in results if r is not None]
    slowest = max(r[2] for r in results if r is not None)
    summary = {st: statuses.count(st) for st in set(statuses)}
    tap.eq(1, statuses.count(200), "10 parallel logins from a penalised address: one 200 %r" % summary)
    tap.ok(len(statuses) == 10 and all(st in (200, 401, 503) for st in statuses),
           "… the others 401 or 503 %r" % summary)
    tap.ok(slowest <= 8 + 2, "… all answered within the penalty's cap (8 s): slowest %.2f s" % slowest)
    t_ok = [r[2] for r in results if r is not None and r[0] == 200]
    after = [r[2] - t_ok[0] for r in results if r is not None and r[0] == 401] if t_ok else []
    tap.ok(len(after) >= 1 and max(after) < 1.0,
           "… what was held behind the 200 answers at once after it (%s s later)"
           % ", ".join("%.2f" % x for x in after))

    # A direct peer that is no proxy is still limited by its own address.
    direct = [conn("127.0.0.4") for _ in range(PER_IP)]
    time.sleep(0.5)  # the server's threads accept in their own order: let these be first
    extra = conn("127.0.0.4")
    try:
        extra.sendall(b"GET /api/health HTTP/1.1\r\nHost: x\r\n\r\n")
        refused = extra.recv(12) == b""
    except OSError:
        refused = True
    tap.ok(refused, "a direct peer past per_ip_connections is refused")
    for s in direct + [extra]:
        s.close()


main_run(run)
PY
