#!/usr/bin/env bash
# Help and docs that are true (issue 8): every command's `verdonctl CMD --help` and
# `verdonctl help CMD` print its usage, options and an example and exit 0 (no daemon needed);
# the README's backup-and-restore section, followed word for word, brings the same logins back.
. "$(dirname "$0")/lib.sh"

# The commands as `verdonctl help` lists them: one or two lowercase words (arguments are in capitals,
# options begin with - or [).
mapfile -t cmds < <("$VERDONCTL" help | sed -n 's/^  verdonctl \([a-z-]*\)\( [a-z-]*\)\?.*/\1\2/p' |
	awk '{ if (NF == 2 && $2 ~ /^[a-z][a-z-]*$/) print $1 " " $2; else print $1 }')
[ "${#cmds[@]}" -ge 25 ] && ok "verdonctl help lists ${#cmds[@]} commands" || not_ok "verdonctl help lists the commands: ${cmds[*]}"
for c in "${cmds[@]}"; do
	# shellcheck disable=SC2086
	out=$("$VERDONCTL" $c --help 2>&1)
	rc=$?
	if [ $rc -eq 0 ] && grep -q "^usage: verdonctl $c" <<<"$out" && grep -q "^example:" <<<"$out"; then
		ok "verdonctl $c --help: usage and example, exit 0"
	else
		not_ok "verdonctl $c --help (exit $rc)"
		echo "$out" | head -5 | sed 's/^/# /'
	fi
	# shellcheck disable=SC2086
	out2=$("$VERDONCTL" help $c 2>&1)
	expect "verdonctl help $c says the same" "$out" "$out2"
done
"$VERDONCTL" user --help >/dev/null
expect "verdonctl user --help exits 0" 0 "$?"
"$VERDONCTL" help nosuchcommand >/dev/null 2>&1
expect "verdonctl help of an unknown command exits 2" 2 "$?"
"$VERDONCTL" user import --help | grep -q "date de naissance" && ok "user import --help documents the French headers" ||
	not_ok "user import --help documents the French headers"

# docs/webmail.md tells the auth socket's real mode and group: a daemon with the defaults and auth_group.
write_config
sed -i -e '/^auth_socket_mode/d' -e '/^admin_socket_mode/d' -e 's/^\[verdon\]$/[verdon]\nauth_group = nogroup/' "$CONF"
start_daemon || exit 1
expect "the auth socket's mode by default is 0660" 660 "$(stat -c %a "$T/auth.sock")"
expect "… its group is auth_group" nogroup "$(stat -c %G "$T/auth.sock")"
grep -q "created with mode 0660" "$ROOT/docs/webmail.md" && grep -q "auth_group = " "$ROOT/docs/webmail.md" &&
	ok "docs/webmail.md states mode 0660 and auth_group" || not_ok "docs/webmail.md states mode 0660 and auth_group"
if grep -rq "0666 by default" "$ROOT/docs" "$ROOT/README.md"; then not_ok "no doc says 0666 by default"; else ok "no doc says 0666 by default"; fi
