#!/bin/sh
# Installs the Debian packages that verdon's build and tests need, only when one is missing.
# Idempotent and quiet when everything is already there.
set -eu

PACKAGES="
build-essential pkg-config clang libclang-rt-14-dev
liblmdb-dev lmdb-utils
liboath-dev oathtool
libargon2-dev
libpwquality-dev cracklib-runtime
libunistring-dev
libjansson-dev
libinih-dev
libcmocka-dev
libqrencode-dev libpng-dev zbar-tools
libssl-dev libcrypt-dev
libpam0g-dev
libmicrohttpd-dev
libpq-dev postgresql
util-linux whois jq curl time
pamtester dovecot-imapd postfix swaks
chromium fonts-dejavu-core
freeradius-utils radsecproxy freeradius
roundcube-core roundcube-sqlite3 roundcube-plugins php-cli php-sqlite3 php-intl php-mbstring php-xml
libsystemd-dev libcurl4-openssl-dev
debhelper lintian fakeroot dpkg-dev fail2ban
"

missing=""
for p in $PACKAGES; do
	if ! dpkg-query -W -f='${Status}\n' "$p" 2>/dev/null | grep -q '^install ok installed$'; then
		missing="$missing $p"
	fi
done
# The browser tests' driver, playwright-core as tests/browser/package-lock.json pins it; it runs
# Debian's chromium above, never a browser download of its own (none can work here).
BROWSER_DIR="$(dirname "$0")/../tests/browser"
if [ -f "$BROWSER_DIR/package-lock.json" ] && { [ ! -f "$BROWSER_DIR/node_modules/.package-lock.json" ] ||
	[ "$BROWSER_DIR/package-lock.json" -nt "$BROWSER_DIR/node_modules/.package-lock.json" ]; }; then
	echo "deps: npm ci in tests/browser" >&2
	(cd "$BROWSER_DIR" && npm ci --ignore-scripts --no-audit --no-fund --loglevel=error >/dev/null)
fi

[ -z "$missing" ] && exit 0

if [ "$(id -u)" -ne 0 ]; then
	echo "deps: missing packages:$missing (run as root to install them)" >&2
	exit 1
fi
echo "deps: installing$missing" >&2
export DEBIAN_FRONTEND=noninteractive
# Postfix must not ask how to deliver mail: the tests run private instances of their own.
echo "postfix postfix/main_mailer_type select No configuration" | debconf-set-selections
echo "postfix postfix/mailname string localhost" | debconf-set-selections
# Roundcube must neither configure a database nor a web server: the tests run it with php -S.
echo "roundcube-core roundcube/dbconfig-install boolean false" | debconf-set-selections
echo "roundcube-core roundcube/reconfigure-webserver multiselect" | debconf-set-selections
# Parallel runs (several checkouts on one machine) wait for the package lock rather than fail.
apt-get -o DPkg::Lock::Timeout=900 update -qq >/dev/null
# shellcheck disable=SC2086
apt-get -o DPkg::Lock::Timeout=900 install -y -qq --no-install-recommends $missing >/dev/null
