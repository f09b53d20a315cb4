# Sourced by the benchmark scripts (run.sh, scale.sh, radius.sh, cluster.sh, forgot_timing.sh):
# what each of them did alike. The build's binaries; a private temporary directory; verdond
# started on it; every server a script starts stopped by its PID when it is done, and at exit
# whatever the exit (failure, interrupt, timeout); the load average and CPU readings around a run.
# Not tests/integration/lib.sh: sourcing that brings a temporary directory, an exit trap and the
# TAP counters of the tests, and its daemon is configured for fast tests, not for measuring.
set -u
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
BUILD=${BUILD:-build}
case "$BUILD" in /*) ;; *) BUILD="$ROOT/$BUILD" ;; esac
VERDOND="$BUILD/verdond"
VERDONCTL="$BUILD/verdonctl"
. "$ROOT/tests/proc_lib.sh"
DAEMON_PID=""
BENCH_PIDS=()

# bench_setup NAME PREFIX: the script's name for its messages, its temporary directory T
# (/tmp/PREFIX.XXXXXX) with CONF in it, and the traps that stop its servers and remove T.
# Set before anything starts, so that an interrupt at any point leaves nothing running.
bench_setup() {
	BENCH_NAME=$1
	T=$(mktemp -d "/tmp/$2.XXXXXX")
	CONF="$T/verdon.conf"
	trap bench_cleanup EXIT
	trap 'exit 130' INT TERM
}

# At exit: every server still tracked, then the script's own bench_at_exit if it has one (for
# servers started by other means, e.g. PostgreSQL), then T unless KEEP is set.
bench_cleanup() {
	local pid
	for pid in "${BENCH_PIDS[@]}"; do stop_server "$pid"; done
	DAEMON_PID=""
	if declare -F bench_at_exit >/dev/null; then bench_at_exit; fi
	if [ -n "${KEEP:-}" ]; then echo "$BENCH_NAME: kept $T"; else rm -rf "$T"; fi
}

die() {
	echo "$BENCH_NAME: $*" >&2
	[ -f "$T/verdond.log" ] && tail -20 "$T/verdond.log" | sed 's/^/  verdond: /' >&2
	exit 1
}

# A missing program found now says what to install, not a confusing failure minutes later.
need_tools() {
	local tool
	for tool in "$@"; do
		command -v "$tool" >/dev/null || { echo "$BENCH_NAME: $tool is needed (scripts/deps.sh)" >&2; exit 2; }
	done
}
need_files() {
	local f
	for f in "$@"; do
		[ -e "$f" ] || { echo "$BENCH_NAME: $f is missing: run make bench" >&2; exit 2; }
	done
}

# track_server PID: a server this script started; bench_cleanup stops it if stop_server has not.
track_server() { BENCH_PIDS+=("$1"); }

# stop_server PID: SIGTERM, 15 s to exit (a daemon after a large import takes a while), then
# SIGKILL; no longer tracked. Only ever by PID: other sessions run servers of the same name.
stop_server() {
	local pid=$1 p keep=()
	[ -n "$pid" ] || return 0
	stop_pid "$pid" TERM 150
	for p in "${BENCH_PIDS[@]}"; do [ "$p" = "$pid" ] || keep+=("$p"); done
	BENCH_PIDS=("${keep[@]}")
}

# verdond on CONF, its log in T, DAEMON_PID its PID; true once both unix sockets are there
# (the benchmarks connect at once), false if it exits or 10 s pass.
start_verdond() {
	"$VERDOND" -c "$CONF" >>"$T/verdond.log" 2>&1 &
	DAEMON_PID=$!
	track_server "$DAEMON_PID"
	wait_sockets "$DAEMON_PID" "$T"
}
stop_verdond() {
	stop_server "$DAEMON_PID"
	DAEMON_PID=""
}

ctl() { "$VERDONCTL" -c "$CONF" "$@"; }

# bench_conf DIR ARGON2_M ARGON2_T ARGON2_P [LINE…]: a benchmark daemon's configuration, state
# and sockets under DIR, admin socket for its owner only, LINEs added to [verdon]. A password
# alone logs in: what is measured is the credential check, not a second factor. The caller
# appends its own sections.
bench_conf() {
	local dir=$1 m=$2 t=$3 p=$4
	shift 4
	cat <<CONF
[verdon]
state_dir = $dir/state
auth_socket = $dir/auth.sock
admin_socket = $dir/admin.sock
mail_domain = example.org
issuer = Banc d'essai
admin_socket_mode = 0600
CONF
	[ $# -eq 0 ] || printf '%s\n' "$@"
	cat <<CONF

[password]
argon2_memory_kib = $m
argon2_time = $t
argon2_parallelism = $p

[otp]
required = no
CONF
}

# new_account FIRST LAST NUMEN EMAIL PWFILE: a person added through the admin socket whose
# temporary password was then changed through the auth socket, as a person would (a password set
# by the admin would have to be changed at the first login); prints the login. The password is
# PWFILE's when it exists; otherwise a new one, written there once accepted: now and then a random
# one is too systematic for cracklib, and another is drawn (five tries).
new_account() {
	local out login temp pw answer tries=1
	out=$(ctl --json user add --first "$1" --last "$2" --birth 1970-01-01 --numen "$3" \
		--rescue-email "$4") || { echo "user add $1 $2 failed" >&2; return 1; }
	login=$(jq -r .identifiant <<<"$out")
	temp=$(jq -r .temporary_password <<<"$out")
	if [ -f "$5" ]; then pw=$(cat "$5") tries=5; fi # its one try
	while :; do
		[ -f "$5" ] || pw=$(new_password Mesure)
		answer=$(printf '%s\n%s\n\n' "$temp" "$pw" | ctl auth passwd "$login" 2>&1) && break
		tries=$((tries + 1))
		[ $tries -le 5 ] || { echo "auth passwd $login: $answer" >&2; return 1; }
	done
	[ -f "$5" ] || secret_file "$5" "$pw"
	echo "$login"
}

# A password the policy accepts, new each run.
new_password() { echo "$1-$(head -c 12 /dev/urandom | base64 | tr -d '/+=')-7"; }

# secret_file PATH VALUE: a secret only its owner reads; bench programs take secrets from files,
# never from argv, where any process could read them.
secret_file() { (umask 077 && printf '%s\n' "$2" >"$1"); }

# app_password LOGIN LABEL SERVICES: a new app password of LOGIN, as a mail client would carry it.
app_password() {
	local pw
	pw=$(ctl --json app-password add "$1" --label "$2" --services "$3" | jq -r '.password // empty')
	[ -n "$pw" ] && echo "$pw"
}

# Other work on the machine skews the figures: each run says how quiet the machine was.
loadavg() { cut -d' ' -f1-3 /proc/loadavg; }

# A process's user + system CPU so far, in clock ticks (all its threads): a server's cost per
# request is its ticks over a run divided by the requests.
cpu_ticks() { awk '{ print $14 + $15 }' "/proc/$1/stat"; }

# fields "RESULT k=v …" KEY…: the values of those keys, in that order, on one line.
fields() {
	local line=$1 k
	shift
	for k in "$@"; do printf '%s ' "$(tr ' ' '\n' <<<"$line" | sed -n "s/^$k=//p")"; done
	echo
}

# free_port tcp|udp: a loopback port nothing listens on now, for a server's listener.
free_port() {
	python3 - "$1" <<'PY'
import socket, sys
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM if sys.argv[1] == "udp" else socket.SOCK_STREAM)
s.bind(("127.0.0.1", 0))
print(s.getsockname()[1])
PY
}

# median_line: of the lines on stdin, the middle one by the number in their first field. A
# figure taken in several rounds is read as its median, so that a burst of other work on the
# machine during one round does not decide it.
median_line() { sort -n -k1,1 | awk '{ v[NR] = $0 } END { if (NR) print v[int((NR + 1) / 2)] }'; }
