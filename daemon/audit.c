/*
 * The audit trail: one compact JSON object per event, appended under the
 * next sequence number of STORE_AUDIT in the caller's write transaction.
 * Values come from clients (a login as typed): they are cut and cleaned so
 * that a record reads safely on a terminal.
 */
#define _GNU_SOURCE /* memmem */

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>
#include <unistr.h>

#include "audit.h"
#include "store.h"

/* How far into a value we look for characters worth keeping. */
#define AUDIT_SCAN_MAX (AUDIT_VALUE_MAX * 16)

static const struct {
	const char *name;
	size_t off;
} audit_members[] = {
    {"actor", offsetof(struct audit_event, actor)},
    {"action", offsetof(struct audit_event, action)},
    {"id", offsetof(struct audit_event, identifiant)},
    {"login", offsetof(struct audit_event, login)},
    {"service", offsetof(struct audit_event, service)},
    {"addr", offsetof(struct audit_event, address)},
    {"result", offsetof(struct audit_event, result)},
    {"reason", offsetof(struct audit_event, reason)},
    {"detail", offsetof(struct audit_event, detail)},
};
#define AUDIT_MEMBERS (sizeof(audit_members) / sizeof(audit_members[0]))

/* C0, DEL, C1, line separators and bidirectional overrides that could disguise a line. */
static bool audit_is_control(ucs4_t uc)
{
	return uc < 0x20 || (uc >= 0x7f && uc < 0xa0) || uc == 0x200e || uc == 0x200f ||
	       (uc >= 0x2028 && uc <= 0x202e) || (uc >= 0x2066 && uc <= 0x2069);
}

static void audit_clean(const char *s, char out[AUDIT_VALUE_MAX + 1])
{
	const uint8_t *p = (const uint8_t *)s;
	size_t len = strnlen(s, AUDIT_SCAN_MAX), i = 0, o = 0;
	ucs4_t uc;
	int n;

	while (i < len) {
		n = u8_mbtoucr(&uc, p + i, len - i);
		if (n < 0) {
			i++;
			continue;
		}
		if (!audit_is_control(uc)) {
			if (o + (size_t)n > AUDIT_VALUE_MAX)
				break;
			memcpy(out + o, p + i, (size_t)n);
			o += (size_t)n;
		}
		i += (size_t)n;
	}
	out[o] = '\0';
}

static char *audit_put_raw(char *o, const char *s)
{
	size_t n = strlen(s);

	memcpy(o, s, n);
	return o + n;
}

/* Decimal, as %lld writes it: every login's record has one, and printf's machinery costs more
 * than the rest of the record. */
static char *audit_put_int(char *o, int64_t v)
{
	char digits[20];
	uint64_t u = v < 0 ? 0 - (uint64_t)v : (uint64_t)v;
	size_t n = 0;

	if (v < 0)
		*o++ = '-';
	do {
		digits[n++] = (char)('0' + u % 10);
		u /= 10;
	} while (u != 0);
	while (n > 0)
		*o++ = digits[--n];
	return o;
}

/* Appends value as a JSON string. Cleaned values hold no control character: only the quote and
 * the backslash need escaping, as jansson's json_dumps escapes them. */
static char *audit_put_string(char *o, const char *value)
{
	*o++ = '"';
	for (; *value != '\0'; value++) {
		if (*value == '"' || *value == '\\')
			*o++ = '\\';
		*o++ = *value;
	}
	*o++ = '"';
	return o;
}

/*
 * Written by hand rather than built as a jansson object: the record is flat and its values are
 * cleaned, and a jansson object per login (an allocation per member, a hash table, a dump) was a
 * tenth of a cheap login's CPU. test_audit checks the bytes against jansson's json_dumps.
 */
char *audit_format(const struct audit_event *ev)
{
	/* Each value at most doubles when escaped; the time and the names are short. */
	char buf[32 + AUDIT_MEMBERS * (16 + 2 * AUDIT_VALUE_MAX + 2)], clean[AUDIT_VALUE_MAX + 1];
	const char *value;
	char *o = buf, *text;
	size_t i, len;

	o = audit_put_raw(o, "{\"t\":");
	o = audit_put_int(o, ev->time);
	for (i = 0; i < AUDIT_MEMBERS; i++) {
		value = *(const char *const *)((const char *)ev + audit_members[i].off);
		if (value == NULL)
			continue;
		audit_clean(value, clean);
		o = audit_put_raw(o, ",\"");
		o = audit_put_raw(o, audit_members[i].name);
		o = audit_put_raw(o, "\":");
		o = audit_put_string(o, clean);
	}
	*o++ = '}';
	len = (size_t)(o - buf);
	if ((text = malloc(len + 1)) != NULL) {
		memcpy(text, buf, len);
		text[len] = '\0';
	}
	return text;
}

int audit_write(struct store_txn *txn, const struct audit_event *ev)
{
	char *text = audit_format(ev);
	uint64_t seq;
	int r;

	if (text == NULL)
		return STORE_ERROR;
	r = store_append(txn, STORE_AUDIT, text, strlen(text), &seq);
	free(text);
	return r;
}

struct audit_walk {
	const char *identifiant;
	char needle[AUDIT_VALUE_MAX + 16]; /* "id":"<identifiant>" as audit_write spells it */
	size_t needle_len;                 /* 0: no byte search */
	unsigned left;
	uint64_t after; /* records up to this sequence are not visited */
	audit_cb *cb;
	void *ctx;
	bool failed;
};

static bool audit_matches(const struct audit_walk *w, const char *json, size_t len)
{
	json_t *obj, *id;
	bool match;

	/* Most records name someone else: a byte search spares parsing them. */
	if (w->needle_len > 0 && memmem(json, len, w->needle, w->needle_len) == NULL)
		return false;
	if ((obj = json_loadb(json, len, 0, NULL)) == NULL)
		return false;
	id = json_object_get(obj, "id");
	match = json_is_string(id) && strcmp(json_string_value(id), w->identifiant) == 0;
	json_decref(obj);
	return match;
}

static uint64_t audit_seq(const uint8_t *key)
{
	uint64_t n = 0;
	int i;

	for (i = 0; i < 8; i++)
		n = n << 8 | key[i];
	return n;
}

static int audit_visit(void *ctx, const void *key, size_t klen, const void *val, size_t vlen)
{
	struct audit_walk *w = ctx;
	char *json;
	int rc;

	if (klen == 8 && audit_seq(key) <= w->after)
		return 1; /* newest first: everything further is older still */
	if (klen != 8 || (w->identifiant != NULL && !audit_matches(w, val, vlen)))
		return 0;
	if ((json = malloc(vlen + 1)) == NULL) {
		w->failed = true;
		return 1;
	}
	memcpy(json, val, vlen);
	json[vlen] = '\0';
	rc = w->cb(w->ctx, audit_seq(key), json, vlen);
	free(json);
	if (rc < 0)
		w->failed = true;
	return rc != 0 || --w->left == 0;
}

/* Whether identifiant reads the same inside a JSON string, so that a byte search finds it. */
static bool audit_plain(const char *identifiant)
{
	const char *p;

	for (p = identifiant; *p != '\0'; p++) {
		if (*p < 0x20 || *p == '"' || *p == '\\' || *p == 0x7f || (*p & 0x80) != 0)
			return false;
	}
	return true;
}

int audit_read(struct store_txn *txn, const char *identifiant, unsigned limit, audit_cb *cb,
               void *ctx)
{
	return audit_read_after(txn, identifiant, 0, limit, cb, ctx);
}

int audit_read_after(struct store_txn *txn, const char *identifiant, uint64_t after, unsigned limit,
                     audit_cb *cb, void *ctx)
{
	struct audit_walk w = {.identifiant = identifiant, .after = after, .cb = cb, .ctx = ctx};
	int n, r;

	w.left = limit == 0 || limit > AUDIT_READ_MAX ? AUDIT_READ_MAX : limit;
	if (identifiant != NULL && strnlen(identifiant, AUDIT_VALUE_MAX + 1) <= AUDIT_VALUE_MAX &&
	    audit_plain(identifiant)) {
		n = snprintf(w.needle, sizeof(w.needle), "\"id\":\"%s\"", identifiant);
		w.needle_len = (size_t)n;
	}
	r = store_scan(txn, STORE_AUDIT, NULL, 0, true, audit_visit, &w);
	if (r == STORE_OK && w.failed)
		r = STORE_ERROR;
	return r;
}
