/*
 * Compact binary records: what the store keeps for accounts and sessions, so
 * that a login decodes its record without a JSON parser or an allocation.
 *
 * A record is a format byte RECORD_FORMAT (never '{', the first byte of the
 * JSON records older stores hold) followed by fields, each a varint key
 * (tag << 3 | wire type) and a value: a varint for numbers, a length and
 * bytes for strings and nested records, as in protocol buffers. A field's tag
 * is its position in its table plus one, so tables only ever grow at the end;
 * a reader skips tags it does not know, so that a newer daemon can add fields.
 */
#ifndef VERDON_RECORD_H
#define VERDON_RECORD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define RECORD_FORMAT 0x01

enum rec_type {
	REC_STR,  /* char[size], NUL-terminated */
	REC_I64,  /* int64_t */
	REC_U64,  /* uint64_t */
	REC_UINT, /* unsigned */
	REC_INT,  /* int */
	REC_BOOL, /* bool */
	REC_ENUM, /* an enum (an int), named by the field's name(): NULL for a value out of range */
};

struct rec_field {
	const char *name; /* the key of the older JSON form */
	enum rec_type type;
	size_t off;
	size_t size;
	const char *(*enum_name)(int value); /* REC_ENUM only */
};

#define REC_FIELD(st, name, type, member)                                                          \
	{                                                                                          \
		name, type, offsetof(struct st, member), sizeof(((struct st *)0)->member), NULL    \
	}
#define REC_ENUM_FIELD(st, name, member, enum_name)                                                \
	{                                                                                          \
		name, REC_ENUM, offsetof(struct st, member), sizeof(((struct st *)0)->member),     \
		    enum_name                                                                      \
	}

/* A growing output buffer; a failed append marks it failed and later ones do nothing. */
struct rec_buf {
	uint8_t *p;
	size_t len, cap, max;
	bool failed;
};

void rec_buf_init(struct rec_buf *b, size_t max);
/* The bytes, owned by the caller from now on; NULL (and b freed) when anything failed. */
uint8_t *rec_buf_take(struct rec_buf *b, size_t *len_r);
void rec_buf_free(struct rec_buf *b); /* wipes: records hold hashes */

void rec_put_format(struct rec_buf *b);
void rec_put_uint(struct rec_buf *b, unsigned tag, uint64_t v);
void rec_put_bytes(struct rec_buf *b, unsigned tag, const void *p, size_t len);
/* Every field of the table at base, under tags 1..n; a string too long for its array fails. */
void rec_put_fields(struct rec_buf *b, const struct rec_field *f, size_t n, const void *base);
/* The fields of the table at base as one nested record under tag. */
void rec_put_nested(struct rec_buf *b, unsigned tag, const struct rec_field *f, size_t n,
                    const void *base);

enum rec_wire { REC_WIRE_VARINT = 0, REC_WIRE_BYTES = 2 };

struct rec_reader {
	const uint8_t *p, *end;
};

/* One field read. */
struct rec_item {
	unsigned tag;
	enum rec_wire wire;
	uint64_t u;          /* REC_WIRE_VARINT */
	const uint8_t *data; /* REC_WIRE_BYTES */
	size_t len;
};

/* Past the format byte; -1 when the record does not start with it. */
int rec_reader_init(struct rec_reader *r, const void *p, size_t len);
/* 1: *it holds the next field; 0: the end; -1: malformed. */
int rec_next(struct rec_reader *r, struct rec_item *it);
/*
 * Stores it into the table's field at base when its tag is the table's
 * (*seen_r marks it: a field given twice is an error). 1: stored; 0: not a
 * tag of this table; -1: a wrong wire type or a value out of range.
 */
int rec_set_field(const struct rec_field *f, size_t n, const struct rec_item *it, void *base,
                  uint64_t *seen_r);
/* A nested record (or a whole one without format byte) made only of the table's fields. */
int rec_get_fields(const uint8_t *p, size_t len, const struct rec_field *f, size_t n, void *base);

#endif
