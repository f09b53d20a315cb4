#!/usr/bin/env bash
# RADIUS PAP, radclient -p 16 against verdond and against a private FreeRADIUS 3.2.1 (package
# freeradius, PAP over a cleartext users file) in the same run: requests/s and server CPU per
# request (utime+stime of the server process from /proc), and verdond's ratio to FreeRADIUS,
# for an app password (HMAC) and a one-factor password (Argon2id at the SPEC's cost). Both
# servers run in a temporary directory and are stopped by their PIDs. Asserts nothing.
# Knobs: RADIUS_APP_N (requests, default 20000), RADIUS_PW_N (default 300), KEEP=1.
# Its last line is "RESULT key=value…" for run.sh's summary.
set -u
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
BUILD=${BUILD:-build}
case "$BUILD" in /*) ;; *) BUILD="$ROOT/$BUILD" ;; esac
APP_N=${RADIUS_APP_N:-20000}
PW_N=${RADIUS_PW_N:-300}
PARALLEL=16
for tool in radclient freeradius jq python3; do
	command -v "$tool" >/dev/null || { echo "bench radius: $tool is needed (scripts/deps.sh)" >&2; exit 2; }
done
T=$(mktemp -d /tmp/verdon-bench-radius.XXXXXX)
CONF=$T/verdon.conf
PIDS=()
cleanup() {
	for p in "${PIDS[@]}"; do kill -TERM "$p" 2>/dev/null; wait "$p" 2>/dev/null; done
	if [ -n "${KEEP:-}" ]; then echo "bench radius: kept $T"; else rm -rf "$T"; fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM
die() { echo "bench radius: $*" >&2; exit 1; }
ctl() { "$BUILD/verdonctl" -c "$CONF" "$@"; }
udp_port() { python3 -c 'import socket; s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }
cpu_ticks() { awk '{ print $14 + $15 }' "/proc/$1/stat"; }
wait_udp() { # PORT PID: until something listens there
	for _ in $(seq 1 100); do
		ss -Hlun "sport = :$1" 2>/dev/null | grep -q . && return 0
		kill -0 "$2" 2>/dev/null || return 1
		sleep 0.1
	done
	return 1
}

SECRET=$(head -c 18 /dev/urandom | base64 | tr -d '/+=')
PASSWORD="Velo-Rouge-Matin-$(head -c 9 /dev/urandom | base64 | tr -d '/+=')"
(umask 077 && printf '%s\n' "$SECRET" >"$T/secret")
V_PORT=$(udp_port)
F_PORT=$(udp_port)

cat >"$CONF" <<CONF
[verdon]
state_dir = $T/state
auth_socket = $T/auth.sock
admin_socket = $T/admin.sock
mail_domain = example.org
issuer = Banc d'essai
admin_socket_mode = 0600

[password]
argon2_memory_kib = 65536
argon2_time = 3

[otp]
required = no

[throttle]
base_delay = 0

[radius]
listen = 127.0.0.1:$V_PORT

[radius.client bench]
address = 127.0.0.1/32
secret_file = $T/secret
service = radius-bench

[service radius-bench]
credentials = password, app_password
CONF
"$BUILD/verdond" -c "$CONF" >>"$T/verdond.log" 2>&1 &
V_PID=$!
PIDS+=("$V_PID")
wait_udp "$V_PORT" "$V_PID" || die "verdond did not start: $(tail -5 "$T/verdond.log")"
temp=$(ctl --json user add --first Banc --last Radius --birth 1970-01-01 --numen 99B9999999998 \
	--rescue-email banc@example.net | jq -r .temporary_password) || die "user add failed"
printf '%s\n%s\n' "$temp" "$PASSWORD" | ctl auth passwd bradius >/dev/null || die "passwd failed"
APP=$(ctl --json app-password add bradius --label bench --services radius-bench | jq -r .password)

# A private FreeRADIUS: its own radiusd.conf, PAP over a cleartext users file.
FR=$T/freeradius
mkdir -p "$FR"
ln -s /etc/freeradius/3.0/dictionary "$FR/dictionary"
cat >"$FR/users" <<USERS
bradius Cleartext-Password := "$PASSWORD"
USERS
cat >"$FR/radiusd.conf" <<FRCONF
prefix = /usr
exec_prefix = /usr
sysconfdir = /etc
localstatedir = /var
sbindir = /usr/sbin
logdir = $FR
raddbdir = $FR
radacctdir = $FR
name = radiusd
confdir = $FR
modconfdir = $FR
run_dir = $FR
db_dir = $FR
libdir = /usr/lib/freeradius
pidfile = $FR/radiusd.pid
max_request_time = 30
cleanup_delay = 5
max_requests = 65536
hostname_lookups = no
log {
	destination = files
	file = $FR/radius.log
}
security {
	max_attributes = 200
	reject_delay = 0
	status_server = no
}
thread pool {
	start_servers = 5
	max_servers = 32
	min_spare_servers = 3
	max_spare_servers = 10
	max_requests_per_server = 0
}
client bench {
	ipaddr = 127.0.0.1
	secret = $SECRET
}
modules {
	files {
		filename = $FR/users
	}
	pap {
	}
}
server default {
	listen {
		type = auth
		ipaddr = 127.0.0.1
		port = $F_PORT
	}
	authorize {
		files
		pap
	}
	authenticate {
		Auth-Type PAP {
			pap
		}
	}
}
FRCONF
freeradius -f -d "$FR" -n radiusd >>"$FR/stdout" 2>&1 &
F_PID=$!
PIDS+=("$F_PID")
wait_udp "$F_PORT" "$F_PID" || die "freeradius did not start: $(tail -5 "$FR/stdout" "$FR/radius.log" 2>/dev/null)"

# run NAME PID PORT N PASSWORD: radclient -p 16, N requests; prints "rps cpu_us_per_request".
run() {
	local req=$T/req.$1 t0 t1 c0 c1 ok
	printf 'User-Name = "bradius", User-Password = "%s", Message-Authenticator = 0x00\n' "$5" >"$req"
	c0=$(cpu_ticks "$2")
	t0=$(date +%s.%N)
	ok=$(radclient -q -s -c "$4" -p $PARALLEL -r 3 -t 10 -f "$req" "127.0.0.1:$3" auth "$SECRET" 2>&1 |
		sed -n "s/^[[:space:]]*Accepted *: *\([0-9]*\).*/\1/p" | head -n1)
	t1=$(date +%s.%N)
	c1=$(cpu_ticks "$2")
	awk -v n="${ok:-0}" -v a="$t0" -v b="$t1" -v c="$((c1 - c0))" -v hz="$(getconf CLK_TCK)" \
		'BEGIN { printf "%.0f %.1f %d\n", n / (b - a), (n > 0 ? c / hz * 1e6 / n : 0), n }'
}
read -r VA_RPS VA_CPU VA_OK < <(run v_app "$V_PID" "$V_PORT" "$APP_N" "$APP")
read -r FA_RPS FA_CPU FA_OK < <(run f_app "$F_PID" "$F_PORT" "$APP_N" "$PASSWORD")
read -r VP_RPS VP_CPU VP_OK < <(run v_pw "$V_PID" "$V_PORT" "$PW_N" "$PASSWORD")
read -r FP_RPS FP_CPU FP_OK < <(run f_pw "$F_PID" "$F_PORT" "$PW_N" "$PASSWORD")
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2f", (b > 0 ? a / b : 0) }'; }
echo "radius PAP, radclient -p $PARALLEL (requests/s, server CPU µs a request), verdond vs FreeRADIUS 3.2.1 (cleartext users file):"
printf '  app password:            verdond %7s/s %7s µs (%s/%s accepted)  freeradius %7s/s %7s µs (%s/%s)  ratio %s×, CPU %s×\n' \
	"$VA_RPS" "$VA_CPU" "$VA_OK" "$APP_N" "$FA_RPS" "$FA_CPU" "$FA_OK" "$APP_N" \
	"$(ratio "$VA_RPS" "$FA_RPS")" "$(ratio "$VA_CPU" "$FA_CPU")"
printf '  one-factor (argon2id 64M): verdond %7s/s %7s µs (%s/%s accepted)  freeradius %7s/s %7s µs (%s/%s)  ratio %s×, CPU %s×\n' \
	"$VP_RPS" "$VP_CPU" "$VP_OK" "$PW_N" "$FP_RPS" "$FP_CPU" "$FP_OK" "$PW_N" \
	"$(ratio "$VP_RPS" "$FP_RPS")" "$(ratio "$VP_CPU" "$FP_CPU")"
echo "RESULT app_v=$VA_RPS app_f=$FA_RPS app_ratio=$(ratio "$VA_RPS" "$FA_RPS") app_cpu_v=$VA_CPU app_cpu_f=$FA_CPU pw_v=$VP_RPS pw_f=$FP_RPS pw_ratio=$(ratio "$VP_RPS" "$FP_RPS") pw_cpu_v=$VP_CPU pw_cpu_f=$FP_CPU"
