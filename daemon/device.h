/*
 * Device secrets: a random secret ("vd-" and 32 letters, 160 bits) the
 * daemon gives a browser after a full password + code login, kept in the
 * account record as HMAC(pepper, "device", secret). Held again with the
 * right password, it keeps that browser out of the throttle other clients
 * caused; when trusted, it also stands in for the code. It dies at its
 * expiry, when revoked, and when the account's session_gen moves (password
 * change, OTP reset, suspension, deletion). Pure: no I/O, time injected.
 */
#ifndef VERDON_DEVICE_H
#define VERDON_DEVICE_H

#include <stdbool.h>
#include <stdint.h>

#include "account.h"

/* Alive for this account now? */
bool device_alive(const struct account *a, const struct account_device *d, int64_t now);
/* The index of the alive device whose hash is tag (every slot compared), or -1. */
int device_find(const struct account *a, const char *tag, int64_t now);
/* Drops dead devices; returns how many went. */
unsigned device_prune(struct account *a, int64_t now);
/*
 * Adds a device (dead ones pruned first; when full, the least recently used
 * makes room) and returns its index. tag is the secret's hash; label is cut
 * to DEVICE_LABEL_MAX bytes of whole UTF-8 characters, "" gives "navigateur".
 */
unsigned device_add(struct account *a, const char *tag, const char *label, bool trusted,
                    int64_t now, int64_t expires);
/* Removes the device with this id; false when there is none. */
bool device_remove(struct account *a, const char *id);

#endif
