/*
 * The binary record codec (record.h): varints, tagged fields, field tables.
 */
#include <limits.h>
#include <stdlib.h>
#include <string.h>

#include "record.h"
#include "secret.h"

#define VARINT_MAX 10

void rec_buf_init(struct rec_buf *b, size_t max)
{
	memset(b, 0, sizeof(*b));
	b->max = max;
}

void rec_buf_free(struct rec_buf *b)
{
	if (b->p != NULL)
		secret_wipe(b->p, b->cap);
	free(b->p);
	b->p = NULL;
	b->len = b->cap = 0;
}

uint8_t *rec_buf_take(struct rec_buf *b, size_t *len_r)
{
	uint8_t *p = b->p;

	*len_r = 0;
	if (b->failed || p == NULL) {
		rec_buf_free(b);
		return NULL;
	}
	*len_r = b->len;
	b->p = NULL;
	b->len = b->cap = 0;
	return p;
}

/* Grown into a new block so that the old one can be wiped before it is freed. */
static bool reserve(struct rec_buf *b, size_t more)
{
	size_t cap, len = b->len;
	uint8_t *p;

	if (b->failed)
		return false;
	if (more > b->max || len > b->max - more) {
		b->failed = true;
		return false;
	}
	if (len + more <= b->cap)
		return true;
	cap = b->cap != 0 ? b->cap : 512;
	while (cap < len + more)
		cap *= 2;
	if ((p = malloc(cap)) == NULL) {
		b->failed = true;
		return false;
	}
	if (b->p != NULL)
		memcpy(p, b->p, len);
	rec_buf_free(b);
	b->p = p;
	b->len = len;
	b->cap = cap;
	return true;
}

static void put_varint(struct rec_buf *b, uint64_t v)
{
	if (!reserve(b, VARINT_MAX))
		return;
	while (v >= 0x80) {
		b->p[b->len++] = (uint8_t)(v | 0x80);
		v >>= 7;
	}
	b->p[b->len++] = (uint8_t)v;
}

static void put_key(struct rec_buf *b, unsigned tag, enum rec_wire wire)
{
	put_varint(b, (uint64_t)tag << 3 | wire);
}

void rec_put_format(struct rec_buf *b)
{
	if (reserve(b, 1))
		b->p[b->len++] = RECORD_FORMAT;
}

void rec_put_uint(struct rec_buf *b, unsigned tag, uint64_t v)
{
	put_key(b, tag, REC_WIRE_VARINT);
	put_varint(b, v);
}

void rec_put_bytes(struct rec_buf *b, unsigned tag, const void *p, size_t len)
{
	put_key(b, tag, REC_WIRE_BYTES);
	put_varint(b, len);
	if (reserve(b, len)) {
		memcpy(b->p + b->len, p, len);
		b->len += len;
	}
}

/* Signed values as zigzag, so that -1 takes one byte, not ten. */
static uint64_t zigzag(int64_t v)
{
	return ((uint64_t)v << 1) ^ (uint64_t)(v >> 63);
}

static int64_t unzigzag(uint64_t u)
{
	return (int64_t)(u >> 1) ^ -(int64_t)(u & 1);
}

static void put_field(struct rec_buf *b, unsigned tag, const struct rec_field *f, const void *base)
{
	const char *p = (const char *)base + f->off;
	size_t len;

	switch (f->type) {
	case REC_STR:
		len = strnlen(p, f->size);
		if (len == f->size)
			b->failed = true;
		else if (len > 0) /* absent reads back as "" */
			rec_put_bytes(b, tag, p, len);
		return;
	case REC_I64:
		rec_put_uint(b, tag, zigzag(*(const int64_t *)p));
		return;
	case REC_U64:
		rec_put_uint(b, tag, *(const uint64_t *)p);
		return;
	case REC_UINT:
		rec_put_uint(b, tag, *(const unsigned *)p);
		return;
	case REC_INT:
		rec_put_uint(b, tag, zigzag(*(const int *)p));
		return;
	case REC_BOOL:
		rec_put_uint(b, tag, *(const bool *)p ? 1 : 0);
		return;
	case REC_ENUM:
		if (f->enum_name(*(const int *)p) == NULL)
			b->failed = true;
		else
			rec_put_uint(b, tag, (unsigned)*(const int *)p);
		return;
	}
	b->failed = true;
}

void rec_put_fields(struct rec_buf *b, const struct rec_field *f, size_t n, const void *base)
{
	for (size_t i = 0; i < n && !b->failed; i++)
		put_field(b, (unsigned)i + 1, &f[i], base);
}

void rec_put_nested(struct rec_buf *b, unsigned tag, const struct rec_field *f, size_t n,
                    const void *base)
{
	struct rec_buf sub;

	rec_buf_init(&sub, b->max);
	rec_put_fields(&sub, f, n, base);
	if (sub.failed)
		b->failed = true;
	else
		rec_put_bytes(b, tag, sub.p, sub.len);
	rec_buf_free(&sub);
}

int rec_reader_init(struct rec_reader *r, const void *p, size_t len)
{
	r->p = p;
	r->end = r->p + len;
	if (len == 0 || r->p[0] != RECORD_FORMAT)
		return -1;
	r->p++;
	return 0;
}

static int get_varint(struct rec_reader *r, uint64_t *v_r)
{
	uint64_t v = 0;

	for (unsigned shift = 0; shift < 64 && r->p < r->end; shift += 7) {
		uint8_t c = *r->p++;

		if (shift == 63 && c > 1)
			return -1; /* more than 64 bits */
		v |= (uint64_t)(c & 0x7f) << shift;
		if ((c & 0x80) == 0) {
			*v_r = v;
			return 0;
		}
	}
	return -1;
}

int rec_next(struct rec_reader *r, struct rec_item *it)
{
	uint64_t key, len;

	if (r->p == r->end)
		return 0;
	memset(it, 0, sizeof(*it));
	if (get_varint(r, &key) < 0 || key >> 3 == 0 || key >> 3 > UINT_MAX)
		return -1;
	it->tag = (unsigned)(key >> 3);
	switch (key & 7) {
	case REC_WIRE_VARINT:
		it->wire = REC_WIRE_VARINT;
		return get_varint(r, &it->u) < 0 ? -1 : 1;
	case REC_WIRE_BYTES:
		it->wire = REC_WIRE_BYTES;
		if (get_varint(r, &len) < 0 || len > (uint64_t)(r->end - r->p))
			return -1;
		it->data = r->p;
		it->len = (size_t)len;
		r->p += len;
		return 1;
	default:
		return -1;
	}
}

static int set_number(const struct rec_field *f, uint64_t u, void *p)
{
	int64_t s;

	switch (f->type) {
	case REC_I64:
		*(int64_t *)p = unzigzag(u);
		return 0;
	case REC_U64:
		*(uint64_t *)p = u;
		return 0;
	case REC_UINT:
		if (u > UINT_MAX)
			return -1;
		*(unsigned *)p = (unsigned)u;
		return 0;
	case REC_INT:
		s = unzigzag(u);
		if (s < INT_MIN || s > INT_MAX)
			return -1;
		*(int *)p = (int)s;
		return 0;
	case REC_BOOL:
		if (u > 1)
			return -1;
		*(bool *)p = u == 1;
		return 0;
	case REC_ENUM:
		if (u > INT_MAX || f->enum_name((int)u) == NULL)
			return -1;
		*(int *)p = (int)u;
		return 0;
	default:
		return -1;
	}
}

int rec_set_field(const struct rec_field *f, size_t n, const struct rec_item *it, void *base,
                  uint64_t *seen_r)
{
	const struct rec_field *fd;
	char *p;

	if (it->tag == 0 || it->tag > n)
		return 0;
	if (it->tag <= 64) {
		uint64_t bit = (uint64_t)1 << (it->tag - 1);

		if (*seen_r & bit)
			return -1;
		*seen_r |= bit;
	}
	fd = &f[it->tag - 1];
	p = (char *)base + fd->off;
	if (fd->type == REC_STR) {
		/* A string holds no NUL: what a reader sees must be what was written. */
		if (it->wire != REC_WIRE_BYTES || it->len >= fd->size ||
		    memchr(it->data, '\0', it->len) != NULL)
			return -1;
		memcpy(p, it->data, it->len);
		p[it->len] = '\0';
		return 1;
	}
	if (it->wire != REC_WIRE_VARINT)
		return -1;
	return set_number(fd, it->u, p) < 0 ? -1 : 1;
}

int rec_get_fields(const uint8_t *p, size_t len, const struct rec_field *f, size_t n, void *base)
{
	struct rec_reader r = {p, p + len};
	struct rec_item it;
	uint64_t seen = 0;
	int got;

	while ((got = rec_next(&r, &it)) == 1)
		if (rec_set_field(f, n, &it, base, &seen) < 0)
			return -1;
	return got;
}
