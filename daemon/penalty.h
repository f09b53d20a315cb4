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
 * A request from addr arrives. Returns now_ms when it may run at once (the
 * address has no penalty, or its slot has come and nothing of it is held);
 * else the time (ms since the epoch) its turn should come at the current
 * pace, and the request counts as held until penalty_release; UINT64_MAX
 * when it cannot be served within max_ms (the penalty's cap) or when the
 * address already has PENALTY_DEFER_MAX requests held: answer TEMPFAIL.
 */
uint64_t penalty_slot(struct penalty *p, const char *addr, uint64_t now_ms, unsigned base_ms,
                      unsigned max_ms);
/*
 * How long (ms) a request from this address would wait now, taking no slot:
 * for a front end that tells its client to come back instead of holding it.
 */
uint64_t penalty_wait(struct penalty *p, const char *addr, uint64_t now_ms, unsigned base_ms,
                      unsigned max_ms);
/*
 * Whether a held request (held since since_ms) may run now, with the
 * address's penalty as it is now: 0 when it may (its slot is taken), else
 * when to ask again. A request never waits past since_ms + max_ms. Asked in
 * arrival order, the requests of one address run one per delay.
 */
uint64_t penalty_turn(struct penalty *p, const char *addr, uint64_t now_ms, uint64_t since_ms,
                      unsigned base_ms, unsigned max_ms);
/* A held request left the queue (run or dropped). */
void penalty_release(struct penalty *p, const char *addr);
/*
 * fn(ctx) is called (from any thread, no lock held) when a success clears
 * the penalty of an address that has requests held: ask penalty_turn again.
 */
int penalty_on_clear(struct penalty *p, void (*fn)(void *ctx), void *ctx);
/* Removes it, after any call of it in progress has returned. */
void penalty_off_clear(struct penalty *p, void (*fn)(void *ctx), void *ctx);
/* The outcome of a decision for this address; tag identifies the secret tried. */
void penalty_record(struct penalty *p, const char *addr, bool failed, const char *tag,
                    uint64_t now_ms);
/* The delay now in force for an address (ms), for STATUS and tests. */
unsigned penalty_delay(struct penalty *p, const char *addr, unsigned base_ms, unsigned max_ms);
uint64_t penalty_now_ms(void);
/* Addresses with failures counted against them, for the metrics. */
unsigned penalty_count(struct penalty *p);

#endif
