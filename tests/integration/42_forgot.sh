#!/usr/bin/env bash
# Forgotten password and forgotten identifiant, end to end: RESET_ASK, RESET_CONFIRM and IDENT_ASK
# on the auth socket (and their HTTP routes when the daemon serves HTTP), with a sendmail command
# of the test's own that keeps each message in a file: the French mail and its code, the code
# working once and only with the second factor (TOTP code or recovery code), five tries, a new
# ask replacing the old code, the helpdesk case, identical answers for unknown accounts and no
# mail for them, the identifiant mailed only when NUMEN, birth date and surname match, the
# throttle, the audit trail, and no secret in the daemon's log.
EXTRA_THROTTLE="lock_after = 20"
EXTRA_VERDON="idle_timeout = 600"
. "$(dirname "$0")/lib.sh"
export T CANARY_PW
LIBDIR="$ROOT/tests/integration"

# The [mail] sendmail command is split on spaces and run without a shell: a script of ours,
# which writes each message whole (renamed into place) under $T/mail.
mkdir -p "$T/mail"
cat >"$T/fake-sendmail.sh" <<SH
umask 077
f="$T/mail/\$(date +%s%N).\$\$"
cat >"\$f.tmp" && mv "\$f.tmp" "\$f"
SH

HTTP_PORT=""
if grep -q MHD_start_daemon "$ROOT"/daemon/*.c 2>/dev/null; then
	HTTP_PORT=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
fi
write_config
cat >>"$CONF" <<CONF

[mail]
sendmail = /bin/sh $T/fake-sendmail.sh
from = verdon@example.org

[penalty]
; every ask counts against the address: no delay here, so that the scenario runs fast
base_ms = 0

[recovery]
; this scenario asks again and again for a few accounts, and checks that a new ask replaces the
; code: the mail limits and the one outstanding code have their own, 44_recovery_limits
resend_while_outstanding = yes
mails_per_hour = 50
mails_per_day = 50
CONF
[ -n "$HTTP_PORT" ] && printf '\n[http]\nlisten = 127.0.0.1:%s\n' "$HTTP_PORT" >>"$CONF"
export HTTP_PORT

# Runs python (the code on stdin) with lib_proto importable; numbers its ok / not ok lines.
pytap() {
	local line rc
	while IFS= read -r line; do
		case "$line" in
		"ok - "*) ok "${line#ok - }" ;;
		"not ok - "*) not_ok "${line#not ok - }" ;;
		*) echo "$line" ;;
		esac
	done < <(env PYTHONPATH="$LIBDIR" PYTHONDONTWRITEBYTECODE=1 T="$T" CANARY_PW="$CANARY_PW" \
		DAEMON_PID="$DAEMON_PID" timeout 600 python3 -)
	wait $!
	rc=$?
	[ $rc -eq 0 ] || [ $rc -eq 1 ] || not_ok "python scenario exited $rc (124: timed out)"
}

start_daemon || exit 1

pytap <<'PY'
import email
import email.policy
import json
import re
import urllib.error
import urllib.request

from lib_proto import *

MAILDIR = T + "/mail"
PW1 = os.environ["CANARY_PW"]
PW2 = "Nouveau-Mot-2-Passe-Sûr"
PW3 = "Encore-Un-Autre-9-Secret"
PW4 = "Quatrieme-Passe-4-Vert"
SECRETS = []  # every secret of the scenario: none may reach the daemon's log


def mails():
    return sorted(f for f in os.listdir(MAILDIR) if not f.endswith(".tmp"))


def wait_mail(before, timeout=10.0):
    """The first message written after `before` (a list of names), or None."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        new = [f for f in mails() if f not in before]
        if new:
            with open(os.path.join(MAILDIR, new[0]), "rb") as fh:
                return fh.read()
        time.sleep(0.05)
    return None


def no_mail(before, wait=2.0):
    time.sleep(wait)
    return [f for f in mails() if f not in before] == []


def parse(raw):
    return email.message_from_bytes(raw, policy=email.policy.default)


def code_of(raw):
    m = re.search(rb"Votre code : (\d{6})\n", raw)
    return m.group(1).decode() if m else None


def run(tap):
    admin, auth = Client(ADMIN), Client(AUTH)
    ident, secret, used, recovery = enrolled(admin, auth, 1, PW1)
    SECRETS.extend([PW2, PW3, PW4, secret] + recovery)

    # --- ask: the mail ---
    before = mails()
    a = auth.call("RESET_ASK", {"login": ident, "address": "192.0.2.1"}, rid="x")
    tap.eq("OK", a.short(), "RESET_ASK for a known account → OK")
    known_raw = a.raw
    raw = wait_mail(before)
    tap.ok(raw is not None, "a message goes to sendmail")
    raw = raw or b""
    msg = parse(raw)
    code = code_of(raw)
    SECRETS.append(code or "")
    tap.ok(code is not None, "the message carries a 6-digit code")
    tap.eq("rescue1@example.net", msg["To"], "… to the rescue address only")
    tap.ok(msg["Cc"] is None and msg["Bcc"] is None, "… and nobody else")
    tap.eq("verdon@example.org", msg["From"], "… from [mail] from")
    tap.ok(msg["Date"] is not None and re.match(r"<[0-9a-f]{32}@example\.org>$", msg["Message-ID"] or ""),
           "… with a Date and a Message-ID", raw[:600])
    tap.eq("text/plain", msg.get_content_type(), "… as plain text")
    tap.eq("utf-8", msg.get_content_charset(), "… in UTF-8")
    tap.eq("8bit", msg["Content-Transfer-Encoding"], "… 8bit")
    body = msg.get_content()
    tap.ok("Bonjour" in body and "valable 15 minutes" in body and ident in body,
           "… in French, naming the identifiant and the 15 minutes", body)
    tap.ok("Si vous n'êtes pas à l'origine de cette demande" in body,
           "… and saying what to do if it was not you", body)

    # --- unknown logins: the same answer, no mail ---
    before = mails()
    a = auth.call("RESET_ASK", {"login": "personne.inconnue", "address": "192.0.2.1"}, rid="x")
    tap.eq(known_raw, a.raw, "RESET_ASK for an unknown login: the very same answer")
    a = auth.call("RESET_ASK", {"login": "nobody@example.org", "address": "192.0.2.1"}, rid="x")
    tap.eq(known_raw, a.raw, "… for an unknown email too")
    a = auth.call("RESET_ASK", {"login": "\u00e9\u00e9 \t bad", "address": "192.0.2.1"}, rid="x")
    tap.eq(known_raw, a.raw, "… and for a login that cannot be one")
    tap.ok(no_mail(before), "… and no mail is sent for them")
    tap.eq("FAIL bad_request", auth.call("RESET_ASK", {}).short(), "RESET_ASK without login → bad_request")

    # --- confirm: the second factor is required ---
    base = {"login": ident, "code": code, "new": PW2, "address": "192.0.2.1"}
    a = auth.call("RESET_CONFIRM", base)
    tap.eq("FAIL bad_request", a.short(), "the code alone, without a second factor → refused")
    wrong_otp = "%06d" % ((int(totp(secret)) + 1) % 1000000)
    a = auth.call("RESET_CONFIRM", dict(base, otp=wrong_otp), rid="y")
    tap.eq("FAIL invalid", a.short(), "the right code with a wrong TOTP code → invalid")
    wrong_raw = a.raw
    a = auth.call("RESET_CONFIRM", dict(base, login="personne.inconnue", otp=wrong_otp), rid="y")
    tap.eq(wrong_raw, a.raw, "an unknown login gets the very same answer")
    next_step(used)
    a = auth.call("RESET_CONFIRM", dict(base, otp=totp(secret), new="court"))
    tap.eq("FAIL too_short", a.short(), "a weak new password → the policy's reason")
    tap.ok(bool(a.get("detail")), "… with a detail to show", a.raw)
    before = mails()
    used = step()
    a = auth.call("RESET_CONFIRM", dict(base, otp=totp(secret)))
    tap.eq("OK", a.short(), "code + current TOTP code + good password → OK")
    tap.eq(ident, a.get("identifiant"), "… naming the account")
    a = auth.call("AUTH", {"login": ident, "password": PW2, "service": "test"})
    tap.eq("FAIL otp_required", a.short(), "the new password is the password now")
    a = auth.call("AUTH", {"login": ident, "password": PW1, "service": "test"})
    tap.eq("FAIL invalid", a.short(), "the old one is gone")
    raw = wait_mail(before)
    tap.ok(raw is not None and "Si ce n'est pas vous" in parse(raw).get_content(),
           "a notice of the change is mailed, saying what to do if it was not you")
    next_step(used)
    a = auth.call("RESET_CONFIRM", dict(base, otp=totp(secret), new=PW3))
    tap.eq("FAIL invalid", a.short(), "the same code a second time → invalid")
    used = step()

    # --- five tries ---
    before = mails()
    auth.call("RESET_ASK", {"login": ident})
    code2 = code_of(wait_mail(before) or b"")
    SECRETS.append(code2 or "")
    wrong = "%06d" % ((int(code2) + 1) % 1000000)
    results = [auth.call("RESET_CONFIRM", dict(base, code=wrong, otp="000000", new=PW3)).short()
               for _ in range(RESET_TRIES)]
    tap.eq(["FAIL invalid"] * RESET_TRIES, results, "five wrong codes → invalid each time")
    next_step(used)
    a = auth.call("RESET_CONFIRM", dict(base, code=code2, otp=totp(secret), new=PW3))
    tap.eq("FAIL invalid", a.short(), "after five misses the right code is dead")

    # --- one outstanding; a recovery code as second factor ---
    before = mails()
    auth.call("RESET_ASK", {"login": ident})
    old = code_of(wait_mail(before) or b"")
    before = mails()
    auth.call("RESET_ASK", {"login": ident})
    new = code_of(wait_mail(before) or b"")
    SECRETS.extend([old or "", new or ""])
    if old != new:
        a = auth.call("RESET_CONFIRM", dict(base, code=old, recovery=recovery[0], new=PW3))
        tap.eq("FAIL invalid", a.short(), "a new ask replaces the old code")
    notice_before = mails()
    a = auth.call("RESET_CONFIRM", dict(base, code=new, recovery=recovery[1], new=PW3))
    tap.eq("OK", a.short(), "code + a recovery code → OK")
    wait_mail(notice_before)  # the change notice, sent after the answer, before anything is counted
    st = admin.call("OTP_STATUS", {"login": ident})
    tap.eq(str(OTP_RECOVERY_COUNT - 1), st.get("recovery_left"), "… and that recovery code is spent")
    tap.eq("FAIL otp_required", auth.call("AUTH", {"login": ident, "password": PW3, "service": "test"}).short(),
           "… and the password is the new one")

    # --- the helpdesk case: no authenticator, no reset by mail ---
    h = user_add(admin, 2)
    hid = h.get("identifiant")
    before = mails()
    a = auth.call("RESET_ASK", {"login": hid, "address": "192.0.2.1"}, rid="x")
    tap.eq(known_raw, a.raw, "RESET_ASK for an account without authenticator: the same answer")
    raw = wait_mail(before) or b""
    tap.ok(code_of(raw) is None and b"assistance" in raw,
           "… its mail sends to the helpdesk and carries no code", raw[-800:])
    a = auth.call("RESET_CONFIRM", {"login": hid, "code": "123456", "otp": "123456", "new": PW4})
    tap.eq("FAIL invalid", a.short(), "… and RESET_CONFIRM refuses it")

    # --- suspended: nothing mailed ---
    s = user_add(admin, 3)
    sid = s.get("identifiant")
    admin.call("USER_SUSPEND", {"login": sid, "reason": "test"})
    before = mails()
    a = auth.call("RESET_ASK", {"login": sid, "address": "192.0.2.1"}, rid="x")
    tap.eq(known_raw, a.raw, "RESET_ASK for a suspended account: the same answer")
    tap.ok(no_mail(before), "… and no mail")

    # --- forgotten identifiant ---
    who = {"numen": numen(1), "birth": "1980-01-01", "last": letters(1).upper(), "address": "192.0.2.1"}
    before = mails()
    a = auth.call("IDENT_ASK", who, rid="z")
    tap.eq("OK", a.short(), "IDENT_ASK with NUMEN, birth date and surname (in capitals) → OK")
    ok_raw = a.raw
    raw = wait_mail(before) or b""
    msg = parse(raw) if raw else None
    tap.ok(msg is not None and ("Votre identifiant : %s\n" % ident) in msg.get_content(),
           "… the identifiant is mailed", raw[-800:])
    tap.ok(msg is not None and msg["To"] == "rescue1@example.net", "… to the rescue address")
    tap.ok(msg is not None and "Si vous n'êtes pas à l'origine" in msg.get_content(),
           "… saying what to do if it was not you")
    tap.ok(msg is not None and numen(1) not in msg.get_content(), "… without the NUMEN")
    before = mails()
    for what, change in [("a wrong birth date", {"birth": "1980-01-02"}),
                         ("a wrong surname", {"last": "Martin"}),
                         ("an unknown NUMEN", {"numen": numen(999)}),
                         ("a malformed NUMEN", {"numen": "12"}),
                         ("a malformed date", {"birth": "hier"})]:
        a = auth.call("IDENT_ASK", dict(who, **change), rid="z")
        tap.eq(ok_raw, a.raw, "IDENT_ASK with %s: the very same answer" % what)
    tap.ok(no_mail(before), "… and no mail for any of them")
    a = auth.call("IDENT_ASK", {"numen": numen(3), "birth": "1980-01-01", "last": letters(3)}, rid="z")
    tap.eq(ok_raw, a.raw, "IDENT_ASK for a suspended account: the same answer")
    tap.ok(no_mail(before), "… and no mail")

    # --- the throttle: a locked account answers locked, and its asks mail nothing ---
    l_ident, l_secret, l_used, _ = enrolled(admin, auth, 4, PW1)
    # the hard lock: lock_after wrong codes after the right password (wrong passwords only delay)
    for i in range(20):
        auth.call("AUTH", {"login": l_ident, "password": PW1, "otp": "%06d" % (100001 + 7 * i),
                           "service": "webmail"})
    a = auth.call("AUTH", {"login": l_ident, "password": PW1, "service": "webmail"})
    tap.eq("FAIL locked", a.short(), "after lock_after wrong codes → locked")
    before = mails()
    a = auth.call("RESET_ASK", {"login": l_ident, "address": "192.0.2.1"}, rid="x")
    tap.eq(known_raw, a.raw, "RESET_ASK for a locked account: the same answer")
    tap.ok(no_mail(before), "… and no code is mailed")

    # --- the audit trail ---
    rows = admin.call("AUDIT", {"login": ident, "limit": 200}).rows
    actions = [json.loads(r.get("json", "{}")).get("action") for r in rows]
    tap.ok("reset.ask" in actions and "reset.confirm" in actions,
           "asks and confirmations are audited", actions[:20])
    texts = " ".join(r.get("json", "") for r in rows)
    tap.ok(all(s not in texts for s in SECRETS if s), "… with no secret in the audit records")
    rows = admin.call("AUDIT", {"limit": 500}).rows
    tap.ok(any(json.loads(r.get("json", "{}")).get("action") == "ident.ask" for r in rows),
           "forgotten-identifiant asks are audited")

    # --- HTTP, when the daemon serves it ---
    port = os.environ.get("HTTP_PORT")
    if port:
        http_part(tap, admin, auth, port, ident, secret, used)

    # Asked now, at the end, so the log has everything.
    time.sleep(1)
    with open(T + "/verdond.log", encoding="utf-8", errors="replace") as fh:
        log = fh.read()
    leaked = [s for s in SECRETS + [PW1, numen(1)] if s and s in log]
    tap.ok(not leaked, "no code, password, recovery code or NUMEN in the daemon's log", leaked)


def post(port, path, body, headers=None):
    data = json.dumps(body).encode()
    h = {"Content-Type": "application/json", "X-Verdon-Request": "1"}
    h.update(headers or {})
    req = urllib.request.Request("http://127.0.0.1:%s%s" % (port, path), data=data, headers=h,
                                 method="POST")
    try:
        with urllib.request.urlopen(req, timeout=30) as r:
            return r.status, r.read().decode(), dict(r.headers)
    except urllib.error.HTTPError as e:
        return e.code, e.read().decode(), dict(e.headers)


def http_part(tap, admin, auth, port, ident, secret, used):
    before = mails()
    known = post(port, "/api/forgot-password", {"login": ident})
    tap.eq((200, {"status": "sent_if_known"}), (known[0], json.loads(known[1] or "null")),
           "HTTP forgot-password → 200 sent_if_known")
    tap.ok("no-store" in known[2].get("Cache-Control", ""), "… not cacheable")
    code = code_of(wait_mail(before) or b"")
    SECRETS.append(code or "")
    tap.ok(code is not None, "… and the code is mailed")
    before = mails()
    unknown = post(port, "/api/forgot-password", {"login": "personne.inconnue"})
    tap.eq(known[:2], unknown[:2], "… the same status and body for an unknown login")
    tap.ok(no_mail(before), "… which gets no mail")
    st, body, _ = post(port, "/api/forgot-password", {"login": ident}, {"X-Verdon-Request": ""})
    tap.eq(403, st, "… refused without the CSRF header")
    before = mails()  # the refused ask above sent nothing; this code is still the one
    bad = post(port, "/api/reset-password", {"login": ident, "code": code, "otp": "000000",
                                             "new_password": PW4})
    unk = post(port, "/api/reset-password", {"login": "personne.inconnue", "code": code,
                                             "otp": "000000", "new_password": PW4})
    tap.eq((400, {"error": "invalid"}), (bad[0], json.loads(bad[1] or "null")),
           "HTTP reset-password with a wrong TOTP code → 400 invalid")
    tap.eq(bad[:2], unk[:2], "… the same for an unknown login")
    st, body, _ = post(port, "/api/reset-password", {"login": ident, "code": code,
                                                     "new_password": PW4})
    tap.eq(400, st, "… and without any second factor → 400")
    next_step(used)
    notice_before = mails()
    st, body, _ = post(port, "/api/reset-password", {"login": ident, "code": code,
                                                     "otp": totp(secret), "new_password": PW4})
    # The "password changed" notice goes out after the answer: let it land before counting mails.
    wait_mail(notice_before)
    tap.eq((200, {}), (st, json.loads(body or "null")), "HTTP reset-password with code + TOTP → 200 {}")
    tap.eq("FAIL otp_required", auth.call("AUTH", {"login": ident, "password": PW4, "service": "test"}).short(),
           "… and the new password works")
    who = {"numen": numen(1), "birth": "1980-01-01", "last": letters(1)}
    before = mails()
    good = post(port, "/api/forgot-identifiant", who)
    raw = wait_mail(before) or b""
    tap.eq((200, {"status": "sent_if_known"}), (good[0], json.loads(good[1] or "null")),
           "HTTP forgot-identifiant → 200 sent_if_known")
    tap.ok(("Votre identifiant : %s" % ident).encode() in raw, "… and the identifiant is mailed")
    before = mails()
    bad = post(port, "/api/forgot-identifiant", dict(who, birth="1999-09-09"))
    tap.eq(good[:2], bad[:2], "… the same answer when the data do not match")
    tap.ok(no_mail(before), "… which mails nothing")


RESET_TRIES = 5
OTP_RECOVERY_COUNT = 10
main_run(run)
PY

if kill -0 "$DAEMON_PID" 2>/dev/null; then ok "the daemon is still running"; else not_ok "the daemon is still running"; fi
