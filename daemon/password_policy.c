/*
 * The password policy: length in code points after NFKC, an upper bound in
 * bytes, optional character classes, reuse, context words and a dictionary
 * of common passwords (cracklib through libpwquality).
 */
#define _GNU_SOURCE /* memmem */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <pwquality.h>
#include <unicase.h>
#include <unictype.h>
#include <uninorm.h>
#include <unistr.h>

#include "password.h"
#include "secret.h"

#define CONTEXT_WORD_MIN 4
/* Context strings are names and numbers: anything longer is skipped. */
#define CONTEXT_FIELD_MAX 256
/* libpwquality cannot go below this length; shorter stems are not looked up. */
#define PWQ_LENGTH_FLOOR 6
/* The longest password ever hashed (password.c): an old one is no longer. */
#define OLD_PASSWORD_MAX 4096
#define CRACKLIB_DEFAULT_DICT "/var/cache/cracklib/cracklib_dict"

/* cracklib keeps static state and libpwquality does not guard it. */
static pthread_mutex_t cracklib_lock = PTHREAD_MUTEX_INITIALIZER;

/* Common French passwords that cracklib's English word list lacks. */
static const char *const common_words[] = {
    "motdepasse", "jetaime", "marseille", "bienvenue", "changeme", "azertyuiop", "qwertyuiop",
};

/* Case folded, accents and other combining marks dropped, œ and æ spelled out. */
static char *fold(const char *s, size_t n, size_t *len_r)
{
	size_t cf_len = 0, out_len = 0;
	uint8_t *cf = NULL;
	const uint8_t *p, *end;
	char *out = NULL;
	ucs4_t uc;

	if (n > 0 &&
	    (cf = u8_casefold((const uint8_t *)s, n, NULL, UNINORM_NFKD, NULL, &cf_len)) == NULL)
		goto out;
	if ((out = malloc(cf_len + 1)) == NULL)
		goto out;
	for (p = cf, end = cf + cf_len; p < end;) {
		int step = u8_mbtouc(&uc, p, (size_t)(end - p));
		if (uc == 0x153 || uc == 0xe6) {
			out[out_len++] = uc == 0x153 ? 'o' : 'a';
			out[out_len++] = 'e';
		} else if (!uc_is_general_category(uc, UC_CATEGORY_M)) {
			memcpy(out + out_len, p, (size_t)step);
			out_len += (size_t)step;
		}
		p += step;
	}
	out[out_len] = '\0';
	*len_r = out_len;
out:
	secret_wipe(cf, cf_len);
	free(cf);
	return out;
}

/* Only letters and digits kept, so "J.Dupont-1980" reads "jdupont1980". */
static size_t keep_alnum(char *s, size_t n)
{
	const uint8_t *p = (const uint8_t *)s, *end = p + n;
	size_t out = 0;
	ucs4_t uc;

	while (p < end) {
		const uint8_t *next = p + u8_mbtouc(&uc, p, (size_t)(end - p));
		if (uc_is_alnum(uc)) {
			memmove(s + out, p, (size_t)(next - p));
			out += (size_t)(next - p);
		}
		p = next;
	}
	s[out] = '\0';
	return out;
}

static bool word_in(const char *hay, size_t hay_len, const char *word, size_t len)
{
	return u8_mbsnlen((const uint8_t *)word, len) >= CONTEXT_WORD_MIN &&
	       memmem(hay, hay_len, word, len) != NULL;
}

/* The field whole, then each of its words: "Jean-Pierre" gives jeanpierre, jean, pierre. */
static int field_in(const char *hay, size_t hay_len, const char *field)
{
	size_t n = strnlen(field, CONTEXT_FIELD_MAX + 1), len = 0;
	const uint8_t *p, *end, *word;
	char *f;
	int r = 0;

	if (n > CONTEXT_FIELD_MAX || u8_check((const uint8_t *)field, n) != NULL)
		return 0;
	if ((f = fold(field, n, &len)) == NULL)
		return -1;
	for (p = (const uint8_t *)f, end = p + len, word = p; r == 0;) {
		const uint8_t *next = p;
		ucs4_t uc = 0;

		if (p < end)
			next = p + u8_mbtouc(&uc, p, (size_t)(end - p));
		if (p < end && uc_is_alnum(uc)) {
			p = next;
			continue;
		}
		r = word_in(hay, hay_len, (const char *)word, (size_t)(p - word));
		if (p >= end)
			break;
		p = word = next;
	}
	if (r == 0) {
		len = keep_alnum(f, len);
		r = word_in(hay, hay_len, f, len);
	}
	free(f);
	return r;
}

/* YYYY-MM-DD as YYYYMMDD and DDMMYYYY; separators are already gone from hay. */
static bool birth_in(const char *hay, const char *birth)
{
	char forms[2][9];

	if (strlen(birth) != 10 || birth[4] != '-' || birth[7] != '-' ||
	    strspn(birth, "0123456789-") != 10)
		return false;
	snprintf(forms[0], sizeof(forms[0]), "%.4s%.2s%.2s", birth, birth + 5, birth + 8);
	snprintf(forms[1], sizeof(forms[1]), "%.2s%.2s%.4s", birth + 8, birth + 5, birth);
	return strstr(hay, forms[0]) != NULL || strstr(hay, forms[1]) != NULL;
}

/* 1 when pw is built on a context word, 0 when not, -1 when out of memory. */
static int context_hit(const struct password_context *ctx, const char *pw, size_t len)
{
	const char *fields[] = {ctx->identifiant, ctx->first, ctx->last, ctx->numen,
	                        ctx->organisation};
	size_t hay_len = 0;
	char *hay = fold(pw, len, &hay_len);
	int r = -1;

	if (hay == NULL)
		return -1;
	hay_len = keep_alnum(hay, hay_len);
	r = ctx->birth != NULL && birth_in(hay, ctx->birth);
	for (size_t i = 0; i < sizeof(fields) / sizeof(fields[0]) && r == 0; i++)
		if (fields[i] != NULL)
			r = field_in(hay, hay_len, fields[i]);
	secret_wipe(hay, hay_len);
	free(hay);
	return r;
}

static bool has_all_classes(const char *pw, size_t len)
{
	const uint8_t *p = (const uint8_t *)pw, *end = p + len;
	bool upper = false, lower = false, digit = false, special = false;
	ucs4_t uc;

	while (p < end) {
		p += u8_mbtouc(&uc, p, (size_t)(end - p));
		if (uc_is_upper(uc))
			upper = true;
		else if (uc_is_lower(uc))
			lower = true;
		else if (uc_is_general_category(uc, UC_CATEGORY_Nd))
			digit = true;
		/* A letter without case (CJK, Arabic…) is a letter all the same. */
		else if (!uc_is_alpha(uc))
			special = true;
	}
	return upper && lower && digit && special;
}

static bool same_password(const char *nfkc, size_t len, const char *old_pw)
{
	size_t old_len = strnlen(old_pw, OLD_PASSWORD_MAX + 1), old_nfkc_len = 0;
	char *old_nfkc = NULL;
	bool same;

	if (old_len > OLD_PASSWORD_MAX)
		return false;
	/* Normalized both ways, so a decomposed or full-width copy is still a copy. */
	if (password_normalize(old_pw, old_len, &old_nfkc, &old_nfkc_len) < 0)
		return secret_equal_str(nfkc, old_pw, (len > old_len ? len : old_len) + 1);
	same = secret_equal_str(nfkc, old_nfkc, (len > old_nfkc_len ? len : old_nfkc_len) + 1);
	secret_free(old_nfkc);
	return same;
}

/*
 * What libpwquality's verdicts mean here. Refused as "common or too
 * simple": cracklib (dictionary words, too systematic, too few different
 * characters), palindromes and the repeat/sequence/bad-word checks.
 * Ignored: length and class minimums (checked above, and libpwquality will
 * not go below 6 characters) and the old-password and user checks (we pass
 * neither; reuse and context are checked above). Anything else is a failure
 * of the library itself.
 */
static enum proto_reason pwq_reason(int rv, const void *aux)
{
	switch (rv) {
	case PWQ_ERROR_CRACKLIB_CHECK:
		/* cracklib says so for a missing dictionary too. */
		if (aux != NULL && strcmp(aux, "error loading dictionary") == 0)
			return REASON_TEMPFAIL;
		return REASON_DICTIONARY;
	case PWQ_ERROR_PALINDROME:
	case PWQ_ERROR_CASE_CHANGES_ONLY:
	case PWQ_ERROR_ROTATED:
	case PWQ_ERROR_TOO_SIMILAR:
	case PWQ_ERROR_MAX_CONSECUTIVE:
	case PWQ_ERROR_MAX_CLASS_REPEAT:
	case PWQ_ERROR_MAX_SEQUENCE:
	case PWQ_ERROR_BAD_WORDS:
		return REASON_DICTIONARY;
	case PWQ_ERROR_MIN_LENGTH:
	case PWQ_ERROR_MIN_DIGITS:
	case PWQ_ERROR_MIN_UPPERS:
	case PWQ_ERROR_MIN_LOWERS:
	case PWQ_ERROR_MIN_OTHERS:
	case PWQ_ERROR_MIN_CLASSES:
	case PWQ_ERROR_EMPTY_PASSWORD:
	case PWQ_ERROR_SAME_PASSWORD:
	case PWQ_ERROR_USER_CHECK:
	case PWQ_ERROR_GECOS_CHECK:
		return REASON_NONE;
	default:
		return rv >= 0 ? REASON_NONE : REASON_TEMPFAIL;
	}
}

/* Defaults only: /etc/security/pwquality.conf is for PAM, not for us. */
static enum proto_reason pwq_check(const struct password_policy *policy, const char *pw)
{
	pwquality_settings_t *pwq = pwquality_default_settings();
	void *aux = NULL;
	int rv;

	if (pwq == NULL)
		return REASON_TEMPFAIL;
	if (pwquality_set_int_value(pwq, PWQ_SETTING_MIN_LENGTH, 0) != 0 ||
	    (policy->dict_path != NULL &&
	     pwquality_set_str_value(pwq, PWQ_SETTING_DICT_PATH, policy->dict_path) != 0)) {
		pwquality_free_settings(pwq);
		return REASON_TEMPFAIL;
	}
	pthread_mutex_lock(&cracklib_lock);
	rv = pwquality_check(pwq, pw, NULL, NULL, &aux);
	pthread_mutex_unlock(&cracklib_lock);
	pwquality_free_settings(pwq);
	return pwq_reason(rv, aux);
}

static char unleet(char c)
{
	static const char from[] = "@4310$5!7", to[] = "aaeiossit";
	const char *p = c != '\0' ? strchr(from, c) : NULL;

	return p != NULL ? to[p - from] : c;
}

/*
 * The word under the decoration: "P@ssw0rd2024!" → "password". People
 * append digits and symbols to a common word; cracklib alone lets that pass.
 */
static char *stem_of(const char *folded, size_t len)
{
	const uint8_t *s = (const uint8_t *)folded, *end = s + len, *p, *last = s;
	ucs4_t uc;
	char *stem;

	while (s < end && (p = s + u8_mbtouc(&uc, s, (size_t)(end - s)), !uc_is_alpha(uc)))
		s = p;
	for (p = s; p < end;) {
		p += u8_mbtouc(&uc, p, (size_t)(end - p));
		if (uc_is_alpha(uc))
			last = p;
	}
	if (last < s)
		last = s;
	if ((stem = strndup((const char *)s, (size_t)(last - s))) == NULL)
		return NULL;
	for (char *c = stem; *c != '\0'; c++)
		*c = unleet(*c);
	return stem;
}

static enum proto_reason stem_check(const struct password_policy *policy, const char *stem,
                                    const char *folded)
{
	size_t chars = u8_mbsnlen((const uint8_t *)stem, strlen(stem));

	if (chars < CONTEXT_WORD_MIN)
		return REASON_NONE;
	for (size_t i = 0; i < sizeof(common_words) / sizeof(common_words[0]); i++)
		if (strcmp(stem, common_words[i]) == 0)
			return REASON_DICTIONARY;
	if (strlen(stem) < PWQ_LENGTH_FLOOR || strcmp(stem, folded) == 0)
		return REASON_NONE;
	return pwq_check(policy, stem);
}

int password_dictionary_check(const char *dict_path, char *err, size_t errlen)
{
	char pwd[4096];
	const char *base = dict_path != NULL ? dict_path : CRACKLIB_DEFAULT_DICT;

	if ((size_t)snprintf(pwd, sizeof(pwd), "%s.pwd", base) >= sizeof(pwd) ||
	    access(pwd, R_OK) != 0) {
		if (err != NULL && errlen > 0)
			snprintf(err, errlen,
			         "%s: no cracklib dictionary (install cracklib-runtime or fix "
			         "dictionary_path)",
			         pwd);
		return -1;
	}
	return 0;
}

static enum proto_reason dictionary_check(const struct password_policy *policy, const char *pw,
                                          size_t len)
{
	size_t folded_len = 0;
	char *folded = NULL, *stem = NULL;
	enum proto_reason r = REASON_TEMPFAIL;

	/* Without its dictionary, cracklib refuses everything and says so on stderr. */
	if (password_dictionary_check(policy->dict_path, NULL, 0) < 0)
		goto out;
	if ((r = pwq_check(policy, pw)) != REASON_NONE)
		goto out;
	r = REASON_TEMPFAIL;
	if ((folded = fold(pw, len, &folded_len)) == NULL ||
	    (stem = stem_of(folded, folded_len)) == NULL)
		goto out;
	r = stem_check(policy, stem, folded);
out:
	secret_free(stem);
	secret_free(folded);
	return r;
}

static void set_detail(char *detail, size_t detail_len, enum proto_reason r,
                       const struct password_policy *policy)
{
	if (detail == NULL || detail_len == 0)
		return;
	switch (r) {
	case REASON_NOT_UTF8:
		snprintf(detail, detail_len, "Le mot de passe contient des caractères invalides.");
		break;
	case REASON_TOO_LONG:
		snprintf(detail, detail_len, "Le mot de passe ne doit pas dépasser %u octets.",
		         policy->max_bytes);
		break;
	case REASON_TOO_SHORT:
		snprintf(detail, detail_len,
		         "Le mot de passe doit contenir au moins %u caractères.",
		         policy->min_chars);
		break;
	case REASON_CHARACTER_CLASSES:
		snprintf(detail, detail_len,
		         "Le mot de passe doit contenir une majuscule, une minuscule, un chiffre "
		         "et un caractère spécial.");
		break;
	case REASON_REUSED:
		snprintf(detail, detail_len,
		         "Le nouveau mot de passe doit être différent de l'ancien.");
		break;
	case REASON_CONTEXT:
		snprintf(detail, detail_len,
		         "Le mot de passe ne doit contenir ni votre identifiant, ni votre nom, ni "
		         "votre date de naissance, ni votre NUMEN, ni le nom de l'organisation.");
		break;
	case REASON_DICTIONARY:
		snprintf(detail, detail_len,
		         "Le mot de passe est trop courant ou trop simple : choisissez par exemple "
		         "plusieurs mots sans rapport entre eux.");
		break;
	case REASON_NONE:
		detail[0] = '\0';
		break;
	default:
		snprintf(detail, detail_len,
		         "Le mot de passe ne peut pas être vérifié pour l'instant ; réessayez "
		         "plus tard.");
		break;
	}
}

static enum proto_reason check_nfkc(const struct password_policy *policy,
                                    const struct password_context *ctx, const char *nfkc,
                                    size_t len, const char *old_pw)
{
	int hit;

	if (u8_mbsnlen((const uint8_t *)nfkc, len) < policy->min_chars)
		return REASON_TOO_SHORT;
	if (policy->classes && !has_all_classes(nfkc, len))
		return REASON_CHARACTER_CLASSES;
	if (old_pw != NULL && same_password(nfkc, len, old_pw))
		return REASON_REUSED;
	if (ctx != NULL && (hit = context_hit(ctx, nfkc, len)) != 0)
		return hit > 0 ? REASON_CONTEXT : REASON_TEMPFAIL;
	if (policy->dictionary)
		return dictionary_check(policy, nfkc, len);
	return REASON_NONE;
}

enum proto_reason password_check_policy(const struct password_policy *policy,
                                        const struct password_context *ctx, const char *pw,
                                        size_t len, const char *old_pw, char *detail,
                                        size_t detail_len)
{
	char *nfkc = NULL;
	size_t nfkc_len = 0;
	enum proto_reason r;

	if (memchr(pw, '\0', len) != NULL || u8_check((const uint8_t *)pw, len) != NULL)
		r = REASON_NOT_UTF8;
	else if (len > policy->max_bytes)
		r = REASON_TOO_LONG;
	else if (password_normalize(pw, len, &nfkc, &nfkc_len) < 0)
		r = REASON_TEMPFAIL;
	else
		r = check_nfkc(policy, ctx, nfkc, nfkc_len, old_pw);
	secret_free(nfkc);
	set_detail(detail, detail_len, r, policy);
	return r;
}
