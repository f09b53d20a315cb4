#!/usr/bin/env bash
# RADIUS PAP, radclient -p 16 against verdond and against a private FreeRADIUS 3.2.1 (package
# freeradius, PAP over a cleartext users file) in the same run: requests/s and server CPU per
# request (utime+stime of the server process from /proc), and verdond's ratio to FreeRADIUS,
# for an app password (HMAC) and a one-factor password (Argon2id at the SPEC's cost). Both
# servers run in a temporary directory and are stopped by their PIDs. Asserts nothing.
# Knobs: RADIUS_APP_N (requests a round, default 100000), RADIUS_ROUNDS (app-password rounds
# a server, default 5, the median kept), RADIUS_PW_N (default 300), KEEP=1.
# Its last line is "RESULT key=value…" for run.sh's summary.
set -u
. "$(dirname "${BASH_SOURCE[0]}")/bench_lib.sh"
APP_N=${RADIUS_APP_N:-100000}
PW_N=${RADIUS_PW_N:-300}
ROUNDS=${RADIUS_ROUNDS:-5}
PARALLEL=16
bench_setup "bench radius" verdon-bench-radius
need_files "$VERDOND" "$VERDONCTL"
need_tools radclient freeradius jq python3
wait_udp() { # PORT PID: until something listens there
	for _ in $(seq 1 100); do
		ss -Hlun "sport = :$1" 2>/dev/null | grep -q . && return 0
		kill -0 "$2" 2>/dev/null || return 1
		sleep 0.1
	done
	return 1
}

SECRET=$(head -c 18 /dev/urandom | base64 | tr -d '/+=')
secret_file "$T/secret" "$SECRET"
V_PORT=$(free_port udp)
F_PORT=$(free_port udp)

bench_conf "$T" "${ARGON2_M:-65536}" "${ARGON2_T:-3}" "${ARGON2_P:-1}" >"$CONF"
cat >>"$CONF" <<CONF

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
start_verdond && wait_udp "$V_PORT" "$DAEMON_PID" || die "verdond did not start"
V_PID=$DAEMON_PID
LOGIN=$(new_account Banc Radius 99B9999999998 banc@example.net "$T/password") || die "account failed"
PASSWORD=$(cat "$T/password")
APP=$(app_password "$LOGIN" bench radius-bench) || die "app-password add failed"

# A private FreeRADIUS: its own radiusd.conf, PAP over a cleartext users file.
FR=$T/freeradius
mkdir -p "$FR"
ln -s /etc/freeradius/3.0/dictionary "$FR/dictionary"
cat >"$FR/users" <<USERS
$LOGIN Cleartext-Password := "$PASSWORD"
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
track_server "$F_PID"
wait_udp "$F_PORT" "$F_PID" || die "freeradius did not start: $(tail -5 "$FR/stdout" "$FR/radius.log" 2>/dev/null)"

# run NAME PID PORT N PASSWORD: radclient -p 16, N requests; prints "rps cpu_us_per_request".
# radclient sends one entry of its file again only once its answer came (-c): -p 16 keeps 16
# requests in flight only with 16 entries, each sent N/16 times.
run() {
	local req=$T/req.$1 t0 t1 c0 c1 ok
	for _ in $(seq 1 $PARALLEL); do
		printf 'User-Name = "%s", User-Password = "%s", Message-Authenticator = 0x00\n\n' "$LOGIN" "$5"
	done >"$req"
	c0=$(cpu_ticks "$2")
	t0=$(date +%s.%N)
	ok=$(nice -n "${NICE:-0}" radclient -q -s -c $((($4 + PARALLEL - 1) / PARALLEL)) -p $PARALLEL -r 3 -t 10 -f "$req" "127.0.0.1:$3" auth "$SECRET" 2>&1 |
		sed -n "s/^[[:space:]]*Accepted *: *\([0-9]*\).*/\1/p" | head -n1)
	t1=$(date +%s.%N)
	c1=$(cpu_ticks "$2")
	awk -v n="${ok:-0}" -v a="$t0" -v b="$t1" -v c="$((c1 - c0))" -v hz="$(getconf CLK_TCK)" \
		'BEGIN { printf "%.1f %.1f %d\n", n / (b - a), (n > 0 ? c / hz * 1e6 / n : 0), n }'
}
# The app-password phase in ROUNDS rounds, the two servers taking turns to go first: a round
# lasts about a second, and a burst of other work on the machine would otherwise decide the
# ratio. Each side's figure is its median round.
median() { median_line | awk '{ print $1 + 0 }'; }
: >"$T/v_rounds"
: >"$T/f_rounds"
for r in $(seq 1 "$ROUNDS"); do
	if [ $((r % 2)) -eq 1 ]; then
		run v_app "$V_PID" "$V_PORT" "$APP_N" "$APP" >>"$T/v_rounds"
		run f_app "$F_PID" "$F_PORT" "$APP_N" "$PASSWORD" >>"$T/f_rounds"
	else
		run f_app "$F_PID" "$F_PORT" "$APP_N" "$PASSWORD" >>"$T/f_rounds"
		run v_app "$V_PID" "$V_PORT" "$APP_N" "$APP" >>"$T/v_rounds"
	fi
done
VA_RPS=$(cut -d' ' -f1 "$T/v_rounds" | median)
VA_CPU=$(cut -d' ' -f2 "$T/v_rounds" | median)
VA_OK=$(cut -d' ' -f3 "$T/v_rounds" | median)
FA_RPS=$(cut -d' ' -f1 "$T/f_rounds" | median)
FA_CPU=$(cut -d' ' -f2 "$T/f_rounds" | median)
FA_OK=$(cut -d' ' -f3 "$T/f_rounds" | median)
echo "app-password rounds (requests/s, µs a request), verdond: $(cut -d' ' -f1,2 "$T/v_rounds" | paste -sd';')" \
	" freeradius: $(cut -d' ' -f1,2 "$T/f_rounds" | paste -sd';')"
# radclient polls without sleeping while its answers are slow to come: with Argon2 answers it
# would take most of a core from the hash workers it measures. Niced, it runs when they wait.
read -r VP_RPS VP_CPU VP_OK < <(NICE=19 run v_pw "$V_PID" "$V_PORT" "$PW_N" "$PASSWORD")
read -r FP_RPS FP_CPU FP_OK < <(NICE=19 run f_pw "$F_PID" "$F_PORT" "$PW_N" "$PASSWORD")
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2f", (b > 0 ? a / b : 0) }'; }
echo "radius PAP, radclient -p $PARALLEL (requests/s, server CPU µs a request), verdond vs FreeRADIUS 3.2.1 (cleartext users file):"
printf '  app password:            verdond %7s/s %7s µs (%s/%s accepted)  freeradius %7s/s %7s µs (%s/%s)  ratio %s×, CPU %s×\n' \
	"$VA_RPS" "$VA_CPU" "$VA_OK" "$APP_N" "$FA_RPS" "$FA_CPU" "$FA_OK" "$APP_N" \
	"$(ratio "$VA_RPS" "$FA_RPS")" "$(ratio "$VA_CPU" "$FA_CPU")"
printf '  one-factor (argon2id %s KiB): verdond %7s/s %7s µs (%s/%s accepted)  freeradius %7s/s %7s µs (%s/%s)  ratio %s×, CPU %s×\n' \
	"${ARGON2_M:-65536}" "$VP_RPS" "$VP_CPU" "$VP_OK" "$PW_N" "$FP_RPS" "$FP_CPU" "$FP_OK" "$PW_N" \
	"$(ratio "$VP_RPS" "$FP_RPS")" "$(ratio "$VP_CPU" "$FP_CPU")"
echo "RESULT app_v=$VA_RPS app_f=$FA_RPS app_ratio=$(ratio "$VA_RPS" "$FA_RPS") app_cpu_v=$VA_CPU app_cpu_f=$FA_CPU pw_v=$VP_RPS pw_f=$FP_RPS pw_ratio=$(ratio "$VP_RPS" "$FP_RPS") pw_cpu_v=$VP_CPU pw_cpu_f=$FP_CPU"
