#!/usr/bin/env bash
# Two verdond nodes on one private PostgreSQL: one decision, whichever node is asked. 50 parallel
# logins with one code spread over both nodes give one OK (ten rounds); failures add up across
# nodes; a token revoked, a password changed, an account suspended on A is refused on B at once;
# an authenticator enrolled on A logs in on B.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/pg_lib.sh"
export T CANARY_PW
LIBDIR="$ROOT/tests/integration"
NODE_PIDS=""

# node_config NAME: its own state directory (for the shared key file) and sockets.
node_config() {
	local dir="$T/$1"
	mkdir -p "$dir/state" && chmod 700 "$dir/state"
	cat >"$dir/verdon.conf" <<CONF
[verdon]
state_dir = $dir/state
auth_socket = $dir/auth.sock
admin_socket = $dir/admin.sock
mail_domain = example.org
issuer = Académie de Test
admin_socket_mode = 0666
auth_socket_mode = 0666
workers = 2

[store]
backend = postgresql
conninfo = ${CONNINFO}

[password]
argon2_memory_kib = 19456
argon2_time = 2

[throttle]
delay_after = 4
base_delay = 60
max_delay = 120

[penalty]
base_ms = 0
CONF
}

# node_start NAME: starts it and waits for both sockets.
node_start() {
	local dir="$T/$1" pid
	"$VERDOND" -c "$dir/verdon.conf" >>"$dir/verdond.log" 2>&1 &
	pid=$!
	echo "$pid" >"$dir/pid"
	NODE_PIDS="$NODE_PIDS $pid"
	for _ in $(seq 1 100); do
		[ -S "$dir/admin.sock" ] && [ -S "$dir/auth.sock" ] && return 0
		kill -0 "$pid" 2>/dev/null || break
		sleep 0.1
	done
	echo "# node $1 did not start:"
	sed 's/^/# /' "$dir/verdond.log"
	return 1
}

node_stop() {
	local pid
	pid=$(cat "$T/$1/pid" 2>/dev/null) || return 0
	kill -TERM "$pid" 2>/dev/null
	for _ in $(seq 1 100); do
		kill -0 "$pid" 2>/dev/null || break
		sleep 0.1
	done
	kill -KILL "$pid" 2>/dev/null
	wait "$pid" 2>/dev/null
	rm -f "$T/$1/pid"
}

cluster_cleanup() {
	node_stop a
	node_stop b
	pg_cleanup
	cleanup
}
trap cluster_cleanup EXIT

pytap() {
	local line rc
	while IFS= read -r line; do
		case "$line" in
		"ok - "*) ok "${line#ok - }" ;;
		"not ok - "*) not_ok "${line#not ok - }" ;;
		*) echo "$line" ;;
		esac
	done < <(env PYTHONPATH="$LIBDIR" PYTHONDONTWRITEBYTECODE=1 T="$T" CANARY_PW="$CANARY_PW" \
		timeout 600 python3 -)
	wait $!
	rc=$?
	[ $rc -eq 0 ] || [ $rc -eq 1 ] || not_ok "python scenario exited $rc (124: timed out)"
}

pg_start db || { not_ok "a private PostgreSQL starts"; exit 1; }
CONNINFO=$(pg_conninfo db)
node_config a
node_config b
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
RACERS = 50

def race(ident, password, code):
    conns = [Client((A if i % 2 == 0 else B) + "auth.sock", timeout=60) for i in range(RACERS)]
    barrier = threading.Barrier(RACERS)
    results = [None] * RACERS

    def go(i):
        barrier.wait()
        try:
            results[i] = conns[i].call("AUTH", {"login": ident, "password": password, "otp": code,
                                                "service": "race"}, rid="race%d" % i).short()
        except Exception as e:  # noqa: BLE001
            results[i] = repr(e)

    threads = [threading.Thread(target=go, args=(i,)) for i in range(RACERS)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(120)
    for c in conns:
        c.close()
    return results

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
        res = race(ident_r, pw, code)
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
    tap.eq("OK", p.verb, "the password changes on node A", )
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

    # Wrong passwords on both nodes add up to the same throttle as on one (delay_after = 4).
    a = user_add(Client(B + "admin.sock"), 5100)  # a fresh connection: the first one idled out
    ident3, temp3 = a.get("identifiant"), a.get("temporary_password")
    for i, node in enumerate((auth_a, auth_b, auth_a, auth_b)):
        # four different wrong passwords: the same one retried counts once
        node.call("AUTH", {"login": ident3, "password": "pas-le-bon-mot-%d" % i,
                           "service": "webmail"})
    for name, node in (("A", auth_a), ("B", auth_b)):
        x = node.call("AUTH", {"login": ident3, "password": temp3, "service": "webmail"})
        tap.eq("FAIL locked", x.short(),
               "two wrong passwords on each node slow the account down on node %s" % name)
    show = Client(A + "admin.sock").call("USER_SHOW", {"login": ident3})
    tap.eq("4", show.get("failures"), "the failure counter holds all four")

main_run(run)
PY

# The audit trail is one sequence for the cluster: dense, no gap, no duplicate.
expect "the audit sequence is dense across both nodes" "t" \
	"$(pg_psql db "SELECT count(*) = max(get_byte(key,6)*256 + get_byte(key,7)) FROM verdon_audit")"
check "no secret reaches the logs" sh -c "! grep -q '$CANARY_PW' '$T/a/verdond.log' '$T/b/verdond.log'"
