/*
 * Identifiant, email and login rules (SPEC "Accounts"). Names are folded
 * to lowercase ASCII through Unicode decomposition: the base letter stays,
 * the combining marks go; the few Latin letters that do not decompose are
 * spelt out by hand.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <unictype.h>
#include <uninorm.h>
#include <unistr.h>

#include "ident.h"

/* Leaves room for a numeric suffix inside IDENT_MAX. */
#define IDENT_BASE_MAX 60
/* RFC 5321: at most 64 octets before the '@'; 60 leaves room for a suffix. */
#define EMAIL_LOCAL_BASE_MAX 60
#define EMAIL_LOCAL_MAX 64
/* Longest raw login we look at, surrounding white space included. */
#define LOGIN_RAW_MAX 1024

enum fold_class {
	FOLD_ERROR,
	FOLD_DROP,
	FOLD_SEPARATOR,
	FOLD_TEXT,
};

static const struct {
	ucs4_t uc;
	const char *text;
} fold_special[] = {
    {0x00E6, "ae"}, {0x00C6, "ae"}, {0x0153, "oe"}, {0x0152, "oe"}, {0x00DF, "ss"},
    {0x1E9E, "ss"}, {0x00F8, "o"},  {0x00D8, "o"},  {0x0142, "l"},  {0x0141, "l"},
    {0x0111, "d"},  {0x0110, "d"},  {0x0131, "i"},
};

static const ucs4_t fold_apostrophes[] = {'\'', 0x2019, 0x02BC, 0x2018};
static const ucs4_t fold_separators[] = {' ', '-', 0x00A0, 0x2010, 0x2011};

static bool uc_in(ucs4_t uc, const ucs4_t *set, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (set[i] == uc)
			return true;
	return false;
}

/* What one decomposed code point becomes; *text_r is set for FOLD_TEXT. */
static enum fold_class fold_classify(ucs4_t uc, char buf[2], const char **text_r)
{
	if ((uc >= 'a' && uc <= 'z') || (uc >= 'A' && uc <= 'Z')) {
		buf[0] = (char)(uc | 0x20);
		buf[1] = '\0';
		*text_r = buf;
		return FOLD_TEXT;
	}
	if (uc_is_general_category(uc, UC_CATEGORY_M))
		return FOLD_DROP;
	if (uc_in(uc, fold_apostrophes, sizeof(fold_apostrophes) / sizeof(fold_apostrophes[0])))
		return FOLD_DROP;
	if (uc_in(uc, fold_separators, sizeof(fold_separators) / sizeof(fold_separators[0])))
		return FOLD_SEPARATOR;
	for (size_t i = 0; i < sizeof(fold_special) / sizeof(fold_special[0]); i++) {
		if (fold_special[i].uc == uc) {
			*text_r = fold_special[i].text;
			return FOLD_TEXT;
		}
	}
	return FOLD_ERROR;
}

/* Appends text at *o, after a pending '-' when one is due; -1 when full. */
static int fold_emit(char *out, size_t cap, size_t *o, bool *pending, const char *text)
{
	size_t n = strlen(text);

	if (cap - *o <= n + (*pending ? 1 : 0))
		return -1;
	if (*pending)
		out[(*o)++] = '-';
	*pending = false;
	memcpy(out + *o, text, n);
	*o += n;
	return 0;
}

static int fold_decomposed(const uint8_t *s, size_t n, bool keep_hyphens, char *out, size_t cap)
{
	const uint8_t *end = s + n;
	bool pending = false;
	size_t o = 0;
	char buf[2];

	while (s < end) {
		ucs4_t uc;
		const char *text = NULL;

		s += u8_mbtouc_unsafe(&uc, s, (size_t)(end - s));
		switch (fold_classify(uc, buf, &text)) {
		case FOLD_ERROR:
			return -1;
		case FOLD_DROP:
			break;
		case FOLD_SEPARATOR:
			/* Never leading: a separator only counts once a letter is out. */
			pending = keep_hyphens && o > 0;
			break;
		case FOLD_TEXT:
			if (fold_emit(out, cap, &o, &pending, text) < 0)
				return -1;
			break;
		}
	}
	/* A trailing separator is still pending here, so it is never written. */
	out[o] = '\0';
	return o > 0 ? 0 : -1;
}

int ident_fold(const char *name, bool keep_hyphens, char *out, size_t cap)
{
	size_t n = strnlen(name, NAME_MAX_BYTES + 1), dlen = 0;
	uint8_t *d = NULL;
	int r = -1;

	if (cap == 0 || n == 0 || n > NAME_MAX_BYTES)
		goto out;
	if (u8_check((const uint8_t *)name, n) != NULL)
		goto out;
	d = u8_normalize(UNINORM_NFD, (const uint8_t *)name, n, NULL, &dlen);
	if (d == NULL)
		goto out;
	r = fold_decomposed(d, dlen, keep_hyphens, out, cap);
out:
	free(d);
	if (r < 0 && cap > 0)
		out[0] = '\0';
	return r;
}

/* Copies at most max bytes of src, without a trailing '-' or '.'. */
static int ident_copy_capped(const char *src, size_t max, char *out, size_t cap)
{
	size_t n = strnlen(src, max);

	while (n > 0 && (src[n - 1] == '-' || src[n - 1] == '.'))
		n--;
	if (n == 0 || n >= cap)
		return -1;
	memcpy(out, src, n);
	out[n] = '\0';
	return 0;
}

int ident_base(const char *first, const char *last, char *out, size_t cap)
{
	char f[NAME_MAX_BYTES * 2 + 1], l[NAME_MAX_BYTES * 2 + 1];
	char joined[NAME_MAX_BYTES * 2 + 2];

	if (ident_fold(first, false, f, sizeof(f)) < 0 || ident_fold(last, false, l, sizeof(l)) < 0)
		return -1;
	snprintf(joined, sizeof(joined), "%c%s", f[0], l);
	return ident_copy_capped(joined, IDENT_BASE_MAX, out, cap);
}

int ident_email_local(const char *first, const char *last, char *out, size_t cap)
{
	char f[NAME_MAX_BYTES * 2 + 1], l[NAME_MAX_BYTES * 2 + 1];
	char joined[NAME_MAX_BYTES * 4 + 4];

	if (ident_fold(first, true, f, sizeof(f)) < 0 || ident_fold(last, true, l, sizeof(l)) < 0)
		return -1;
	snprintf(joined, sizeof(joined), "%s.%s", f, l);
	return ident_copy_capped(joined, EMAIL_LOCAL_BASE_MAX, out, cap);
}

int ident_numbered(const char *base, unsigned n, char *out, size_t cap)
{
	size_t len = strnlen(base, cap);
	int w;

	if (n == 0 || len == 0 || len >= cap)
		return -1;
	if (n == 1)
		w = snprintf(out, cap, "%s", base);
	else
		w = snprintf(out, cap, "%s%u", base, n);
	if (w < 0 || (size_t)w >= cap) {
		out[0] = '\0';
		return -1;
	}
	return 0;
}

static bool login_space(char c)
{
	return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

int ident_login(const char *login, char *out, size_t cap, bool *is_email_r)
{
	size_t n = strnlen(login, LOGIN_RAW_MAX + 1), start = 0;
	bool at = false;

	if (n > LOGIN_RAW_MAX)
		return -1;
	while (start < n && login_space(login[start]))
		start++;
	while (n > start && login_space(login[n - 1]))
		n--;
	n -= start;
	if (n == 0 || n > EMAIL_MAX || n >= cap)
		return -1;
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)login[start + i];

		if (c < 0x20 || c >= 0x7f) {
			out[0] = '\0';
			return -1;
		}
		out[i] = (char)(c >= 'A' && c <= 'Z' ? c | 0x20 : c);
		at = at || c == '@';
	}
	out[n] = '\0';
	*is_email_r = at;
	return 0;
}

static bool ascii_lower(char c)
{
	return c >= 'a' && c <= 'z';
}

static bool ascii_digit(char c)
{
	return c >= '0' && c <= '9';
}

static bool ascii_alnum(char c)
{
	return ascii_lower(c) || (c >= 'A' && c <= 'Z') || ascii_digit(c);
}

bool ident_valid(const char *identifiant)
{
	size_t n = strnlen(identifiant, IDENT_MAX + 1);

	if (n == 0 || n > IDENT_MAX || !ascii_lower(identifiant[0]))
		return false;
	for (size_t i = 1; i < n; i++)
		if (!ascii_lower(identifiant[i]) && !ascii_digit(identifiant[i]))
			return false;
	return true;
}

static bool email_local_valid(const char *s, size_t n)
{
	if (n == 0 || n > EMAIL_LOCAL_MAX || s[0] == '.' || s[n - 1] == '.')
		return false;
	for (size_t i = 0; i < n; i++) {
		if (s[i] == '.' && s[i + 1] == '.')
			return false;
		if (!ascii_alnum(s[i]) &&
		    (s[i] == '\0' || strchr(".!#$%&'*+/=?^_`{|}~-", s[i]) == NULL))
			return false;
	}
	return true;
}

static bool email_domain_valid(const char *s, size_t n)
{
	size_t label = 0, dots = 0;

	for (size_t i = 0; i <= n; i++) {
		if (i == n || s[i] == '.') {
			/* Labels are 1..63 characters, without a hyphen at either end. */
			if (label == 0 || label > 63 || s[i - 1] == '-' || s[i - label] == '-')
				return false;
			dots += i < n;
			label = 0;
			continue;
		}
		if (!ascii_alnum(s[i]) && s[i] != '-')
			return false;
		label++;
	}
	return dots > 0;
}

bool ident_email_valid(const char *email)
{
	size_t n = strnlen(email, EMAIL_MAX + 1);
	const char *at = memchr(email, '@', n);

	if (n > EMAIL_MAX || at == NULL || memchr(at + 1, '@', n - (size_t)(at - email) - 1))
		return false;
	return email_local_valid(email, (size_t)(at - email)) &&
	       email_domain_valid(at + 1, n - (size_t)(at - email) - 1);
}

bool ident_numen_valid(const char *numen)
{
	if (strnlen(numen, NUMEN_LEN + 1) != NUMEN_LEN)
		return false;
	for (size_t i = 0; i < NUMEN_LEN; i++)
		if (!ascii_alnum(numen[i]))
			return false;
	return true;
}

int ident_numen_canonical(const char *numen, char out[NUMEN_LEN + 1])
{
	if (!ident_numen_valid(numen))
		return -1;
	for (size_t i = 0; i < NUMEN_LEN; i++)
		out[i] = (char)(ascii_lower(numen[i]) ? numen[i] - 'a' + 'A' : numen[i]);
	out[NUMEN_LEN] = '\0';
	return 0;
}

static int date_field(const char *s, size_t n)
{
	int v = 0;

	for (size_t i = 0; i < n; i++) {
		if (!ascii_digit(s[i]))
			return -1;
		v = v * 10 + (s[i] - '0');
	}
	return v;
}

bool ident_date_valid(const char *date)
{
	static const int mdays[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
	int y, m, d, max;

	if (strnlen(date, 11) != 10 || date[4] != '-' || date[7] != '-')
		return false;
	y = date_field(date, 4);
	m = date_field(date + 5, 2);
	d = date_field(date + 8, 2);
	if (y < 1900 || y > 2100 || m < 1 || m > 12 || d < 1)
		return false;
	max = mdays[m - 1];
	if (m == 2 && ((y % 4 == 0 && y % 100 != 0) || y % 400 == 0))
		max = 29;
	return d <= max;
}

bool ident_name_valid(const char *name)
{
	char buf[NAME_MAX_BYTES * 2 + 1];

	return ident_fold(name, true, buf, sizeof(buf)) == 0;
}

bool ident_mobile_valid(const char *mobile)
{
	size_t n = strnlen(mobile, 21), i = 0;

	if (n < 6 || n > 20)
		return false;
	if (mobile[0] == '+')
		i++;
	/* Digits first and last: spaces only group them. */
	if (!ascii_digit(mobile[i]) || !ascii_digit(mobile[n - 1]))
		return false;
	for (; i < n; i++)
		if (!ascii_digit(mobile[i]) && mobile[i] != ' ')
			return false;
	return true;
}

bool ident_uai_valid(const char *uai)
{
	size_t n = strnlen(uai, UAI_MAX + 1);

	if (n == 0 || n > UAI_MAX)
		return false;
	for (size_t i = 0; i < n; i++)
		if (!((uai[i] >= 'A' && uai[i] <= 'Z') || (uai[i] >= '0' && uai[i] <= '9')))
			return false;
	return true;
}
