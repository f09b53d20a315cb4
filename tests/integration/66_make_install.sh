#!/usr/bin/env bash
# `make install` honours DESTDIR and PREFIX: binaries, the PAM module in the multiarch PAM
# directory under PREFIX, the four man pages, the unit (pointing at PREFIX's verdond), sysusers
# and tmpfiles entries, the docs and fail2ban files, and the example config; nothing outside DESTDIR.
. "$(dirname "$0")/lib.sh"
MA=$(gcc -print-multiarch)
D="$T/root"
if ! (cd "$ROOT" && make --no-print-directory install BUILD="$BUILD" DESTDIR="$D" PREFIX=/opt/verdon) >"$T/install.log" 2>&1; then
	not_ok "make install DESTDIR PREFIX"
	tail -20 "$T/install.log" | sed 's/^/# /'
	exit 1
fi
ok "make install DESTDIR PREFIX"
for f in opt/verdon/sbin/verdond opt/verdon/bin/verdonctl "opt/verdon/lib/$MA/security/pam_verdon.so" \
	opt/verdon/share/man/man8/verdond.8 opt/verdon/share/man/man8/verdonctl.8 \
	opt/verdon/share/man/man8/pam_verdon.8 opt/verdon/share/man/man5/verdon.conf.5 \
	opt/verdon/lib/systemd/system/verdond.service opt/verdon/lib/sysusers.d/verdon.conf \
	opt/verdon/lib/systemd/system/verdond-auth.socket opt/verdon/lib/systemd/system/verdond-admin.socket \
	opt/verdon/lib/tmpfiles.d/verdon.conf opt/verdon/etc/verdon/verdon.conf \
	opt/verdon/share/doc/verdon/README.md opt/verdon/share/doc/verdon/monitoring.md \
	opt/verdon/share/doc/verdon/contrib/fail2ban/filter.d/verdon.conf; do
	check "installed $f" test -f "$D/$f"
done
check "the unit runs PREFIX's verdond with PREFIX's config" \
	grep -qx 'ExecStart=/opt/verdon/sbin/verdond -s -c /opt/verdon/etc/verdon/verdon.conf' \
	"$D/opt/verdon/lib/systemd/system/verdond.service"
check "the installed verdond runs" "$D/opt/verdon/sbin/verdond" -n -c "$ROOT/docs/examples/verdon.conf"
expect "nothing outside PREFIX" "opt" "$(ls "$D")"
for p in "$ROOT"/man/*.[58]; do
	check "$(basename "$p") renders without warnings" \
		bash -c "[ -z \"\$(LC_ALL=C.UTF-8 MANWIDTH=80 man --warnings -l '$p' 2>&1 >/dev/null)\" ]"
done
exit 0
