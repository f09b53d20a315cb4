# shellcheck shell=bash
# Debian's Roundcube (roundcube-core 1.6) served by `php -S` on a loopback port, from a private
# tree in the scenario's temporary directory: a copy of public_html/index.php (INSTALL_PATH comes
# from its real path), links to /usr/share/roundcube, the plugins of the package plus verdon's
# (webmail/roundcube/verdon) and the password plugin with verdon's driver linked into drivers/,
# as docs/roundcube.md tells an admin to do. Its own SQLite database and config directory.
#
# Source after lib.sh and mail_lib.sh, once mail_start has set IMAP_PORT and SMTP_PORT. Then:
# rc_start (RC_EXTRA_CONFIG: more PHP lines for config.inc.php), rc_stop, rc_token (the
# session token the logged-in Roundcube session holds, read from its database).

RC_SHARE=/usr/share/roundcube
RC_TREE="$T/roundcube"
RC_CONFIG_DIR="$T/roundcube-config"
RC_DB="$T/roundcube.db"
RC_LOG="$T/roundcube.out"
RC_PID=""
RC_PORT=""
RC_URL=""

rc_tree() {
	local p e
	mkdir -p "$RC_TREE/public_html" "$RC_TREE/plugins" "$RC_TREE/temp" "$RC_TREE/logs" "$RC_CONFIG_DIR" || return 1
	cp /var/lib/roundcube/public_html/index.php "$RC_TREE/public_html/index.php" || return 1
	ln -s ../plugins "$RC_TREE/public_html/plugins"
	ln -s ../skins "$RC_TREE/public_html/skins"
	# Debian's public_html has no program/js: its Apache setup serves the whole tree.
	mkdir -p "$RC_TREE/public_html/program"
	ln -s "$RC_SHARE/program/js" "$RC_TREE/public_html/program/js"
	ln -s "$RC_SHARE/index.php" "$RC_TREE/index.php"
	for e in program skins SQL; do ln -s "$RC_SHARE/$e" "$RC_TREE/$e"; done
	for p in "$RC_SHARE"/plugins/*; do
		[ "${p##*/}" = password ] || ln -s "$p" "$RC_TREE/plugins/${p##*/}"
	done
	# The password plugin, with verdon's driver beside the stock ones (its config.inc.php left
	# out: the keys are in Roundcube's own config).
	mkdir -p "$RC_TREE/plugins/password/drivers"
	for e in "$RC_SHARE"/plugins/password/*; do
		case ${e##*/} in drivers | config.inc.php) ;; *) ln -s "$e" "$RC_TREE/plugins/password/${e##*/}" ;; esac
	done
	for e in "$RC_SHARE"/plugins/password/drivers/*; do ln -s "$e" "$RC_TREE/plugins/password/drivers/"; done
	ln -s "$ROOT/webmail/roundcube/verdon/drivers/password.php" "$RC_TREE/plugins/password/drivers/verdon.php"
	ln -s "$ROOT/webmail/roundcube/verdon" "$RC_TREE/plugins/verdon"
	ln -s /etc/roundcube/defaults.inc.php "$RC_CONFIG_DIR/defaults.inc.php"
	ln -s /etc/roundcube/mimetypes.php "$RC_CONFIG_DIR/mimetypes.php"
}

rc_config() {
	local key
	key=$(head -c 18 /dev/urandom | base64 | tr -d '\n/+=' | head -c 24)
	[ ${#key} -eq 24 ] || key="verdon-test-key-24-chars"
	cat >"$RC_CONFIG_DIR/config.inc.php" <<PHP
<?php
// A private Roundcube for the tests: loopback IMAP and SMTP, SQLite, no installer.
\$config = [];
\$config['db_dsnw'] = 'sqlite:///$RC_DB?mode=0600';
\$config['imap_host'] = '127.0.0.1:$IMAP_PORT';
\$config['smtp_host'] = '127.0.0.1:$SMTP_PORT';
\$config['smtp_user'] = '%u';
\$config['smtp_pass'] = '%p';
\$config['mail_domain'] = 'example.org';
\$config['des_key'] = '$key';
\$config['skin'] = 'elastic';
\$config['language'] = 'fr_FR';
\$config['product_name'] = 'Messagerie académique';
\$config['log_driver'] = 'file';
\$config['log_dir'] = '$RC_TREE/logs/';
\$config['temp_dir'] = '$RC_TREE/temp/';
\$config['enable_installer'] = false;
\$config['imap_cache'] = null;
\$config['messages_cache'] = false;
// No background refresh: the idle windows under test are idle for real.
\$config['refresh_interval'] = 0;
\$config['create_default_folders'] = true;
\$config['plugins'] = ['verdon', 'password'];
\$config['password_driver'] = 'verdon';
\$config['password_confirm_current'] = true;
\$config['password_minimum_length'] = 0;
${RC_EXTRA_CONFIG:-}
PHP
	# The plugin's own keys, where docs/roundcube.md puts them (Debian: /etc/roundcube/verdon.inc.php).
	cat >"$RC_CONFIG_DIR/verdon.inc.php" <<PHP
<?php
\$config['verdon_socket'] = '$T/auth.sock';
\$config['verdon_selfservice_url'] = 'https://compte.example.org/';
${RC_VERDON_CONFIG:-}
PHP
}

rc_start() {
	RC_PORT=$(mail_free_port)
	RC_URL="http://127.0.0.1:$RC_PORT/"
	rc_tree || return 1
	rc_config || return 1
	sqlite3 "$RC_DB" <"$RC_SHARE/SQL/sqlite.initial.sql" || return 1
	ROUNDCUBE_CONFIG_DIR="$RC_CONFIG_DIR" PHP_CLI_SERVER_WORKERS=4 \
		php -S "127.0.0.1:$RC_PORT" -t "$RC_TREE/public_html" >>"$RC_LOG" 2>&1 &
	RC_PID=$!
	mail_wait_port "$RC_PORT" "$RC_PID" "$RC_LOG" || return 1
	curl -fsS -m 20 -o /dev/null "$RC_URL" || {
		echo "# Roundcube does not answer on $RC_URL"
		tail -n 20 "$RC_LOG" "$RC_TREE/logs/errors.log" 2>/dev/null | sed 's/^/# /'
		return 1
	}
}

# php -S with PHP_CLI_SERVER_WORKERS forks its workers, which outlive a parent stopped alone:
# the workers (children of RC_PID) first, then the parent.
rc_stop() {
	[ -n "$RC_PID" ] || return 0
	pkill -TERM -P "$RC_PID" 2>/dev/null
	kill -TERM "$RC_PID" 2>/dev/null
	mail_wait_gone "$RC_PID" || kill -KILL "$RC_PID" 2>/dev/null
	wait "$RC_PID" 2>/dev/null
	RC_PID=""
}

# The token of the last logged-in Roundcube session: its password, as Roundcube keeps it
# (encrypted with des_key in the session table), decrypted by Roundcube's own code.
rc_token() {
	ROUNDCUBE_CONFIG_DIR="$RC_CONFIG_DIR" php -d display_errors=stderr -r '
define("INSTALL_PATH", $argv[1] . "/");
require INSTALL_PATH . "program/include/clisetup.php";
$rc = rcube::get_instance();
$db = $rc->get_dbh();
$r = $db->query("SELECT vars FROM " . $db->table_name("session") . " ORDER BY changed DESC");
while ($row = $db->fetch_assoc($r)) {
    $vars = base64_decode($row["vars"]);
    if (strpos($vars, "verdon|") !== false && preg_match("/(?:^|;|})password\\|s:\\d+:\"([^\"]*)\"/", $vars, $m)) {
        echo $rc->decrypt($m[1]), "\n";
        exit(0);
    }
}
exit(1);' "$RC_TREE"
}
