#!/usr/bin/env bash
# Failover: a PostgreSQL primary with a synchronous streaming standby, two verdond nodes, a stream
# of changes (USER_ADD) and logins (password + code) on both; the primary is killed with SIGKILL
# mid-run and the standby promoted. Asserted: no acknowledged change lost, no used code accepted
# again, no OK while no primary exists, logins succeed again within 10 s of the promotion without
# restarting verdond.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/pg_lib.sh"

failover_cleanup() {
	node_stop a
	node_stop b
	pg_cleanup
	cleanup
}
trap failover_cleanup EXIT

pg_start primary || { not_ok "the primary starts"; exit 1; }
pg_start standby standby-of:primary || { not_ok "the standby starts"; exit 1; }
# Synchronous only now that the standby is there: a commit then waits for its flush.
pg_psql primary "ALTER SYSTEM SET synchronous_standby_names = 'standby'" >/dev/null
pg_psql primary "SELECT pg_reload_conf()" >/dev/null
for _ in $(seq 1 100); do
	[ "$(pg_psql primary "SELECT sync_state FROM pg_stat_replication WHERE application_name = 'standby'")" = sync ] && break
	sleep 0.1
done
expect "the standby replicates synchronously" sync \
	"$(pg_psql primary "SELECT sync_state FROM pg_stat_replication WHERE application_name = 'standby'")"

# Both nodes know both servers; only the writable one is used.
CONNINFO="host=$(pg_dir primary),$(pg_dir standby) port=$(pg_port primary),$(pg_port standby) dbname=verdon user=postgres target_session_attrs=read-write"
node_config a "$CONNINFO"
node_config b "$CONNINFO"
node_start a || { not_ok "node a starts"; exit 1; }
cp "$T/a/state/verdon.key" "$T/b/state/verdon.key"
node_start b || { not_ok "node b starts"; exit 1; }

PRIMARY_PID=$(pg_pid primary) STANDBY_DATA="$(pg_dir standby)/data" PG_BIN="$PG_BIN" pytap <<'PY'
from lib_proto import *
import signal, threading

A, B = T + "/a/", T + "/b/"
NODES = [A, B]

def run(tap):
    pw = os.environ["CANARY_PW"]
    adm = Client(A + "admin.sock")
    auth = Client(A + "auth.sock")
    users = [active_user(adm, auth, 7000 + i, pw) for i in range(16)]
    adm.close(); auth.close()

    lock = threading.Lock()
    acked, accepted, log = [], [], []  # acknowledged adds; (ident, secret, code) accepted; (t, kind, answer)
    stop = threading.Event()

    def changes(node, base):
        n = 0
        c = None
        while not stop.is_set():
            try:
                c = c or Client(node + "admin.sock", timeout=20)
                a = user_add(c, base + n)
            except Exception as e:  # noqa: BLE001 - a reset connection is part of the outage
                c = None
                with lock:
                    log.append((time.monotonic(), "add", "error " + type(e).__name__))
                time.sleep(0.05)
                continue
            n += 1
            with lock:
                log.append((time.monotonic(), "add", a.short()))
                if a.verb == "OK":
                    acked.append(a.get("identifiant"))
            time.sleep(0.02)

    def logins(node, mine):
        used = {}  # ident → step last accepted
        c = None
        while not stop.is_set():
            for ident, secret, confirmed in mine:
                if stop.is_set():
                    break
                s = step()
                if used.get(ident, confirmed) >= s:
                    continue
                code = totp(secret)
                try:
                    c = c or Client(node + "auth.sock", timeout=20)
                    a = c.call("AUTH", {"login": ident, "password": pw, "otp": code,
                                        "service": "webmail"})
                except Exception as e:  # noqa: BLE001
                    c = None
                    with lock:
                        log.append((time.monotonic(), "login", "error " + type(e).__name__))
                    continue
                with lock:
                    log.append((time.monotonic(), "login", a.short()))
                    if a.verb == "OK":
                        used[ident] = s
                        accepted.append((ident, code))
            time.sleep(0.05)

    # Each person logs in once a step at most: four are kept unused for the probe after the
    # promotion, so that its first OK tells when the cluster is back, not when a step begins.
    threads = [threading.Thread(target=changes, args=(A, 100000)),
               threading.Thread(target=changes, args=(B, 200000)),
               threading.Thread(target=logins, args=(A, users[:6])),
               threading.Thread(target=logins, args=(B, users[6:12]))]
    for t in threads:
        t.start()
    time.sleep(4)
    t_kill = time.monotonic()
    os.kill(int(os.environ["PRIMARY_PID"]), signal.SIGKILL)
    time.sleep(3)
    t_promote = time.monotonic()
    subprocess.run(["runuser", "-u", "postgres", "--", os.environ["PG_BIN"] + "/pg_ctl", "-D",
                    os.environ["STANDBY_DATA"], "-w", "promote"], check=True, capture_output=True,
                   cwd=os.environ["T"])  # a directory postgres can enter, unlike a clone under /root
    # probe with the reserved people until a login succeeds, then wait for a change too (bounded)
    probe = [Client(n + "auth.sock", timeout=20) for n in NODES]
    deadline = time.monotonic() + 60
    i = 0
    while time.monotonic() < deadline:
        ident, secret, _ = users[12 + i % 4]
        # the next step's code: newer than the confirmation's even within its step (a replayed
        # code would be refused, and ten would lock the person)
        code = totp(secret, 30)
        try:
            a = probe[i % 2].call("AUTH", {"login": ident, "password": pw, "otp": code,
                                           "service": "webmail"})
        except Exception:  # noqa: BLE001
            probe[i % 2] = Client(NODES[i % 2] + "auth.sock", timeout=20)
            a = None
        i += 1
        if a is not None:
            with lock:
                log.append((time.monotonic(), "login", a.short()))
                if a.verb == "OK":
                    accepted.append((ident, code))
            if a.verb == "OK":
                break
        time.sleep(0.1)
    while time.monotonic() < deadline:
        with lock:
            if any(t > t_promote and k == "add" and ans == "OK" for (t, k, ans) in log):
                break
        time.sleep(0.1)
    time.sleep(3)
    stop.set()
    for t in threads:
        t.join(60)

    during = [(k, ans) for (t, k, ans) in log if t_kill + 0.5 < t < t_promote]
    first_ok = {k: min([t for (t, kk, ans) in log if kk == k and t > t_promote and ans == "OK"],
                       default=None) for k in ("add", "login")}
    tap.note("before the kill: %d answers; between kill and promotion: %d (%s)" % (
        len([x for x in log if x[0] < t_kill]), len(during), sorted(set(a for _, a in during))))
    tap.ok(len([x for x in log if x[0] < t_kill and x[2] == "OK"]) > 0, "changes and logins ran before the kill")
    tap.eq([], [x for x in during if x[1] == "OK"], "no OK while no primary exists")
    tap.ok(all(a.startswith("TEMPFAIL") or a.startswith("error") for _, a in during),
           "answers during the outage are TEMPFAIL (or a dropped connection)", during[:10])
    for k in ("add", "login"):
        ok_ = first_ok[k] is not None and first_ok[k] - t_promote <= 10
        tap.ok(ok_, "%s succeeds again within 10 s of the promotion" % k, first_ok)
        if first_ok[k] is not None:
            tap.note("%s: outage %.1f s from the kill, back %.1f s after the promotion" % (
                k, first_ok[k] - t_kill, first_ok[k] - t_promote))

    adm_a, adm_b = Client(A + "admin.sock"), Client(B + "admin.sock")
    lost = [i for i in acked if adm_b.call("USER_SHOW", {"login": i}).verb != "OK"]
    tap.note("acknowledged changes: %d, lost: %d" % (len(acked), len(lost)))
    tap.eq([], lost, "no acknowledged change is lost")
    auth_a = Client(A + "auth.sock")
    again = [(i, c) for (i, c) in accepted
             if auth_a.call("AUTH", {"login": i, "password": pw, "otp": c, "service": "webmail"}).verb == "OK"]
    tap.note("codes accepted: %d, accepted again after the failover: %d" % (len(accepted), len(again)))
    tap.eq([], again, "no used code is accepted again")

main_run(run)
PY
