#!/usr/bin/env bash
# The benchmarks `make bench` runs once everything is built: logins per second
# through the auth socket against raw Argon2id hashes per second at the same
# parameters (1 client, then one per core), and the time to import 10,000
# accounts, twice (the second run creates nobody). Prints figures; asserts
# nothing about time. The daemon it starts is stopped by its PID.
# Knobs: BENCH_SECONDS (per phase), BENCH_MAX (operations per phase), IMPORT_N, KEEP=1.
set -u
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
BUILD=${BUILD:-build}
case "$BUILD" in /*) ;; *) BUILD="$ROOT/$BUILD" ;; esac
VERDOND="$BUILD/verdond"
VERDONCTL="$BUILD/verdonctl"
BENCH_LOGIN="$BUILD/bench/bench_login"
SECONDS_PER_PHASE=${BENCH_SECONDS:-10}
MAX_PER_PHASE=${BENCH_MAX:-100000}
IMPORT_N=${IMPORT_N:-10000}
IMPORT_TIMEOUT=${IMPORT_TIMEOUT:-120}
# The SPEC's default parameters, for the daemon and the raw reference alike.
ARGON2_M=65536 ARGON2_T=3 ARGON2_P=1
CORES=$(nproc)
DAEMON_PID=""

for bin in "$VERDOND" "$VERDONCTL" "$BENCH_LOGIN"; do
	[ -x "$bin" ] || { echo "bench: $bin is missing: run make bench" >&2; exit 2; }
done
command -v jq >/dev/null || { echo "bench: jq is needed" >&2; exit 2; }

T=$(mktemp -d /tmp/verdon-bench.XXXXXX)
CONF="$T/verdon.conf"

stop_daemon() {
	[ -n "$DAEMON_PID" ] || return 0
	kill -TERM "$DAEMON_PID" 2>/dev/null
	for _ in $(seq 1 150); do
		kill -0 "$DAEMON_PID" 2>/dev/null || break
		sleep 0.1
	done
	kill -KILL "$DAEMON_PID" 2>/dev/null
	wait "$DAEMON_PID" 2>/dev/null
	DAEMON_PID=""
}

cleanup() {
	stop_daemon
	if [ -n "${KEEP:-}" ]; then echo "bench: kept $T"; else rm -rf "$T"; fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM

die() {
	echo "bench: $*" >&2
	[ -f "$T/verdond.log" ] && tail -20 "$T/verdond.log" | sed 's/^/  verdond: /' >&2
	exit 1
}

ctl() { "$VERDONCTL" -c "$CONF" "$@"; }

# Seconds between two `date +%s.%N` readings, and a rate.
elapsed() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2f", b - a }'; }
rate() { awk -v n="$1" -v s="$2" 'BEGIN { printf "%.0f", (s > 0 ? n / s : 0) }'; }

write_config() {
	cat >"$CONF" <<CONF
[verdon]
state_dir = $T/state
auth_socket = $T/auth.sock
admin_socket = $T/admin.sock
mail_domain = example.org
issuer = Banc d'essai
admin_socket_mode = 0600

[password]
argon2_memory_kib = $ARGON2_M
argon2_time = $ARGON2_T
argon2_parallelism = $ARGON2_P

[otp]
; a password alone logs in: the benchmark measures the password check
required = no

[throttle]
base_delay = 0
CONF
}

start_daemon() {
	"$VERDOND" -c "$CONF" >>"$T/verdond.log" 2>&1 &
	DAEMON_PID=$!
	for _ in $(seq 1 100); do
		[ -S "$T/admin.sock" ] && [ -S "$T/auth.sock" ] && return 0
		kill -0 "$DAEMON_PID" 2>/dev/null || break
		sleep 0.1
	done
	die "verdond did not start"
}

# One account whose password was changed through the auth socket, as a person would.
make_account() {
	local out temp answer
	out=$(ctl --json user add --first Banc --last Essai --birth 1970-01-01 \
		--numen 99B9999999999 --rescue-email banc@example.net) || die "user add failed"
	LOGIN=$(jq -r .identifiant <<<"$out")
	temp=$(jq -r .temporary_password <<<"$out")
	PASSWORD="Mesure-$(head -c 12 /dev/urandom | base64 | tr -d '/+=')-7"
	answer=$(printf '%s\n%s\n\n' "$temp" "$PASSWORD" | ctl auth passwd "$LOGIN" 2>&1) ||
		die "auth passwd $LOGIN: $answer"
	answer=$(printf '%s\n\n' "$PASSWORD" | ctl auth check "$LOGIN" --service bench 2>&1) ||
		die "auth check $LOGIN with the new password: $answer"
	(umask 077 && printf '%s\n' "$PASSWORD" >"$T/password")
}

# bench_login with N clients, shown as it runs; its RESULT line is kept for the summary.
bench_logins() {
	local clients=$1
	echo
	# Other work on the machine skews the two sides differently: the load says how quiet it was.
	echo "load average before: $(cut -d' ' -f1-3 /proc/loadavg)"
	timeout $((SECONDS_PER_PHASE * 4 + 60)) "$BENCH_LOGIN" --socket "$T/auth.sock" \
		--login "$LOGIN" --password-file "$T/password" --clients "$clients" \
		--seconds "$SECONDS_PER_PHASE" --max "$MAX_PER_PHASE" \
		--argon2-m "$ARGON2_M" --argon2-t "$ARGON2_T" --argon2-p "$ARGON2_P" |
		tee -a "$T/results" | grep -v '^RESULT '
	echo "bench_login --clients $clients exited ${PIPESTATUS[0]}" >>"$T/bench.status"
}

# IMPORT_N distinct people: distinct last names (so distinct identifiants and emails), NUMENs
# of 13 alphanumerics, valid birth dates; the header a spreadsheet export would carry.
write_csv() {
	awk -v n="$IMPORT_N" 'BEGIN {
		split("Jean Marie Anne Paul Louise Pierre Claire Luc Sophie Marc", first, " ")
		a = "abcdefghijklmnopqrstuvwxyz"
		print "last;first;birth;numen;rescue_email"
		for (i = 0; i < n; i++) {
			s = ""
			k = i
			for (d = 0; d < 4; d++) {
				s = substr(a, k % 26 + 1, 1) s
				k = int(k / 26)
			}
			printf "Essai%s;%s;%04d-%02d-%02d;%02dA%010d;personne%d@example.net\n",
				s, first[i % 10 + 1], 1950 + i % 50, i % 12 + 1, i % 28 + 1, i % 100, i, i
		}
	}' >"$T/people.csv"
}

# A count from the import's JSON answer, 0 when it has none (the import failed outright).
count_of() {
	local n
	n=$(jq -r ".$1 // 0" "$T/import.json" 2>/dev/null)
	echo "${n:-0}"
}

# One timed import; the answer (temporary passwords included) stays in $T.
# Sets IMPORT_SECONDS, IMPORT_CREATED, IMPORT_EXISTING, IMPORT_ERRORS.
run_import() {
	local t0 t1 rc
	t0=$(date +%s.%N)
	timeout "$IMPORT_TIMEOUT" "$VERDONCTL" -c "$CONF" --json user import "$T/people.csv" \
		>"$T/import.json" 2>"$T/import.err"
	rc=$?
	t1=$(date +%s.%N)
	IMPORT_SECONDS=$(elapsed "$t0" "$t1")
	IMPORT_CREATED=$(count_of created)
	IMPORT_EXISTING=$(count_of existing)
	IMPORT_ERRORS=$(count_of errors)
	rm -f "$T/import.json"
	if [ "$rc" -ne 0 ]; then
		echo "  verdonctl user import exited $rc:"
		head -5 "$T/import.err" | sed 's/^/    /'
	fi
}

write_config
start_daemon
make_account
WORKERS=$(ctl --json status 2>/dev/null | jq -r '.workers // "?"' 2>/dev/null)
echo "verdon benchmarks: $CORES cores, verdond with ${WORKERS:-?} workers, argon2id m=$ARGON2_M KiB" \
	"t=$ARGON2_T p=$ARGON2_P, $SECONDS_PER_PHASE s or $MAX_PER_PHASE operations a phase"

: >"$T/results"
bench_logins 1
[ "$CORES" -gt 1 ] && bench_logins "$CORES"

echo
write_csv
run_import
I1_S=$IMPORT_SECONDS I1_C=$IMPORT_CREATED I1_E=$IMPORT_EXISTING I1_R=$IMPORT_ERRORS
echo "import $IMPORT_N accounts: $I1_S s ($(rate "$I1_C" "$I1_S") accounts/s)" \
	"created $I1_C, existing $I1_E, errors $I1_R"
run_import
I2_S=$IMPORT_SECONDS I2_C=$IMPORT_CREATED I2_E=$IMPORT_EXISTING I2_R=$IMPORT_ERRORS
echo "import the same file again: $I2_S s ($(rate "$I2_E" "$I2_S") lines/s)" \
	"created $I2_C, existing $I2_E, errors $I2_R"

stop_daemon

echo
echo "=== verdon benchmark summary ($CORES cores, argon2id m=$ARGON2_M KiB t=$ARGON2_T p=$ARGON2_P) ==="
while read -r line; do
	# RESULT key=value ...: each key becomes a shell-safe local variable.
	declare -A f=()
	for kv in ${line#RESULT }; do f[${kv%%=*}]=${kv#*=}; done
	printf '  %u client(s): %7s logins/s vs %7s raw hashes/s (reused; fresh %s)  ratio %s  p50 %s ms  p99 %s ms  errors %s\n' \
		"${f[clients]}" "${f[logins]}" "${f[raw_reused]}" "${f[raw_fresh]}" "${f[ratio]}" \
		"${f[p50_ms]}" "${f[p99_ms]}" "${f[errors]}"
	unset f
done < <(grep '^RESULT ' "$T/results")
printf '  import %u accounts:   %s s (%s accounts/s), created %s\n' "$IMPORT_N" "$I1_S" \
	"$(rate "$I1_C" "$I1_S")" "$I1_C"
printf '  import again:         %s s, created %s, existing %s\n' "$I2_S" "$I2_C" "$I2_E"
grep -v 'exited 0$' "$T/bench.status" 2>/dev/null | sed 's/^/  warning: /'
exit 0
