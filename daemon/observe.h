/*
 * What operators watch, fed from the one place decisions are audited
 * (attempt.c's audit event): the metrics' decision counters, and for every
 * refusal one stable log line that fail2ban reads (docs/monitoring.md):
 *
 *   refused service=SERVICE address=ADDRESS reason=REASON action=ACTION login=HASH
 *
 * SERVICE is cut to [A-Za-z0-9._-] (other bytes read '_'), ADDRESS is a
 * numeric IPv4 or IPv6 address or "-" (anything else a client sent reads
 * "-", so that no string can aim a ban elsewhere), HASH is the first 16 hex
 * digits of HMAC(pepper, "log", normalised login): the same person gives the
 * same hash across services, and the log never shows the login typed.
 * Each penalty growth logs "penalised address=ADDRESS failures=N".
 *
 * A RADIUS station that is no IP address (a MAC, a phone number) comes as
 * the address "STATION@NAS" (radius.c): ADDRESS reads "-" (no ban aimed at
 * the NAS, which serves everybody) and both lines end with
 * " nas=NAS station=STATION", STATION being of STATION_CHARS only.
 */
#ifndef VERDON_OBSERVE_H
#define VERDON_OBSERVE_H

#include <stdbool.h>
#include <stddef.h>

struct audit_event;
struct crypto_keys;

#define OBSERVE_HASH_LEN 16

/* The keys of the login hash; before the first decision. */
void observe_init(const struct crypto_keys *keys);

/* "password", "password_otp", "app_password", "session_token" or "none", by shape. */
const char *observe_credential(const char *password, const char *code);

/*
 * One audited decision: policy is the service policy's name (a bounded
 * label), login the normalised login (or as typed when it does not
 * normalise); "rehash" and other non-decisions are not counted.
 */
void observe_decision(const struct audit_event *ev, const char *policy, const char *credential,
                      const char *login);

void observe_penalty(const char *address, unsigned failures);

#define STATION_CHARS "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789:._-"
/* Whether an address is "STATION@NAS" (NAS numeric); its parts then, else false. */
bool observe_station(const char *in, char *nas, size_t nas_cap, char *station, size_t st_cap);

/* The line's parts, for the tests: address as logged ("-" unless numeric), service cut. */
void observe_address(const char *in, char *out, size_t cap);
void observe_token(const char *in, char *out, size_t cap);

#endif
