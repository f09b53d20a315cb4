# Shared by the integration scenarios: a temporary state directory, the real
# verdond started on it (and stopped by its PID), TAP-like result lines.
# Each scenario sources this file, calls start_daemon, then check/expect.
set -u
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
BUILD=${BUILD:-build}
case "$BUILD" in /*) ;; *) BUILD="$ROOT/$BUILD" ;; esac
VERDOND="$BUILD/verdond"
VERDONCTL="$BUILD/verdonctl"
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

start_daemon() {
	[ -f "$CONF" ] || write_config
	"$VERDOND" -c "$CONF" >>"$T/verdond.log" 2>&1 &
	DAEMON_PID=$!
	for _ in $(seq 1 100); do
		[ -S "$T/admin.sock" ] && [ -S "$T/auth.sock" ] && return 0
		kill -0 "$DAEMON_PID" 2>/dev/null || break
		sleep 0.1
	done
	echo "# verdond did not start:"
	sed 's/^/# /' "$T/verdond.log"
	return 1
}

stop_daemon() {
	[ -n "$DAEMON_PID" ] || return 0
	kill -TERM "$DAEMON_PID" 2>/dev/null
	for _ in $(seq 1 100); do
		kill -0 "$DAEMON_PID" 2>/dev/null || break
		sleep 0.1
	done
	kill -KILL "$DAEMON_PID" 2>/dev/null
	wait "$DAEMON_PID" 2>/dev/null
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

ctl() { "$VERDONCTL" -c "$CONF" "$@"; }
jctl() { "$VERDONCTL" -c "$CONF" --json "$@"; }

# The TOTP code of a base32 secret, now (or at an offset in seconds).
totp() { oathtool --totp -b "$1" ${2:+--now="$(date -u -d "@$(($(date +%s) + $2))" '+%Y-%m-%d %H:%M:%S UTC')"}; }

# The TOTP code of a base32 secret for a given 30-second step number.
totp_step() { oathtool --totp -b "$1" --now "$(date -u -d "@$(($2 * 30))" '+%Y-%m-%d %H:%M:%S UTC')"; }
step_now() { echo $(($(date +%s) / 30)); }

# Waits until a fresh 30-second step begins when less than $1 seconds are left in this one,
# so that a code computed now is still the current one when the daemon checks it.
fresh_step() {
	local left=$((30 - $(date +%s) % 30))
	[ "$left" -ge "${1:-5}" ] || sleep "$left"
}

# pytap [PREFIX…] <<'PY' … PY: runs a python scenario (lib_proto importable), after an optional
# command prefix (e.g. setpriv), numbering its "ok - " / "not ok - " lines.
pytap() {
	local line rc
	while IFS= read -r line; do
		case "$line" in
		"ok - "*) ok "${line#ok - }" ;;
		"not ok - "*) not_ok "${line#not ok - }" ;;
		*) echo "$line" ;;
		esac
	done < <("$@" env PYTHONPATH="$ROOT/tests/integration" PYTHONDONTWRITEBYTECODE=1 T="$T" \
		CANARY_PW="$CANARY_PW" DAEMON_PID="$DAEMON_PID" timeout "${PYTAP_TIMEOUT:-600}" python3 -)
	wait $!
	rc=$?
	[ $rc -eq 0 ] || [ $rc -eq 1 ] || not_ok "python scenario exited $rc (124: timed out)"
}
