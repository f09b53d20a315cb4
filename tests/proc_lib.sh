# Sourced by tests/integration/lib.sh, pg_lib.sh and tests/bench/bench_lib.sh: how a test stops a
# server it started and waits for a daemon to listen. Always by PID: other sessions on the same
# machine run servers of the same names.

# stop_pid PID [SIGNAL [TENTHS]]: SIGNAL (TERM), TENTHS tenths of a second (100) to exit, then
# SIGKILL; reaped when it is our child.
stop_pid() {
	local pid=$1 sig=${2:-TERM} tenths=${3:-100}
	[ -n "$pid" ] || return 0
	kill -"$sig" "$pid" 2>/dev/null
	for _ in $(seq 1 "$tenths"); do
		kill -0 "$pid" 2>/dev/null || break
		sleep 0.1
	done
	kill -KILL "$pid" 2>/dev/null
	wait "$pid" 2>/dev/null
	return 0
}

# wait_sockets PID DIR: true once DIR holds both of verdond's unix sockets, false if PID exits
# first or 10 s pass.
wait_sockets() {
	local pid=$1 dir=$2
	for _ in $(seq 1 100); do
		[ -S "$dir/admin.sock" ] && [ -S "$dir/auth.sock" ] && return 0
		kill -0 "$pid" 2>/dev/null || return 1
		sleep 0.1
	done
	return 1
}
