/* The rescue address's mask and messages, pure (rescue.h). */
#define _GNU_SOURCE /* asprintf */
#include <stdio.h>
#include <string.h>

#include "rescue.h"

/* The first n bytes of s, never cutting a UTF-8 character, then "***". */
static size_t keep(const char *s, size_t len, size_t n, char *out, size_t cap)
{
	size_t k = n < len ? n : len;

	while (k > 0 && k < len && ((unsigned char)s[k] & 0xC0) == 0x80)
		k--;
	return (size_t)snprintf(out, cap, "%.*s***", (int)k, s);
}

void rescue_mask(const char *email, char out[RESCUE_MASK_MAX])
{
	const char *at = strrchr(email, '@'), *dot;
	size_t local, n;

	if (at == NULL || at == email) {
		snprintf(out, RESCUE_MASK_MAX, "***");
		return;
	}
	local = (size_t)(at - email);
	n = keep(email, local, local > 4 ? 2 : 1, out, RESCUE_MASK_MAX);
	dot = strrchr(at + 1, '.');
	n += (size_t)snprintf(out + n, RESCUE_MASK_MAX - n, "@");
	n += keep(at + 1, strlen(at + 1), 1, out + n, RESCUE_MASK_MAX - n);
	/* the top-level domain: short, and what a person recognises first */
	if (dot != NULL && strlen(dot) <= 16 && n < RESCUE_MASK_MAX)
		snprintf(out + n, RESCUE_MASK_MAX - n, "%s", dot);
}

void rescue_duration(unsigned seconds, char out[32])
{
	if (seconds >= 120)
		snprintf(out, 32, "%u minutes", (seconds + 59) / 60);
	else
		snprintf(out, 32, "%u secondes", seconds);
}

char *rescue_body_code(const char *identifiant, const char *code, unsigned seconds,
                       const char *signature)
{
	char *s = NULL, lifetime[32];

	rescue_duration(seconds, lifetime);

	if (asprintf(&s,
	             "Bonjour,\n"
	             "\n"
	             "Cette adresse a été donnée comme nouvelle adresse de secours de\n"
	             "l'identifiant %s.\n"
	             "\n"
	             "Votre code de confirmation : %s\n"
	             "\n"
	             "Saisissez-le sur la page « Mon compte », à la rubrique « Adresse de\n"
	             "secours ». Il est valable %s et ne sert qu'une fois.\n"
	             "\n"
	             "Si vous n'êtes pas à l'origine de cette demande, ignorez ce message :\n"
	             "sans ce code, l'adresse de secours ne change pas.\n"
	             "\n"
	             "-- \n"
	             "%s\n",
	             identifiant, code, lifetime, signature) < 0)
		return NULL;
	return s;
}

char *rescue_body_notice(const char *identifiant, const char *masked_new, const char *signature)
{
	char *s = NULL;

	if (asprintf(&s,
	             "Bonjour,\n"
	             "\n"
	             "L'adresse de secours de l'identifiant %s vient d'être changée depuis la\n"
	             "page « Mon compte ». La nouvelle adresse est %s ; celle-ci ne recevra\n"
	             "plus les codes pour retrouver votre mot de passe ou votre identifiant.\n"
	             "\n"
	             "Si c'est bien vous, il n'y a rien d'autre à faire.\n"
	             "\n"
	             "Si ce n'est pas vous, prévenez sans attendre l'assistance informatique de\n"
	             "votre académie : quelqu'un s'est connecté à votre compte.\n"
	             "\n"
	             "-- \n"
	             "%s\n",
	             identifiant, masked_new, signature) < 0)
		return NULL;
	return s;
}
