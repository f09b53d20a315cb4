#define _GNU_SOURCE /* memmem */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "proto.h"
#include "secret.h"

static bool proto_verb_char(unsigned char c)
{
	return (c >= 'A' && c <= 'Z') || c == '_';
}

static bool proto_id_char(unsigned char c)
{
	return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
	       c == '.' || c == '_' || c == '-';
}

static bool proto_key_char(unsigned char c)
{
	return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_';
}

static bool proto_valid(const char *s, size_t len, size_t max, bool (*ok)(unsigned char))
{
	if (len == 0 || len > max)
		return false;
	for (size_t i = 0; i < len; i++)
		if (!ok((unsigned char)s[i]))
			return false;
	return true;
}

/* The length of the token at p, up to the next TAB or end. */
static size_t proto_token_len(const char *p, const char *end)
{
	const char *tab = memchr(p, '\t', (size_t)(end - p));

	return (size_t)((tab != NULL ? tab : end) - p);
}

static int proto_unescape_byte(char c, char *out_r)
{
	switch (c) {
	case '1':
		*out_r = PROTO_ESCAPE;
		return 0;
	case 't':
		*out_r = '\t';
		return 0;
	case 'n':
		*out_r = '\n';
		return 0;
	case 'r':
		*out_r = '\r';
		return 0;
	}
	return -1;
}

/* Unescapes value[0..len) where it lies and NUL-terminates it. */
static int proto_unescape(char *value, size_t len, size_t *len_r)
{
	size_t w = 0;

	for (size_t r = 0; r < len; r++) {
		if (value[r] != PROTO_ESCAPE) {
			value[w++] = value[r];
			continue;
		}
		if (++r == len || proto_unescape_byte(value[r], &value[w]) < 0)
			return PROTO_E_ESCAPE;
		w++;
	}
	value[w] = '\0';
	*len_r = w;
	return PROTO_OK;
}

/* Parses one key=value token of len bytes at p into the next field of msg. */
static int proto_parse_field(char *p, size_t len, struct proto_msg *msg)
{
	char *eq = memchr(p, '=', len);
	struct proto_field *field;
	size_t keylen;

	if (eq == NULL)
		return PROTO_E_FIELD;
	keylen = (size_t)(eq - p);
	if (!proto_valid(p, keylen, PROTO_KEY_MAX, proto_key_char))
		return PROTO_E_FIELD;
	if (msg->nfields == PROTO_FIELDS_MAX)
		return PROTO_E_TOO_MANY;
	*eq = '\0';
	if (proto_get(msg, p) != NULL)
		return PROTO_E_DUPLICATE;
	field = &msg->fields[msg->nfields];
	field->key = p;
	field->value = eq + 1;
	msg->nfields++;
	return proto_unescape(eq + 1, len - keylen - 1, &field->value_len);
}

int proto_parse(char *line, size_t len, struct proto_msg *msg_r)
{
	char *p = line, *end = line + len;
	size_t n;
	int r;

	msg_r->verb = NULL;
	msg_r->id = NULL;
	msg_r->nfields = 0;
	if (len == 0)
		return PROTO_E_EMPTY;
	/* The limit counts the LF, which the caller has already taken off. */
	if (len >= PROTO_LINE_MAX)
		return PROTO_E_TOO_LONG;
	if (memchr(line, '\0', len) != NULL)
		return PROTO_E_NUL;

	n = proto_token_len(p, end);
	if (!proto_valid(p, n, PROTO_VERB_MAX, proto_verb_char))
		return PROTO_E_VERB;
	if (p + n == end)
		return PROTO_E_ID;
	p[n] = '\0';
	msg_r->verb = p;
	p += n + 1;

	n = proto_token_len(p, end);
	if (!proto_valid(p, n, PROTO_ID_MAX, proto_id_char))
		return PROTO_E_ID;
	/* line[len] is where the LF was: it takes the last NUL. */
	p[n] = '\0';
	msg_r->id = p;
	p += n + 1;

	while (p <= end) {
		n = proto_token_len(p, end);
		r = proto_parse_field(p, n, msg_r);
		if (r != PROTO_OK)
			return r;
		p += n + 1;
	}
	return PROTO_OK;
}

const char *proto_error_str(int error)
{
	switch (error) {
	case PROTO_OK:
		return "no error";
	case PROTO_E_EMPTY:
		return "empty line";
	case PROTO_E_TOO_LONG:
		return "line too long";
	case PROTO_E_VERB:
		return "missing or malformed verb";
	case PROTO_E_ID:
		return "missing or malformed id";
	case PROTO_E_FIELD:
		return "malformed field";
	case PROTO_E_TOO_MANY:
		return "too many fields";
	case PROTO_E_ESCAPE:
		return "bad escape sequence";
	case PROTO_E_DUPLICATE:
		return "duplicate key";
	case PROTO_E_NUL:
		return "NUL byte in line";
	}
	return "unknown error";
}

const char *proto_get(const struct proto_msg *msg, const char *key)
{
	for (size_t i = 0; i < msg->nfields; i++)
		if (strcmp(msg->fields[i].key, key) == 0)
			return msg->fields[i].value;
	return NULL;
}

static bool proto_needs_escape(unsigned char c)
{
	return c == '\t' || c == '\n' || c == '\r' || c == PROTO_ESCAPE;
}

size_t proto_escaped_len(const char *value, size_t len)
{
	size_t n = len;

	for (size_t i = 0; i < len; i++)
		if (proto_needs_escape((unsigned char)value[i]))
			n++;
	return n;
}

/* Room for n more bytes, keeping one for the LF. */
static bool proto_writer_room(struct proto_writer *w, size_t n)
{
	if (w->overflow || n >= sizeof(w->buf) - w->len)
		w->overflow = true;
	return !w->overflow;
}

static void proto_put(struct proto_writer *w, const char *s, size_t n)
{
	memcpy(w->buf + w->len, s, n);
	w->len += n;
}

static void proto_put_escaped(struct proto_writer *w, const char *value, size_t len)
{
	for (size_t i = 0; i < len; i++) {
		unsigned char c = (unsigned char)value[i];

		if (!proto_needs_escape(c)) {
			w->buf[w->len++] = (char)c;
			continue;
		}
		w->buf[w->len++] = PROTO_ESCAPE;
		w->buf[w->len++] = c == '\t' ? 't' : c == '\n' ? 'n' : c == '\r' ? 'r' : '1';
	}
}

void proto_begin(struct proto_writer *w, const char *verb, const char *id)
{
	size_t vlen = strlen(verb), ilen = strlen(id);

	w->len = 0;
	/* A line the peer would refuse is a bug here: fail it as an overflow. */
	w->overflow = !proto_valid(verb, vlen, PROTO_VERB_MAX, proto_verb_char) ||
	              !proto_valid(id, ilen, PROTO_ID_MAX, proto_id_char);
	if (!proto_writer_room(w, vlen + 1 + ilen))
		return;
	proto_put(w, verb, vlen);
	proto_put(w, "\t", 1);
	proto_put(w, id, ilen);
}

/* Escaped values hold no TAB, so TABs count fields and "\tkey=" finds a key. */
static bool proto_writer_key_ok(const struct proto_writer *w, const char *key, size_t keylen)
{
	char probe[1 + PROTO_KEY_MAX + 1];
	size_t tabs = 0;

	if (!proto_valid(key, keylen, PROTO_KEY_MAX, proto_key_char))
		return false;
	for (size_t i = 0; i < w->len; i++)
		tabs += w->buf[i] == '\t';
	if (tabs > PROTO_FIELDS_MAX)
		return false;
	probe[0] = '\t';
	memcpy(probe + 1, key, keylen);
	probe[1 + keylen] = '=';
	return memmem(w->buf, w->len, probe, keylen + 2) == NULL;
}

void proto_add_len(struct proto_writer *w, const char *key, const char *value, size_t len)
{
	size_t keylen = strlen(key);

	if (w->overflow)
		return;
	if (!proto_writer_key_ok(w, key, keylen) || memchr(value, '\0', len) != NULL) {
		w->overflow = true;
		return;
	}
	if (!proto_writer_room(w, 1 + keylen + 1 + proto_escaped_len(value, len)))
		return;
	proto_put(w, "\t", 1);
	proto_put(w, key, keylen);
	proto_put(w, "=", 1);
	proto_put_escaped(w, value, len);
}

void proto_add(struct proto_writer *w, const char *key, const char *value)
{
	proto_add_len(w, key, value, strlen(value));
}

void proto_addf(struct proto_writer *w, const char *key, const char *fmt, ...)
{
	char tmp[PROTO_LINE_MAX];
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(tmp, sizeof(tmp), fmt, ap);
	va_end(ap);
	if (n < 0 || (size_t)n >= sizeof(tmp)) {
		w->overflow = true;
		n = (int)sizeof(tmp) - 1;
	} else {
		proto_add_len(w, key, tmp, (size_t)n);
	}
	/* The formatted value may be a secret. */
	secret_wipe(tmp, (size_t)n + 1);
}

int proto_end(struct proto_writer *w)
{
	/* Escaped values hold no LF: a final one means the line is already ended. */
	if (!w->overflow && w->len > 0 && w->buf[w->len - 1] == '\n')
		return 0;
	if (w->overflow || w->len >= sizeof(w->buf)) {
		w->overflow = true;
		return -1;
	}
	w->buf[w->len++] = '\n';
	return 0;
}

void proto_writer_wipe(struct proto_writer *w)
{
	/* Writes only ever append at len, and a writer is wiped (reply_line does it) before it is
	 * begun again: nothing was written past len. Wiping len bytes, not the 16 KiB buffer,
	 * keeps a short answer cheap; the bound guards a writer never begun. */
	secret_wipe(w->buf, w->len < sizeof(w->buf) ? w->len : sizeof(w->buf));
	w->len = 0;
	w->overflow = false;
}
