#!/usr/bin/env bash
# Type=notify without systemd: the test listens on a NOTIFY_SOCKET of its own and starts verdond
# with it and a 1 s WATCHDOG_USEC, as systemd would. READY=1 comes once both sockets accept
# (checked by connecting the moment it arrives), WATCHDOG=1 keeps coming from the loop (crossed
# for real: several periods), SIGTERM sends STOPPING=1; the daemon exits 0. Without NOTIFY_SOCKET
# every other scenario runs the same binary.
. "$(dirname "$0")/lib.sh"
write_config
export T VERDOND CONF

PYTAP_TIMEOUT=120 pytap <<'PY'
import os
import signal
import socket
import subprocess
import time

from lib_proto import Client, Tap, main_run

T = os.environ["T"]


def scenario(tap):
    path = T + "/notify.sock"
    ns = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    ns.bind(path)
    ns.settimeout(20)
    env = dict(os.environ, NOTIFY_SOCKET=path, WATCHDOG_USEC="1000000")
    env.pop("WATCHDOG_PID", None)
    log = open(T + "/verdond.log", "ab")
    p = subprocess.Popen([os.environ["VERDOND"], "-c", os.environ["CONF"]], env=env,
                         stdout=log, stderr=log)
    try:
        got = []

        def until(word, deadline_s=20):
            end = time.monotonic() + deadline_s
            while time.monotonic() < end:
                try:
                    msg = ns.recv(4096).decode()
                except socket.timeout:
                    break
                got.append(msg)
                if word in msg.split("\n"):
                    return msg
            return None

        ready = until("READY=1")
        tap.ok(ready is not None, "READY=1 received", got)
        ok_auth = ok_admin = False
        try:
            ok_auth = Client(T + "/auth.sock", timeout=10).server_version is not None
            ok_admin = Client(T + "/admin.sock", timeout=10).server_version is not None
        except OSError as e:
            tap.note("connect: %s" % e)
        tap.ok(ok_auth and ok_admin, "both sockets accept when READY=1 arrives")
        start = time.monotonic()
        pings = 0
        while pings < 4 and time.monotonic() - start < 20:
            if until("WATCHDOG=1", 5) is not None:
                pings += 1
        tap.eq(4, pings, "WATCHDOG=1 keeps coming (4 pings with a 1 s watchdog)")
        tap.ok(time.monotonic() - start >= 2.0, "the pings span real periods, not a burst",
               time.monotonic() - start)
        p.send_signal(signal.SIGTERM)
        stopping = until("STOPPING=1")
        tap.ok(stopping is not None, "STOPPING=1 after SIGTERM", got[-3:])
        tap.eq(0, p.wait(timeout=30), "the daemon exits 0")
    finally:
        if p.poll() is None:
            p.kill()
            p.wait()
        log.close()


main_run(scenario)
PY
exit 0
