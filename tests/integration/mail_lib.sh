# shellcheck shell=bash
# A private Dovecot (IMAP) and a private Postfix (submission, SASL through that Dovecot), started
# in the scenario's temporary directory on loopback ports and stopped by their PIDs.
#
# The verdon parts of their configuration are the files of docs/examples/dovecot/ and
# docs/examples/postfix/, rendered by literal substitutions of their production values (paths,
# port, PAM service names, TLS): a substitution that no longer matches fails the scenario, so
# the docs and the tests cannot drift apart. Only what a test instance needs (private
# directories, loopback ports, no TLS) is written here.
#
# Source after lib.sh. Then: mail_pam_install verdon|stub, mail_start, imap_login, smtp_auth.
# MAIL_DELIVERY=1 before mail_start: Postfix also delivers mail for example.org into jdupont's
# Maildir, which the private Dovecot serves (46_roundcube sends a mail and reads it).
# The EXIT trap stops both servers and removes the PAM service files it wrote.

DOCS_EX="$ROOT/docs/examples"
PAM_MODULE="$BUILD/pam_verdon.so"
# Unique PAM service names, so that nothing of the machine's /etc/pam.d is touched:
# Dovecot's `args = verdon-%s` becomes `args = verdontestPID-%s`.
MAIL_PAM_PREFIX="verdontest$$"
MAIL_PAM_FILES=""
DOVECOT_PID=""
DOVECOT_CONF="$T/dovecot/dovecot.conf"
PF_DIR="$T/postfix"
PF_QUEUE="$PF_DIR/queue"
POSTFIX_PID=""
IMAP_PORT=""
SMTP_PORT=""
MAIL_WAIT=${MAIL_WAIT:-15} # seconds, for each server to start or stop

# mail_render SRC DST [FROM TO]...: SRC with each literal FROM replaced by TO, written to DST.
# A FROM that SRC no longer contains is an error: the documented file changed, the test must follow.
mail_render() {
	local src=$1 dst=$2 text
	shift 2
	text=$(<"$src") || return 1
	while [ $# -ge 2 ]; do
		if [[ $text != *"$1"* ]]; then
			echo "# $src no longer contains: $1" >&2
			return 1
		fi
		text=${text//"$1"/"$2"}
		shift 2
	done
	printf '%s\n' "$text" >"$dst"
}

# A TCP port nobody listens on now, on 127.0.0.1.
mail_free_port() {
	python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

mail_listening() { ss -Hltn "sport = :$1" 2>/dev/null | grep -q .; }

# mail_wait_port PORT PID LOG: waits until PORT listens while PID lives; prints LOG when it does not.
mail_wait_port() {
	for _ in $(seq 1 $((MAIL_WAIT * 10))); do
		mail_listening "$1" && return 0
		kill -0 "$2" 2>/dev/null || break
		sleep 0.1
	done
	echo "# nothing listens on port $1 (pid $2); $3:"
	tail -n 30 "$3" 2>/dev/null | sed 's/^/# /'
	return 1
}

# mail_wait_gone PID: waits until PID is gone (MAIL_WAIT seconds at most).
mail_wait_gone() {
	for _ in $(seq 1 $((MAIL_WAIT * 10))); do
		kill -0 "$1" 2>/dev/null || return 0
		sleep 0.1
	done
	return 1
}

# mail_pam_install verdon|stub: the PAM services PREFIX-imap and PREFIX-smtp. "verdon" renders
# docs/examples/dovecot/pam.d/ with the built module and the test's socket; "stub" permits
# everyone (pam_permit), to prove the servers alone.
mail_pam_install() {
	local proto dst
	for proto in imap smtp; do
		dst="/etc/pam.d/$MAIL_PAM_PREFIX-$proto"
		[ -e "$dst" ] && { echo "# $dst exists already" >&2; return 1; }
		MAIL_PAM_FILES="$MAIL_PAM_FILES $dst"
		if [ "$1" = stub ]; then
			printf 'auth required pam_permit.so\naccount required pam_permit.so\n' >"$dst"
		else
			mail_render "$DOCS_EX/dovecot/pam.d/verdon-$proto" "$dst" \
				"pam_verdon.so" "$PAM_MODULE" \
				"socket=/run/verdon/auth.sock" "socket=$T/auth.sock" || return 1
		fi
	done
}

mail_pam_remove() {
	local f
	for f in $MAIL_PAM_FILES; do rm -f "$f"; done
	MAIL_PAM_FILES=""
}

dovecot_config() {
	mkdir -p "$T/dovecot/run" "$T/dovecot/state" "$T/mail"
	chmod 1777 "$T/mail"
	mail_render "$DOCS_EX/dovecot/auth-verdon.conf.ext" "$T/dovecot/auth-verdon.conf.ext" \
		"args = verdon-%s" "args = $MAIL_PAM_PREFIX-%s" \
		"/var/spool/postfix/private/auth" "$PF_QUEUE/private/auth" \
		"uid=vmail gid=vmail home=/var/mail/vmail/%n" "uid=nobody gid=nogroup home=$T/mail/%n" || return 1
	cat >"$DOVECOT_CONF" <<EOF
# A private Dovecot for the tests; the verdon part is docs/examples/dovecot/auth-verdon.conf.ext.
base_dir = $T/dovecot/run
state_dir = $T/dovecot/state
log_path = $T/dovecot.log
info_log_path = $T/dovecot.log
protocols = imap
listen = 127.0.0.1
ssl = no
disable_plaintext_auth = no
# Failed logins answer at once: the delays under test are verdon's, not Dovecot's.
auth_failure_delay = 0
auth_verbose = yes
first_valid_uid = 1
mail_location = maildir:~/Maildir
service imap-login {
  inet_listener imap {
    address = 127.0.0.1
    port = $IMAP_PORT
  }
  inet_listener imaps {
    port = 0
  }
}
service auth-worker {
  user = root
}
# The userdb is the file's own (a static one; only its user and home are the test's).
!include $T/dovecot/auth-verdon.conf.ext
EOF
}

dovecot_start() {
	IMAP_PORT=$(mail_free_port)
	dovecot_config || return 1
	dovecot -F -c "$DOVECOT_CONF" >>"$T/dovecot.out" 2>&1 &
	DOVECOT_PID=$!
	mail_wait_port "$IMAP_PORT" "$DOVECOT_PID" "$T/dovecot.log" || {
		sed 's/^/# /' "$T/dovecot.out"
		return 1
	}
}

dovecot_stop() {
	[ -n "$DOVECOT_PID" ] || return 0
	kill -TERM "$DOVECOT_PID" 2>/dev/null
	mail_wait_gone "$DOVECOT_PID" || kill -KILL "$DOVECOT_PID" 2>/dev/null
	wait "$DOVECOT_PID" 2>/dev/null
	DOVECOT_PID=""
}

postfix_config() {
	mkdir -p "$PF_DIR/etc" "$PF_QUEUE" "$PF_DIR/data"
	chown postfix "$PF_DIR/data"
	mail_render "$DOCS_EX/postfix/main.cf" "$PF_DIR/main-verdon.cf" \
		"noanonymous, noplaintext" "noanonymous" || return 1
	mail_render "$DOCS_EX/postfix/master.cf" "$PF_DIR/master-verdon.cf" \
		"submission inet" "127.0.0.1:$SMTP_PORT inet" \
		"smtpd_tls_security_level=encrypt" "smtpd_tls_security_level=none" \
		"smtpd_tls_auth_only=yes" "smtpd_tls_auth_only=no" || return 1
	# No TLS here (swaks lacks it on this machine): the test changes only the TLS lines above.
	{
		cat <<EOF
# A private Postfix for the tests; the verdon part is docs/examples/postfix/main.cf.
compatibility_level = 3.6
queue_directory = $PF_QUEUE
data_directory = $PF_DIR/data
meta_directory = /etc/postfix
mail_owner = postfix
setgid_group = postdrop
myhostname = mail.example.org
mydomain = example.org
myorigin = example.org
mydestination =
inet_interfaces = 127.0.0.1
inet_protocols = ipv4
alias_maps =
alias_database =
maillog_file = $T/postfix.log
maillog_file_prefixes = /var, /dev/stdout, $T
smtpd_tls_security_level = none
EOF
		cat "$PF_DIR/main-verdon.cf"
		[ -z "${MAIL_DELIVERY:-}" ] || cat <<EOF
# MAIL_DELIVERY: every address of example.org is delivered to jdupont's Maildir, where the
# private Dovecot reads it (its userdb: home=$T/mail/%n, uid nobody).
virtual_mailbox_domains = example.org
virtual_mailbox_base = $T/mail
virtual_mailbox_maps = static:jdupont/Maildir/
virtual_uid_maps = static:$(id -u nobody)
virtual_gid_maps = static:$(getent group nogroup | cut -d: -f3)
EOF
	} >"$PF_DIR/etc/main.cf"
	{
		cat "$PF_DIR/master-verdon.cf"
		cat <<'EOF'
anvil     unix  -       -       n       -       1       anvil
proxymap  unix  -       -       n       -       -       proxymap
postlog   unix-dgram n  -       n       -       1       postlogd
EOF
		[ -z "${MAIL_DELIVERY:-}" ] || cat <<'EOF'
cleanup   unix  n       -       n       -       0       cleanup
qmgr      unix  n       -       n       300     1       qmgr
rewrite   unix  -       -       n       -       -       trivial-rewrite
bounce    unix  -       -       n       -       0       bounce
defer     unix  -       -       n       -       0       bounce
trace     unix  -       -       n       -       0       bounce
error     unix  -       -       n       -       -       error
retry     unix  -       -       n       -       -       error
discard   unix  -       -       n       -       -       discard
virtual   unix  -       n       n       -       -       virtual
EOF
	} >"$PF_DIR/etc/master.cf"
}

postfix_start() {
	SMTP_PORT=$(mail_free_port)
	postfix_config || return 1
	if ! postfix -c "$PF_DIR/etc" start >>"$T/postfix.out" 2>&1; then
		echo "# postfix start failed:"
		sed 's/^/# /' "$T/postfix.out"
		tail -n 20 "$T/postfix.log" 2>/dev/null | sed 's/^/# /'
		return 1
	fi
	for _ in $(seq 1 $((MAIL_WAIT * 10))); do
		POSTFIX_PID=$(tr -dc 0-9 <"$PF_QUEUE/pid/master.pid" 2>/dev/null)
		[ -n "$POSTFIX_PID" ] && break
		sleep 0.1
	done
	[ -n "$POSTFIX_PID" ] || { echo "# postfix wrote no master.pid"; return 1; }
	mail_wait_port "$SMTP_PORT" "$POSTFIX_PID" "$T/postfix.log"
}

postfix_stop() {
	[ -n "$POSTFIX_PID" ] || return 0
	postfix -c "$PF_DIR/etc" stop >>"$T/postfix.out" 2>&1
	if ! mail_wait_gone "$POSTFIX_PID"; then
		kill -TERM "$POSTFIX_PID" 2>/dev/null
		mail_wait_gone "$POSTFIX_PID" || kill -KILL "$POSTFIX_PID" 2>/dev/null
	fi
	POSTFIX_PID=""
}

# Postfix first: it creates the queue's private/ directory where Dovecot puts its SASL socket.
mail_start() {
	postfix_start && dovecot_start
}

mail_stop() {
	dovecot_stop
	postfix_stop
}

mail_cleanup() {
	mail_stop
	mail_pam_remove
	cleanup
}
trap mail_cleanup EXIT
trap 'exit 143' TERM INT HUP

# imap_login USER PASSWORD [SOURCE]: IMAP LOGIN then LOGOUT with python's imaplib on 127.0.0.1,
# from the loopback address SOURCE (default 127.0.0.1). Exit 0 logged in, 1 refused (NO),
# 2 anything else. The password travels in the environment, not on a command line.
imap_login() {
	IMAP_PASSWORD=$2 python3 - "$IMAP_PORT" "$1" "${3:-127.0.0.1}" <<'PY'
import imaplib, os, socket, sys

port, user, source = int(sys.argv[1]), sys.argv[2], sys.argv[3]


class Client(imaplib.IMAP4):
    def _create_socket(self, timeout):
        return socket.create_connection((self.host, self.port), timeout, (source, 0))


try:
    c = Client("127.0.0.1", port, timeout=20)
except Exception as e:  # noqa: BLE001
    print("connect: %r" % e)
    sys.exit(2)
try:
    c.login(user, os.environ["IMAP_PASSWORD"])
except imaplib.IMAP4.error as e:
    print("refused: %s" % e)
    sys.exit(1)
except Exception as e:  # noqa: BLE001
    print("login: %r" % e)
    sys.exit(2)
c.logout()
PY
}

# smtp_auth USER PASSWORD [SOURCE]: SMTP AUTH PLAIN on the submission port with swaks.
# Exit 0 on 235, non-zero otherwise (28 on 535).
smtp_auth() {
	swaks --server 127.0.0.1 --port "$SMTP_PORT" --local-interface "${3:-127.0.0.1}" \
		--auth PLAIN --auth-user "$1" --auth-password "$2" --quit-after AUTH --timeout 20 \
		--ehlo test.example.org
}

# sink_start: a loopback SMTP sink (smtp_sink.py) on a free port $SMTP_PORT, each message a JSON
# file in $T/sink; stopped by its PID at exit (the trap also runs cleanup). 1 when it did not start.
SINK_PID=""
sink_stop() {
	[ -n "$SINK_PID" ] && kill "$SINK_PID" 2>/dev/null && wait "$SINK_PID" 2>/dev/null
	SINK_PID=""
}
sink_start() {
	SMTP_PORT=$(mail_free_port)
	mkdir -p "$T/sink"
	python3 "$ROOT/tests/integration/smtp_sink.py" "$SMTP_PORT" "$T/sink" >"$T/sink.log" 2>&1 &
	SINK_PID=$!
	trap 'sink_stop; cleanup' EXIT
	mail_wait_port "$SMTP_PORT" "$SINK_PID" "$T/sink.log"
}
