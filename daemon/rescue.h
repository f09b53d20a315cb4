/*
 * The person changes their own rescue address, from the self-service page
 * after a full login (docs/http-api.md). Only the HTTP front end reaches
 * these verbs (bridge.c), with the identifiant of its session: no socket
 * lists them.
 *
 *   RESCUE_ASK     login= email= address=  → OK expires=SECONDS; a 6-digit code is
 *                                            mailed to the new address
 *   RESCUE_CONFIRM login= code= address=   → OK rescue_email=; the old address is
 *                                            told. FAIL invalid why=wrong|expired|none
 *                                            tries=N detail=… otherwise
 *   RESCUE_STATUS  login=                  → OK rescue_email=MASKED [pending=MASKED
 *                                            expires=SECONDS]
 *   PAGE_CONFIG                            → OK organisation= webmail_url=? min_length=
 *                                            character_classes= dictionary=
 *                                            rescue_code_lifetime=
 */
#ifndef VERDON_RESCUE_H
#define VERDON_RESCUE_H

#include <stddef.h>

#include "daemon.h" /* struct verb: an array needs its element type */

#define RESCUE_TRIES 5
#define RESCUE_MASK_MAX 64

struct account;

/* The verbs only the HTTP front end may send, NULL-terminated. */
extern const struct verb self_verbs[];
/* No change pending any more: the new address, its code, expiry and tries cleared. */
void rescue_code_clear(struct account *a);

/* The pure parts (rescue_text.c), for the tests. */

/* "jean.dupont@example.org" → "je***@e***.org": enough to recognise, not to read. */
void rescue_mask(const char *email, char out[RESCUE_MASK_MAX]);
/* "15 minutes", "30 secondes". */
void rescue_duration(unsigned seconds, char out[32]);
/* The French messages (malloc'd, NULL when out of memory). */
char *rescue_body_code(const char *identifiant, const char *code, unsigned seconds,
                       const char *signature);
char *rescue_body_notice(const char *identifiant, const char *masked_new, const char *signature);

#endif
