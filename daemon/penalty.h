/*
 * Failures from one client address delay that address's next requests,
 * growing and capped as Dovecot's auth penalty does, without delaying other
 * addresses and without hashing while delayed: the loop holds a penalised
 * address's requests and releases them one per delay. The same wrong secret
 * sent again (a client that caches it) counts once.
 */
#ifndef VERDON_PENALTY_H
#define VERDON_PENALTY_H

#include <stdbool.h>
#include <stdint.h>

#define PENALTY_ADDR_MAX 64
#define PENALTY_DEFER_MAX 32 /* requests one address may have held; beyond: TEMPFAIL */

struct penalty;

struct penalty *penalty_new(void);
void penalty_free(struct penalty *p);
/*
 * When this address's request may run (ms since the epoch): now when the
 * address has no penalty, else the next free slot, which this call takes.
 * UINT64_MAX when the address already has PENALTY_DEFER_MAX requests held.
 */
uint64_t penalty_slot(struct penalty *p, const char *addr, uint64_t now_ms, unsigned base_ms,
                      unsigned max_ms);
/*
 * How long (ms) a request from this address would wait now, taking no slot:
 * for a front end that tells its client to come back instead of holding it.
 */
uint64_t penalty_wait(struct penalty *p, const char *addr, uint64_t now_ms, unsigned base_ms,
                      unsigned max_ms);
/* A held request left the queue (run or dropped). */
void penalty_release(struct penalty *p, const char *addr);
/* The outcome of a decision for this address; tag identifies the secret tried. */
void penalty_record(struct penalty *p, const char *addr, bool failed, const char *tag,
                    uint64_t now_ms);
/* The delay now in force for an address (ms), for STATUS and tests. */
unsigned penalty_delay(struct penalty *p, const char *addr, unsigned base_ms, unsigned max_ms);
uint64_t penalty_now_ms(void);

#endif
