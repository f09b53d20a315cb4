#!/usr/bin/env bash
# The shipped unit: systemd-analyze security --offline=yes scores it at 2.0 or below (issue 13),
# and it runs as verdon with no capability, Type=notify with a watchdog. No systemd needs to run.
. "$(dirname "$0")/lib.sh"
UNIT="$ROOT/systemd/verdond.service"

if ! command -v systemd-analyze >/dev/null; then
	skip "systemd-analyze is not installed"
	exit 0
fi
out=$(systemd-analyze security --offline=yes --no-pager "$UNIT" 2>&1)
score=$(echo "$out" | sed -n 's/.*Overall exposure level for verdond.service: \([0-9.]*\).*/\1/p')
echo "# systemd-analyze security: $score"
check "an exposure score was printed" test -n "$score"
check "exposure $score is at most 2.0" awk -v s="${score:-99}" 'BEGIN { exit !(s <= 2.0) }'
for line in "User=verdon" "Group=verdon" "Type=notify" "CapabilityBoundingSet=" "NoNewPrivileges=yes" \
	"ProtectSystem=strict" "SystemCallFilter=@system-service" "MemoryDenyWriteExecute=yes" \
	"StateDirectory=verdon" "RuntimeDirectory=verdon" "PrivateTmp=yes" "PrivateDevices=yes" \
	"ProtectHome=yes" "RestrictAddressFamilies=AF_UNIX AF_INET AF_INET6"; do
	check "the unit says $line" grep -qx "$line" "$UNIT"
done
check "WatchdogSec is set" grep -q '^WatchdogSec=[0-9]' "$UNIT"
check "no capability is given back" bash -c "! grep -q '^AmbientCapabilities=.' '$UNIT'"
exit 0
