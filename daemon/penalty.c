#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "observe.h"
#include "penalty.h"

#define SLOTS 4096 /* addresses tracked at once; the stalest is forgotten first */
#define PROBE 8
#define WAKERS 4

struct entry {
	char addr[PENALTY_ADDR_MAX + 1];
	unsigned fails;
	uint64_t last_fail;
	uint64_t last_run; /* when a request of a penalised address last ran */
	unsigned held;
	char tag[17]; /* the last wrong secret's tag, cut: enough to tell a retry */
};

struct penalty {
	pthread_mutex_t lock;
	struct entry slots[SLOTS];
	pthread_rwlock_t wakers_lock; /* held while a waker runs: removal waits for it */
	struct {
		void (*fn)(void *ctx);
		void *ctx;
	} wakers[WAKERS];
	unsigned nwakers;
};

uint64_t penalty_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

struct penalty *penalty_new(void)
{
	struct penalty *p = calloc(1, sizeof(*p));

	if (p != NULL) {
		pthread_mutex_init(&p->lock, NULL);
		pthread_rwlock_init(&p->wakers_lock, NULL);
	}
	return p;
}

void penalty_free(struct penalty *p)
{
	if (p == NULL)
		return;
	pthread_mutex_destroy(&p->lock);
	pthread_rwlock_destroy(&p->wakers_lock);
	free(p);
}

static unsigned hash(const char *s)
{
	unsigned h = 2166136261u;

	for (; *s != '\0'; s++)
		h = (h ^ (unsigned char)*s) * 16777619u;
	return h;
}

/* The entry of addr; with create, a free or the stalest slot of its probe run. */
static struct entry *lookup(struct penalty *p, const char *addr, bool create)
{
	unsigned h = hash(addr);
	struct entry *victim = NULL;

	for (unsigned i = 0; i < PROBE; i++) {
		struct entry *e = &p->slots[(h + i) % SLOTS];

		if (strcmp(e->addr, addr) == 0)
			return e;
		/* a held entry stays: the loop's queue counts on its held number */
		if (e->held == 0 &&
		    (victim == NULL || e->addr[0] == '\0' || e->last_fail < victim->last_fail))
			victim = e;
	}
	if (!create || victim == NULL)
		return NULL;
	memset(victim, 0, sizeof(*victim));
	memcpy(victim->addr, addr, strlen(addr) + 1);
	return victim;
}

/* An empty address would be one penalty shared by every client that sends none. */
static bool addr_ok(const char *addr)
{
	return addr != NULL && addr[0] != '\0' && strlen(addr) <= PENALTY_ADDR_MAX;
}

static uint64_t delay_of(const struct entry *e, unsigned base_ms, unsigned max_ms)
{
	uint64_t d;

	if (e->fails == 0 || base_ms == 0)
		return 0;
	d = e->fails > 20 ? max_ms : (uint64_t)base_ms << (e->fails - 1);
	return d > max_ms ? max_ms : d;
}

/* When the address's next request may run at the current pace (0: at once). */
static uint64_t free_at(const struct entry *e, uint64_t d)
{
	uint64_t t = e->last_fail + d;

	if (d == 0)
		return 0;
	return e->last_run + d > t ? e->last_run + d : t;
}

uint64_t penalty_slot(struct penalty *p, const char *addr, uint64_t now_ms, unsigned base_ms,
                      unsigned max_ms)
{
	struct entry *e;
	uint64_t slot = now_ms, d, start;

	if (!addr_ok(addr))
		return now_ms;
	pthread_mutex_lock(&p->lock);
	e = lookup(p, addr, false);
	if (e == NULL || (d = delay_of(e, base_ms, max_ms)) == 0)
		goto out;
	start = free_at(e, d);
	if (e->held == 0 && start <= now_ms) {
		e->last_run = now_ms;
		goto out;
	}
	if (start < now_ms)
		start = now_ms;
	/* Its place in the queue at this pace: never beyond the cap, never more than the bound. */
	slot = start + e->held * d;
	if (e->held >= PENALTY_DEFER_MAX || slot > now_ms + max_ms) {
		slot = UINT64_MAX;
		goto out;
	}
	e->held++;
out:
	pthread_mutex_unlock(&p->lock);
	return slot;
}

uint64_t penalty_wait(struct penalty *p, const char *addr, uint64_t now_ms, unsigned base_ms,
                      unsigned max_ms)
{
	uint64_t at = 0, d;
	struct entry *e;

	if (!addr_ok(addr))
		return 0;
	pthread_mutex_lock(&p->lock);
	if ((e = lookup(p, addr, false)) != NULL && (d = delay_of(e, base_ms, max_ms)) > 0) {
		at = free_at(e, d);
		/* requests already held go first */
		if (at <= now_ms && e->held > 0)
			at = now_ms + d;
	}
	pthread_mutex_unlock(&p->lock);
	return at > now_ms ? at - now_ms : 0;
}

uint64_t penalty_turn(struct penalty *p, const char *addr, uint64_t now_ms, uint64_t since_ms,
                      unsigned base_ms, unsigned max_ms)
{
	uint64_t deadline = since_ms + max_ms, at = 0, d;
	struct entry *e;

	if (!addr_ok(addr))
		return 0;
	pthread_mutex_lock(&p->lock);
	if ((e = lookup(p, addr, false)) == NULL)
		goto out;
	d = delay_of(e, base_ms, max_ms);
	at = free_at(e, d);
	if (at <= now_ms || deadline <= now_ms) {
		e->last_run = now_ms;
		at = 0;
	} else if (at > deadline) {
		at = deadline;
	}
out:
	pthread_mutex_unlock(&p->lock);
	return at;
}

int penalty_on_clear(struct penalty *p, void (*fn)(void *ctx), void *ctx)
{
	int r = -1;

	pthread_rwlock_wrlock(&p->wakers_lock);
	if (p->nwakers < WAKERS) {
		p->wakers[p->nwakers].fn = fn;
		p->wakers[p->nwakers].ctx = ctx;
		p->nwakers++;
		r = 0;
	}
	pthread_rwlock_unlock(&p->wakers_lock);
	return r;
}

void penalty_off_clear(struct penalty *p, void (*fn)(void *ctx), void *ctx)
{
	pthread_rwlock_wrlock(&p->wakers_lock);
	for (unsigned i = 0; i < p->nwakers; i++)
		if (p->wakers[i].fn == fn && p->wakers[i].ctx == ctx) {
			p->wakers[i] = p->wakers[--p->nwakers];
			break;
		}
	pthread_rwlock_unlock(&p->wakers_lock);
}

void penalty_release(struct penalty *p, const char *addr)
{
	struct entry *e;

	if (!addr_ok(addr))
		return;
	pthread_mutex_lock(&p->lock);
	if ((e = lookup(p, addr, false)) != NULL && e->held > 0)
		e->held--;
	pthread_mutex_unlock(&p->lock);
}

void penalty_record(struct penalty *p, const char *addr, bool failed, const char *tag,
                    uint64_t now_ms)
{
	struct entry *e;
	bool wake = false;
	unsigned fails = 0;

	if (!addr_ok(addr))
		return;
	pthread_mutex_lock(&p->lock);
	if ((e = lookup(p, addr, failed)) == NULL)
		goto out;
	if (!failed) {
		/* Held requests must not wait for a penalty that is gone: wake their holders. */
		wake = e->held > 0 && e->fails > 0;
		e->fails = 0;
		e->tag[0] = '\0';
		e->last_run = 0;
		goto out;
	}
	if (tag != NULL && strncmp(e->tag, tag, sizeof(e->tag) - 1) == 0 && e->tag[0] != '\0')
		goto out; /* the same wrong secret again: a client retrying what it caches */
	fails = ++e->fails;
	e->last_fail = now_ms;
	if (tag != NULL) {
		strncpy(e->tag, tag, sizeof(e->tag) - 1);
		e->tag[sizeof(e->tag) - 1] = '\0';
	}
out:
	pthread_mutex_unlock(&p->lock);
	if (fails > 0)
		observe_penalty(addr, fails);
	if (!wake)
		return;
	/* Outside the table's lock: a waker takes its holder's lock, which calls penalty_turn. */
	pthread_rwlock_rdlock(&p->wakers_lock);
	for (unsigned i = 0; i < p->nwakers; i++)
		p->wakers[i].fn(p->wakers[i].ctx);
	pthread_rwlock_unlock(&p->wakers_lock);
}

unsigned penalty_delay(struct penalty *p, const char *addr, unsigned base_ms, unsigned max_ms)
{
	struct entry *e;
	unsigned d = 0;

	if (!addr_ok(addr))
		return 0;
	pthread_mutex_lock(&p->lock);
	if ((e = lookup(p, addr, false)) != NULL)
		d = (unsigned)delay_of(e, base_ms, max_ms);
	pthread_mutex_unlock(&p->lock);
	return d;
}

unsigned penalty_count(struct penalty *p)
{
	unsigned n = 0;

	if (p == NULL)
		return 0;
	pthread_mutex_lock(&p->lock);
	for (unsigned i = 0; i < SLOTS; i++)
		n += p->slots[i].addr[0] != '\0' && p->slots[i].fails > 0;
	pthread_mutex_unlock(&p->lock);
	return n;
}
