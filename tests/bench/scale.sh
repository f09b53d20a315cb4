#!/usr/bin/env bash
# The daemon at 1,000, 100,000 and 1,000,000 accounts (issue 10, point 5): start-up time (from
# exec to both sockets answering), resident memory outside the Argon2 arenas once every start
# timer has run (the purge runs 2 s after start), and an app-password login's latency (1 client).
# The accounts are written by bench_fill into a stopped daemon's store; the daemon it starts is
# stopped by its PID. Prints one "RESULT_SCALE n=… startup_ms=… rss_mb=… outside_mb=…
# app_p50_ms=… app_p99_ms=…" line per size. Knobs: SCALE_SIZES, FAST_SECONDS.
set -u
. "$(dirname "${BASH_SOURCE[0]}")/bench_lib.sh"
SIZES=${SCALE_SIZES:-1000 100000 1000000}
SECS=${FAST_SECONDS:-5}
ARGON2_M=65536 # the SPEC's default: the arenas the memory figure leaves out
bench_setup scale verdon-scale
need_files "$VERDOND" "$VERDONCTL" "$BUILD/bench/bench_fill" "$BUILD/bench/bench_creds"
need_tools jq python3

# start_timed CONF DIR: verdond on CONF, DAEMON_PID its PID; prints the milliseconds from exec
# until both sockets in DIR accept a connection (a socket file alone is not yet an answer).
start_timed() {
	python3 - "$VERDOND" "$1" "$2" <<'PY' &
import os, socket, subprocess, sys, time
verdond, conf, dirn = sys.argv[1:]
t0 = time.monotonic()
p = subprocess.Popen([verdond, "-c", conf], stdout=open(dirn + "/verdond.log", "a"),
                     stderr=subprocess.STDOUT, start_new_session=False)
open(dirn + "/pid", "w").write(str(p.pid))
deadline = t0 + 60
ready = set()
while len(ready) < 2 and time.monotonic() < deadline and p.poll() is None:
    for name in ("auth.sock", "admin.sock"):
        if name in ready:
            continue
        s = socket.socket(socket.AF_UNIX)
        try:
            s.connect(dirn + "/" + name)
            ready.add(name)
        except OSError:
            pass
        finally:
            s.close()
    time.sleep(0.001)
print("%.0f" % ((time.monotonic() - t0) * 1000) if len(ready) == 2 else "-")
sys.stdout.flush()
# verdond outlives this helper: the script stops it by its PID.
os._exit(0)
PY
	wait $!
	DAEMON_PID=$(cat "$2/pid")
	track_server "$DAEMON_PID"
}

for n in $SIZES; do
	d="$T/$n"
	CONF="$d/verdon.conf"
	mkdir -p "$d"
	bench_conf "$d" "$ARGON2_M" 3 1 "map_size_mb = 4096" >"$CONF"
	# A first start makes the store and its key; then the accounts, the daemon stopped.
	start_timed "$CONF" "$d" >/dev/null
	stop_verdond
	"$BUILD/bench/bench_fill" --state "$d/state" --count "$n" --map-mb 4096 >&2 || exit 1
	start_timed "$CONF" "$d" >"$d/startup_ms"
	ms=$(cat "$d/startup_ms")
	sleep 3 # the purge's first run (2 s after start) is among what memory is read after
	rss=$(awk '/^VmRSS:/ { print $2 }' "/proc/$DAEMON_PID/status")
	grep -E '^(RssAnon|RssFile)' "/proc/$DAEMON_PID/status" | tr -s ' \t' ' ' | paste -sd' ' | sed "s/^/scale: $n: /" >&2
	# Read after: STATUS counts the accounts, a walk that would fault the map in.
	workers=$(ctl --json status | jq -r '.workers // empty')
	outside=$(awk -v r="$rss" -v w="${workers:-$(nproc)}" -v m="$ARGON2_M" \
		'BEGIN { printf "%.1f", (r - w * m) / 1024 }')
	# One person with an app password, as a mail client logs in.
	out=$(ctl --json user add --first Mesure --last Echelle --birth 1970-01-01 \
		--numen 97B9999999999 --rescue-email m@example.net) || exit 1
	login=$(jq -r .identifiant <<<"$out")
	app=$(app_password "$login" scale imap) || exit 1
	secret_file "$d/app" "$app"
	res=$(timeout $((SECS * 3 + 60)) "$BUILD/bench/bench_creds" --socket "$d/auth.sock" \
		--echo-socket "$d/echo.sock" --login "$login" --app-password-file "$d/app" \
		--service imap --clients 1 --seconds "$SECS" --max 1000000 |
		grep '^RESULT')
	read -r p50 p99 < <(fields "$res" app_p50_ms app_p99_ms)
	printf 'scale: %8s accounts: start-up %5s ms, resident %6.1f MiB (%s outside %s Argon2 arenas), app password p50 %s ms p99 %s ms\n' \
		"$n" "$ms" "$(awk -v r="$rss" 'BEGIN { print r / 1024 }')" "${outside} MiB" "${workers:-?}" "$p50" "$p99"
	echo "RESULT_SCALE n=$n startup_ms=$ms rss_mb=$(awk -v r="$rss" 'BEGIN { printf "%.1f", r / 1024 }') outside_mb=$outside app_p50_ms=$p50 app_p99_ms=$p99"
	stop_verdond
	rm -rf "$d"
done
