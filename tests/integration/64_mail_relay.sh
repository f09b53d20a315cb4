#!/usr/bin/env bash
# [mail] relay: SMTP submission through libcurl, the packaged default (the hardened unit cannot run
# a setgid sendmail). A tiny loopback SMTP sink (smtp_sink.py) takes the forgotten-password mail: the
# envelope is the rescue address and [mail] from, the message has CRLF line ends and its code.
# Then a reload points the relay at a closed port with a password in the URL: the mail fails,
# is counted as failed in the metrics, logged without the URL's password, and nothing is sent;
# the failed mail does not count against [recovery] mails_per_hour (a third ask is tried again),
# and once the relay is back, the ask past the limit is counted as limited.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/mail_lib.sh"
export T CANARY_PW
METRICS_PORT=$(mail_free_port)
CLOSED_PORT=$(mail_free_port)
sink_start || { not_ok "the SMTP sink starts"; exit 1; }

write_config
cp "$CONF" "$T/base.conf"
# Two recovery mails an hour, a new ask mailing anew: the third ask is held back ("limited").
printf '\n[mail]\nrelay = smtp://127.0.0.1:%s\nsendmail = /bin/false\nfrom = verdon@example.org\n[metrics]\nlisten = 127.0.0.1:%s\n[penalty]\nbase_ms = 0\n[recovery]\nmails_per_hour = 2\nresend_while_outstanding = yes\n' \
	"$SMTP_PORT" "$METRICS_PORT" >>"$CONF"
start_daemon || exit 1
export METRICS_PORT CLOSED_PORT CONF

pytap <<'PY'
import json
import re
import signal
import urllib.request

from lib_proto import *

SINK = T + "/sink"


def sunk():
    return sorted(f for f in os.listdir(SINK) if f.endswith(".json"))


def metric(name):
    url = "http://127.0.0.1:%s/metrics" % os.environ["METRICS_PORT"]
    with urllib.request.urlopen(url, timeout=10) as r:
        for line in r.read().decode().splitlines():
            if line.startswith(name + " "):
                return float(line.split()[-1])
    return None



def scenario(tap):
    admin = Client(T + "/admin.sock")
    auth = Client(T + "/auth.sock")
    ident, secret, _ = active_user(admin, auth, 3, os.environ["CANARY_PW"])
    a = auth.call("RESET_ASK", {"login": ident, "address": "192.0.2.1"})
    tap.eq("OK", a.verb, "RESET_ASK answered")
    tap.ok(wait_for(lambda: len(sunk()) == 1), "the relay got one message")
    with open(os.path.join(SINK, sunk()[0])) as fh:
        env = json.load(fh) if sunk() else {}
    tap.eq("<verdon@example.org>", env.get("from"), "envelope sender: [mail] from")
    tap.eq(["<rescue3@example.net>"], env.get("to"), "envelope recipient: the rescue address only")
    data = env.get("data", "")
    tap.ok("\r\nTo: rescue3@example.net\r\n" in data, "headers with CRLF line ends")
    tap.ok(re.search(r"Votre code : \d{6}\r\n", data) is not None, "the code is in the message")
    tap.ok("\n" not in data.replace("\r\n", ""), "no bare LF")
    tap.ok(wait_for(lambda: metric('verdon_mails_total{result="sent"}') == 1.0),
           "metrics: one mail sent")

    # A relay that does not answer, with a password in its URL.
    with open(os.environ["CONF"]) as fh:
        conf = fh.read()
    with open(os.environ["CONF"] + ".ok", "w") as fh:
        fh.write(conf)
    conf = re.sub(r"relay = .*", "relay = smtp://verdon:Relais-Secret-42@127.0.0.1:%s"
                  % os.environ["CLOSED_PORT"], conf)
    with open(os.environ["CONF"], "w") as fh:
        fh.write(conf)
    os.kill(int(os.environ["DAEMON_PID"]), signal.SIGHUP)
    time.sleep(1)
    a = auth.call("RESET_ASK", {"login": ident, "address": "192.0.2.1"})
    tap.eq("OK", a.verb, "RESET_ASK answered while the relay is down (the answer never waits)")
    tap.ok(wait_for(lambda: metric('verdon_mails_total{result="failed"}') == 1.0),
           "metrics: one mail failed")
    tap.eq(1, len(sunk()), "nothing more reached the sink")
    # The failed mail gave its [recovery] slot back (mail_undo.c): the next ask is tried again.
    a = auth.call("RESET_ASK", {"login": ident, "address": "192.0.2.1"})
    tap.eq("OK", a.verb, "a third RESET_ASK gets the same answer")
    tap.ok(wait_for(lambda: metric('verdon_mails_total{result="failed"}') == 2.0),
           "metrics: it is tried (the failed mail did not count against mails_per_hour)")
    # The relay back: one more mail goes, and that one fills the hour (2 sent).
    os.rename(os.environ["CONF"] + ".ok", os.environ["CONF"])
    os.kill(int(os.environ["DAEMON_PID"]), signal.SIGHUP)
    time.sleep(1)
    auth.call("RESET_ASK", {"login": ident, "address": "192.0.2.1"})
    tap.ok(wait_for(lambda: len(sunk()) == 2), "the relay back, the next ask is mailed")
    a = auth.call("RESET_ASK", {"login": ident, "address": "192.0.2.1"})
    tap.eq("OK", a.verb, "a fifth RESET_ASK gets the same answer")
    tap.ok(wait_for(lambda: metric('verdon_mails_total{result="limited"}') == 1.0),
           "metrics: the fifth mail is held back by [recovery] mails_per_hour")
    time.sleep(1)
    tap.eq(2.0, metric('verdon_mails_total{result="failed"}'), "… and never tried")
    tap.eq(2, len(sunk()), "… nor sent")


main_run(scenario)
PY
check "the failure is logged" grep -q 'error: mail: the reset code for .* not sent: code withdrawn.*(mail relay: ' "$T/verdond.log"
check "the relay's password is never logged" bash -c "! grep -q Relais-Secret '$T/verdond.log'"
check "nothing went to sendmail" bash -c "! grep -q 'sendmail' '$T/verdond.log'"
exit 0
