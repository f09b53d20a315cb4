#include <stdio.h>
#include <string.h>

#include "device.h"
#include "secret.h"

bool device_alive(const struct account *a, const struct account_device *d, int64_t now)
{
	return a->state == ACCOUNT_ACTIVE && d->gen == a->session_gen && now < d->expires;
}

int device_find(const struct account *a, const char *tag, int64_t now)
{
	int found = -1;

	if (strlen(tag) != 64)
		return -1;
	/* Every slot is compared: the time says nothing of which one matched. */
	for (unsigned i = 0; i < a->ndevices && i < ACCOUNT_DEVICES_MAX; i++)
		if (secret_equal(tag, a->devices[i].hash, 64) && found < 0 &&
		    device_alive(a, &a->devices[i], now))
			found = (int)i;
	return found;
}

static void drop(struct account *a, unsigned i)
{
	memmove(&a->devices[i], &a->devices[i + 1], (a->ndevices - i - 1) * sizeof(a->devices[0]));
	a->ndevices--;
	secret_wipe(&a->devices[a->ndevices], sizeof(a->devices[0]));
}

unsigned device_prune(struct account *a, int64_t now)
{
	unsigned gone = 0;

	for (unsigned i = a->ndevices; i-- > 0;)
		if (!device_alive(a, &a->devices[i], now)) {
			drop(a, i);
			gone++;
		}
	return gone;
}

/* Bytes of s to keep so that at most max remain and no UTF-8 character is cut. */
static size_t utf8_cut(const char *s, size_t max)
{
	size_t n = strlen(s);

	if (n <= max)
		return n;
	n = max;
	while (n > 0 && ((unsigned char)s[n] & 0xC0) == 0x80)
		n--;
	return n;
}

unsigned device_add(struct account *a, const char *tag, const char *label, bool trusted,
                    int64_t now, int64_t expires)
{
	struct account_device *d;
	unsigned oldest = 0;
	size_t n;

	device_prune(a, now);
	if (a->ndevices == ACCOUNT_DEVICES_MAX) {
		for (unsigned i = 1; i < a->ndevices; i++)
			if (a->devices[i].last_used < a->devices[oldest].last_used)
				oldest = i;
		drop(a, oldest);
	}
	d = &a->devices[a->ndevices];
	memset(d, 0, sizeof(*d));
	snprintf(d->hash, sizeof(d->hash), "%s", tag);
	memcpy(d->id, tag, DEVICE_ID_LEN);
	if (label == NULL || label[0] == '\0')
		label = "navigateur";
	n = utf8_cut(label, DEVICE_LABEL_MAX);
	memcpy(d->label, label, n);
	d->label[n] = '\0';
	d->created = d->last_used = now;
	d->expires = expires;
	d->trusted = trusted;
	d->gen = a->session_gen;
	return a->ndevices++;
}

bool device_remove(struct account *a, const char *id)
{
	for (unsigned i = 0; i < a->ndevices; i++)
		if (strcmp(a->devices[i].id, id) == 0) {
			drop(a, i);
			return true;
		}
	return false;
}
