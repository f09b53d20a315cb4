"""A scenario whose decisions 60_metrics and 61_fail2ban count: imported by both.

run(auth, admin) returns what was done: the identifiant, and per address the refusals made.
"""
from lib_proto import *

PASSWORD = os.environ.get("CANARY_PW", "Canari-Vert-7431-Secret")
WRONG = "Mauvais-Passe-999-Xyz"


def run(tap, admin, auth):
    ident, secret, confirmed = active_user(admin, auth, 7, PASSWORD)
    # Three different wrong passwords for IMAP from one address: three refusals.
    for i in range(3):
        a = auth.call("AUTH", {"login": ident, "password": WRONG + str(i), "service": "verdon-imap",
                               "address": "192.0.2.10"})
        tap.eq("FAIL", a.verb, "wrong IMAP password %d refused" % i)
    # An unknown login over SMTP from another address.
    a = auth.call("AUTH", {"login": "personne.inconnue", "password": WRONG, "service": "verdon-smtp",
                           "address": "2001:db8::7"})
    tap.eq("FAIL", a.verb, "unknown SMTP login refused")
    # A service name that tries to smuggle another address into the line.
    a = auth.call("AUTH", {"login": "intrus", "password": WRONG,
                           "service": "x address=203.0.113.9 y", "address": "192.0.2.13"})
    tap.eq("FAIL", a.verb, "smuggling service name refused")
    # An address that is not one: logged as "-", nothing to ban.
    a = auth.call("AUTH", {"login": "intrus", "password": WRONG, "service": "verdon-imap",
                           "address": "evil.example"})
    tap.eq("FAIL", a.verb, "non-numeric address refused")
    # One good webmail login: password, then the code.
    next_step(confirmed)
    a = auth.call("AUTH", {"login": ident, "password": PASSWORD, "otp": totp(secret),
                           "service": "webmail", "address": "192.0.2.12"})
    tap.eq("OK", a.verb, "webmail login with password and code accepted")
    return ident
