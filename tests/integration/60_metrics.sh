#!/usr/bin/env bash
# [metrics] listen: the Prometheus text endpoint, scraped before and after a scenario
# (observe_scenario.py): the decision counters move by exactly what was done, latency
# histograms and gauges are there, and no label holds a login, an address or a secret.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/mail_lib.sh"
export T CANARY_PW
PORT=$(mail_free_port)
write_config
printf '\n[metrics]\nlisten = 127.0.0.1:%s\n\n[penalty]\nbase_ms = 0\n' "$PORT" >>"$CONF"
start_daemon || exit 1
export METRICS_URL="http://127.0.0.1:$PORT/metrics"

pytap <<'PY'
import re
import urllib.request
import urllib.error

from lib_proto import *
import observe_scenario

URL = os.environ["METRICS_URL"]


def scrape():
    with urllib.request.urlopen(URL, timeout=10) as r:
        return r.headers.get("Content-Type", ""), r.read().decode()


def samples(text):
    out = {}
    for line in text.splitlines():
        if line and not line.startswith("#"):
            name, _, value = line.rpartition(" ")
            out[name] = float(value)
    return out


def scenario(tap):
    admin = Client(T + "/admin.sock")
    auth = Client(T + "/auth.sock")
    ctype, before_text = scrape()
    tap.ok(ctype.startswith("text/plain; version=0.0.4"), "exposition content type", ctype)
    before = samples(before_text)
    ident = observe_scenario.run(tap, admin, auth)
    time.sleep(1.5)  # queued audit records (none here) and the mailer: nothing pending
    _, text = scrape()
    after = samples(text)

    def moved(series):
        return after.get(series, 0) - before.get(series, 0)

    dec = 'verdon_decisions_total{service="%s",action="auth",credential="%s",result="%s",reason="%s"}'
    tap.eq(4, moved(dec % ("imap", "password", "refused", "invalid")),
           "4 IMAP refusals counted (3 wrong passwords, 1 from a non-numeric address)")
    tap.eq(1, moved(dec % ("smtp", "password", "refused", "invalid")), "1 SMTP refusal counted")
    tap.eq(1, moved(dec % ("webmail", "password_otp", "ok", "none")), "1 webmail success counted")
    # "test" has no [service] section: the label is the policy's name, never the name sent.
    tap.eq(1, moved('verdon_decisions_total{service="default",action="passwd",credential="password",'
                    'result="ok",reason="none"}'), "the first password change counted")
    tap.ok('service="test"' not in text, "a service name without a policy is no label")
    lat = 'socket="auth",lane="hash",verb="AUTH"'
    n = after.get('verdon_request_duration_seconds_count{%s}' % lat, 0)
    tap.ok(n >= 6, "AUTH latency histogram (hash lane) counts every password AUTH", n)
    inf = after.get('verdon_request_duration_seconds_bucket{%s,le="+Inf"}' % lat, -1)
    tap.eq(n, inf, "the +Inf bucket equals the count")
    # The store counts are reused for 10 s: wait for them to be read again, for real.
    deadline = time.monotonic() + 30
    while after.get("verdon_accounts") != 1.0 and time.monotonic() < deadline:
        time.sleep(1)
        text = scrape()[1]
        after = samples(text)
    tap.eq(1.0, after.get("verdon_accounts"), "accounts gauge refreshed after its 10 s")
    tap.ok("verdon_store_usage_ratio" in after and 0 < after["verdon_store_usage_ratio"] < 1,
           "store usage ratio", after.get("verdon_store_usage_ratio"))
    tap.ok(after.get("verdon_penalised_addresses", 0) >= 2, "penalised addresses counted",
           after.get("verdon_penalised_addresses"))
    tap.ok(moved("verdon_argon2_hashes_total") >= 6, "argon2 hashes counted")
    for g in ('verdon_worker_queue_depth{lane="hash"}', 'verdon_worker_queue_depth{lane="fast"}',
              "verdon_worker_in_flight", "verdon_tempfail_total",
              'verdon_mails_total{result="sent"}', 'verdon_mails_total{result="limited"}',
              "verdon_sessions", "verdon_app_passwords"):
        tap.ok(g in after, "exposes " + g)
    tap.ok(re.search(r'^verdon_build_info\{version="[0-9.]+"\} 1$', text, re.M) is not None,
           "build info")
    for secret in (ident, "personne", "intrus", "192.0.2.", "2001:db8", observe_scenario.PASSWORD,
                   observe_scenario.WRONG):
        tap.ok(secret not in text, "no %r in the scrape" % secret)
    try:
        urllib.request.urlopen(URL.replace("/metrics", "/other"), timeout=10)
        tap.ok(False, "other paths are 404")
    except urllib.error.HTTPError as e:
        tap.eq(404, e.code, "other paths are 404")
    with open(T + "/scrape.txt", "w") as fh:
        fh.write(text)

    # Cheap requests that write nothing are answered by the event loop itself (lane "loop");
    # one that must write (an app password's first use moves its last use) goes to a worker
    # (lane "fast"), counted once.
    app = admin.call("APP_ADD", {"login": ident, "label": "m", "services": "imap"}).get("password")
    lane = 'verdon_request_duration_seconds_count{socket="auth",lane="%s",verb="%s"}'
    base = samples(scrape()[1])
    def lane_moved(which, verb):
        return samples(scrape()[1]).get(lane % (which, verb), 0) - base.get(lane % (which, verb), 0)
    tap.eq("OK", auth.call("AUTH", {"login": ident, "password": app, "service": "imap"}).verb,
           "the app password's first use")
    tap.eq((1, 0), (lane_moved("fast", "AUTH"), lane_moved("loop", "AUTH")),
           "… writes its last use: a worker answered it, counted once")
    for _ in range(3):
        auth.call("AUTH", {"login": ident, "password": app, "service": "imap"})
    auth.call("ACCT", {"login": ident, "service": "imap"})
    tap.eq((1, 3, 1), (lane_moved("fast", "AUTH"), lane_moved("loop", "AUTH"),
                       lane_moved("loop", "ACCT")),
           "the next three and an ACCT write nothing: the loop answered them")


main_run(scenario)
PY
check "the daemon is still running" kill -0 "$DAEMON_PID"
[ -n "${SHOW_SCRAPE:-}" ] && grep -v '^#' "$T/scrape.txt" | sed 's/^/# /'
exit 0
