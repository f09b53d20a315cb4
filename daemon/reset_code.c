/*
 * The forgotten-password code and the messages, pure: the code record lives
 * in the account (reset.h), time comes in as a parameter, nothing is read
 * or written here.
 */
#define _GNU_SOURCE /* asprintf */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "account.h"
#include "crypto.h"
#include "reset.h"
#include "secret.h"

#define CODE_SPACE 1000000u
/* The largest multiple of 10^6 that fits in 32 bits: draws at or above it would favour low codes.
 */
#define CODE_LIMIT (4294u * CODE_SPACE)
#define DRAWS_MAX 64 /* each draw is refused with probability 2e-4 */

bool reset_code_from_random(uint32_t r, char out[RESET_CODE_LEN + 1])
{
	if (r >= CODE_LIMIT)
		return false;
	snprintf(out, RESET_CODE_LEN + 1, "%06u", (unsigned)(r % CODE_SPACE));
	return true;
}

int reset_code_new(char out[RESET_CODE_LEN + 1])
{
	uint32_t r;
	int ok = -1;

	for (int i = 0; i < DRAWS_MAX && ok < 0; i++) {
		if (crypto_random(&r, sizeof(r)) < 0)
			break;
		if (reset_code_from_random(r, out))
			ok = 0;
	}
	secret_wipe(&r, sizeof(r));
	return ok;
}

int reset_code_normalize(const char *typed, char out[RESET_CODE_LEN + 1])
{
	size_t n = 0;

	for (const char *p = typed; *p != '\0'; p++) {
		if (*p == ' ')
			continue;
		if (*p < '0' || *p > '9' || n == RESET_CODE_LEN)
			goto bad;
		out[n++] = *p;
	}
	if (n != RESET_CODE_LEN)
		goto bad;
	out[n] = '\0';
	return 0;
bad:
	secret_wipe(out, RESET_CODE_LEN + 1);
	return -1;
}

void reset_code_set(struct account *a, const char *hmac, int64_t now)
{
	snprintf(a->reset_hmac, sizeof(a->reset_hmac), "%s", hmac);
	a->reset_expires = now + RESET_CODE_TTL;
	a->reset_tries = RESET_TRIES;
}

void reset_code_clear(struct account *a)
{
	secret_wipe(a->reset_hmac, sizeof(a->reset_hmac));
	a->reset_expires = 0;
	a->reset_tries = 0;
}

enum reset_check mailed_code_check(const struct crypto_keys *keys, const char *domain,
                                   const struct mailed_code *mc, const char *typed, int64_t now)
{
	char code[RESET_CODE_LEN + 1] = "000000", hex[2 * CRYPTO_HMAC_LEN + 1];
	bool well_formed = reset_code_normalize(typed, code) == 0;
	bool same;

	/* Hashed and compared even when nothing can match: the time tells nothing. */
	if (!well_formed)
		snprintf(code, sizeof(code), "000000");
	crypto_hmac_hex(keys, domain, code, RESET_CODE_LEN, hex);
	same = secret_equal(hex, mc->hmac, sizeof(hex) - 1);
	secret_wipe(code, sizeof(code));
	secret_wipe(hex, sizeof(hex));
	if (mc->hmac[0] == '\0' || mc->tries == 0)
		return RESET_CODE_NONE;
	if (now >= mc->expires)
		return RESET_CODE_EXPIRED;
	return well_formed && same ? RESET_CODE_OK : RESET_CODE_WRONG;
}

enum reset_check reset_code_check(const struct crypto_keys *keys, const struct account *a,
                                  const char *typed, int64_t now)
{
	struct mailed_code mc = {a->reset_hmac, a->reset_expires, a->reset_tries};

	return mailed_code_check(keys, "reset", &mc, typed, now);
}

void reset_code_miss(struct account *a, int64_t now)
{
	if (a->reset_hmac[0] == '\0')
		return;
	if (a->reset_tries > 0)
		a->reset_tries--;
	if (a->reset_tries == 0 || now >= a->reset_expires)
		reset_code_clear(a);
}

/* The same closing words for every message: who to turn to. */
#define CLOSING                                                                                    \
	"Si vous recevez ce message plusieurs fois sans l'avoir demandé, prévenez\n"             \
	"l'assistance informatique de votre académie.\n"                                          \
	"\n"                                                                                       \
	"-- \n"                                                                                    \
	"%s\n"

static char *body(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

static char *body(const char *fmt, ...)
{
	va_list ap;
	char *s = NULL;
	int n;

	va_start(ap, fmt);
	n = vasprintf(&s, fmt, ap);
	va_end(ap);
	return n < 0 ? NULL : s;
}

char *reset_body_code(const char *identifiant, const char *code, const char *signature)
{
	return body(
	    "Bonjour,\n"
	    "\n"
	    "Un nouveau mot de passe a été demandé pour l'identifiant %s.\n"
	    "\n"
	    "Votre code : %s\n"
	    "\n"
	    "Ce code est valable %d minutes et ne sert qu'une fois. Saisissez-le sur la\n"
	    "page « Mot de passe oublié », avec le code affiché par votre application\n"
	    "d'authentification (ou l'un de vos codes de secours), puis choisissez votre\n"
	    "nouveau mot de passe.\n"
	    "\n"
	    "Si vous n'êtes pas à l'origine de cette demande, ne communiquez ce code à\n"
	    "personne et ignorez ce message : votre mot de passe actuel reste valable.\n" CLOSING,
	    identifiant, code, RESET_CODE_TTL / 60, signature);
}

char *reset_body_helpdesk(const char *identifiant, const char *signature)
{
	return body("Bonjour,\n"
	            "\n"
	            "Un nouveau mot de passe a été demandé pour l'identifiant %s.\n"
	            "\n"
	            "Ce compte ne peut pas être réinitialisé en ligne : il y faut une application\n"
	            "d'authentification déjà activée. Adressez-vous à l'assistance informatique\n"
	            "de votre académie, qui vérifiera votre identité.\n"
	            "\n"
	            "Si vous n'êtes pas à l'origine de cette demande, ignorez ce message : rien\n"
	            "n'a changé sur votre compte.\n" CLOSING,
	            identifiant, signature);
}

char *reset_body_done(const char *identifiant, const char *signature)
{
	return body("Bonjour,\n"
	            "\n"
	            "Le mot de passe de l'identifiant %s vient d'être changé, avec un code\n"
	            "reçu à cette adresse et le code de votre application d'authentification.\n"
	            "\n"
	            "Si c'est bien vous, il n'y a rien d'autre à faire.\n"
	            "\n"
	            "Si ce n'est pas vous, prévenez sans attendre l'assistance informatique de\n"
	            "votre académie pour faire bloquer le compte : quelqu'un a accès à cette\n"
	            "messagerie et à votre second facteur.\n"
	            "\n"
	            "-- \n"
	            "%s\n",
	            identifiant, signature);
}

char *reset_body_ident(const char *identifiant, const char *email, const char *signature)
{
	return body(
	    "Bonjour,\n"
	    "\n"
	    "Vous avez demandé à retrouver votre identifiant.\n"
	    "\n"
	    "Votre identifiant : %s\n"
	    "Votre adresse électronique : %s\n"
	    "\n"
	    "Il vous sert à vous connecter, avec votre mot de passe et le code de votre\n"
	    "application d'authentification.\n"
	    "\n"
	    "Si vous n'êtes pas à l'origine de cette demande, ignorez ce message : il n'est\n"
	    "envoyé qu'à votre adresse de secours, et rien n'a changé sur votre compte.\n" CLOSING,
	    identifiant, email, signature);
}
