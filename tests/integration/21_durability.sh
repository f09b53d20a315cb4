#!/usr/bin/env bash
# What survives and what never shows: acknowledged changes survive kill -9; no secret lies in clear
# in the state directory; the key file's mode is enforced; `verdond -n` checks a config.
. "$(dirname "$0")/lib.sh"
export T CANARY_PW
LIBDIR="$ROOT/tests/integration"

# Runs python (the code on stdin) with lib_proto importable; numbers its ok / not ok lines.
pytap() {
	local line rc
	while IFS= read -r line; do
		case "$line" in
		"ok - "*) ok "${line#ok - }" ;;
		"not ok - "*) not_ok "${line#not ok - }" ;;
		*) echo "$line" ;;
		esac
	done < <(PYTHONPATH="$LIBDIR" PYTHONDONTWRITEBYTECODE=1 timeout 300 python3 -)
	wait $!
	rc=$?
	[ $rc -eq 0 ] || [ $rc -eq 1 ] || not_ok "python scenario exited $rc (124: timed out)"
}

start_daemon || exit 1

# (a) kill -9 in the middle of a stream of USER_ADDs: every acknowledged one is there after restart.
PYTHONPATH="$LIBDIR" PYTHONDONTWRITEBYTECODE=1 timeout 60 python3 - >"$T/writer.log" 2>&1 <<'PY' &
from lib_proto import *

acked = open(T + "/acked", "w")
why = "bound reached (300 adds)"
admin = Client(ADMIN)
t0 = time.monotonic()
try:
    for i in range(1000, 1300):
        if time.monotonic() - t0 > 10:
            why = "bound reached (10 s)"
            break
        a = user_add(admin, i)
        if a.verb == "OK":
            acked.write("%s %s\n" % (a.get("identifiant"), numen(i)))
            acked.flush()
        time.sleep(0.005)
except (Closed, OSError) as e:
    why = "killed (%s)" % type(e).__name__
open(T + "/writer.end", "w").write(why)
PY
WRITER=$!
for _ in $(seq 1 200); do
	[ "$(cat "$T/acked" 2>/dev/null | wc -l)" -ge 40 ] && break
	kill -0 "$WRITER" 2>/dev/null || break
	sleep 0.05
done
kill9_daemon
wait "$WRITER"
sed 's/^/# writer: /' "$T/writer.log"
case "$(cat "$T/writer.end" 2>/dev/null)" in
killed*) ok "kill -9 came in the middle of the stream ($(wc -l <"$T/acked") acknowledged)" ;;
*) not_ok "kill -9 came in the middle of the stream: $(cat "$T/writer.end" 2>/dev/null)" ;;
esac
start_daemon || exit 1

pytap <<'PY'
from lib_proto import *

def run(tap):
    acked = [l.split() for l in open(T + "/acked")]
    tap.ok(len(acked) >= 40, "at least 40 USER_ADDs were acknowledged before the kill (%d)" % len(acked))
    admin = Client(ADMIN)
    missing = []
    for ident, _ in acked:
        a = admin.call("USER_SHOW", {"login": ident})
        if a.verb != "OK" or a.get("identifiant") != ident:
            missing.append((ident, a.short()))
    tap.eq([], missing, "after kill -9 and restart, every acknowledged account is there")
    ident, num = acked[-1]
    a = admin.call("USER_ADD", {"first": "Autre", "last": "Personne", "birth": "1970-01-01",
                                "numen": num, "rescue_email": "x@example.net"})
    tap.eq("FAIL exists", a.short(), "… and the last one's NUMEN index too (USER_ADD again → exists)")
    s = admin.call("STATUS")
    tap.ok(int(s.get("accounts", -1)) >= len(acked),
           "STATUS counts at least the acknowledged accounts (%s ≥ %d)" % (s.get("accounts"), len(acked)))

main_run(run)
PY

# (b) No secret in clear in the state directory.
pytap <<'PY'
from lib_proto import *
import base64

def run(tap):
    admin, auth = Client(ADMIN), Client(AUTH)
    secrets = {"temporary passwords": [], "passwords": [], "NUMENs": [], "OTP secrets": [],
               "recovery codes": []}
    idents = []
    pw = {0: os.environ["CANARY_PW"], 2: "Canari-Bleu-5519-Ailleurs"}
    for k, given in enumerate(["77a1234567xyz", "88B7654321qrs", "99c1112223tuv"]):
        a = admin.call("USER_ADD", {"first": "Marie", "last": letters(500 + k),
                                    "birth": "1985-05-05", "numen": given,
                                    "rescue_email": "s%d@example.net" % k})
        tap.eq("OK", a.verb, "USER_ADD person %d (NUMEN %s)" % (k, given))
        ident, temp = a.get("identifiant"), a.get("temporary_password")
        idents.append(ident)
        secrets["temporary passwords"].append(temp)
        secrets["NUMENs"] += [given, given.upper(), given.lower()]
        if k in pw:
            p = auth.call("PASSWD", {"login": ident, "password": temp, "new": pw[k],
                                     "service": "test"})
            tap.eq("OK", (p.short() + " " + p.get("detail", "")).strip(),
                   "PASSWD person %d from the temporary password" % k)
            secrets["passwords"].append(pw[k])
        if k != 1:
            e = admin.call("OTP_ENROLL", {"login": ident})
            tap.eq("OK", e.verb, "OTP_ENROLL person %d" % k)
            secret = secret_of(e.get("uri"))
            tap.eq(secret, e.get("secret"), "… the secret field is the URI's")
            secrets["OTP secrets"] += [secret, secret.lower()]
            raw = base64.b32decode(secret + "=" * (-len(secret) % 8))
            secrets.setdefault("raw OTP secrets", []).append(raw)
            secrets.setdefault("raw OTP secrets", []).append(raw.hex().encode())
        if k == 0:
            fresh_step()
            c = admin.call("OTP_CONFIRM", {"login": ident, "code": totp(secret)})
            tap.eq("OK", c.verb, "OTP_CONFIRM person 0 with oathtool's code")
            codes = c.get("recovery_codes", "").split(",")
            tap.ok(len(codes) >= 5 and all(codes), "… recovery codes given (%d)" % len(codes))
            secrets["recovery codes"] += codes + [x.replace("-", "") for x in codes]
            wrong = "Canari-Faux-3141-Errone"
            a = auth.call("AUTH", {"login": ident, "password": wrong, "service": "test"})
            tap.eq("FAIL invalid", a.short(), "a wrong password is refused")
            secrets["passwords"].append(wrong)
    r = admin.call("USER_RESET", {"login": idents[2]})
    tap.eq("OK", r.verb, "USER_RESET person 2")
    secrets["temporary passwords"].append(r.get("temporary_password"))
    with open(T + "/secrets", "w") as f:
        for kind, values in secrets.items():
            for v in values:
                if isinstance(v, str):
                    f.write("%s\t%s\n" % (kind, v))
    with open(T + "/idents", "w") as f:
        f.write("\n".join(idents) + "\n")
    # Binary forms: searched here, in every file of the state directory.
    blobs = b""
    for root, _, files in os.walk(T + "/state"):
        for name in files:
            blobs += open(os.path.join(root, name), "rb").read()
    found = [v for v in secrets["raw OTP secrets"] if v in blobs]
    tap.eq([], found, "the raw OTP secrets (bytes and hex) are nowhere in the state directory")

main_run(run)
PY
stop_daemon

STATE="$T/state"
seen=0
while IFS= read -r ident; do
	grep -a -q -F -- "$ident" "$STATE/data.mdb" && seen=$((seen + 1))
done <"$T/idents"
expect "control: grep -a sees the 3 identifiants in data.mdb" 3 "$seen"
strings -n 4 "$STATE/data.mdb" >"$T/strings.txt"
for kind in "temporary passwords" "passwords" "NUMENs" "OTP secrets" "recovery codes"; do
	found=""
	count=0
	while IFS=$'\t' read -r k v; do
		[ "$k" = "$kind" ] || continue
		count=$((count + 1))
		if grep -a -r -q -F -- "$v" "$STATE" || grep -q -F -- "$v" "$T/strings.txt" ||
			grep -a -q -F -- "$v" "$T/verdond.log"; then
			found="$found $v"
		fi
	done <"$T/secrets"
	if [ "$count" -gt 0 ] && [ -z "$found" ]; then
		ok "no $kind ($count values) in the state directory, data.mdb's strings or the log"
	else
		not_ok "no $kind in the state directory, data.mdb's strings or the log ($count values)"
		echo "# found:$found"
	fi
done

# (c) The key file: 0600, 64 bytes; any group or other bit and the daemon refuses to start.
KEY="$STATE/verdon.key"
expect "verdon.key is mode 600 and 64 bytes" "600 64" "$(stat -c '%a %s' "$KEY")"
# start_daemon, expecting a refusal: the exit status, and what the log said.
start_refused() {
	local before rc
	before=$(wc -l <"$T/verdond.log")
	"$VERDOND" -c "$CONF" >>"$T/verdond.log" 2>&1 &
	local pid=$!
	for _ in $(seq 1 50); do
		kill -0 "$pid" 2>/dev/null || break
		sleep 0.1
	done
	if kill -0 "$pid" 2>/dev/null; then
		kill -TERM "$pid"
		wait "$pid"
		echo "still running"
		return
	fi
	wait "$pid"
	rc=$?
	echo "exit $rc: $(tail -n +$((before + 1)) "$T/verdond.log" | tr '\n' ' ')"
}
chmod 0640 "$KEY"
out=$(start_refused)
case "$out" in
"exit 1: "*"readable by group or others (mode 0640); run chmod 600 $KEY"*) ok "verdon.key at 0640: refused, exit 1, the message names chmod 600" ;;
*) not_ok "verdon.key at 0640: refused with a chmod hint"; echo "# $out" ;;
esac
expect "the refused start left no socket" "no no" \
	"$([ -e "$T/auth.sock" ] && echo yes || echo no) $([ -e "$T/admin.sock" ] && echo yes || echo no)"
chmod 0604 "$KEY"
out=$(start_refused)
case "$out" in "exit 1: "*"run chmod 600"*) ok "verdon.key at 0604: refused too" ;; *) not_ok "verdon.key at 0604: refused too"; echo "# $out" ;; esac
chmod 0600 "$KEY"
cp -p "$KEY" "$T/key.save"
head -c 63 "$T/key.save" >"$KEY"
out=$(start_refused)
case "$out" in "exit 1: "*"63 bytes, a key file has exactly 64"*) ok "a 63-byte key file is refused" ;; *) not_ok "a 63-byte key file is refused"; echo "# $out" ;; esac
cp -p "$T/key.save" "$KEY"
expect "the key file is restored byte for byte" "" "$(cmp "$KEY" "$T/key.save" 2>&1)"
start_daemon || exit 1
pytap <<'PY'
from lib_proto import *

def run(tap):
    admin = Client(ADMIN)
    ident = open(T + "/idents").read().split()[0]
    a = admin.call("OTP_STATUS", {"login": ident})
    tap.eq("OK active", "%s %s" % (a.verb, a.get("state")),
           "restarted with the restored key: the sealed OTP secret still opens its account's status")

main_run(run)
PY
stop_daemon

# (d) verdond -n checks a configuration and touches nothing.
out=$("$VERDOND" -n -c "$CONF" 2>&1)
expect "verdond -n prints 'configuration OK' (exit 0)" "0 configuration OK" "$? $out"
sed "s|^state_dir = .*|state_dir = $T/never|" "$CONF" >"$T/never.conf"
"$VERDOND" -n -c "$T/never.conf" >/dev/null 2>&1
expect "verdond -n creates no state directory" "no" "$([ -e "$T/never" ] && echo yes || echo no)"
BAD="$T/bad.conf"
awk '{print} /^\[verdon\]$/ {print "bogus_key = 1"}' "$CONF" >"$BAD"
line=$(grep -n '^bogus_key' "$BAD" | cut -d: -f1)
out=$("$VERDOND" -n -c "$BAD" 2>&1)
expect "an unknown key: exit 1 and FILE:LINE: names it" \
	"1 verdond: $BAD:$line: unknown key 'bogus_key' in section [verdon]" "$? $out"
sed 's/^workers = .*/workers = lots/' "$CONF" >"$BAD"
line=$(grep -n '^workers' "$BAD" | cut -d: -f1)
out=$("$VERDOND" -n -c "$BAD" 2>&1)
expect "a bad number: exit 1 and FILE:LINE: says which" \
	"1 verdond: $BAD:$line: workers: expected a number from 0 to 256" "$? $out"
sed 's/^argon2_memory_kib = .*/argon2_memory_kib = 1024/' "$CONF" >"$BAD"
line=$(grep -n '^argon2_memory_kib' "$BAD" | cut -d: -f1)
out=$("$VERDOND" -n -c "$BAD" 2>&1)
expect "Argon2 memory below the floor: refused at its line" \
	"1 verdond: $BAD:$line: argon2_memory_kib: expected a number from 19456 to 4194304" "$? $out"
