#!/usr/bin/env bash
# The PostgreSQL store in `make bench`: cheap logins (app password) and password logins per second
# on one verdond node, then on two nodes sharing the database (clients split between them), on a
# private PostgreSQL started and stopped by PID. Prints figures, asserts nothing.
# Knobs: FAST_SECONDS, FAST_MAX, BENCH_SECONDS, BENCH_MAX, ARGON2_M/T/P (as run.sh), CLUSTER_ROUNDS
# (cheap rounds a side, default 3, the median kept), KEEP=1.
set -u
. "$(dirname "${BASH_SOURCE[0]}")/bench_lib.sh"
FAST_SECONDS=${FAST_SECONDS:-5}
FAST_MAX=${FAST_MAX:-1000000}
BENCH_SECONDS=${BENCH_SECONDS:-10}
BENCH_MAX=${BENCH_MAX:-100000}
ROUNDS=${CLUSTER_ROUNDS:-3}
ARGON2_M=${ARGON2_M:-65536} ARGON2_T=${ARGON2_T:-3} ARGON2_P=${ARGON2_P:-1}
bench_setup "bench (postgresql)" verdon-bench-pg
chmod 755 "$T"
. "$ROOT/tests/integration/pg_lib.sh"
need_files "$VERDOND" "$VERDONCTL" "$BUILD/bench/bench_creds" "$BUILD/bench/bench_login"
need_tools jq python3

# The nodes and PostgreSQL are pg_lib's, stopped by their PIDs as the cluster tests stop them.
bench_at_exit() {
	node_stop a
	node_stop b
	pg_cleanup
}

pg_start db >/dev/null || die "PostgreSQL did not start"
export NODE_ARGON2_M=$ARGON2_M NODE_ARGON2_T=$ARGON2_T
EXTRA_NODE_CONF=$(printf '[otp]\nrequired = no\n[throttle]\nbase_delay = 0\n')
export EXTRA_NODE_CONF
node_config a "$(pg_conninfo db)"
node_config b "$(pg_conninfo db)"
node_start a >/dev/null || die "node a did not start"
cp "$T/a/state/verdon.key" "$T/b/state/verdon.key"
node_start b >/dev/null || die "node b did not start"

CONF="$T/a/verdon.conf"
LOGIN=$(new_account Banc Grappe 97B9999999999 grappe@example.net "$T/password") || die "account failed"
PASSWORD=$(cat "$T/password")
APP=$(app_password "$LOGIN" bench imap) || die "app-password add failed"
secret_file "$T/app_password" "$APP"

# cheap NODES: app-password logins, 16 clients, on node a or split over a and b.
cheap() {
	local second=() line
	[ "$1" = 2 ] && second=(--socket2 "$T/b/auth.sock")
	line=$(timeout $((FAST_SECONDS * 3 + 60)) "$BUILD/bench/bench_creds" --socket "$T/a/auth.sock" \
		"${second[@]}" --echo-socket "$T/echo.sock" --login "$LOGIN" \
		--app-password-file "$T/app_password" --service imap --clients 16 \
		--seconds "$FAST_SECONDS" --max "$FAST_MAX" | grep '^RESULT ')
	fields "$line" app app_p50_ms app_p99_ms app_errors
}

# password NODES: Argon2 logins, one client per core, on node a or split over a and b.
password() {
	local second=() line
	[ "$1" = 2 ] && second=(--socket2 "$T/b/auth.sock")
	line=$(timeout $((BENCH_SECONDS * 4 + 60)) "$BUILD/bench/bench_login" --socket "$T/a/auth.sock" \
		"${second[@]}" --login "$LOGIN" --password-file "$T/password" --clients "$(nproc)" \
		--seconds "$BENCH_SECONDS" --max "$BENCH_MAX" --argon2-m "$ARGON2_M" --argon2-t "$ARGON2_T" \
		--argon2-p "$ARGON2_P" | grep '^RESULT ')
	fields "$line" logins p50_ms p99_ms errors
}

echo "PostgreSQL store ($(basename "$(dirname "$PG_BIN")"), one private instance), load average before: $(loadavg)"
# The cheap phases in CLUSTER_ROUNDS rounds, one node and two taking turns to go first: each
# figure is its median round (two nodes, PostgreSQL and the clients share the machine's cores).
: >"$T/cheap1"
: >"$T/cheap2"
for r in $(seq 1 "$ROUNDS"); do
	if [ $((r % 2)) -eq 1 ]; then
		cheap 1 >>"$T/cheap1"
		cheap 2 >>"$T/cheap2"
	else
		cheap 2 >>"$T/cheap2"
		cheap 1 >>"$T/cheap1"
	fi
done
echo "  cheap rounds (logins/s), 1 node: $(cut -d' ' -f1 "$T/cheap1" | paste -sd' ')   2 nodes: $(cut -d' ' -f1 "$T/cheap2" | paste -sd' ')"
read -r C1 C1P50 C1P99 C1E < <(median_line <"$T/cheap1")
read -r C2 C2P50 C2P99 C2E < <(median_line <"$T/cheap2")
read -r P1 P1P50 P1P99 P1E < <(password 1)
read -r P2 P2P50 P2P99 P2E < <(password 2)
printf '  app-password logins/s, 16 clients:  1 node %8s (p50 %s ms, p99 %s ms, errors %s)   2 nodes %8s (p50 %s ms, p99 %s ms, errors %s)   ratio %s\n' \
	"${C1:-?}" "${C1P50:-?}" "${C1P99:-?}" "${C1E:-?}" "${C2:-?}" "${C2P50:-?}" "${C2P99:-?}" "${C2E:-?}" \
	"$(awk -v a="${C1:-0}" -v b="${C2:-0}" 'BEGIN { if (a > 0) printf "%.2f", b / a; else print "-" }')"
printf '  password logins/s, %s clients:       1 node %8s (p50 %s ms, p99 %s ms, errors %s)   2 nodes %8s (p50 %s ms, p99 %s ms, errors %s)\n' \
	"$(nproc)" "${P1:-?}" "${P1P50:-?}" "${P1P99:-?}" "${P1E:-?}" "${P2:-?}" "${P2P50:-?}" "${P2P99:-?}" "${P2E:-?}"
echo "RESULT_PG cheap1=${C1:-0} cheap2=${C2:-0} password1=${P1:-0} password2=${P2:-0}"
