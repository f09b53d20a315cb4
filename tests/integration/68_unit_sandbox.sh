#!/usr/bin/env bash
# verdond under the shipped unit's sandbox, without systemd: unit_sandbox.py applies the unit's
# SystemCallFilter (allow-list and deny lists, as systemd expands them), RestrictAddressFamilies,
# MemoryDenyWriteExecute and NoNewPrivileges through seccomp, then runs verdond. Everything the
# daemon does must still work: sockets given their group (chown), Argon2 logins on LMDB, the
# admin socket, a backup, a reload, the HTTP page, the metrics, mail through the SMTP relay
# (libcurl), the 1 s tick, a clean stop. A filter that forbade one of these fails here.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/mail_lib.sh"
export T CANARY_PW
UNIT="$ROOT/systemd/verdond.service"
METRICS_PORT=$(mail_free_port)
HTTP_PORT=$(mail_free_port)
sink_start || { not_ok "the SMTP sink starts"; exit 1; }

EXTRA_VERDON="auth_group = nogroup"
write_config
printf '\n[mail]\nrelay = smtp://127.0.0.1:%s\nfrom = verdon@example.org\n[metrics]\nlisten = 127.0.0.1:%s\n[http]\nlisten = 127.0.0.1:%s\n[penalty]\nbase_ms = 0\n' \
	"$SMTP_PORT" "$METRICS_PORT" "$HTTP_PORT" >>"$CONF"
# The sandbox really filters: a forbidden call (chroot, in the unit's deny list) fails with EPERM.
check "the sandbox refuses what the unit denies (chroot)" \
	bash -c "python3 '$ROOT/tests/integration/unit_sandbox.py' '$UNIT' /usr/sbin/chroot / /bin/true 2>&1 | grep -q 'Operation not permitted'"
check "the sandbox refuses a socket family the unit does not list (AF_NETLINK)" \
	bash -c "! python3 '$ROOT/tests/integration/unit_sandbox.py' '$UNIT' /usr/bin/python3 -c 'import socket; socket.socket(socket.AF_NETLINK, socket.SOCK_RAW)' 2>/dev/null"

# Under `make sanitize`, LeakSanitizer needs ptrace, which the unit rightly forbids (@debug).
if ! ASAN_OPTIONS="${ASAN_OPTIONS:+$ASAN_OPTIONS:}detect_leaks=0" \
	start_daemon python3 "$ROOT/tests/integration/unit_sandbox.py" "$UNIT"; then
	not_ok "verdond starts under the unit's sandbox"
	exit 1
fi
ok "verdond starts under the unit's sandbox"
expect "the auth socket got its group (chown allowed)" nogroup "$(stat -c %G "$T/auth.sock")"
export METRICS_PORT HTTP_PORT

pytap <<'PY'
import signal
import urllib.request

from lib_proto import *


def get(url):
    with urllib.request.urlopen(url, timeout=10) as r:
        return r.status, r.read().decode("utf-8", "replace")



def scenario(tap):
    admin = Client(T + "/admin.sock")
    auth = Client(T + "/auth.sock")
    ident, secret, confirmed = active_user(admin, auth, 5, os.environ["CANARY_PW"])
    next_step(confirmed)
    a = auth.call("AUTH", {"login": ident, "password": os.environ["CANARY_PW"], "otp": totp(secret),
                           "service": "webmail", "address": "192.0.2.5"})
    tap.eq("OK", a.verb, "a full login (Argon2, LMDB commit)")
    a = auth.call("AUTH", {"login": ident, "password": "Faux-Passe-123-Abc", "service": "webmail",
                           "address": "192.0.2.5"})
    tap.eq("FAIL", a.verb, "a refusal")
    b = admin.call("BACKUP", {"path": T + "/backup.mdb"})
    tap.eq("OK", b.verb, "an online backup")
    tap.eq("OK", admin.call("STATUS").verb, "STATUS")
    status, page = get("http://127.0.0.1:%s/" % os.environ["HTTP_PORT"])
    tap.eq(200, status, "the HTTP page")
    status, text = get("http://127.0.0.1:%s/metrics" % os.environ["METRICS_PORT"])
    tap.ok(status == 200 and "verdon_build_info" in text, "the metrics")
    a = auth.call("RESET_ASK", {"login": ident, "address": "192.0.2.5"})
    tap.eq("OK", a.verb, "RESET_ASK")
    tap.ok(wait_for(lambda: any(f.endswith(".json") for f in os.listdir(T + "/sink"))),
           "the mail reached the SMTP relay (libcurl, a new thread)")
    os.kill(int(os.environ["DAEMON_PID"]), signal.SIGHUP)
    time.sleep(2.5)  # the reload, and the one-second tick crossed twice
    tap.eq("OK", admin.call("STATUS").verb, "still answering after a reload")


main_run(scenario)
PY
check "still running" kill -0 "$DAEMON_PID"
kill -TERM "$DAEMON_PID"
wait "$DAEMON_PID"
expect "a clean stop (exit 0)" 0 "$?"
DAEMON_PID=""
check "nothing was refused by the sandbox (no EPERM in the log)" \
	bash -c "! grep -Eqi 'operation not permitted|permission denied' '$T/verdond.log'"
check "no error in the log" bash -c "! grep -q ': error: ' '$T/verdond.log'"
exit 0
