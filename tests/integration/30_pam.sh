#!/usr/bin/env bash
# pam_verdon.so through pamtester: PAM service files under /etc/pam.d (unique names, removed at
# exit) name the built module by absolute path and this test's auth socket. auth with the code
# appended or prompted, replays, app passwords, email logins, account states, password change,
# unknown options, and a stopped or frozen daemon. pam_syslog lines are caught by running
# pamtester in a private mount namespace whose /dev/log is a socket of this test.
. "$(dirname "$0")/lib.sh"

SO="$BUILD/pam_verdon.so"
# Under `make sanitize` the module carries ASan, which pamtester (unsanitised) cannot load: the
# normal build's module then talks to the sanitised daemon, as in 31_mail.
if ldd "$SO" 2>/dev/null | grep -q libasan; then
	SO="$ROOT/build/pam_verdon.so"
	if [ ! -f "$SO" ] || ldd "$SO" | grep -q libasan; then
		skip "pamtester: no PAM module without ASan to load into it"
		exit 0
	fi
fi
SVC="verdon-test-$$"
PAMD=/etc/pam.d
LOG_PID=""
SYSLOG="$T/syslog.txt"

pam_cleanup() {
	rm -f "$PAMD/$SVC"-*
	[ -n "$LOG_PID" ] && kill "$LOG_PID" 2>/dev/null
	cleanup
}
trap pam_cleanup EXIT

if [ ! -f "$SO" ] || ! command -v pamtester >/dev/null; then
	not_ok "pam_verdon.so is built and pamtester installed ($SO)"
	exit 1
fi

EXTRA_THROTTLE="lock_after = 6" write_config
cat >>"$CONF" <<CONF

[otp]
required = yes
; ±10 steps: a dozen fresh codes a person without waiting for the clock
window = 10

[penalty]
base_ms = 0
CONF
start_daemon || exit 1

# --- syslog catcher ----------------------------------------------------------------------------
NS_OK=""
mkdir -p "$T/dev"
for f in null zero full random urandom tty; do : >"$T/dev/$f"; done
cat >"$T/syslog.py" <<'PY'
import socket, sys
s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
s.bind(sys.argv[1])
with open(sys.argv[2], "ab", buffering=0) as f:
    while True:
        f.write(s.recv(65536).rstrip(b"\0\n") + b"\n")
PY
cat >"$T/ns.sh" <<NS
#!/bin/sh
# In a private mount namespace: /dev with the usual devices and our log socket.
for f in null zero full random urandom tty; do mount --bind /dev/\$f "$T/dev/\$f" || exit 97; done
mount --rbind "$T/dev" /dev || exit 97
exec "\$@"
NS
chmod 755 "$T/ns.sh"
python3 "$T/syslog.py" "$T/dev/log" "$SYSLOG" &
LOG_PID=$!
for _ in $(seq 1 100); do [ -S "$T/dev/log" ] && break; sleep 0.1; done
if [ -S "$T/dev/log" ] && unshare -m --propagation private "$T/ns.sh" logger -t verdon-probe probe-$$ 2>/dev/null; then
	sleep 0.2
	grep -q "probe-$$" "$SYSLOG" && NS_OK=1
fi
[ -n "$NS_OK" ] || echo "# no private /dev/log (unshare refused?): syslog checks are skipped"

run_ns() { if [ -n "$NS_OK" ]; then unshare -m --propagation private "$T/ns.sh" "$@"; else "$@"; fi; }

# pt INPUT SERVICE-SUFFIX USER OP...: runs pamtester (with PT_ITEMS, e.g. "-I rhost=…"); sets
# PT_RC, PT_OUT, PT_MS. PAM_WRAP runs it under a tool: PAM_WRAP="valgrind --leak-check=full …".
pt() {
	local input=$1 svc=$SVC-$2 user=$3 t0
	shift 3
	t0=$(date +%s%N)
	PT_OUT=$(printf '%s' "$input" | run_ns ${PAM_WRAP:-} pamtester -v ${PT_ITEMS:-} "$svc" "$user" "$@" 2>&1)
	PT_RC=$?
	PT_MS=$((($(date +%s%N) - t0) / 1000000))
}

# expect_pt "description" 0|1 [TEXT]: pamtester's exit code, and TEXT somewhere in its output.
expect_pt() {
	if [ "$PT_RC" -eq "$2" ] && { [ -z "${3:-}" ] || grep -qF -- "$3" <<<"$PT_OUT"; }; then
		ok "$1"
	else
		not_ok "$1"
		echo "# exit $PT_RC, expected $2${3:+ with '$3'}"
		sed 's/^/#   /' <<<"$PT_OUT" | head -15
	fi
}

# syslog_has "description" TEXT: a pam_syslog line with TEXT, written since the mark.
SYSLOG_MARK=0
syslog_mark() { SYSLOG_MARK=$(wc -l <"$SYSLOG" 2>/dev/null || echo 0); }
syslog_has() {
	if [ -z "$NS_OK" ]; then skip "$1 (no syslog catcher)"; return; fi
	sleep 0.1
	if tail -n +"$((SYSLOG_MARK + 1))" "$SYSLOG" | grep -qF -- "$2"; then ok "$1"; else
		not_ok "$1"
		echo "# no syslog line with '$2'; since the mark:"
		tail -n +"$((SYSLOG_MARK + 1))" "$SYSLOG" | sed 's/^/#   /' | tail -10
	fi
}

# audit_has "description" TEXT: jdupont's last audit records show TEXT (they may land a moment later).
audit_has() {
	for _ in $(seq 1 30); do
		jctl audit jdupont --limit 3 >"$T/audit.json" 2>&1
		grep -qF -- "$2" "$T/audit.json" && { ok "$1"; return; }
		sleep 0.1
	done
	not_ok "$1"
	sed 's/^/#   /' "$T/audit.json" | head -20
}

# --- service files -----------------------------------------------------------------------------
cat >"$T/show_user.sh" <<SH
#!/bin/sh
echo "PAM_USER=\$PAM_USER" >>"$T/pam_user.out"
SH
chmod 755 "$T/show_user.sh"

pam_file() { # suffix, then the lines
	local f="$PAMD/$SVC-$1"
	shift
	printf '%s\n' "$@" >"$f"
}
A="socket=$T/auth.sock"
pam_file append \
	"auth required $SO $A service=imap otp=append timeout=5000 debug" \
	"account required $SO $A service=imap debug" \
	"account optional pam_exec.so quiet $T/show_user.sh"
pam_file prompt \
	"auth required $SO $A service=webmail otp=prompt" \
	"account required $SO $A service=webmail"
pam_file none \
	"auth required $SO $A service=imap otp=none" \
	"account required $SO $A service=imap"
# No service=: the daemon sees the PAM service name.
pam_file name \
	"auth required $SO $A otp=prompt" \
	"account required $SO $A"
pam_file badopt \
	"auth required $SO $A service=imap frobnicate=1" \
	"account required $SO $A service=imap frobnicate=1"
pam_file badtimeout \
	"auth required $SO $A service=imap timeout=99999"
pam_file fast \
	"auth required $SO $A service=imap timeout=1000" \
	"account required $SO $A service=imap timeout=1000"
pam_file passwd \
	"password required $SO $A service=webmail"
# The account call answered by the daemon's OK to auth in the same handle, or always asked.
pam_file reuse1 \
	"auth required $SO $A service=imap otp=none debug" \
	"account required $SO $A service=imap reuse_auth=1 debug"
pam_file reuse0 \
	"auth required $SO $A service=imap otp=none debug" \
	"account required $SO $A service=imap reuse_auth=0 debug"
pam_file reusebad \
	"account required $SO $A service=imap reuse_auth=61"

# --- accounts ----------------------------------------------------------------------------------
# make_active FIRST LAST NUMEN PASSWORD: prints "identifiant secret" of an enrolled, active account.
make_active() {
	local out id temp secret
	out=$(jctl user add --first "$1" --last "$2" --birth 1980-04-12 --numen "$3" \
		--rescue-email "x$3@example.org") || return 1
	id=$(jq -r .identifiant <<<"$out")
	temp=$(jq -r .temporary_password <<<"$out")
	printf '%s\n%s\n' "$temp" "$4" | ctl auth passwd "$id" >/dev/null || return 1
	out=$(jctl otp enroll "$id") || return 1
	secret=$(jq -r .uri <<<"$out" | sed -n 's/.*[?&]secret=\([A-Z2-7]*\).*/\1/p')
	ctl otp confirm "$id" "$(totp_step "$secret" $(($(step_now) - 1)))" >/dev/null || return 1
	echo "$id $secret"
}

# Codes go forward one step at a time from BASE, each accepted once (the window is ±10).
fresh_step 20
BASE=$(step_now)
read -r ID SECRET < <(make_active Jean Dupont 12A3456789XYZ "$CANARY_PW")
expect "jdupont is active and enrolled" jdupont "${ID:-}"
NEXT=$BASE
code() { totp_step "$SECRET" "$NEXT"; }
used() { NEXT=$((NEXT + 1)); }
# The right code with its last digit changed.
wrong_code() { local c; c=$(code); echo "${c%?}$(((${c: -1} + 1) % 10))"; }

# app_add LOGIN LABEL SERVICES: prints the new app password.
app_add() {
	if ctl help 2>&1 | grep -q app-password; then
		jctl app-password add "$1" --label "$2" --services "$3" | jq -r '.password // empty'
		return
	fi
	T="$T" python3 - "$@" <<'PY'
import sys
sys.path.insert(0, __import__("os").environ["ROOT"] + "/tests/integration")
from lib_proto import Client
a = Client(__import__("os").environ["T"] + "/admin.sock").call(
    "APP_ADD", {"login": sys.argv[1], "label": sys.argv[2], "services": sys.argv[3]})
print(a.get("password", "") if a.verb == "OK" else "")
PY
}
export ROOT

# --- auth with the code appended ---------------------------------------------------------------
syslog_mark
: >"$T/pam_user.out"
pt "$CANARY_PW$(code)"$'\n' append jdupont authenticate acct_mgmt
expect_pt "password with a fresh code appended: authenticate acct_mgmt succeed" 0 "successfully authenticated"
syslog_has "debug logs the decision" "auth 'jdupont' service=imap: OK"
pt "$CANARY_PW$(code)"$'\n' append jdupont authenticate
expect_pt "the same code a second time is refused (PAM_AUTH_ERR)" 1 "Authentication failure"
used
pt "$CANARY_PW$(wrong_code)"$'\n' append jdupont authenticate
expect_pt "a wrong code is refused (PAM_AUTH_ERR)" 1 "Authentication failure"
pt "$CANARY_PW"$'\n' append jdupont authenticate
expect_pt "the password without its code is refused" 1 "Authentication failure"
pt "not-the-password$(code)"$'\n' append jdupont authenticate
expect_pt "a wrong password with a right code is refused" 1 "Authentication failure"
pt "$CANARY_PW$(code)"$'\n' append nobody-here authenticate
expect_pt "an unknown login is a plain PAM_AUTH_ERR, not PAM_USER_UNKNOWN" 1 "Authentication failure"

# An email login: the stack after verdon sees PAM_USER = the identifiant.
: >"$T/pam_user.out"
pt "$CANARY_PW$(code)"$'\n' append ' Jean.Dupont@Example.org ' authenticate acct_mgmt
expect_pt "an email login succeeds" 0 "successfully authenticated"
used
expect "after an email login PAM_USER is the identifiant" "PAM_USER=jdupont" "$(tail -n1 "$T/pam_user.out")"

# PAM_RHOST reaches the daemon's audit.
PT_ITEMS="-I rhost=192.0.2.7" pt "$CANARY_PW$(code)"$'\n' append jdupont authenticate
expect_pt "a login with PAM_RHOST set succeeds" 0 "successfully authenticated"
used
audit_has "PAM_RHOST is sent as address=" 192.0.2.7

# --- the code in a second prompt ---------------------------------------------------------------
pt "$CANARY_PW"$'\n'"$(code)"$'\n' prompt jdupont authenticate acct_mgmt
expect_pt "otp=prompt: password, then the code at its own prompt" 0 "successfully authenticated"
grep -qF "Code : " <<<"$PT_OUT" && ok "the second prompt says 'Code : '" || not_ok "the second prompt says 'Code : '"
pt "$CANARY_PW"$'\n'"$(code)"$'\n' prompt jdupont authenticate
expect_pt "otp=prompt: the same code again is refused" 1 "Authentication failure"
used

# No service=: the PAM service name goes to the daemon (verdon- taken off by the daemon's policy lookup).
pt "$CANARY_PW"$'\n'"$(code)"$'\n' name jdupont authenticate
expect_pt "without service= the module still logs in (default policy: password + code)" 0 "successfully authenticated"
used
audit_has "the PAM service name is sent as service=" "\"service\": \"verdon-test-$$-name\""

# --- app passwords -----------------------------------------------------------------------------
APP=$(app_add jdupont "Thunderbird" imap)
if [ -z "$APP" ]; then
	not_ok "an app password for imap is created (APP_ADD)"
else
	ok "an app password for imap is created"
	pt "$APP"$'\n' append jdupont authenticate acct_mgmt
	expect_pt "the app password logs in through the otp=append stack" 0 "successfully authenticated"
	pt "$APP"$'\n' none jdupont authenticate acct_mgmt
	expect_pt "the app password logs in through an otp=none stack" 0 "successfully authenticated"
	pt "$APP"$'\n' prompt jdupont authenticate
	expect_pt "the imap app password does not open webmail" 1 "Authentication failure"
fi
if [ -n "$APP" ]; then
	# One round trip a login: the account call takes the daemon's OK to auth from the handle.
	syslog_mark
	pt "$APP"$'\n' reuse1 jdupont authenticate acct_mgmt
	expect_pt "auth then account in one handle succeed" 0 "successfully authenticated"
	syslog_has "… the account call takes the daemon's OK to auth" "account 'jdupont' service=imap: the daemon's OK to auth"
	syslog_mark
	pt "$APP"$'\n' reuse0 jdupont authenticate acct_mgmt
	expect_pt "reuse_auth=0: auth then account succeed" 0 "successfully authenticated"
	syslog_has "… and the account call asks the daemon" "account 'jdupont' service=imap: OK -> Success"
	pt "" reusebad jdupont acct_mgmt
	expect_pt "reuse_auth above 60 s: PAM_SERVICE_ERR" 1 "Error in service module"
	# The window (1 s here) crossed for real in one handle, and an auth that fails ends the OK.
	drive() { printf '%s\n' "$1" | run_ns python3 "$ROOT/tests/integration/pam_drive.py" "$SVC-$2" jdupont "${@:3}" 2>&1 | tr '\n' ' '; }
	syslog_mark
	expect "auth, 1.5 s, account: both succeed" "auth 0 acct 0 " "$(drive "$APP" reuse1 auth sleep=1.5 acct)"
	syslog_has "… the account call past the window asks the daemon" "account 'jdupont' service=imap: OK -> Success"
	syslog_mark
	expect "auth, a failed auth, account in one handle" "auth 0 auth-wrong 7 acct 0 " \
		"$(drive "$APP" reuse1 auth auth-wrong acct)"
	syslog_has "… the failed auth ended the OK: the account call asks the daemon" "account 'jdupont' service=imap: OK -> Success"
fi
SMTP_APP=$(app_add jdupont "Phone" smtp)
if [ -n "$SMTP_APP" ]; then
	pt "$SMTP_APP"$'\n' none jdupont authenticate
	expect_pt "an smtp-only app password is refused on imap" 1 "Authentication failure"
fi

# --- account states ----------------------------------------------------------------------------
out=$(jctl user add --first Marie --last Simon --birth 1985-02-03 --numen 34B3456789XYZ \
	--rescue-email marie@example.org)
TEMP=$(jq -r .temporary_password <<<"$out")
pt "" append msimon acct_mgmt
expect_pt "account with a temporary password: PAM_NEW_AUTHTOK_REQD" 1 "new one required"
pt "$TEMP"$'\n'"000000"$'\n' prompt msimon authenticate
expect_pt "a temporary password does not log in through auth" 1 "Authentication failure"

read -r ID2 SECRET2 < <(make_active Paul Martin 56C3456789XYZ "$CANARY_PW")
ctl user suspend "$ID2" --reason "test" >/dev/null
pt "$CANARY_PW"$'\n'"$(totp_step "$SECRET2" "$(step_now)")"$'\n' prompt "$ID2" authenticate
expect_pt "a suspended account: auth says PAM_PERM_DENIED" 1 "Permission denied"
pt "" append "$ID2" acct_mgmt
expect_pt "a suspended account: account says PAM_PERM_DENIED" 1 "Permission denied"
pt "" append nobody-here acct_mgmt
expect_pt "account for an unknown user: PAM_USER_UNKNOWN" 1 "User not known"

read -r ID3 SECRET3 < <(make_active Luc Blanc 78D3456789XYZ "$CANARY_PW")
# The hard lock: lock_after (6 here) wrong codes after the right password.
for i in 1 2 3 4 5 6; do pt "$CANARY_PW"$'\n'"$(printf '%06d' $((111111 * i)))"$'\n' prompt "$ID3" authenticate; done
pt "$CANARY_PW"$'\n'"$(totp_step "$SECRET3" "$(step_now)")"$'\n' prompt "$ID3" authenticate
expect_pt "a locked account: auth says PAM_MAXTRIES" 1 "maximum number of retries"
pt "" append "$ID3" acct_mgmt
expect_pt "a locked account: account says PAM_MAXTRIES" 1 "maximum number of retries"

# --- password change ---------------------------------------------------------------------------
NEW_PW="Nouveau-Canari-9183-Secret"
pt "$CANARY_PW"$'\n'"court"$'\n'"court"$'\n'"$(code)"$'\n' passwd jdupont chauthtok
expect_pt "chauthtok: a too short password is refused (PAM_AUTHTOK_ERR)" 1 "Authentication token manipulation error"
pt "$CANARY_PW"$'\n'"$NEW_PW"$'\n'"$NEW_PW-typo"$'\n' passwd jdupont chauthtok
expect_pt "chauthtok: the new password typed differently twice is refused before any request" 1 "do not match"
pt "$CANARY_PW"$'\n'"$NEW_PW"$'\n'"$NEW_PW"$'\n'"$(code)"$'\n' passwd jdupont chauthtok
expect_pt "chauthtok: current password, new one twice, code: changed" 0 "altered successfully"
used
pt "$NEW_PW$(code)"$'\n' append jdupont authenticate
expect_pt "the new password logs in" 0 "successfully authenticated"
used
pt "$CANARY_PW$(code)"$'\n' append jdupont authenticate
expect_pt "the old password does not" 1 "Authentication failure"
pt "wrong-current"$'\n'"$CANARY_PW-2"$'\n'"$CANARY_PW-2"$'\n'"$(code)"$'\n' passwd jdupont chauthtok
expect_pt "chauthtok: a wrong current password is PAM_AUTH_ERR" 1 "Authentication failure"

# --- broken service files ----------------------------------------------------------------------
syslog_mark
pt "$NEW_PW$(code)"$'\n' badopt jdupont authenticate
expect_pt "an unknown option: PAM_SERVICE_ERR" 1 "Error in service module"
syslog_has "… with 'unknown option' in the log" "unknown option 'frobnicate=1'"
pt "" badopt jdupont acct_mgmt
expect_pt "an unknown option fails account too" 1 "Error in service module"
pt "$NEW_PW$(code)"$'\n' badtimeout jdupont authenticate
expect_pt "timeout out of range: PAM_SERVICE_ERR" 1 "Error in service module"

# --- a frozen daemon, then a stopped one -------------------------------------------------------
syslog_mark
kill -STOP "$DAEMON_PID"
pt "$NEW_PW$(code)"$'\n' fast jdupont authenticate
kill -CONT "$DAEMON_PID"
expect_pt "a frozen daemon: PAM_AUTHINFO_UNAVAIL" 1 "Authentication service cannot retrieve authentication info"
[ "$PT_MS" -lt 2500 ] && ok "… after about timeout=1000 ms ($PT_MS ms)" ||
	not_ok "… after about timeout=1000 ms ($PT_MS ms)"
syslog_has "… logged as a timeout" "timed out after 1000 ms"

stop_daemon
syslog_mark
pt "$NEW_PW$(code)"$'\n' append jdupont authenticate acct_mgmt
expect_pt "daemon stopped: authenticate fails with PAM_AUTHINFO_UNAVAIL" 1 "Authentication service cannot retrieve authentication info"
[ "$PT_MS" -lt 1500 ] && ok "… fast: $PT_MS ms, timeout=5000" || not_ok "… fast: $PT_MS ms, timeout=5000"
syslog_has "… with one clear log line" "cannot reach the daemon at $T/auth.sock"
pt "" fast jdupont acct_mgmt
expect_pt "daemon stopped: acct_mgmt fails with PAM_AUTHINFO_UNAVAIL" 1 "Authentication service cannot retrieve authentication info"

# --- no secret anywhere ------------------------------------------------------------------------
leak=""
for f in "$SYSLOG" "$T/verdond.log" "$T/pam_user.out"; do
	[ -f "$f" ] || continue
	grep -a -q -F -e "$CANARY_PW" -e "$NEW_PW" ${APP:+-e "$APP"} "$f" && leak="$leak $f"
done
[ -z "$leak" ] && ok "no password in the syslog lines or the daemon's log" || not_ok "a password leaked into:$leak"
[ -n "$NS_OK" ] && [ -s "$SYSLOG" ] && ok "(the syslog catcher saw $(wc -l <"$SYSLOG") lines)"
