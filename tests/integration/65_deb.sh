#!/usr/bin/env bash
# The Debian package on this machine: `make deb` (lintian without errors), install it, check where
# everything landed (binaries, the PAM module in the multiarch directory, man pages, the conffile,
# the sysusers user and groups, the 0700 state directory), start verdond from it as "verdon" with
# the packaged config (outside systemd: none runs here; setpriv as the unit would, no new
# privileges), an admin command and logins through verdonctl and through PAM (pamtester with a
# service file of this run naming the module by its bare name), then purge and check that nothing
# is left. It changes the machine: it runs only as root, only when no verdon package is installed,
# one run at a time (a lock), and its trap stops, purges and removes what it made whatever happens.
. "$(dirname "$0")/lib.sh"
MA=$(dpkg-architecture -qDEB_HOST_MULTIARCH 2>/dev/null || gcc -print-multiarch)
PAM_SERVICE="verdon-debtest$$"
INSTALLED=""
PKG_PID=""
# apt-get waits for the package lock that other runs' scripts/deps.sh may hold; dpkg would fail.
APT="apt-get -y -q -o DPkg::Lock::Timeout=900 --no-install-recommends"
CREATED_IDS=""

if [ "$(id -u)" -ne 0 ]; then
	skip "the package test installs a package: root only"
	exit 0
fi
exec 9>/run/lock/verdon-deb-test.lock
if ! flock -w 900 9; then
	not_ok "the package test lock is free within 900 s"
	exit 1
fi
if dpkg-query -W -f='${Status}' verdon 2>/dev/null | grep -q installed; then
	skip "a verdon package is already installed on this machine: not touching it"
	exit 0
fi
for id in verdon verdon-auth verdon-admin; do
	getent group "$id" >/dev/null || CREATED_IDS="$CREATED_IDS $id"
done

pkg_cleanup() {
	if [ -n "$PKG_PID" ]; then
		kill -TERM "$PKG_PID" 2>/dev/null
		for _ in $(seq 1 100); do kill -0 "$PKG_PID" 2>/dev/null || break; sleep 0.1; done
		kill -KILL "$PKG_PID" 2>/dev/null
		wait "$PKG_PID" 2>/dev/null
		PKG_PID=""
	fi
	rm -f "/etc/pam.d/$PAM_SERVICE"
	if [ -n "$INSTALLED" ]; then
		$APT purge verdon roundcube-plugin-verdon >>"$T/dpkg.log" 2>&1
		INSTALLED=""
	fi
	# Debian leaves a package's system user behind; this run made them, this run removes them.
	for id in $CREATED_IDS; do
		getent passwd "$id" >/dev/null && userdel "$id" 2>/dev/null
		getent group "$id" >/dev/null && groupdel "$id" 2>/dev/null
	done
	CREATED_IDS=""
	cleanup
}
trap pkg_cleanup EXIT

# --- build ---
if ! (cd "$ROOT" && make --no-print-directory deb) >"$T/deb.log" 2>&1; then
	not_ok "make deb builds the package and lintian reports no error"
	tail -30 "$T/deb.log" | sed 's/^/# /'
	exit 1
fi
ok "make deb builds the package and lintian reports no error"
DEB=$(ls "$ROOT"/build/deb/verdon_*_*.deb | head -1)
RC_DEB=$(ls "$ROOT"/build/deb/roundcube-plugin-verdon_*_all.deb 2>/dev/null | head -1)
check "the Roundcube plugin package is built too" test -f "$RC_DEB"
check "the package's files include the PAM module in the multiarch directory" \
	bash -c "dpkg -c '$DEB' | grep -q ' ./lib/$MA/security/pam_verdon.so$'"

# Files named *verdon* before: what other runs (their /etc/pam.d/verdontest… files) have.
snapshot() {
	find /etc /lib /usr /var/lib /run -xdev -name '*verdon*' 2>/dev/null |
		grep -v -e '^/etc/pam.d/verdontest' -e '^/run/lock/verdon-deb-test.lock$' | sort
}
snapshot >"$T/before.list"

# --- install ---
if DEBIAN_FRONTEND=noninteractive $APT install "$DEB" "$RC_DEB" >"$T/dpkg.log" 2>&1; then
	INSTALLED=1
	ok "the packages install"
else
	not_ok "the packages install"
	INSTALLED=1
	sed 's/^/# /' "$T/dpkg.log"
	exit 1
fi
for f in /usr/sbin/verdond /usr/bin/verdonctl "/lib/$MA/security/pam_verdon.so" \
	/lib/systemd/system/verdond.service /lib/systemd/system/verdond-auth.socket \
	/lib/systemd/system/verdond-admin.socket /usr/lib/sysusers.d/verdon.conf /usr/lib/tmpfiles.d/verdon.conf \
	/usr/share/doc/verdon/contrib/fail2ban/filter.d/verdon.conf; do
	check "installed: $f" test -f "$f"
done
for page in verdond.8 verdonctl.8 pam_verdon.8 verdon.conf.5; do
	check "man page $page" test -f "/usr/share/man/man${page##*.}/$page.gz"
done
check "man finds verdon.conf(5)" man -w 5 verdon.conf
check "the Roundcube plugin where Roundcube loads plugins" test -f /var/lib/roundcube/plugins/verdon/verdon.php
check "the plugin's PHP parses" php -l /usr/share/roundcube/plugins/verdon/lib/verdon_client.php
expect "/etc/verdon/verdon.conf is a conffile" "/etc/verdon/verdon.conf" \
	"$(dpkg-query -W -f='${Conffiles}\n' verdon | awk 'NF {print $1}')"
check "the packaged config passes verdond -n" /usr/sbin/verdond -n -c /etc/verdon/verdon.conf
check "the packaged config mails through the local relay" grep -q '^relay = smtp://127.0.0.1:25 ' /etc/verdon/verdon.conf
check "system user verdon" bash -c "getent passwd verdon | grep -q ':/usr/sbin/nologin$'"
check "verdon is in verdon-auth and verdon-admin" bash -c "id -nG verdon | tr ' ' '\n' | grep -qx verdon-auth && id -nG verdon | tr ' ' '\n' | grep -qx verdon-admin"
expect "state directory 0700 verdon:verdon" "700 verdon verdon" "$(stat -c '%a %U %G' /var/lib/verdon)"
check "runtime directory owned by verdon" bash -c "[ \"\$(stat -c %U /run/verdon)\" = verdon ]"

# --- run it as verdon, as the unit would ---
setpriv --reuid=verdon --regid=verdon --init-groups --no-new-privs \
	/usr/sbin/verdond -c /etc/verdon/verdon.conf >"$T/pkg-verdond.log" 2>&1 &
PKG_PID=$!
for _ in $(seq 1 150); do
	[ -S /run/verdon/auth.sock ] && [ -S /run/verdon/admin.sock ] && break
	kill -0 "$PKG_PID" 2>/dev/null || break
	sleep 0.1
done
if ! [ -S /run/verdon/admin.sock ]; then
	not_ok "verdond starts from the package"
	sed 's/^/# /' "$T/pkg-verdond.log"
	exit 1
fi
ok "verdond starts from the package"
expect "it runs as verdon" verdon "$(ps -o user= -p "$PKG_PID" | tr -d ' ')"
expect "auth socket group verdon-auth" "verdon-auth 660" "$(stat -c '%G %a' /run/verdon/auth.sock)"
expect "admin socket group verdon-admin" "verdon-admin 660" "$(stat -c '%G %a' /run/verdon/admin.sock)"
check "the key is the daemon's alone" bash -c "[ \"\$(stat -c '%a %U' /var/lib/verdon/verdon.key)\" = '600 verdon' ]"

pctl() { /usr/bin/verdonctl -c /etc/verdon/verdon.conf "$@"; }
check "admin command: verdonctl status" pctl status
out=$(pctl --json user add --first Paquet --last Debian --birth 1980-01-01 --numen 55D3456789XYZ \
	--rescue-email paquet@example.org)
IDENT=$(jq -r .identifiant <<<"$out")
TEMP=$(jq -r .temporary_password <<<"$out")
expect "admin command: user add" "pdebian" "$IDENT"
URI=$(pctl --json otp enroll "$IDENT" | jq -r .uri)
SECRET=$(sed -n 's/.*[?&]secret=\([A-Z2-7]*\).*/\1/p' <<<"$URI")
fresh_step 20
BASE=$(step_now)
check "otp confirm" pctl otp confirm "$IDENT" "$(totp_step "$SECRET" $((BASE - 1)))"
check "password change from the temporary password" \
	bash -c "printf '%s\n%s\n' '$TEMP' '$CANARY_PW' | /usr/bin/verdonctl -c /etc/verdon/verdon.conf auth passwd '$IDENT'"
out=$(printf '%s\n%s\n' "$CANARY_PW" "$(totp_step "$SECRET" "$BASE")" | pctl --json auth check "$IDENT" --service webmail)
expect "login with password and code: ok" ok "$(jq -r .result <<<"$out")"

# PAM, the module by its bare name from the multiarch directory.
cat >"/etc/pam.d/$PAM_SERVICE" <<PAM
auth     required  pam_verdon.so service=imap otp=append
account  required  pam_verdon.so service=imap
PAM
CODE=$(totp_step "$SECRET" $((BASE + 1)))
check "pamtester login through the packaged module (password with the code appended)" \
	bash -c "printf '%s\n' '$CANARY_PW$CODE' | pamtester '$PAM_SERVICE' '$IDENT' authenticate acct_mgmt"
check "pamtester refuses a wrong password" \
	bash -c "! printf '%s\n' 'mauvais-mot-de-passe123456' | pamtester '$PAM_SERVICE' '$IDENT' authenticate"
rm -f "/etc/pam.d/$PAM_SERVICE"

kill -TERM "$PKG_PID"
wait "$PKG_PID"
expect "verdond stops cleanly" 0 "$?"
PKG_PID=""
check "no secret in the daemon's log" bash -c "! grep -qF -- '$CANARY_PW' '$T/pkg-verdond.log'"

# --- purge ---
check "purging removes them" $APT purge verdon roundcube-plugin-verdon
INSTALLED=""
check "no longer known to dpkg" bash -c "! dpkg-query -W -f='\${Status}' verdon 2>/dev/null | grep -q installed"
for f in /usr/sbin/verdond /usr/bin/verdonctl "/lib/$MA/security/pam_verdon.so" /etc/verdon /var/lib/verdon \
	/run/verdon /lib/systemd/system/verdond.service /etc/systemd/system/multi-user.target.wants/verdond.service \
	/lib/systemd/system/verdond-auth.socket /etc/systemd/system/sockets.target.wants/verdond-auth.socket \
	/usr/lib/sysusers.d/verdon.conf /usr/lib/tmpfiles.d/verdon.conf /usr/share/doc/verdon \
	/usr/share/man/man8/verdond.8.gz /usr/share/man/man5/verdon.conf.5.gz "/etc/pam.d/$PAM_SERVICE" \
	/usr/share/roundcube/plugins/verdon /var/lib/roundcube/plugins/verdon; do
	check "nothing left: $f" bash -c "! [ -e '$f' ] && ! [ -L '$f' ]"
done
left=$(snapshot | comm -13 "$T/before.list" - | head -5)
expect "no new file named *verdon* left in /etc, /lib, /usr, /var/lib, /run" "" "$left"
# Debian policy keeps a purged package's system user; the ones this run made go now.
for id in $CREATED_IDS; do
	getent passwd "$id" >/dev/null && userdel "$id"
	getent group "$id" >/dev/null && groupdel "$id"
	check "this run's $id is removed" bash -c "! getent group '$id' >/dev/null && ! getent passwd '$id' >/dev/null"
done
CREATED_IDS=""
exit 0
