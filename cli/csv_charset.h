/*
 * The import file's character set. Secretariats export UTF-8 (with or
 * without BOM) or, from a French Excel, Windows-1252; csv.c reads UTF-8
 * only, so the other sets are decoded through iconv first, and the
 * mail-merge file goes back out in the set the input came in.
 */
#ifndef VERDON_CSV_CHARSET_H
#define VERDON_CSV_CHARSET_H

#include <stddef.h>

#define CSV_CHARSET_NAME_MAX 32

/*
 * data in charset (NULL: UTF-8 when it is valid UTF-8, else Windows-1252)
 * as UTF-8 in *utf8_r (malloc'd, NUL-terminated; NULL when data is already
 * UTF-8 and may be used as is), and the charset used in used_r. -1 with err
 * "line N: …" naming the first byte the charset does not define, or an
 * unknown charset.
 */
int csv_charset_decode(const char *data, size_t len, const char *charset, char **utf8_r,
                       size_t *len_r, char used_r[CSV_CHARSET_NAME_MAX], char *err, size_t errlen);

/*
 * UTF-8 s in charset, into out (NUL-terminated). -1 when it does not fit or a
 * character has no form in charset.
 */
int csv_charset_encode(const char *s, const char *charset, char *out, size_t outlen);

/* Frees and wipes what csv_charset_decode gave (the file holds NUMENs); NULL is a no-op. */
void csv_charset_free(char *utf8, size_t len);

#endif
