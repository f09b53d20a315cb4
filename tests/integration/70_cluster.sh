#!/usr/bin/env bash
# Two verdond nodes on one private PostgreSQL: one decision, whichever node is asked. 50 parallel
# logins with one code spread over both nodes give one OK (ten rounds); wrong codes add up across
# nodes to one lock; a token revoked, a password changed, an account suspended on A is refused on B at once;
# an authenticator enrolled on A logs in on B.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/pg_lib.sh"
cluster_cleanup() {
	node_stop a
	node_stop b
	pg_cleanup
	cleanup
}
trap cluster_cleanup EXIT


pg_start db || { not_ok "a private PostgreSQL starts"; exit 1; }
CONNINFO=$(pg_conninfo db)
node_config a "$CONNINFO"
node_config b "$CONNINFO"
check "verdond -n accepts the postgresql store" "$VERDOND" -n -c "$T/a/verdon.conf"
node_start a || { not_ok "node a starts on PostgreSQL"; exit 1; }
# Both nodes hold the same key file (docs/cluster.md): sealed secrets and keyed hashes match.
cp "$T/a/state/verdon.key" "$T/b/state/verdon.key"
node_start b || { not_ok "node b starts on PostgreSQL"; exit 1; }
ok "two nodes run on one PostgreSQL"
expect "the schema is recorded once" "1" "$(pg_psql db 'SELECT count(*) FROM verdon_schema')"

pytap <<'PY'
from lib_proto import *
import threading

A, B = T + "/a/", T + "/b/"
def run(tap):
    adm_a, auth_a = Client(A + "admin.sock"), Client(A + "auth.sock")
    adm_b, auth_b = Client(B + "admin.sock"), Client(B + "auth.sock")
    pw = os.environ["CANARY_PW"]

    # An authenticator enrolled (and the password changed) on A logs in on B.
    users = [active_user(adm_a, auth_a, 5000 + i, pw) for i in range(12)]
    ident, secret, used = users[10]
    next_step(used)
    a = auth_b.call("AUTH", {"login": ident, "password": pw, "otp": totp(secret), "service": "webmail",
                             "token": "1"})
    tap.eq("OK", a.verb, "an authenticator enrolled on node A logs in on node B")
    token = a.get("token", "")
    tap.ok(token.startswith("vt-"), "node B issues a session token", a)

    # Ten rounds of 50 racers over both nodes, one valid code each: exactly one OK a round.
    for r in range(10):
        ident_r, secret_r, used_r = users[r]
        code = totp(secret_r, 30)  # the next step's code: newer than the confirmation's
        res = race([A + "auth.sock", B + "auth.sock"], ident_r, pw, code)
        oks = res.count("OK")
        others = [x for x in res if x != "OK" and not x.startswith("FAIL")]
        tap.ok(oks == 1 and not others,
               "round %d: 50 racers on two nodes, one code: exactly one OK" % (r + 1),
               "results: %r" % sorted(set(res)))

    # The session token works on both nodes, and a LOGOUT on A ends it on B.
    tap.eq("OK", auth_a.call("AUTH", {"login": ident, "password": token, "service": "imap"}).verb,
           "the token from node B logs in to IMAP on node A")
    tap.eq("OK", auth_a.call("LOGOUT", {"token": token}).verb, "LOGOUT on node A")
    tap.eq("FAIL invalid", auth_b.call("AUTH", {"login": ident, "password": token,
                                                 "service": "imap"}).short(),
           "the token revoked on node A is refused on node B")

    # A password changed on A: the old one is refused on B, the new one works there.
    ident2, secret2, used2 = users[11]
    next_step(used2)
    t2 = auth_a.call("AUTH", {"login": ident2, "password": pw, "otp": totp(secret2),
                              "service": "webmail", "token": "1"}).get("token", "")
    used2 = step()
    newpw = pw + "-Nouveau-9"
    next_step(used2)
    p = auth_a.call("PASSWD", {"login": ident2, "password": pw, "new": newpw, "otp": totp(secret2),
                               "service": "test"})
    tap.eq("OK", p.verb, "the password changes on node A (%s)" % p.raw[:80])
    used2 = step()
    tap.eq("FAIL invalid", auth_b.call("AUTH", {"login": ident2, "password": pw,
                                                 "service": "webmail"}).short(),
           "the old password is refused on node B")
    tap.eq("FAIL invalid", auth_b.call("AUTH", {"login": ident2, "password": t2,
                                                 "service": "imap"}).short(),
           "the session token died with the password change, on node B too")
    tap.eq("FAIL otp_required", auth_b.call("AUTH", {"login": ident2, "password": newpw,
                                                      "service": "webmail"}).short(),
           "the new password is right on node B")

    # Suspended on A: refused on B at its next request.
    tap.eq("OK", adm_a.call("USER_SUSPEND", {"login": ident2, "reason": "test"}).verb,
           "node A suspends the account")
    next_step(used2)
    tap.eq("FAIL disabled", auth_b.call("AUTH", {"login": ident2, "password": newpw,
                                                  "otp": totp(secret2), "service": "webmail"}).short(),
           "the account suspended on node A is refused on node B")

    # Wrong codes after the right password on both nodes add up to one hard lock (lock_after 10:
    # the count is in the account). Wrong passwords delay the login, counted in the shared store,
    # for a known login and an unknown one alike (below).
    # a fresh admin connection: the first one idled out
    ident3, secret3, used3 = active_user(Client(B + "admin.sock"), auth_b, 5100, pw)
    for i in range(10):
        node = auth_a if i % 2 == 0 else auth_b
        node.call("AUTH", {"login": ident3, "password": pw, "otp": "%06d" % (111111 * (i % 9 + 1) - i),
                           "service": "webmail"})
    next_step(used3)
    for name, node in (("A", auth_a), ("B", auth_b)):
        x = node.call("AUTH", {"login": ident3, "password": pw, "otp": totp(secret3), "service": "webmail"})
        tap.eq(("FAIL locked", "0"), (x.short(), x.get("wait")),
               "five wrong codes on each node lock the account, said on node %s" % name)
    show = Client(A + "admin.sock").call("USER_SHOW", {"login": ident3})
    tap.eq(("10", "1"), (show.get("code_failures"), show.get("locked")),
           "the wrong-code counter holds all ten")

    # Wrong passwords on both nodes add up to the same delay as on one (delay_after = 4), for a
    # known login and an unknown one alike: the counters live in the shared store.
    ident4 = user_add(Client(A + "admin.sock"), 5200).get("identifiant")
    for login in (ident4, "personne.inconnue"):
        seen = []
        for i in range(4):
            node = auth_a if i % 2 == 0 else auth_b
            seen.append(node.call("AUTH", {"login": login, "password": "pas-le-bon-mot-%d" % i,
                                           "service": "webmail"}).short())
        after = [n.call("AUTH", {"login": login, "password": "encore-un-autre", "service": "webmail"})
                 for n in (auth_a, auth_b)]
        tap.ok(seen == ["FAIL invalid"] * 4 and all(x.short() == "FAIL locked" and
                                                    int(x.get("wait", "0")) > 0 for x in after),
               "two wrong passwords on each node delay %s on both (%s login)" % (
                   login, "a known" if login == ident4 else "an unknown"),
               "%r then %r" % (seen, [x.raw for x in after]))

main_run(run)
PY

# The audit trail is one sequence for the cluster: dense, no gap, no duplicate.
expect "the audit sequence is dense across both nodes" "t" \
	"$(pg_psql db "SELECT count(*) = max(get_byte(key,6)*256 + get_byte(key,7)) FROM verdon_audit")"
check "no secret reaches the logs" sh -c "! grep -q '$CANARY_PW' '$T/a/verdond.log' '$T/b/verdond.log'"
