# Private PostgreSQL instances for the cluster scenarios (sourced after lib.sh): each in
# $T/pg-NAME, owned by the postgres user (the server refuses root), listening on a unix
# socket in that directory only, stopped by its PID at exit.
PG_BIN=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n1)
PG_NAMES=""

pg_dir() { echo "$T/pg-$1"; }
# Runs a PostgreSQL tool as postgres from $T: the checkout may be out of its reach (a clone under
# /root, mode 0700), and the tools complain of a working directory they cannot enter.
pg_as() { (cd "$T" && runuser -u postgres -- "$@"); }
pg_pid() { head -n1 "$(pg_dir "$1")/data/postmaster.pid" 2>/dev/null; }
pg_port() { cat "$(pg_dir "$1")/port"; }
# A libpq connection string for instance NAME (database verdon).
pg_conninfo() { echo "host=$(pg_dir "$1") port=$(pg_port "$1") dbname=verdon user=postgres"; }
pg_psql() { # NAME SQL
	pg_as timeout 60 "$PG_BIN/psql" -h "$(pg_dir "$1")" -p "$(pg_port "$1")" -U postgres \
		-d verdon -XAtq -c "$2"
}

pg_free_port() {
	python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

# pg_start NAME [initdb|standby-of:PRIMARY]: a new instance (or a streaming standby of PRIMARY).
pg_start() {
	local name=$1 how=${2:-initdb} dir port
	dir=$(pg_dir "$name")
	port=$(pg_free_port)
	[ -n "$PG_BIN" ] || { echo "# no PostgreSQL server installed"; return 1; }
	mkdir -p "$dir" && chown postgres:postgres "$dir" && chmod 700 "$dir"
	echo "$port" >"$dir/port"
	case "$how" in
	initdb)
		pg_as "$PG_BIN/initdb" -D "$dir/data" -A trust -U postgres \
			>"$dir/initdb.log" 2>&1 || { sed 's/^/# /' "$dir/initdb.log"; return 1; }
		;;
	standby-of:*)
		local primary=${how#standby-of:}
		pg_as "$PG_BIN/pg_basebackup" -h "$(pg_dir "$primary")" \
			-p "$(pg_port "$primary")" -U postgres -D "$dir/data" -R -X stream \
			>"$dir/basebackup.log" 2>&1 || { sed 's/^/# /' "$dir/basebackup.log"; return 1; }
		# the primary waits for this standby's flush before a commit returns
		echo "primary_conninfo = 'host=$(pg_dir "$primary") port=$(pg_port "$primary") user=postgres application_name=$name'" \
			>>"$dir/data/postgresql.auto.conf"
		;;
	esac
	pg_as "$PG_BIN/pg_ctl" -D "$dir/data" -l "$dir/server.log" \
		-o "-k $dir -p $port -c listen_addresses='' -c fsync=on ${PG_OPTS:-}" -w -t 60 start \
		>/dev/null 2>&1 || { echo "# PostgreSQL $name did not start:"; tail -n 20 "$dir/server.log" | sed 's/^/# /'; return 1; }
	PG_NAMES="$PG_NAMES $name"
	if [ "$how" = initdb ]; then
		pg_as timeout 60 "$PG_BIN/createdb" -h "$dir" -p "$port" -U postgres verdon || return 1
	fi
}

# pg_stop NAME [KILL]: fast shutdown (or SIGKILL) of the instance, by its PID.
pg_stop() {
	local pid
	pid=$(pg_pid "$1")
	stop_pid "$pid" "${2:-INT}"
}

pg_cleanup() {
	local name
	for name in $PG_NAMES; do pg_stop "$name"; done
}

NODE_PIDS=""

# node_config NAME CONNINFO: a verdond node on that database, with its own state directory (for
# the shared key file) and sockets; EXTRA_NODE_CONF is appended.
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
conninfo = $2

[password]
argon2_memory_kib = ${NODE_ARGON2_M:-19456}
argon2_time = ${NODE_ARGON2_T:-2}

[throttle]
delay_after = 4
base_delay = 60
max_delay = 120

[penalty]
base_ms = 0
${EXTRA_NODE_CONF:-}
CONF
}

# node_start NAME: starts it and waits for both sockets.
node_start() {
	local dir="$T/$1" pid
	"$VERDOND" -c "$dir/verdon.conf" >>"$dir/verdond.log" 2>&1 &
	pid=$!
	echo "$pid" >"$dir/pid"
	NODE_PIDS="$NODE_PIDS $pid"
	wait_sockets "$pid" "$dir" && return 0
	echo "# node $1 did not start:"
	sed 's/^/# /' "$dir/verdond.log"
	return 1
}

node_stop() {
	local pid
	pid=$(cat "$T/$1/pid" 2>/dev/null) || return 0
	stop_pid "$pid"
	rm -f "$T/$1/pid"
}

