#!/usr/bin/env bash
# RadSec (RFC 6614): radclient → radsecproxy (UDP → TLS) → verdond. Certificates are made here
# with openssl (none is committed): a CA that verdond trusts, its server certificate, a client
# certificate mapped to [radius.client nas1] by its DNS name, and the same name from another CA,
# which must be refused. Status-Server over RadSec and RadSec on IPv6 ([::1]) through
# tests/integration/radius_client.py's TLS client.
. "$(dirname "$0")/lib.sh"
for tool in radclient radsecproxy openssl; do
	command -v "$tool" >/dev/null || { echo "not ok - $tool missing: run scripts/deps.sh"; exit 1; }
done
free_port() { python3 -c "import socket; s = socket.socket(socket.AF_INET, socket.$1); s.bind(('127.0.0.1', 0)); print(s.getsockname()[1])"; }
TLS_PORT=$(free_port SOCK_STREAM)
TLS6_PORT=$(python3 -c "import socket; s = socket.socket(socket.AF_INET6, socket.SOCK_STREAM); s.bind(('::1', 0)); print(s.getsockname()[1])")
PROXY_PORT=$(free_port SOCK_DGRAM)
ROGUE_PORT=$(free_port SOCK_DGRAM)
PKI=$T/pki
mkdir -p "$PKI"

# ca NAME: a self-signed CA; cert NAME CA SAN EKU: a certificate it signs.
ca() {
	openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -days 2 \
		-keyout "$PKI/$1.key" -out "$PKI/$1.pem" -subj "/CN=verdon test $1 $$" 2>/dev/null
}
cert() {
	openssl req -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes \
		-keyout "$PKI/$1.key" -out "$PKI/$1.csr" -subj "/CN=${3#DNS:}" 2>/dev/null &&
		openssl x509 -req -in "$PKI/$1.csr" -CA "$PKI/$2.pem" -CAkey "$PKI/$2.key" \
			-CAcreateserial -days 2 -out "$PKI/$1.pem" \
			-extfile <(printf 'subjectAltName=%s\nextendedKeyUsage=%s\n' "$3" "$4") 2>/dev/null
	chmod 600 "$PKI/$1.key"
}
ca ca1 && ca ca2 &&
	cert server ca1 "IP:127.0.0.1" serverAuth &&
	cert nas1 ca1 "DNS:nas1.test" clientAuth &&
	cert rogue ca2 "DNS:nas1.test" clientAuth
check "test certificates made with openssl" test -s "$PKI/rogue.pem"

write_config
cat >>"$CONF" <<CONF

[radsec]
listen = 127.0.0.1:$TLS_PORT, [::1]:$TLS6_PORT
certificate = $PKI/server.pem
key = $PKI/server.key
ca_file = $PKI/ca1.pem

[radius.client nas1]
tls_name = nas1.test
service = radius-vpn
otp = challenge

[service radius-vpn]
credentials = password_otp, app_password
CONF
chmod 644 "$PKI/server.key"
out=$("$VERDOND" -n -c "$CONF" 2>&1)
case "$out" in *"server.key: readable by group or others"*) ok "verdond -n refuses a RadSec key readable by others" ;;
*) not_ok "verdond -n refuses a RadSec key readable by others: $out" ;; esac
chmod 600 "$PKI/server.key"
start_daemon || exit 1

FRONT_SECRET="front-$$-secret"
PROXY_PIDS=()
# proxy NAME UDP_PORT CLIENT_CERT: a radsecproxy taking radclient's UDP and speaking TLS to verdond.
proxy() {
	cat >"$T/$1.conf" <<PROXY
ListenUDP 127.0.0.1:$2
LogLevel 3
LogDestination file://$T/$1.log
PidFile $T/$1.pid
tls default {
	CACertificateFile $PKI/ca1.pem
	CertificateFile $PKI/$3.pem
	CertificateKeyFile $PKI/$3.key
}
client radclient {
	host 127.0.0.1
	type udp
	secret $FRONT_SECRET
}
server verdon {
	host 127.0.0.1
	port $TLS_PORT
	type tls
	tls default
	secret radsec
}
realm * {
	server verdon
}
PROXY
	radsecproxy -f -c "$T/$1.conf" >>"$T/$1.out" 2>&1 &
	PROXY_PIDS+=($!)
}
stop_proxies() {
	for p in "${PROXY_PIDS[@]}"; do kill -TERM "$p" 2>/dev/null; wait "$p" 2>/dev/null; done
	PROXY_PIDS=()
}
trap 'stop_proxies; cleanup' EXIT
proxy good "$PROXY_PORT" nas1
proxy rogue "$ROGUE_PORT" rogue
sleep 1

TEMP=$(jctl user add --first Jean --last Dupont --birth 1980-04-12 --numen 12A3456789XYZ \
	--rescue-email x@example.org | jq -r .temporary_password)
printf '%s\n%s\n' "$TEMP" "$CANARY_PW" | ctl auth passwd jdupont >/dev/null
S=$(jctl otp enroll jdupont | jq -r .secret)
fresh_step 15
B=$(step_now)
ctl otp confirm jdupont "$(totp_step "$S" $((B - 1)))" >/dev/null

MA='Message-Authenticator = 0x00'
rc() { printf '%s\n' "$2" | radclient -x -r 2 -t 4 "127.0.0.1:$1" auth "$FRONT_SECRET" 2>&1; }
got() { sed -n 's/^Received \(Access-[A-Za-z]*\).*/\1/p' | head -n1 | grep . || echo none; }
out=$(rc "$PROXY_PORT" "User-Name = jdupont, User-Password = \"$CANARY_PW\", $MA")
expect "through radsecproxy: password → Access-Challenge" Access-Challenge "$(got <<<"$out")"
ST=$(sed -n 's/^[[:space:]]*State = //p' <<<"$out" | head -n1)
out=$(rc "$PROXY_PORT" "User-Name = jdupont, User-Password = \"$(totp_step "$S" "$B")\", State = $ST, $MA")
expect "… the code with the State → Access-Accept" Access-Accept "$(got <<<"$out")"
out=$(rc "$PROXY_PORT" "User-Name = jdupont, User-Password = \"wrong\", $MA")
expect "… a wrong password → Access-Reject" Access-Reject "$(got <<<"$out")"
if jctl audit jdupont --limit 20 | jq -e '[.[] | select(.actor == "radius" and .result == "ok" and .service == "radius-vpn")] | length == 1' >/dev/null; then
	ok "… audited as a radius login on the client's service"
else not_ok "… audited as a radius login on the client's service"; fi
out=$(rc "$ROGUE_PORT" "User-Name = jdupont, User-Password = \"$CANARY_PW\", $MA")
expect "a client certificate from another CA → no answer" none "$(got <<<"$out")"
grep -q "radsec: TLS handshake failed" "$T/verdond.log" && ok "… its handshake refused in the log" ||
	not_ok "… its handshake refused in the log"
tls() { # VERSION: a bare TLS handshake with nas1's certificate
	openssl s_client -connect "127.0.0.1:$TLS_PORT" "$1" -cipher 'DEFAULT:@SECLEVEL=0' \
		-cert "$PKI/nas1.pem" -key "$PKI/nas1.key" -CAfile "$PKI/ca1.pem" </dev/null 2>&1
}
check "a TLS 1.2 handshake with nas1's certificate succeeds" bash -c "$(declare -f tls); TLS_PORT=$TLS_PORT PKI=$PKI tls -tls1_2 | grep -q '^New, TLSv1.2, Cipher is [A-Z]'"
if tls -tls1_1 | grep -q 'alert protocol version'; then ok "TLS 1.1 is refused"; else not_ok "TLS 1.1 is refused"; fi

# Status-Server (RFC 5997) over RadSec, and RadSec listening on IPv6 too: a Python TLS client.
py() { RADIUS_WAIT=${RADIUS_WAIT:-3} python3 "$ROOT/tests/integration/radius_client.py" "$@"; }
NAS1="$PKI/nas1.pem,$PKI/nas1.key,$PKI/ca1.pem"
check "verdond listens for RadSec on [::1]" grep -q "radsec: listening on \[::1\]:$TLS6_PORT" "$T/verdond.log"
expect "Status-Server over RadSec (IPv4) → Access-Accept" "Access-Accept first=MA ok" \
	"$(py 127.0.0.1 "$TLS_PORT" radsec --tls "$NAS1" --status)"
expect "Status-Server over RadSec on [::1] → Access-Accept" "Access-Accept first=MA ok" \
	"$(py ::1 "$TLS6_PORT" radsec --tls "$NAS1" --status)"
expect "… twice on one connection: the same reply twice (the retransmission cache)" \
	"Access-Accept first=MA ok" "$(py ::1 "$TLS6_PORT" radsec --tls "$NAS1" --status --twice | sort -u)"
expect "Status-Server over RadSec without MA → no answer" "no reply" \
	"$(RADIUS_WAIT=2 py ::1 "$TLS6_PORT" radsec --tls "$NAS1" --status --no-ma)"
expect "Status-Server with another secret than radsec inside TLS → no answer" "no reply" \
	"$(RADIUS_WAIT=2 py ::1 "$TLS6_PORT" not-radsec --tls "$NAS1" --status)"
out=$(py ::1 "$TLS6_PORT" radsec --tls "$NAS1" jdupont "$CANARY_PW")
case "$out" in "Access-Challenge first=MA ok "*State=*) ok "an Access-Request over RadSec on [::1] → Access-Challenge" ;;
*) not_ok "an Access-Request over RadSec on [::1] → Access-Challenge: $out" ;; esac
expect "a certificate from another CA on [::1] → no answer" "no reply" \
	"$(RADIUS_WAIT=2 py ::1 "$TLS6_PORT" radsec --tls "$PKI/rogue.pem,$PKI/rogue.key,$PKI/ca1.pem" --status)"
