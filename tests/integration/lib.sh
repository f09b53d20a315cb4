# Shared by the integration scenarios: a temporary state directory, the real
# verdond started on it (and stopped by its PID), TAP-like result lines.
# Each scenario sources this file, calls start_daemon, then check/expect.
set -u
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
BUILD=${BUILD:-build}
case "$BUILD" in /*) ;; *) BUILD="$ROOT/$BUILD" ;; esac
VERDOND="$BUILD/verdond"
VERDONCTL="$BUILD/verdonctl"
. "$ROOT/tests/proc_lib.sh"
T=$(mktemp -d /tmp/verdon-test.XXXXXX)
chmod 755 "$T"
CONF="$T/verdon.conf"
DAEMON_PID=""
N=0

# Secrets planted in the tests: the logs must never show them.
CANARY_PW="Canari-Vert-7431-Secret"

ok() { N=$((N + 1)); echo "ok $N - $*"; }
not_ok() { N=$((N + 1)); echo "not ok $N - $*"; }
skip() { N=$((N + 1)); echo "skip $N - $*"; }

# check "description" command...: ok when the command succeeds.
check() {
	local desc=$1
	shift
	local out
	if out=$("$@" 2>&1); then ok "$desc"; else
		not_ok "$desc"
		echo "# command: $*"
		echo "$out" | head -20 | sed 's/^/# /'
	fi
}

# expect "description" expected actual
expect() {
	if [ "$2" = "$3" ]; then ok "$1"; else
		not_ok "$1"
		echo "# expected: $2"
		echo "# actual:   $3"
	fi
}

write_config() {
	cat >"$CONF" <<CONF
[verdon]
state_dir = $T/state
auth_socket = $T/auth.sock
admin_socket = $T/admin.sock
mail_domain = example.org
issuer = Académie de Test
admin_socket_mode = 0666
auth_socket_mode = 0666
workers = 2
${EXTRA_VERDON:-}

[password]
; the floor the SPEC allows, so that tests run fast
argon2_memory_kib = 19456
argon2_time = 2
${EXTRA_PASSWORD:-}

[throttle]
base_delay = ${BASE_DELAY:-0}
${EXTRA_THROTTLE:-}
CONF
}

# start_daemon [PREFIX…]: verdond, after an optional command prefix that execs it (same PID).
start_daemon() {
	[ -f "$CONF" ] || write_config
	"$@" "$VERDOND" -c "$CONF" >>"$T/verdond.log" 2>&1 &
	DAEMON_PID=$!
	wait_sockets "$DAEMON_PID" "$T" && return 0
	echo "# verdond did not start:"
	sed 's/^/# /' "$T/verdond.log"
	return 1
}

stop_daemon() {
	stop_pid "$DAEMON_PID"
	DAEMON_PID=""
}

kill9_daemon() {
	kill -KILL "$DAEMON_PID" 2>/dev/null
	wait "$DAEMON_PID" 2>/dev/null
	DAEMON_PID=""
}

cleanup() {
	stop_daemon
	if [ -n "${KEEP:-}" ]; then echo "# kept $T"; else rm -rf "$T"; fi
}
trap cleanup EXIT

# pytap [PREFIX...] <<'PY' … PY: runs a python scenario (lib_proto importable), after an optional
# command prefix (e.g. setpriv), and numbers its "ok - " / "not ok - " lines. PYTAP_LIBDIR replaces
# the checkout's tests/integration (see other_user_dir); PYTAP_TIMEOUT the 600 s bound. A scenario
# that printed no result at all did not run (an import error, a path out of reach): that fails too.
pytap() {
	local line rc results=0
	while IFS= read -r line; do
		case "$line" in
		"ok - "*) ok "${line#ok - }" && results=$((results + 1)) ;;
		"not ok - "*) not_ok "${line#not ok - }" && results=$((results + 1)) ;;
		*) echo "$line" ;;
		esac
	done < <("$@" env PYTHONPATH="${PYTAP_LIBDIR:-$ROOT/tests/integration}" PYTHONDONTWRITEBYTECODE=1 \
		T="$T" CANARY_PW="$CANARY_PW" DAEMON_PID="$DAEMON_PID" timeout "${PYTAP_TIMEOUT:-600}" python3 -)
	wait $!
	rc=$?
	[ $rc -eq 0 ] || [ $rc -eq 1 ] || not_ok "python scenario exited $rc (124: timed out)"
	[ $results -gt 0 ] || not_ok "python scenario ran no test at all (exit $rc)"
}

# other_user_dir USER: a directory of USER's own under $T (which is 0755 under /tmp) with a copy of
# lib_proto.py, for steps run as USER: the checkout may sit where USER cannot go (a clone under
# /root, mode 0700), and a step that cannot even start tests nothing.
other_user_dir() {
	local d="$T/as-$1"
	mkdir -p "$d" && cp "$ROOT/tests/integration/lib_proto.py" "$d/" &&
		chown "$1" "$d" && chmod 0755 "$d" && chmod 0644 "$d/lib_proto.py" && echo "$d"
}

# fake_sendmail: a [mail] sendmail command of the test's own (run without a shell) that writes each
# message whole, renamed into place, under $T/mail; prints the command.
fake_sendmail() {
	mkdir -p "$T/mail"
	cat >"$T/fake-sendmail.sh" <<SH
umask 077
f="$T/mail/\$(date +%s%N).\$\$"
cat >"\$f.tmp" && mv "\$f.tmp" "\$f"
SH
	echo "/bin/sh $T/fake-sendmail.sh"
}

ctl() { "$VERDONCTL" -c "$CONF" "$@"; }
# wait_for_log FILE PATTERN: true once PATTERN is in FILE, false after 10 s.
wait_for_log() {
	for _ in $(seq 1 50); do
		grep -q "$2" "$1" && return 0
		sleep 0.2
	done
	return 1
}
jctl() { "$VERDONCTL" -c "$CONF" --json "$@"; }

# The TOTP code of a base32 secret, now (or at an offset in seconds).
# Always at date's instant: oathtool's own time(2) reads the kernel's coarse clock, a few ms behind,
# and just past a step's start would give the previous step's code, the one step_now says was used.
totp() { oathtool --totp -b "$1" --now="$(date -u -d "@$(($(date +%s) + ${2:-0}))" '+%Y-%m-%d %H:%M:%S UTC')"; }

# The TOTP code of a base32 secret for a given 30-second step number.
totp_step() { oathtool --totp -b "$1" --now "$(date -u -d "@$(($2 * 30))" '+%Y-%m-%d %H:%M:%S UTC')"; }
step_now() { echo $(($(date +%s) / 30)); }

# Waits until a fresh 30-second step begins when less than $1 seconds are left in this one,
# so that a code computed now is still the current one when the daemon checks it.
fresh_step() {
	local left=$((30 - $(date +%s) % 30))
	[ "$left" -ge "${1:-5}" ] || sleep "$left"
}
