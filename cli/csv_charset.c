/*
 * Character sets of the import file through iconv: decode to UTF-8 before
 * csv.c reads it, encode the mail-merge file back. Pure: bytes in, bytes out.
 */
#include <errno.h>
#include <iconv.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistr.h>

#include "csv_charset.h"
#include "secret.h"

#define CHARSET_DEFAULT "WINDOWS-1252"
/* Windows-1252 takes at most 3 UTF-8 bytes a byte (the euro sign, curly quotes). */
#define CHARSET_GROWTH 3

static bool is_utf8_name(const char *charset)
{
	return strcasecmp(charset, "UTF-8") == 0 || strcasecmp(charset, "UTF8") == 0;
}

/* The 1-based line holding data[at]. */
static unsigned charset_line(const char *data, size_t at)
{
	unsigned line = 1;

	for (size_t i = 0; i < at; i++)
		line += data[i] == '\n' || (data[i] == '\r' && data[i + 1] != '\n');
	return line;
}

static int charset_convert(const char *data, size_t len, const char *charset, char **utf8_r,
                           size_t *len_r, char *err, size_t errlen)
{
	iconv_t cd = iconv_open("UTF-8", charset);
	size_t cap, inleft = len, outleft;
	char *in = (char *)data, *out, *buf = NULL;
	int r = -1;

	if (cd == (iconv_t)-1) {
		snprintf(err, errlen,
		         "line 1: unknown encoding %s (try WINDOWS-1252, "
		         "ISO-8859-15 or UTF-8)",
		         charset);
		return -1;
	}
	if (len > (SIZE_MAX - 1) / CHARSET_GROWTH ||
	    (buf = malloc(len * CHARSET_GROWTH + 1)) == NULL) {
		snprintf(err, errlen, "line 1: out of memory");
		goto out;
	}
	cap = len * CHARSET_GROWTH;
	out = buf;
	outleft = cap;
	if (iconv(cd, &in, &inleft, &out, &outleft) == (size_t)-1) {
		size_t at = (size_t)(in - data);

		snprintf(err, errlen, "line %u: byte 0x%02x is not %s text", charset_line(data, at),
		         (unsigned char)data[at], charset);
		secret_wipe(buf, cap - outleft);
		free(buf);
		goto out;
	}
	*out = '\0';
	*utf8_r = buf;
	*len_r = cap - outleft;
	r = 0;
out:
	iconv_close(cd);
	return r;
}

int csv_charset_decode(const char *data, size_t len, const char *charset, char **utf8_r,
                       size_t *len_r, char used_r[CSV_CHARSET_NAME_MAX], char *err, size_t errlen)
{
	*utf8_r = NULL;
	*len_r = len;
	if (charset == NULL)
		charset = u8_check((const uint8_t *)data, len) == NULL ? "UTF-8" : CHARSET_DEFAULT;
	if (strlen(charset) >= CSV_CHARSET_NAME_MAX) {
		snprintf(err, errlen, "line 1: unknown encoding");
		return -1;
	}
	snprintf(used_r, CSV_CHARSET_NAME_MAX, "%s", charset);
	if (is_utf8_name(charset))
		return 0; /* csv.c checks UTF-8 itself, line by line */
	return charset_convert(data, len, charset, utf8_r, len_r, err, errlen);
}

int csv_charset_encode(const char *s, const char *charset, char *out, size_t outlen)
{
	size_t inleft = strlen(s), outleft;
	char *in = (char *)s, *o = out;
	iconv_t cd;
	int r = -1;

	if (outlen == 0)
		return -1;
	if (is_utf8_name(charset)) {
		if (inleft >= outlen)
			return -1;
		memcpy(out, s, inleft + 1);
		return 0;
	}
	if ((cd = iconv_open(charset, "UTF-8")) == (iconv_t)-1)
		return -1;
	outleft = outlen - 1;
	if (iconv(cd, &in, &inleft, &o, &outleft) != (size_t)-1) {
		*o = '\0';
		r = 0;
	}
	iconv_close(cd);
	return r;
}

void csv_charset_free(char *utf8, size_t len)
{
	if (utf8 == NULL)
		return;
	secret_wipe(utf8, len);
	free(utf8);
}
