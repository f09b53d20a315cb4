/*
 * The verdon line protocol: one request or answer per line,
 *   VERB <TAB> id <TAB> key=value <TAB> key=value ... <LF>
 * Values escape TAB, LF, CR and the escape byte itself with a \001 prefix
 * (\001 '1', \001 't', \001 'n', \001 'r'); nothing else may follow \001.
 * NUL bytes are never allowed, escaped or not. See PROTOCOL.md.
 */
#ifndef VERDON_PROTO_H
#define VERDON_PROTO_H

#include <stdbool.h>
#include <stddef.h>

#define PROTO_VERSION_MAJOR 1
#define PROTO_VERSION_MINOR 0

#define PROTO_LINE_MAX 16384 /* one line, escaped, LF included */
#define PROTO_FIELDS_MAX 32  /* key=value pairs in one line */
#define PROTO_VERB_MAX 24
#define PROTO_ID_MAX 32
#define PROTO_KEY_MAX 32
#define PROTO_ESCAPE '\001'

enum proto_error {
	PROTO_OK = 0,
	PROTO_E_EMPTY = -1,     /* empty line */
	PROTO_E_TOO_LONG = -2,  /* over PROTO_LINE_MAX */
	PROTO_E_VERB = -3,      /* verb missing or not [A-Z_]{1,24} */
	PROTO_E_ID = -4,        /* id missing or not [A-Za-z0-9._-]{1,32} */
	PROTO_E_FIELD = -5,     /* a field without '=' or with a bad key */
	PROTO_E_TOO_MANY = -6,  /* more than PROTO_FIELDS_MAX fields */
	PROTO_E_ESCAPE = -7,    /* \001 followed by anything but 1 t n r */
	PROTO_E_DUPLICATE = -8, /* the same key twice */
	PROTO_E_NUL = -9,       /* a NUL byte */
};

struct proto_field {
	const char *key;
	const char *value; /* unescaped, NUL-terminated */
	size_t value_len;
};

/* A parsed line: every pointer points into the caller's line buffer. */
struct proto_msg {
	const char *verb;
	const char *id;
	size_t nfields;
	struct proto_field fields[PROTO_FIELDS_MAX];
};

/*
 * Parses one line (without its LF; a trailing CR is not stripped) in place:
 * separators become NULs and values are unescaped where they lie. line must
 * hold len + 1 bytes: line[len], where the LF was, may take the last NUL.
 * On error, msg_r->verb and msg_r->id are set if they were read, else NULL.
 */
int proto_parse(char *line, size_t len, struct proto_msg *msg_r);
const char *proto_error_str(int error);

/* The value of key, or NULL when absent. */
const char *proto_get(const struct proto_msg *msg, const char *key);

/*
 * Builds one line; once a field overflows, the writer stays failed. A bad
 * verb, id or key, a NUL in a value, a 33rd field or a key given twice fail
 * it too, so it never builds a line the peer would refuse.
 */
struct proto_writer {
	char buf[PROTO_LINE_MAX];
	size_t len;
	bool overflow;
};

void proto_begin(struct proto_writer *w, const char *verb, const char *id);
void proto_add(struct proto_writer *w, const char *key, const char *value);
void proto_add_len(struct proto_writer *w, const char *key, const char *value, size_t len);
void proto_addf(struct proto_writer *w, const char *key, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
/* Appends the LF; -1 when the line did not fit. */
int proto_end(struct proto_writer *w);
/* The writer may have held a secret. */
void proto_writer_wipe(struct proto_writer *w);

/* Escaped length of a value, to size buffers. */
size_t proto_escaped_len(const char *value, size_t len);

#endif
