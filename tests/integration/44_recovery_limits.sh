#!/usr/bin/env bash
# Recovery mail floods (issue 7, point 6): 400 forgot-password asks from rotating addresses once sent
# 398 mails to one rescue address. Now, per account and per rescue address, at most mails_per_hour in
# the hour window and mails_per_day a day, one outstanding code (a new ask neither mails nor replaces
# it), forgotten identifiant included, with the same answer whether a mail went or not. The hour
# window is set to its floor (10 s) and waited out for real.
. "$(dirname "$0")/lib.sh"
SENDMAIL=$(fake_sendmail)
write_config
cat >>"$CONF" <<CONF

[mail]
sendmail = $SENDMAIL
from = verdon@example.org

[penalty]
base_ms = 0

[recovery]
hour_window = 10
mails_per_hour = 3
mails_per_day = 4
CONF

start_daemon || exit 1

pytap <<'PY'
import re
from lib_proto import *

MAILDIR = T + "/mail"


def mails():
    return sorted(f for f in os.listdir(MAILDIR) if not f.endswith(".tmp"))


def new_mails(before, want, timeout=10.0):
    """Waits for `want` new messages (bounded), then 1.5 s more for any extra; their contents."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline and len([f for f in mails() if f not in before]) < want:
        time.sleep(0.05)
    time.sleep(1.5)
    out = []
    for f in mails():
        if f not in before:
            with open(os.path.join(MAILDIR, f), "rb") as fh:
                out.append(fh.read())
    return out


def run(tap):
    admin, auth = Client(ADMIN), Client(AUTH)
    p = user_add(admin, 1)  # no authenticator: an ask mails the helpdesk notice
    pid = p.get("identifiant")
    ask = lambda login, n: auth.call("RESET_ASK", {"login": login, "address": "192.0.2.%d" % n}, rid="x")

    # The hourly limit, from rotating addresses.
    before, t0 = mails(), time.monotonic()
    answers = [ask(pid, n).raw for n in range(1, 4)]
    tap.eq(3, len(new_mails(before, 3)), "3 asks within the hour: 3 mails")
    before = mails()
    answers += [ask(pid, n).raw for n in range(4, 8)]
    tap.eq(0, len(new_mails(before, 0)), "4 more asks from 4 more addresses: no mail")
    tap.eq(1, len(set(answers)), "the same answer whether a mail went or not")
    unknown = ask("personne.inconnue", 9).raw
    tap.eq(answers[0], unknown, "… and the same as for an unknown login")
    ia = auth.call("IDENT_ASK", {"numen": numen(1), "birth": "1980-01-01", "last": letters(1),
                                 "address": "192.0.2.10"}, rid="x")
    tap.eq("OK", ia.short(), "a matching forgotten identifiant answers OK")
    tap.eq(0, len(new_mails(before, 0)), "… and mails nothing: the account's hour is spent")

    # Wait the hour window out, for real.
    time.sleep(max(0.0, t0 + 10.5 - time.monotonic()))
    before, t1 = mails(), time.monotonic()
    ask(pid, 11)
    tap.eq(1, len(new_mails(before, 1)), "after the hour window: a mail again (the 4th today)")
    time.sleep(max(0.0, t1 + 10.5 - time.monotonic()))
    before = mails()
    ask(pid, 12)
    tap.eq(0, len(new_mails(before, 0)), "another hour later: no mail, the day's 4 are spent")

    # One rescue address shared by several accounts: its own limit.
    shared = [user_add(admin, n, rescue_email="famille@example.net").get("identifiant") for n in range(20, 24)]
    before = mails()
    for i, ident in enumerate(shared[:3]):
        ask(ident, 30 + i)
    tap.eq(3, len(new_mails(before, 3)), "3 accounts sharing a rescue address: 3 mails")
    before = mails()
    ask(shared[3], 40)
    tap.eq(0, len(new_mails(before, 0)), "a 4th account on that address: no mail this hour")
    ok = auth.call("IDENT_ASK", {"numen": numen(23), "birth": "1980-01-01", "last": letters(23),
                                 "address": "192.0.2.41"}, rid="x")
    tap.eq(0, len(new_mails(before, 0)), "nor its forgotten identifiant")

    # One outstanding code: a second ask neither mails nor replaces it.
    a = user_add(admin, 50)
    ident, temp = a.get("identifiant"), a.get("temporary_password")
    auth.call("PASSWD", {"login": ident, "password": temp, "new": "Velo-Rouge-Matin-42", "service": "test"})
    secret = secret_of(admin.call("OTP_ENROLL", {"login": ident}).get("uri", "?"))
    fresh_step()
    c = admin.call("OTP_CONFIRM", {"login": ident, "code": totp(secret)})
    recovery = c.get("recovery_codes", "").split(",")
    before = mails()
    ask(ident, 51)
    got = new_mails(before, 1)
    m = re.search(rb"Votre code : (\d{6})\n", got[0]) if len(got) == 1 else None
    tap.ok(m is not None, "an account with an authenticator: the code is mailed")
    before = mails()
    ask(ident, 52)
    tap.eq(0, len(new_mails(before, 0)), "a second ask while it is outstanding: no mail")
    r = auth.call("RESET_CONFIRM", {"login": ident, "code": m.group(1).decode() if m else "000000",
                                    "recovery": recovery[0], "new": "Autre-Passe-Bleu-77",
                                    "address": "192.0.2.53"})
    tap.eq("OK", r.short(), "the first code still works: the second ask did not replace it")


tap = Tap()
run(tap)
PY

audit=$(jctl audit --limit 200)
grep -q "mail limit: mails_per_hour for this account" <<<"$audit" && ok "the audit says which limit held a mail back" ||
	not_ok "the audit says which limit held a mail back"
grep -q "mails_per_day for this account" <<<"$audit" && ok "… the daily one too" || not_ok "… the daily one too"
grep -q "mails_per_hour for this rescue address" <<<"$audit" && ok "… and the rescue address's" ||
	not_ok "… and the rescue address's"
grep -q "a code is outstanding" <<<"$audit" && ok "… and the outstanding code" || not_ok "… and the outstanding code"
stop_daemon
echo "1..$N"
