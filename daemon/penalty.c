#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "penalty.h"

#define SLOTS 4096 /* addresses tracked at once; the stalest is forgotten first */
#define PROBE 8

struct entry {
	char addr[PENALTY_ADDR_MAX + 1];
	unsigned fails;
	uint64_t last_fail;
	uint64_t next_slot; /* when the next held request may run */
	unsigned held;
	char tag[17]; /* the last wrong secret's tag, cut: enough to tell a retry */
};

struct penalty {
	pthread_mutex_t lock;
	struct entry slots[SLOTS];
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

	if (p != NULL)
		pthread_mutex_init(&p->lock, NULL);
	return p;
}

void penalty_free(struct penalty *p)
{
	if (p == NULL)
		return;
	pthread_mutex_destroy(&p->lock);
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

/* The earliest an address's next request may run: a delay after its last failure, after the last
 * slot given. */
static uint64_t earliest(const struct entry *e, uint64_t d)
{
	return e->last_fail + d > e->next_slot ? e->last_fail + d : e->next_slot;
}

uint64_t penalty_slot(struct penalty *p, const char *addr, uint64_t now_ms, unsigned base_ms,
                      unsigned max_ms)
{
	struct entry *e;
	uint64_t slot = now_ms, d;

	if (!addr_ok(addr))
		return now_ms;
	pthread_mutex_lock(&p->lock);
	e = lookup(p, addr, false);
	if (e != NULL && (d = delay_of(e, base_ms, max_ms)) > 0) {
		slot = earliest(e, d);
		if (slot <= now_ms && e->held == 0) {
			slot = now_ms;
			e->next_slot = now_ms + d;
		} else if (e->held >= PENALTY_DEFER_MAX) {
			slot = UINT64_MAX;
		} else {
			if (slot < now_ms)
				slot = now_ms;
			/* One held request per delay: a flood is served at the penalty's pace. */
			e->next_slot = slot + d;
			e->held++;
		}
	}
	pthread_mutex_unlock(&p->lock);
	return slot;
}

uint64_t penalty_wait(struct penalty *p, const char *addr, uint64_t now_ms, unsigned base_ms,
                      unsigned max_ms)
{
	struct entry *e;
	uint64_t slot = now_ms, d;

	if (!addr_ok(addr))
		return 0;
	pthread_mutex_lock(&p->lock);
	e = lookup(p, addr, false);
	if (e != NULL && (d = delay_of(e, base_ms, max_ms)) > 0) {
		slot = earliest(e, d);
		/* requests already held go first */
		if (slot <= now_ms && e->held > 0)
			slot = now_ms + d;
	}
	pthread_mutex_unlock(&p->lock);
	return slot > now_ms ? slot - now_ms : 0;
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

	if (!addr_ok(addr))
		return;
	pthread_mutex_lock(&p->lock);
	if ((e = lookup(p, addr, failed)) == NULL)
		goto out;
	if (!failed) {
		e->fails = 0;
		e->tag[0] = '\0';
		e->next_slot = 0;
		goto out;
	}
	if (tag != NULL && strncmp(e->tag, tag, sizeof(e->tag) - 1) == 0 && e->tag[0] != '\0')
		goto out; /* the same wrong secret again: a client retrying what it caches */
	e->fails++;
	e->last_fail = now_ms;
	if (tag != NULL) {
		strncpy(e->tag, tag, sizeof(e->tag) - 1);
		e->tag[sizeof(e->tag) - 1] = '\0';
	}
out:
	pthread_mutex_unlock(&p->lock);
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
